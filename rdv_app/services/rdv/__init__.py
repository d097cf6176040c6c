"""RDVs: planning, following, changing and reading them (agents), with their rules."""
