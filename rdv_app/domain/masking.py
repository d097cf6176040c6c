"""What an agent sees of an usager who belongs to another organisation (domain.md section 8).

The usager search also lists usagers of the territory's other organisations so that an agent can
recognise a person already known elsewhere without learning their details: the name is shown (last
name first), the birth year, the middle of the phone number and the inside of the email's local part
are hidden.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

HIDDEN_DIGITS = 6
_EMAIL_FILLER = "******"
_PHONE_SEPARATORS = re.compile(r"[\s.\-/()]")


@dataclass(frozen=True, slots=True)
class UsagerPreview:
    """An usager of another organisation, as the search shows them."""

    id: int
    name: str
    birth_date: str | None
    phone_number: str | None
    email: str | None


def reverse_full_name(first_name: str, last_name: str) -> str:
    """'DUPONT Jeanne': the order agents read lists in."""
    return " ".join(part for part in (last_name.strip().upper(), first_name.strip()) if part)


def mask_birth_date(birth_date: date | None) -> str | None:
    """'14/07/****'."""
    return None if birth_date is None else f"{birth_date.day:02d}/{birth_date.month:02d}/****"


def mask_phone(phone_number: str | None) -> str | None:
    """The six middle digits become '*': '06 12 34 56 78' -> '06******78', '+33612345678' ->
    '+33******678'. Separators are dropped so their position tells nothing either; a number of six
    digits or fewer is hidden entirely."""
    if phone_number is None or not phone_number.strip():
        return None
    compact = _PHONE_SEPARATORS.sub("", phone_number.strip())
    prefix, digits = ("+", compact[1:]) if compact.startswith("+") else ("", compact)
    if len(digits) <= HIDDEN_DIGITS:
        return prefix + "*" * len(digits)
    start = (len(digits) - HIDDEN_DIGITS) // 2
    return prefix + digits[:start] + "*" * HIDDEN_DIGITS + digits[start + HIDDEN_DIGITS:]


def mask_email(email: str | None) -> str | None:
    """'jeanne.dupont@example.fr' -> 'j******t@example.fr' (always six stars: the length is hidden)."""
    if email is None or not email.strip():
        return None
    local, at, domain = email.strip().rpartition("@")
    if not at:
        local, domain = domain, ""
    if not local:
        return f"{_EMAIL_FILLER}@{domain}"
    return f"{local[0]}{_EMAIL_FILLER}{local[-1]}" + (f"@{domain}" if at else "")


def preview(usager_id: int, *, first_name: str, last_name: str, birth_date: date | None,
            phone_number: str | None, email: str | None) -> UsagerPreview:
    return UsagerPreview(id=usager_id, name=reverse_full_name(first_name, last_name),
                         birth_date=mask_birth_date(birth_date), phone_number=mask_phone(phone_number),
                         email=mask_email(email))
