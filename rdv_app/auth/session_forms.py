"""Proofs that a POST to the agents' session routes (`/_auth/session`, `/_auth/sortie`) comes from this
app's own page, in this very browser.

Why: a GET that signs in or out can be forged by any site (an image, a link). As POSTs, they are also
refused when their `Origin` is another site, but a browser or a proxy may leave `Origin` out, so each
POST also carries a token that a foreign page cannot know, derived with RDV_SECRET_KEY from what only
this browser holds (the usual synchroniser-token pattern, without a server-side store):

- signing in: when the sign-in form is submitted, the page stores a fresh random value in a
  `SameSite=Strict` cookie (`routes.AGENT_SIGN_IN_BINDING_COOKIE`) and posts the ticket with
  `sign_in_proof(ticket, value)`. Another site can get a ticket for its own account, but cannot set that
  cookie in the person's browser, so it cannot sign them into its account (login CSRF);
- signing out: the page posts `sign_out_proof(session token)`; the session token is in an HttpOnly
  cookie no page can read, so no other site can make the proof.
"""

from __future__ import annotations

import hashlib
import hmac

from rdv_app.config import settings


def _mac(purpose: str, *parts: str) -> str:
    message = "\n".join((purpose, *parts)).encode()
    return hmac.new(settings.secret_key.encode(), message, hashlib.sha256).hexdigest()


def sign_in_proof(ticket: str, binding: str) -> str:
    return _mac("agent-sign-in", ticket, binding)


def sign_out_proof(session_token: str) -> str:
    return _mac("agent-sign-out", session_token)


def matches(expected: str, given: object) -> bool:
    return isinstance(given, str) and hmac.compare_digest(expected, given)
