"""ANTS use cases (integrations.md 1a, 1d): what the editor API answers the hub, and the check of a
pre-demande number.

The editor API covers the lieux of the organisations of the territory named "Mairies". Slots come from
the one slot engine (rdv_app.domain.slots), searched as an usager would (booking delays included), for
the lieu's motifs of the reason's category, with the motif's duration times `documents_number`. All the
motifs are loaded together (`load_searches`: three queries whatever their number), and each motif's
search serves all its lieux, so that the work grows with the slots, not with lieux × motifs × queries.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlencode

from sqlmodel import col, select

from rdv_app.config import settings
from rdv_app.db.models import Lieu, Motif, MotifCategory, Organisation, Territory, Usager
from rdv_app.db.rows import require_id
from rdv_app.db.uow import UnitOfWork
from rdv_app.domain import ants, clock
from rdv_app.domain.enums import BookableBy, LieuAvailability, WebhookSubscription
from rdv_app.domain.events import Change, RecordChanged
from rdv_app.domain.slots import Searcher, from_microseconds, slot_starts
from rdv_app.notify.ants import AntsUnavailable, CoordinationClient, management_url
from rdv_app.services.availability.slot_inputs import MotifContext, load_searches
from rdv_app.services.boundary import boundary
from rdv_app.services.errors import DomainError, NotFound

MISSING_NUMBER = f"Renseignez le {ants.FIELD_LABEL[0].lower()}{ants.FIELD_LABEL[1:]}."


@dataclass(frozen=True)
class MeetingPoint:
    id: str
    name: str
    longitude: float | None
    latitude: float | None
    public_entry_address: str
    zip_code: str
    city_name: str


def _mairies_lieux(uow: UnitOfWork, lieu_ids: list[int] | None = None) -> list[tuple[Lieu, Organisation]]:
    query = (select(Lieu, Organisation).join(Organisation, col(Organisation.id) == Lieu.organisation_id)
             .join(Territory, col(Territory.id) == Organisation.territory_id)
             .where(Territory.name == ants.MAIRIES_TERRITORY,
                    Lieu.availability == LieuAvailability.ENABLED.value))
    if lieu_ids is not None:
        query = query.where(col(Lieu.id).in_(lieu_ids))
    return [(lieu, organisation) for lieu, organisation in uow.session.exec(query.order_by(col(Lieu.id)))]


@boundary
def meeting_points(uow: UnitOfWork) -> list[MeetingPoint]:
    """Every enabled lieu of the Mairies territory, as the hub lists them."""
    points = []
    for lieu, _organisation in _mairies_lieux(uow):
        address = ants.split_address(lieu.address)
        points.append(MeetingPoint(id=str(lieu.id), name=lieu.name, longitude=lieu.longitude, latitude=lieu.latitude,
                                   public_entry_address=address.public_entry_address, zip_code=address.zip_code,
                                   city_name=address.city_name))
    return points


@dataclass(frozen=True)
class HubSlot:
    datetime: str
    callback_url: str


def _callback_prefix(organisation_id: int, motif_id: int, lieu_id: int, documents_number: int) -> str:
    """The public booking of that motif at that lieu, for that number of titles (`documents`: the slots
    it offers, and the RDV it books, last the motif's duration times that number); the slot's UTC start
    (`creneau`) ends it."""
    query = urlencode({"documents": documents_number, "motif": motif_id, "lieu": lieu_id})
    return f"{settings.public_url}/org/{organisation_id}?{query}&creneau="


@boundary
def available_slots(uow: UnitOfWork, request: ants.SlotRequest, now: datetime | None = None) -> dict[str, list[HubSlot]]:
    """The hub's `availableTimeSlots`: for each requested lieu of the Mairies territory (others are
    dropped), its start times sorted, without duplicates; a lieu without slot gets an empty list."""
    now = now or clock.now()
    lieux = _mairies_lieux(uow, list(request.meeting_point_ids))
    answer: dict[str, list[HubSlot]] = {str(lieu.id): [] for lieu, _ in lieux}
    if not lieux:
        return answer
    organisations = {require_id(o): o for _, o in lieux}
    motifs = uow.session.exec(
        select(Motif, Territory.departement_number)
        .join(MotifCategory, col(MotifCategory.id) == Motif.motif_category_id)
        .join(Organisation, col(Organisation.id) == Motif.organisation_id)
        .join(Territory, col(Territory.id) == Organisation.territory_id)
        .where(col(Motif.organisation_id).in_(list(organisations)), col(Motif.deleted_at).is_(None),
               col(Motif.collectif).is_(False), Motif.bookable_by == BookableBy.EVERYONE.value,
               MotifCategory.name == ants.CATEGORY_NAMES[request.reason])
        .order_by(col(Motif.id))).all()
    lieux_by_organisation: dict[int, list[int]] = {}
    for lieu, organisation in lieux:
        lieux_by_organisation.setdefault(require_id(organisation), []).append(require_id(lieu))
    found: dict[str, dict[str, HubSlot]] = {key: {} for key in answer}
    texts: dict[str, dict[int, tuple[str, str]]] = {}
    contexts = [MotifContext(motif=motif, organisation=organisations[motif.organisation_id],
                             departement_number=departement, documents_number=request.documents_number)
                for motif, departement in motifs]
    searches = load_searches(uow, contexts, request.first_day, request.last_day, searcher=Searcher.USAGER, now=now)
    for context in contexts:
        motif, organisation = context.motif, context.organisation
        search = searches[require_id(motif)]
        for lieu_id in lieux_by_organisation[motif.organisation_id]:
            slots = found[str(lieu_id)]
            prefix = _callback_prefix(motif.organisation_id, require_id(motif), lieu_id, request.documents_number)
            # Thousands of slots, mostly at the same instants from one mairie to the next: each instant is
            # written once per time zone (the hub's local time, and the UTC time of the link).
            zone = organisation.time_zone
            written = texts.setdefault(zone, {})
            for start in slot_starts(search, request.first_day, request.last_day, lieu_id=lieu_id):
                pair = written.get(start)
                if pair is None:
                    starts_at = from_microseconds(start)
                    pair = written[start] = (ants.hub_datetime(starts_at, zone), starts_at.strftime("%Y-%m-%dT%H:%M:%SZ"))
                shown, utc = pair
                if shown not in slots:
                    slots[shown] = HubSlot(shown, prefix + utc)
    return {key: [slots[shown] for shown in sorted(slots)] for key, slots in found.items()}


@dataclass(frozen=True)
class NumberVerdict:
    """The check of a pre-demande number for a form: the number as stored, and what to show."""

    number: str
    error: str | None = None
    warning: str | None = None
    warning_link: str | None = None


def check_number(text: str, *, rdv_id: int | None = None, client: CoordinationClient | None = None) -> NumberVerdict:
    """The format first, then ANTS's word on the number (integrations.md 1d). Without a configured
    coordination API, only the format is checked."""
    number = ants.normalized_number(text)
    if (problem := ants.format_problem(number)) is not None:
        return NumberVerdict(number, error=problem)
    client = client or CoordinationClient.from_settings()
    if client is None:
        return NumberVerdict(number)
    try:
        found = client.status(number)
    except AntsUnavailable:
        return NumberVerdict(number, error=ants.UNEXPECTED_ERROR)
    check = ants.number_problem(
        found.status, [ants.ExistingAppointment(a.meeting_point, a.management_url) for a in found.appointments],
        management_url(rdv_id) if rdv_id is not None else None)
    return NumberVerdict(number, error=check.error, warning=check.warning, warning_link=check.warning_link)


# --------------------------------------------------------------------------- the usager's booking


@dataclass(frozen=True)
class NumberNeed:
    """Whether booking this motif needs a pre-demande number, and the participant's stored one."""

    required: bool
    number: str = ""


def _participant(uow: UnitOfWork, usager_id: int, for_usager_id: int) -> Usager:
    """The usager or one of their relatives; anyone else is NotFound."""
    participant = uow.session.get(Usager, for_usager_id)
    if participant is None or participant.deleted_at is not None or for_usager_id not in (
            usager_id, participant.id if participant.responsible_id == usager_id else None):
        raise NotFound("Cette personne est introuvable depuis votre compte.")
    return participant


def motif_needs_number(uow: UnitOfWork, motif_id: int) -> bool:
    return uow.session.exec(
        select(Motif.id).join(MotifCategory, col(MotifCategory.id) == Motif.motif_category_id)
        .where(Motif.id == motif_id, col(MotifCategory.name).in_(ants.ANTS_CATEGORIES))).first() is not None


def required_number(uow: UnitOfWork, motif_id: int, text: str) -> str | None:
    """The pre-demande number a booking of this motif stores on its participant: None for a motif of no
    ANTS category; else the number upper-cased, its format checked (DomainError naming the field when
    missing or malformed). ANTS's word on it (`check_number`) is asked before, outside any transaction."""
    if not motif_needs_number(uow, motif_id):
        return None
    number = ants.normalized_number(text)
    if not number:
        raise DomainError(MISSING_NUMBER, "ants_pre_demande_number")
    if (problem := ants.format_problem(number)) is not None:
        raise DomainError(problem, "ants_pre_demande_number")
    return number


def keep_number(uow: UnitOfWork, usager: Usager, number: str | None, now: datetime) -> None:
    """Stores the number on the usager the RDV is for (in the booking's transaction), when it changed."""
    if number is None or usager.ants_pre_demande_number == number:
        return
    usager.ants_pre_demande_number = number
    usager.updated_at = now
    uow.session.add(usager)
    uow.session.flush()
    uow.record(RecordChanged(model=WebhookSubscription.USER, record_id=require_id(usager), change=Change.UPDATED,
                             occurred_at=now))


@boundary
def booking_number(uow: UnitOfWork, usager_id: int, for_usager_id: int, motif_id: int) -> NumberNeed:
    """What the booking's last step asks: a number for a motif of an ANTS category (integrations.md 1d)."""
    if not motif_needs_number(uow, motif_id):
        return NumberNeed(False)
    return NumberNeed(True, _participant(uow, usager_id, for_usager_id).ants_pre_demande_number or "")


@boundary
def save_booking_number(uow: UnitOfWork, usager_id: int, for_usager_id: int, ants_pre_demande_number: str) -> str:
    """Stores the participant's number (checked with `check_number` just before, outside any transaction,
    since ANTS may take seconds); the format is checked again here. Commits; returns the number stored."""
    participant = _participant(uow, usager_id, for_usager_id)
    number = ants.normalized_number(ants_pre_demande_number)
    if (problem := ants.format_problem(number)) is not None:
        raise DomainError(problem, "ants_pre_demande_number")
    if participant.ants_pre_demande_number != number:
        participant.ants_pre_demande_number = number
        participant.updated_at = clock.now()
        uow.session.add(participant)
        uow.session.flush()
        uow.record(RecordChanged(model=WebhookSubscription.USER, record_id=require_id(participant),
                                 change=Change.UPDATED, occurred_at=clock.now()))
    uow.commit()
    return number
