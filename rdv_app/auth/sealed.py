"""Secrets the server must read back later, kept encrypted at rest (the FranceConnect id_token, needed
to end the FranceConnect session at sign-out).

Fernet (AES-128-CBC and HMAC-SHA256, the `cryptography` library) with a key derived from RDV_SECRET_KEY:
a copy of the database alone gives nothing. A value sealed under another key (a process started without
RDV_SECRET_KEY draws its own) opens as None, and the caller does without it.
"""

from __future__ import annotations

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken

from rdv_app.config import settings


def _fernet(key: str | None) -> Fernet:
    digest = hashlib.sha256(f"rdv-app sealed values:{key or settings.secret_key}".encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def seal(value: str, *, key: str | None = None) -> str:
    return _fernet(key).encrypt(value.encode()).decode()


def unseal(sealed: str | None, *, key: str | None = None) -> str | None:
    if not sealed:
        return None
    try:
        return _fernet(key).decrypt(sealed.encode()).decode()
    except InvalidToken:
        return None
