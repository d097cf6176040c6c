"""Other systems: webhooks (endpoints and payloads)."""
