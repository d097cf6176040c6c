"""The rules of a motif's own fields (domain.md section 1, Motif), and booking delays in readable units.

Pure: no database. The rules that need one (the name's uniqueness, the service enabled in the territory,
fields frozen once RDVs exist) live in `rdv_app.services.admin_motifs`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields, replace
from enum import StrEnum
from typing import Any

from rdv_app.domain import limits
from rdv_app.domain.enums import BookableBy, LocationType, SectorisationLevel, VisibilityType

# Delays as RDV Service Public counts them: a month is a twelfth of a 365.2425-day year.
MINUTE = 60
HOUR = 3600
DAY = 86_400
WEEK = 7 * DAY
MONTH = 2_629_746
YEAR = 12 * MONTH

MIN_DELAY = 30 * MINUTE
MAX_DELAY = YEAR
MAX_DURATION_MIN = 12 * 60
NAME_MAX_LENGTH = limits.LABEL
TEXT_MAX_LENGTH = limits.INSTRUCTIONS

# Unit key -> (seconds, singular, plural), largest first (the display picks the largest exact unit).
DELAY_UNITS: dict[str, tuple[int, str, str]] = {
    "months": (MONTH, "mois", "mois"),
    "weeks": (WEEK, "semaine", "semaines"),
    "days": (DAY, "jour", "jours"),
    "hours": (HOUR, "heure", "heures"),
    "minutes": (MINUTE, "minute", "minutes"),
}

_COLOR = re.compile(r"^#(?:[0-9a-fA-F]{3}){1,2}$")


class MotifRuleError(ValueError):
    """A broken rule: `message` is French, `field` the form field it belongs to."""

    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


@dataclass(frozen=True)
class MotifFields:
    """Every field an admin sets on a motif; delays in seconds."""

    name: str
    service_id: int | None
    color: str = "#1f6feb"
    default_duration_in_min: int | None = 30
    location_type: str = LocationType.PUBLIC_OFFICE.value
    collectif: bool = False
    bookable_by: str = BookableBy.AGENTS.value
    min_public_booking_delay: int | None = 30 * MINUTE
    max_public_booking_delay: int | None = 3 * MONTH
    visibility_type: str = VisibilityType.VISIBLE_AND_NOTIFIED.value
    sectorisation_level: str = SectorisationLevel.DEPARTEMENT.value
    for_secretariat: bool = False
    follow_up: bool = False
    rdvs_editable_by_user: bool = True
    rdvs_cancellable_by_user: bool = True
    restriction_for_rdv: str | None = None
    instruction_for_rdv: str | None = None
    custom_cancel_warning_message: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


def _text(value: str | None) -> str | None:
    cleaned = (value or "").strip()
    return cleaned or None


def normalised(data: MotifFields) -> MotifFields:
    """Whitespace stripped (domain.md: names are stripped), empty texts as None, colours in lower case."""
    return replace(
        data,
        name=" ".join((data.name or "").split()),
        color=(data.color or "").strip().lower(),
        restriction_for_rdv=_text(data.restriction_for_rdv),
        instruction_for_rdv=_text(data.instruction_for_rdv),
        custom_cancel_warning_message=_text(data.custom_cancel_warning_message),
    )


def check(data: MotifFields) -> None:
    """Raises MotifRuleError for the first broken rule, in the order of the form."""
    if not data.name:
        raise MotifRuleError("Le nom du motif est obligatoire.", "name")
    if len(data.name) > NAME_MAX_LENGTH:
        raise MotifRuleError(f"Le nom du motif ne peut pas dépasser {NAME_MAX_LENGTH} caractères.", "name")
    if data.service_id is None:
        raise MotifRuleError("Choisissez le service du motif.", "service_id")
    if not _COLOR.match(data.color):
        raise MotifRuleError("La couleur doit être un code hexadécimal, par exemple #1f6feb.", "color")
    duration = data.default_duration_in_min
    if duration is None:
        raise MotifRuleError("Indiquez la durée par défaut, en minutes.", "default_duration_in_min")
    if not 1 <= duration <= MAX_DURATION_MIN:
        raise MotifRuleError(f"La durée par défaut doit être comprise entre 1 et {MAX_DURATION_MIN} minutes "
                             "(12 heures).", "default_duration_in_min")
    _check_choice(data.location_type, LocationType, "Choisissez le type de lieu du motif.", "location_type")
    _check_choice(data.bookable_by, BookableBy, "Choisissez qui peut réserver ce motif.", "bookable_by")
    _check_choice(data.visibility_type, VisibilityType, "Choisissez la visibilité du motif.", "visibility_type")
    _check_choice(data.sectorisation_level, SectorisationLevel, "Choisissez le niveau de sectorisation.",
                  "sectorisation_level")
    if data.collectif and data.location_type != LocationType.PUBLIC_OFFICE:
        raise MotifRuleError("Un motif collectif se déroule forcément sur place : choisissez « Sur place » "
                             "ou décochez « Motif collectif ».", "collectif")
    check_delays(data.min_public_booking_delay, data.max_public_booking_delay)
    if data.for_secretariat and data.follow_up:
        raise MotifRuleError("Un motif de suivi par le référent ne peut pas être ouvert au secrétariat : "
                             "décochez l'une des deux options.", "follow_up")
    for name, label in (("restriction_for_rdv", "Les conditions à accepter"),
                        ("instruction_for_rdv", "Les instructions après la prise de RDV"),
                        ("custom_cancel_warning_message", "Le message d'avertissement d'annulation")):
        value = getattr(data, name)
        if value is not None and len(value) > TEXT_MAX_LENGTH:
            raise MotifRuleError(f"{label} : {TEXT_MAX_LENGTH} caractères au plus.", name)


def check_delays(minimum: int | None, maximum: int | None) -> None:
    """Both between 30 minutes and one year, the maximum after the minimum."""
    if minimum is None:
        raise MotifRuleError("Indiquez le délai minimum de réservation.", "min_public_booking_delay")
    if maximum is None:
        raise MotifRuleError("Indiquez le délai maximum de réservation.", "max_public_booking_delay")
    if not MIN_DELAY <= minimum <= MAX_DELAY:
        raise MotifRuleError("Le délai minimum de réservation doit être compris entre 30 minutes et 1 an.",
                             "min_public_booking_delay")
    if not MIN_DELAY <= maximum <= MAX_DELAY:
        raise MotifRuleError("Le délai maximum de réservation doit être compris entre 30 minutes et 1 an.",
                             "max_public_booking_delay")
    if maximum <= minimum:
        raise MotifRuleError(f"Le délai maximum ({describe_delay(maximum)}) doit être plus long que le délai "
                             f"minimum ({describe_delay(minimum)}).", "max_public_booking_delay")


def _check_choice(value: str, vocabulary: type[StrEnum], message: str, field: str) -> None:
    if value not in {member.value for member in vocabulary}:
        raise MotifRuleError(message, field)


def delay_in_seconds(amount: str, unit: str, field: str) -> int:
    """'2' + 'days' -> 172 800; a missing, negative or non-whole amount is refused on `field`."""
    cleaned = (amount or "").strip()
    if not cleaned:
        raise MotifRuleError("Indiquez une durée (un nombre entier).", field)
    if not cleaned.isdigit():
        raise MotifRuleError("La durée doit être un nombre entier positif, par exemple 2.", field)
    if unit not in DELAY_UNITS:
        raise MotifRuleError("Choisissez une unité : minutes, heures, jours, semaines ou mois.", field)
    return int(cleaned) * DELAY_UNITS[unit][0]


def delay_parts(seconds: int) -> tuple[int, str]:
    """The amount and unit a form shows: the largest unit that divides the delay exactly; otherwise the
    delay rounded to whole days (or minutes under a day)."""
    for unit, (size, _, _) in DELAY_UNITS.items():
        if seconds and seconds % size == 0:
            return seconds // size, unit
    if seconds >= DAY:
        return round(seconds / DAY), "days"
    return round(seconds / MINUTE), "minutes"


def describe_delay(seconds: int) -> str:
    """'30 minutes', '1 jour', '3 mois'."""
    amount, unit = delay_parts(seconds)
    _, singular, plural = DELAY_UNITS[unit]
    return f"{amount} {singular if amount == 1 else plural}"


def is_open_online(bookable_by: str) -> bool:
    """Usagers may book it themselves through the public link (the FAQ's "Ouvert aux agents et aux usagers")."""
    return bookable_by == BookableBy.EVERYONE


# Open to prescription (the FAQ's "ouvert aux prescripteurs"): every setting but "agents only".
PRESCRIPTION_BOOKABLE = (BookableBy.AGENTS_AND_PRESCRIPTEURS.value,
                         BookableBy.AGENTS_AND_PRESCRIPTEURS_AND_INVITED_USERS.value, BookableBy.EVERYONE.value)


def is_open_to_prescripteurs(bookable_by: str) -> bool:
    """Agents of other organisations of the territory (and external prescripteurs) may book it."""
    return bookable_by in PRESCRIPTION_BOOKABLE
