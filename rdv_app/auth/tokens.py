"""Random tokens: the person gets the token, the database keeps only its SHA-256.

The "Infos et annulation" link's token (`new_link_token`) is random too, followed by a short MAC of the
RDV and participation it was sent for: only the latest token of a participation gives access (its hash is
the stored one), but an earlier one can still be recognised as ours (`is_link_token_of`), so that the
old link of a cancelled RDV says so instead of "plus valide" (issue 26).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

LINK_NONCE_BYTES = 9  # 72 random bits, 12 URL-safe characters
LINK_MAC_BYTES = 6  # 8 URL-safe characters
_LINK_NONCE_LENGTH = 12


def new_token(nbytes: int = 32) -> str:
    return secrets.token_urlsafe(nbytes)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _link_mac(rdv_id: int, participation_id: int, nonce: str, key: str) -> str:
    digest = hmac.new(key.encode(), f"usager-link:{rdv_id}:{participation_id}:{nonce}".encode(),
                      hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:LINK_MAC_BYTES]).decode()


def new_link_token(rdv_id: int, participation_id: int, key: str) -> str:
    nonce = secrets.token_urlsafe(LINK_NONCE_BYTES)
    return nonce + _link_mac(rdv_id, participation_id, nonce, key)


def is_link_token_of(token: str, rdv_id: int, participation_id: int, key: str) -> bool:
    """Whether we sent this link token for this participation of this RDV, whether or not it still works."""
    nonce, mac = token[:_LINK_NONCE_LENGTH], token[_LINK_NONCE_LENGTH:]
    return bool(mac) and hmac.compare_digest(mac, _link_mac(rdv_id, participation_id, nonce, key))
