"""Small signed values for cookies: the browser holds them, only the server can make them.

`sign(purpose, data, key)` gives "<base64 JSON>.<base64 HMAC-SHA256>"; the purpose is part of the MAC,
so a value made for one cookie is refused for another. `unsign` returns the data, or None when the value
was altered, made with another key or for another purpose. Expiry is the caller's business (a field of
the data).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from typing import Any


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(purpose: str, body: str, key: str) -> str:
    return _b64(hmac.new(key.encode(), f"{purpose}:{body}".encode(), hashlib.sha256).digest())


def sign(purpose: str, data: dict[str, Any], key: str) -> str:
    body = _b64(json.dumps(data, separators=(",", ":"), sort_keys=True).encode())
    return f"{body}.{_mac(purpose, body, key)}"


def unsign(purpose: str, value: str | None, key: str) -> dict[str, Any] | None:
    if not value or value.count(".") != 1:
        return None
    body, mac = value.split(".")
    if not hmac.compare_digest(mac, _mac(purpose, body, key)):
        return None
    try:
        data = json.loads(_unb64(body))
    except (binascii.Error, ValueError):
        return None
    return data if isinstance(data, dict) else None
