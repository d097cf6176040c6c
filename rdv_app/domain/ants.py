"""ANTS / France Titres (integrations.md section 1): the rules of the two exchanges, as plain data.

- The editor API that the ANTS hub calls: a `reason` (CNI, PASSPORT, CNI-PASSPORT) selects a motif
  category by its exact name; the slot lasts the motif's duration times `documents_number`; the hub
  reads each slot's time as the lieu's wall-clock time followed by a literal "Z" (`%Y-%m-%dT%H:%MZ`,
  parsed naive and shown as is): a real UTC time, or an offset, would show the wrong hour to the
  usager, so `hub_datetime` writes the local time with that literal Z.
- The coordination API that we call: the pre-demande number (`application_id`) is 10 letters and
  digits, stored upper-cased; its status decides whether it may be used (`number_problem`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from zoneinfo import ZoneInfo

MAIRIES_TERRITORY = "Mairies"


class Reason(StrEnum):
    CNI = "CNI"
    PASSPORT = "PASSPORT"
    CNI_PASSPORT = "CNI-PASSPORT"


# The motif categories of the ANTS titles, by exact name (the names the hub's editors share).
CATEGORY_NAMES: dict[Reason, str] = {
    Reason.CNI: "Carte d'identité disponible sur le site de l'ANTS",
    Reason.PASSPORT: "Passeport disponible sur le site de l'ANTS",
    Reason.CNI_PASSPORT: "Carte d'identité et passeport disponible sur le site de l'ANTS",
}
CATEGORY_SHORT_NAMES: dict[Reason, str] = {
    Reason.CNI: "ants_cni", Reason.PASSPORT: "ants_passeport", Reason.CNI_PASSPORT: "ants_cni_passeport"}
ANTS_CATEGORIES = frozenset(CATEGORY_NAMES.values())

# The three motifs of a new mairie (admin-domain.md section 12), with their category.
MAIRIE_MOTIFS: tuple[tuple[str, Reason], ...] = (
    ("Carte d'identité", Reason.CNI),
    ("Passeport", Reason.PASSPORT),
    ("Passeport et carte d'identité", Reason.CNI_PASSPORT),
)
MAIRIE_MOTIF_DURATION = 15

MAX_DOCUMENTS = 5  # a family's titles at one counter; more is not a request a mairie serves in one go
APPLICATION_ID = re.compile(r"[A-Z0-9]{10}")
_HUB_APPLICATION_ID = re.compile(r"[A-Za-z0-9]{10}")

FIELD_LABEL = "Numéro de pré-demande ANTS"
HELP_URL = "https://passeport.ants.gouv.fr/demarches-en-ligne"
FORMAT_ERROR = "Le numéro de pré-demande ANTS doit comporter 10 chiffres et lettres."
UNEXPECTED_ERROR = ("Le numéro de pré-demande ANTS n'a pas pu être validé à cause d'une erreur inattendue. "
                    "Merci de réessayer dans 30 secondes.")
_STATUS_ERRORS = {
    "consumed": "Ce numéro de pré-demande ANTS correspond à un dossier déjà instruit.",
    "declared": "Ce numéro de pré-demande ANTS n'est pas officiellement reconnu par l'ANTS.",
    "unknown": "Ce numéro de pré-demande ANTS n'est pas reconnu par l'ANTS.",
    "expired": "Ce numéro de pré-demande ANTS correspond à un dossier expiré.",
}
VALIDATED = "validated"


def normalized_number(text: str) -> str:
    """The number as stored: spaces around removed, upper-cased."""
    return text.strip().upper()


def format_problem(number: str) -> str | None:
    """The French error of a number that cannot be one (checked before any call to ANTS), else None."""
    return None if APPLICATION_ID.fullmatch(normalized_number(number)) else FORMAT_ERROR


def hub_application_ids(values: list[str]) -> list[str]:
    """The pre-demande numbers of a hub request that can be ones (the hub accepts lower case)."""
    return [value for value in values if _HUB_APPLICATION_ID.fullmatch(value)]


@dataclass(frozen=True)
class ExistingAppointment:
    meeting_point: str
    management_url: str


@dataclass(frozen=True)
class NumberCheck:
    """What ANTS says of a number: `error` blocks the form; `warning` (already used for another RDV) lets
    the person go on once they confirm."""

    error: str | None = None
    warning: str | None = None
    warning_link: str | None = None


def number_problem(status: str, appointments: list[ExistingAppointment], own_management_url: str | None = None) -> NumberCheck:
    """The check of a number from its status at ANTS and the appointments already declared with it
    (ours, for the RDV being edited, do not count)."""
    if status != VALIDATED:
        return NumberCheck(error=_STATUS_ERRORS.get(status, _STATUS_ERRORS["unknown"]))
    others = [a for a in appointments if a.management_url != own_management_url]
    if not others:
        return NumberCheck()
    first = others[0]
    return NumberCheck(warning=f"Ce numéro de pré-demande ANTS est déjà utilisé pour un RDV auprès de "
                               f"{first.meeting_point}. Veuillez annuler ce RDV avant d'en prendre un nouveau.",
                       warning_link=first.management_url)


def hub_datetime(starts_at: datetime, time_zone: str) -> str:
    """A slot's start as the hub reads it: local wall-clock time and a literal Z ("2026-12-07T09:30Z")."""
    return starts_at.astimezone(ZoneInfo(time_zone)).strftime("%Y-%m-%dT%H:%MZ")


def appointment_date(starts_at: datetime, time_zone: str) -> str:
    """The coordination API's `appointment_date`: local time, "YYYY-MM-DD HH:MM:SS"."""
    return starts_at.astimezone(ZoneInfo(time_zone)).strftime("%Y-%m-%d %H:%M:%S")


@dataclass(frozen=True)
class MeetingPointAddress:
    public_entry_address: str
    zip_code: str
    city_name: str


_ZIP_CODE = re.compile(r"\b(\d{5})\b")


def split_address(address: str) -> MeetingPointAddress:
    """The street, postcode and city of a lieu's address, for the hub: "89 rue Roger Bouvry, Seclin, 59113"
    (RDV-SP's order) as well as "89 rue Roger Bouvry, 59113 Seclin" (the BAN's) are understood."""
    parts = [part.strip() for part in address.split(",") if part.strip()]
    if not parts:
        return MeetingPointAddress("", "", "")
    street, rest = parts[0], parts[1:]
    zip_code = ""
    city = ""
    for part in rest:
        found = _ZIP_CODE.search(part)
        if found and not zip_code:
            zip_code = found.group(1)
            remainder = (part[:found.start()] + part[found.end():]).strip()
            city = city or remainder
        elif not city:
            city = part
    if not zip_code and (found := _ZIP_CODE.search(street)):
        zip_code = found.group(1)
        city = city or street[found.end():].strip()
        street = street[:found.start()].strip() or street
    return MeetingPointAddress(street, zip_code, city)


class HubRequestError(ValueError):
    """A request of the hub that cannot be answered; the message is the hub's error text."""


@dataclass(frozen=True)
class SlotRequest:
    meeting_point_ids: tuple[int, ...]
    first_day: date
    last_day: date
    reason: Reason
    documents_number: int


MAX_DAYS = 93  # the hub asks a month at most (widened to whole months); a quarter bounds the work


def slot_request(meeting_point_ids: list[str], start_date: str | None, end_date: str | None,
                 reason: str | None, documents_number: str | None) -> SlotRequest:
    """The hub's query parameters, checked; raises HubRequestError with the hub's message."""
    missing = [name for name, value in (("meeting_point_ids", meeting_point_ids), ("start_date", start_date),
                                        ("end_date", end_date), ("reason", reason)) if not value]
    if missing:
        raise HubRequestError(f"param is missing or the value is empty: {missing[0]}")
    try:
        chosen = Reason(reason or "")
    except ValueError:
        raise HubRequestError("Invalid reason param") from None
    try:
        first_day, last_day = date.fromisoformat(start_date or ""), date.fromisoformat(end_date or "")
    except ValueError:
        raise HubRequestError("start_date and end_date must be dates (YYYY-MM-DD)") from None
    if first_day > last_day:
        raise HubRequestError("start_date is after end_date")
    if (last_day - first_day).days >= MAX_DAYS:
        raise HubRequestError(f"the range may not exceed {MAX_DAYS} days")
    try:
        documents = int(documents_number) if documents_number not in (None, "") else 1
    except ValueError:
        raise HubRequestError("documents_number must be an integer") from None
    if not 1 <= documents <= MAX_DOCUMENTS:
        raise HubRequestError(f"documents_number must be between 1 and {MAX_DOCUMENTS}")
    ids = tuple(dict.fromkeys(int(value) for value in meeting_point_ids if value.isdigit() and len(value) < 12))
    return SlotRequest(ids, first_day, last_day, chosen, documents)


def documents_in_link(value: str | None) -> int:
    """The number of titles a booking link from the hub carries (`documents`), 1 when absent or not a
    number the hub could have sent (1 to MAX_DOCUMENTS)."""
    text = (value or "").strip()
    count = int(text) if text.isdigit() and len(text) < 3 else 1
    return count if 1 <= count <= MAX_DOCUMENTS else 1
