"""Time-based one-time passwords (RFC 6238, `pyotp`) for the agents' second factor, and their recovery codes.

A code is accepted in a small window around now (`VALID_WINDOW` steps of 30 seconds either side, for
phones whose clock drifts) and only for a time step later than the last one accepted: a code seen once,
on the network or over a shoulder, does not work again. The QR code is an SVG data URI (`segno`), so the
page needs no image route and the secret never leaves the response that shows it.
"""

from __future__ import annotations

import base64
import secrets
from datetime import datetime

import pyotp
import segno

from rdv_app.auth.tokens import hash_token
from rdv_app.config import settings

VALID_WINDOW = 1
ISSUER = settings.product_name
# Recovery codes: 10 characters of an alphabet without look-alikes (no 0/O, 1/I/L), ~50 bits each.
_RECOVERY_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
_RECOVERY_LENGTH = 10


def new_secret() -> str:
    return pyotp.random_base32()


def provisioning_uri(secret: str, account_name: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=account_name, issuer_name=ISSUER)


def qr_code_data_uri(uri: str) -> str:
    svg = segno.make(uri, error="m").svg_inline(scale=5, border=2, dark="#000", light="#fff")
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()


def grouped(secret: str) -> str:
    """The secret in groups of four, as applications ask to type it."""
    return " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))


def clean_code(code: str) -> str:
    return "".join(code.split())


def looks_like_totp(code: str) -> bool:
    cleaned = clean_code(code)
    return len(cleaned) == 6 and cleaned.isascii() and cleaned.isdigit()


def matching_step(secret: str, code: str, now: datetime, last_step: int | None) -> int | None:
    """The time step the code belongs to, if it is right, within the window and newer than `last_step`."""
    if not looks_like_totp(code):
        return None
    totp = pyotp.TOTP(secret)
    step = totp.timecode(now)
    for candidate in range(step - VALID_WINDOW, step + VALID_WINDOW + 1):
        if (last_step is None or candidate > last_step) and secrets.compare_digest(
                totp.generate_otp(candidate), clean_code(code)):
            return candidate
    return None


def new_recovery_codes(count: int) -> list[str]:
    codes = ("".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(_RECOVERY_LENGTH)) for _ in range(count))
    return [f"{code[:5]}-{code[5:]}" for code in codes]


def recovery_code_hash(code: str) -> str:
    """The stored form of a recovery code, whatever case, spaces or dashes it is typed with."""
    return hash_token(clean_code(code).replace("-", "").upper())
