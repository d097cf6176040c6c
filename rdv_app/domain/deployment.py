"""The demo and a real instance apart."""

from __future__ import annotations

# Every account of the demo has an address in this domain, reserved for tests (RFC 2606): no real person
# has one, so a real instance recognises the demo's accounts (whose password the README publishes).
DEMO_EMAIL_DOMAIN = "demo.test"
