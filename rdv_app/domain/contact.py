"""Contact details of organisations and lieux: phone, email, website, time zone, coordinates.

Pure checks returning the cleaned value or raising InvalidValue with a French message; the services
attach the form field.
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache
from urllib.parse import urlsplit
from zoneinfo import available_timezones

import phonenumbers

# The regions whose national numbers are French (metropole and DROM, domain.md section 1).
FRENCH_PHONE_REGIONS = ("FR", "GP", "MQ", "GF", "RE", "YT")
_SHORT_NUMBER = re.compile(r"^\d{4}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")


class InvalidValue(ValueError):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def optional_text(value: str | None) -> str | None:
    cleaned = (value or "").strip()
    return cleaned or None


def phone(raw: str | None, region: str = "FR", *, allow_short: bool = False) -> str | None:
    """A French or overseas number as typed (stripped), or None when empty; organisations may also give a
    4-digit short number ("3939")."""
    cleaned = optional_text(raw)
    if cleaned is None:
        return None
    if allow_short and _SHORT_NUMBER.match(cleaned):
        return cleaned
    for candidate in dict.fromkeys((region, *FRENCH_PHONE_REGIONS)):
        try:
            number = phonenumbers.parse(cleaned, candidate)
        except phonenumbers.NumberParseException:
            break
        if (phonenumbers.is_valid_number(number)
                and phonenumbers.region_code_for_number(number) in FRENCH_PHONE_REGIONS):
            return cleaned
    raise InvalidValue("Le numéro de téléphone n'est pas valide (numéro français ou d'outre-mer, par exemple "
                       "03 21 23 45 67)." + (" Un numéro court de 4 chiffres est aussi accepté." if allow_short
                                             else ""))


def tel_uri(number: str) -> str:
    """The `tel:` address of a French, overseas or short number, for a link a phone can call."""
    for region in FRENCH_PHONE_REGIONS:
        try:
            parsed = phonenumbers.parse(number, region)
        except phonenumbers.NumberParseException:
            break
        if phonenumbers.is_valid_number(parsed):
            return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.RFC3966)
    return "tel:" + "".join(c for c in number if c.isdigit() or c == "+")


def email(raw: str | None) -> str | None:
    cleaned = optional_text(raw)
    if cleaned is None:
        return None
    if not _EMAIL.match(cleaned):
        raise InvalidValue("L'adresse email n'est pas valide (exemple : accueil@exemple.fr).")
    return cleaned


def website(raw: str | None) -> str | None:
    """An http(s) address; 'www.exemple.fr' gets its https:// added."""
    cleaned = optional_text(raw)
    if cleaned is None:
        return None
    if "://" not in cleaned:
        cleaned = f"https://{cleaned}"
    parts = urlsplit(cleaned)
    if parts.scheme not in {"http", "https"} or "." not in parts.netloc or " " in cleaned:
        raise InvalidValue("L'adresse du site internet n'est pas valide (exemple : https://www.exemple.fr).")
    return cleaned


@cache
def _zones() -> frozenset[str]:
    return frozenset(available_timezones())


def timezone(raw: str | None) -> str:
    cleaned = (raw or "").strip()
    if cleaned not in _zones():
        raise InvalidValue("Ce fuseau horaire n'existe pas : choisissez-en un dans la liste "
                           "(par exemple Europe/Paris ou Indian/Reunion).")
    return cleaned


def coordinate(raw: str | None, label: str, limit: int) -> float | None:
    """A latitude (limit 90) or longitude (limit 180) in decimal degrees; a comma is read as the decimal
    point."""
    cleaned = optional_text(raw)
    if cleaned is None:
        return None
    try:
        value = float(cleaned.replace(",", "."))
    except ValueError:
        raise InvalidValue(f"La {label} doit être un nombre décimal, par exemple 50.2889.") from None
    if not -limit <= value <= limit:
        raise InvalidValue(f"La {label} doit être comprise entre -{limit} et {limit}.")
    return value


def slug(name: str) -> str:
    """'Maison des Solidarités de Lens' -> 'maison-des-solidarites-de-lens'."""
    spelled = name.replace("œ", "oe").replace("Œ", "Oe").replace("æ", "ae").replace("Æ", "Ae")
    plain = unicodedata.normalize("NFKD", spelled).encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]+", "-", plain).strip("-") or "organisation"
