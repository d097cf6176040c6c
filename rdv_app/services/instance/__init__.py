"""The instance's back office: what super admins do (territories, their first organisation and admin)."""
