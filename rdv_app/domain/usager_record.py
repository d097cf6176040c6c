"""The rules of an usager's record, field by field (admin-domain.md 1.1, 1.2 and 1.4): pure functions that
clean what an agent typed or refuse it with a French message naming the field.

- Names: required for the first and last name, inner whitespace collapsed, ends stripped.
- Email: optional, trimmed and lowercased; the two typos agents make most, ".@" and "..", are corrected
  rather than refused; then the usual shape "local@domain.tld".
- Phone: optional; read as a number of France or of the DROM (the territory's own region first), stored
  as typed and in E.164; whether it takes SMS (a mobile) is told apart.
- Birth date: not in the future, not more than 130 years ago.
- Number of children: a whole number, 0 or more.
- Closed vocabularies (caisse, family situation, logement): one of their values, or nothing.
- Optional fields shown by a territory toggle (`TOGGLED_FIELDS`): a hidden field is neither shown nor
  changed, and hiding it deletes nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

import phonenumbers

from rdv_app.domain.recipients import sms_number

PHONE_REGIONS = ("FR", "GP", "GF", "MQ", "RE", "YT")
MAX_AGE_YEARS = 130
_EMAIL = re.compile(r"^[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]+$")
_WHOLE_NUMBER = re.compile(r"^\d{1,3}$")

# Each optional field of the record and the territory toggle that shows it.
TOGGLED_FIELDS = {
    "notes": "enable_notes_field",
    "logement": "enable_logement_field",
    "caisse_affiliation": "enable_caisse_affiliation_field",
    "affiliation_number": "enable_affiliation_number_field",
    "family_situation": "enable_family_situation_field",
    "number_of_children": "enable_number_of_children_field",
    "case_number": "enable_case_number",
    "address_details": "enable_address_details",
}
# What a relative's record holds of its own; the rest (contact, address, social) is its responsible's.
RELATIVE_FIELDS = frozenset({"first_name", "last_name", "birth_date", "notes"})

FRANCECONNECT_CERTIFIED = "Cette information est certifiée par FranceConnect et ne peut pas être modifiée."
NOTIFICATIONS_LOCKED = "L'usager ayant validé son compte, vous ne pouvez plus modifier ses préférences."


class FieldRefused(Exception):
    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


@dataclass(frozen=True, slots=True)
class Phone:
    typed: str  # as the agent typed it, trimmed
    e164: str  # "+33612345678"
    mobile: bool  # whether it takes SMS


def clean_name(value: str | None, field: str, label: str) -> str:
    cleaned = " ".join((value or "").split())
    if not cleaned:
        raise FieldRefused(f"Le {label} est obligatoire.", field)
    return cleaned


def clean_text(value: str | None) -> str | None:
    """An optional one-line text: trimmed, None when blank."""
    cleaned = " ".join((value or "").split())
    return cleaned or None


def clean_note(value: str | None) -> str | None:
    """An optional multi-line text: its lines kept, trimmed, None when blank."""
    cleaned = (value or "").strip()
    return cleaned or None


def clean_email(value: str | None) -> str | None:
    cleaned = (value or "").strip().lower()
    if not cleaned:
        return None
    cleaned = cleaned.replace(".@", "@")
    while ".." in cleaned:
        cleaned = cleaned.replace("..", ".")
    if not _EMAIL.match(cleaned):
        raise FieldRefused("L'adresse email n'est pas valide (exemple : prenom.nom@exemple.fr).", "email")
    return cleaned


def parse_phone(value: str | None, territory_region: str = "FR") -> Phone | None:
    """The number read in the territory's region first, then in France and each DROM."""
    typed = (value or "").strip()
    if not typed:
        return None
    regions = tuple(dict.fromkeys((territory_region, *PHONE_REGIONS)))
    for region in regions:
        try:
            number = phonenumbers.parse(typed, region)
        except phonenumbers.NumberParseException:
            break
        if phonenumbers.is_valid_number(number) and phonenumbers.region_code_for_number(number) in regions:
            e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
            return Phone(typed=typed, e164=e164, mobile=sms_number(e164) is not None)
    raise FieldRefused("Le numéro de téléphone n'est pas valide (numéro français ou d'outre-mer).", "phone_number")


def check_birth_date(birth_date: date | None, today: date) -> None:
    if birth_date is None:
        return
    if birth_date > today:
        raise FieldRefused("La date de naissance ne peut pas être dans le futur.", "birth_date")
    if today.year - birth_date.year > MAX_AGE_YEARS:
        raise FieldRefused(f"La date de naissance ne peut pas remonter à plus de {MAX_AGE_YEARS} ans.",
                           "birth_date")


def parse_number_of_children(value: str | None) -> int | None:
    cleaned = (value or "").strip()
    if not cleaned:
        return None
    if not _WHOLE_NUMBER.match(cleaned):
        raise FieldRefused("Le nombre d'enfants doit être un nombre entier, 0 ou plus.", "number_of_children")
    return int(cleaned)


def choice(value: str | None, vocabulary: type[StrEnum], field: str) -> str | None:
    """One of the vocabulary's values, or None when nothing was chosen."""
    cleaned = (value or "").strip()
    if not cleaned:
        return None
    if cleaned not in {member.value for member in vocabulary}:
        raise FieldRefused("Choisissez une valeur de la liste.", field)
    return cleaned
