"""What an usager types online about themselves and their relatives (issue 26), as pure checks that return
the value to store or raise `InvalidValue` with a French message.

- Names keep what people type (accents, hyphens, apostrophes, spaces collapsed) but not markup ("<", ">")
  nor control or invisible characters.
- Phone numbers: French or overseas numbers; only digits, spaces, dots, hyphens, parentheses and a leading
  "+" may be typed (a trailing letter is refused, not dropped). Stored formatted back ("06 12 34 56 78")
  with the E.164 form next to it ("+33612345678").
"""

from __future__ import annotations

import re
import unicodedata

import phonenumbers

from rdv_app.domain.contact import InvalidValue

PHONE_REGIONS = ("FR", "GP", "MQ", "GF", "RE", "YT", "PM")
_PHONE_CHARACTERS = re.compile(r"^\+?[\d\s.()\-]+$")
_MARKUP = frozenset("<>")
PHONE_EXAMPLE = "06 12 34 56 78"


def person_name(value: str | None, what: str) -> str:
    """`what`: "votre prénom", "le nom du proche"..."""
    cleaned = " ".join((value or "").split())
    if not cleaned:
        raise InvalidValue(f"Indiquez {what}.")
    if any(c in _MARKUP or unicodedata.category(c).startswith("C") for c in cleaned):
        raise InvalidValue(f"Indiquez {what} avec des lettres : les caractères < et > et les caractères "
                           "invisibles ne sont pas acceptés.")
    return cleaned


def phone_number(value: str | None) -> tuple[str, str] | None:
    """(the number formatted back, its E.164 form), or None when nothing was typed."""
    raw = (value or "").strip()
    if not raw:
        return None
    if _PHONE_CHARACTERS.match(raw):
        for region in PHONE_REGIONS:
            try:
                number = phonenumbers.parse(raw, region)
            except phonenumbers.NumberParseException:
                break
            if phonenumbers.is_valid_number(number) \
                    and phonenumbers.region_code_for_number(number) in PHONE_REGIONS:
                return (phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL),
                        phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))
    raise InvalidValue(f"Le numéro de téléphone n'est pas valide : saisissez seulement des chiffres (exemple : "
                       f"{PHONE_EXAMPLE}).")
