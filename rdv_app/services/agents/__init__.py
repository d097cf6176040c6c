"""Agents: sign-in, "Mon compte", the workspace home and the personal calendar feed."""
