"""The rows of the RDV exports (domain.md section 7, admin-domain.md 9.3), as plain values: the writer puts
`date` values in date cells and `time` values in time cells, in the organisation's local time.

- the RDV export: one row per RDV, the 21 columns of RDV Service Public in their order;
- the participations export ("par usager"): one row per participation, "usager" and "rdv_id" first, then
  the same columns without "usager(s)"; the status is the participation's, and the commune, postcode,
  minor and birth date are that usager's.
Statuses are told by time as on the list (`rdv_app.domain.rdv_list.STATUS_LABELS`): "À renseigner" for an
RDV of unknown status that started before the export was asked, "Rendez-vous à venir" after.
Nothing here carries more personal data than the list shows: the place of a home RDV is "À domicile
(postcode city)", never the street.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from rdv_app.domain.enums import AuthorType, LocationType, RdvStatus
from rdv_app.domain.labels import impersonal_place
from rdv_app.domain.rdv_list import STATUS_LABELS

RDV_COLUMNS = (
    "année", "date prise rdv", "heure prise rdv", "origine", "date rdv", "heure rdv", "service", "motif",
    "contexte", "statut", "lieu", "professionnel.le(s)", "usager(s)", "commune du premier responsable",
    "au moins un usager mineur ?", "résultat des notifications", "Organisation", "date naissance",
    "code postal du premier responsable", "créé par", "email(s) professionnel.le(s)",
)
PARTICIPATION_COLUMNS = (
    "usager", "rdv_id", "année", "date prise rdv", "heure prise rdv", "origine", "date rdv", "heure rdv",
    "service", "motif", "contexte", "statut", "lieu", "professionnel.le(s)", "commune du responsable",
    "usager mineur ?", "résultat des notifications", "Organisation", "date naissance",
    "code postal du responsable", "créé par", "email(s) professionnel.le(s)",
)
ORIGINS = {
    AuthorType.AGENT: "Créé par un agent",
    AuthorType.USAGER: "RDV Pris sur internet",
    AuthorType.SYSTEM: "RDV en file d'attente",
    AuthorType.PRESCRIPTEUR: "Rdv pris par un prescripteur",
}
AUTHOR_ERASED = "Dans le cadre du RGPD, cette information n'est plus conservée au delà d'un an."
AUTHOR_KEPT = timedelta(days=365)
NOTIFICATIONS_FAILED = "Échec"
NOTIFICATIONS_DONE = "Traité"
_POSTCODE = re.compile(r"\b(\d{5})\b")

Cell = str | int | date | time | None


@dataclass(frozen=True)
class Person:
    """An usager of an RDV, with what the export tells of their responsible (the usager themself for an
    adult without one)."""

    name: str
    birth_date: date | None
    city: str | None  # of the responsible
    address: str | None  # of the responsible
    post_code: str | None  # of the responsible
    status: str  # of the participation
    notifications: str  # NOTIFICATIONS_FAILED, NOTIFICATIONS_DONE or ""


@dataclass(frozen=True)
class ExportedRdv:
    id: int
    time_zone: str
    created_at: datetime
    created_by_type: str
    author: str  # "" when unknown
    starts_at: datetime
    status: str
    service: str
    motif: str
    context: str | None
    location_type: str
    lieu_name: str | None
    lieu_address: str | None
    lieu_single_use: bool
    agents: tuple[str, ...]
    agent_emails: tuple[str, ...]
    organisation: str
    people: tuple[Person, ...]
    notifications: str


def post_code(person: Person) -> str:
    found = _POSTCODE.search(person.address or "")
    return found.group(1) if found else (person.post_code or "")


def is_minor(birth_date: date | None, on: date) -> bool:
    if birth_date is None:
        return False
    eighteen = date(birth_date.year + 18, birth_date.month, 28 if (birth_date.month, birth_date.day) == (2, 29)
                    else birth_date.day)
    return on < eighteen


def place(rdv: ExportedRdv) -> str:
    """The place without personal information (domain.md section 1)."""
    if rdv.location_type == LocationType.HOME:
        first = next((p for p in rdv.people if p.address or p.post_code or p.city), None)
        where = " ".join(part for part in (post_code(first), first.city or "") if part) if first else ""
        return f"À domicile ({where})" if where else "À domicile"
    return impersonal_place(rdv.location_type, rdv.lieu_name, rdv.lieu_address, rdv.lieu_single_use)


def status_label(status: str, starts_at: datetime, asked_at: datetime) -> str:
    if status != RdvStatus.UNKNOWN:
        return STATUS_LABELS[status]
    return STATUS_LABELS["unknown_past" if starts_at < asked_at else "unknown_future"]


def _author(rdv: ExportedRdv, asked_at: datetime) -> str:
    return AUTHOR_ERASED if asked_at - rdv.created_at > AUTHOR_KEPT else rdv.author


def _common(rdv: ExportedRdv, asked_at: datetime) -> tuple[list[Cell], list[Cell], list[Cell]]:
    zone = ZoneInfo(rdv.time_zone)
    created, starts = rdv.created_at.astimezone(zone), rdv.starts_at.astimezone(zone)
    head: list[Cell] = [created.year, created.date(), created.time().replace(second=0, microsecond=0),
                        ORIGINS.get(AuthorType(rdv.created_by_type), ""), starts.date(),
                        starts.time().replace(second=0, microsecond=0), rdv.service, rdv.motif, rdv.context or ""]
    where: list[Cell] = [place(rdv), ", ".join(rdv.agents)]
    tail: list[Cell] = [_author(rdv, asked_at), ", ".join(rdv.agent_emails)]
    return head, where, tail


def rdv_row(rdv: ExportedRdv, asked_at: datetime) -> list[Cell]:
    head, where, tail = _common(rdv, asked_at)
    first = rdv.people[0] if rdv.people else None
    on = rdv.starts_at.astimezone(ZoneInfo(rdv.time_zone)).date()
    births = ", ".join(p.birth_date.strftime("%d/%m/%Y") for p in rdv.people if p.birth_date)
    return [*head, status_label(rdv.status, rdv.starts_at, asked_at), *where, ", ".join(p.name for p in rdv.people),
            (first.city or "") if first else "", "oui" if any(is_minor(p.birth_date, on) for p in rdv.people) else "non",
            rdv.notifications, rdv.organisation, births, post_code(first) if first else "", *tail]


def participation_rows(rdv: ExportedRdv, asked_at: datetime) -> Sequence[list[Cell]]:
    head, where, tail = _common(rdv, asked_at)
    on = rdv.starts_at.astimezone(ZoneInfo(rdv.time_zone)).date()
    return [[person.name, rdv.id, *head, status_label(person.status, rdv.starts_at, asked_at), *where,
             person.city or "", "oui" if is_minor(person.birth_date, on) else "non", person.notifications,
             rdv.organisation, person.birth_date, post_code(person), *tail] for person in rdv.people]
