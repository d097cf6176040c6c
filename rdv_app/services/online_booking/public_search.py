"""What an usager may book online, before signing in: services, motifs, lieux, organisations and slots.

Two entry points narrow the offer (`PublicScope`): a territory found by its département number or a
postcode (`/prendre_rdv`), or one organisation (its public link `/org/<id>/<slug>`). Only motifs "Ouvert
aux agents et aux usagers" (individual, not archived) that have plages d'ouverture still to come are
offered, at enabled lieux.

Across the organisations of a territory the same motif exists once per organisation: the usager
chooses a motif by its name and where it takes place (`MotifChoice.key`), then a lieu (sur place) or an
organisation (by phone, at home, by visio), which fixes the organisation's motif. Every availability
comes from the slot engine with the usager's booking delays; agents' names never reach the browser.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import cache
from typing import Any

import sqlalchemy as sa
from sqlmodel import col, select

from rdv_app.db.models import (
    Lieu,
    Motif,
    Organisation,
    PlageOuverture,
    PlageOuvertureMotif,
    Service,
    Territory,
)
from rdv_app.db.rows import require_id
from rdv_app.db.uow import UnitOfWork
from rdv_app.domain import clock, datefmt
from rdv_app.domain.enums import BookableBy, LieuAvailability, LocationType, SectorisationLevel
from rdv_app.domain.labels import LOCATION_TYPE_LABELS
from rdv_app.domain.motif_rules import PRESCRIPTION_BOOKABLE
from rdv_app.domain.sectorisation import SectorAddress, address_of, departement_of, street_id_of
from rdv_app.domain.slots import (
    Searcher,
    Slot,
    booking_window,
    displayed_slots,
    next_availabilities,
    next_availability,
    validate_slot,
)
from rdv_app.metrics import SLOT_SEARCH, timed
from rdv_app.services.availability.slot_inputs import (
    MotifContext,
    for_documents,
    horizon,
    load_search,
    motif_context,
)
from rdv_app.services.boundary import boundary
from rdv_app.services.errors import DomainError, NotFound
from rdv_app.services.integrations.addresses import AddressSuggestion
from rdv_app.services.online_booking import sessions
from rdv_app.services.online_booking.booking import is_public_collectif, is_public_motif
from rdv_app.services.organisation import sectors

WEEK = 7
_FIRST_WINDOW_DAYS = 14
_DEPARTEMENT = re.compile(r"^(?:\d{2}|2[AaBb]|97\d)$")
# A territory that is no département has letters for a number ("CN": Conseillers Numériques; "MA"): its links
# (`/resin/<ids>`) name it; a person does not type it, but it is found all the same.
_NAMED_TERRITORY = re.compile(r"^[A-Za-z]{2,3}$")
_POSTCODE = re.compile(r"^\d{5}$")
_LOCATION_KEYWORDS = {LocationType.PHONE.value: "téléphone", LocationType.HOME.value: "domicile",
                      LocationType.VISIO.value: "visio"}
SLOT_NOT_OFFERED = "Ce créneau n'est pas proposé. Choisissez un horaire parmi ceux de la semaine."
PLACE_ERROR = "Saisissez un numéro de département (par exemple 62) ou un code postal (par exemple 62000)."


@dataclass(frozen=True)
class PublicScope:
    """Where the usager searches: a territory, or one organisation (its public link); with the usager's
    address (`sector`), sectorised motifs only where a sector covering it is attributed (domain.md 6.2)."""

    territory_id: int
    organisation_id: int | None = None
    sector: SectorAddress | None = None
    # Some organisations of the territory only: the structures a partner's link names (the Rés'In network's
    # `/resin/<ids>`, integrations.md section 2).
    organisation_ids: tuple[int, ...] | None = None


@dataclass(frozen=True)
class Place:
    territory_id: int
    departement_number: str
    name: str


@dataclass(frozen=True)
class OrganisationInfo:
    id: int
    name: str
    slug: str
    territory_id: int
    phone_number: str | None
    email: str | None
    website: str | None


@dataclass(frozen=True)
class ServiceChoice:
    id: int
    name: str


@dataclass(frozen=True)
class MotifChoice:
    key: str  # "<location_type>:<name>", the same across the organisations of a territory
    name: str
    location_type: str
    location_label: str
    motif_ids: tuple[int, ...]

    @property
    def display_name(self) -> str:
        """"Consultation (sur place)"; no repetition when the name says it: "Conseil par téléphone"."""
        keyword = _LOCATION_KEYWORDS.get(self.location_type, "")
        if keyword and keyword in self.name.lower():
            return self.name
        return f"{self.name} ({self.location_label.lower()})"

    @property
    def needs_lieu(self) -> bool:
        return self.location_type == LocationType.PUBLIC_OFFICE.value


@dataclass(frozen=True)
class Availability:
    starts_at: datetime
    label: str  # "lundi 7 décembre 2026 à 09h00", in the organisation's time zone


@dataclass(frozen=True)
class LieuCard:
    lieu_id: int
    motif_id: int
    organisation_id: int
    organisation_name: str
    name: str
    address: str
    next_availability: Availability | None


@dataclass(frozen=True)
class OrganisationCard:
    organisation_id: int
    motif_id: int
    name: str
    phone_number: str | None
    next_availability: Availability | None


@dataclass(frozen=True)
class DaySlots:
    day: date
    label: str
    closed: bool  # before the minimum delay or beyond the maximum delay: nothing can be booked that day
    times: list[tuple[str, str]]  # (start as ISO 8601 UTC, "09h30")


@dataclass(frozen=True)
class PublicWeek:
    first_day: date
    today: date
    days: list[DaySlots]
    next_availability: Availability | None  # only when this week has no slot
    has_previous: bool
    has_next: bool
    following_day: date | None = None  # the next availability's day, in the motif's time zone

    @property
    def is_empty(self) -> bool:
        return not any(d.times for d in self.days)

    @property
    def previous_first_day(self) -> date | None:
        """Where « Semaine précédente » leads: a week earlier, today at the earliest; None on the first week."""
        return max(self.today, self.first_day - timedelta(days=7)) if self.has_previous else None

    @property
    def next_first_day(self) -> date | None:
        """Where « Semaine suivante » leads; None on the last week offered."""
        return self.first_day + timedelta(days=7) if self.has_next else None


@dataclass(frozen=True)
class MotifDetails:
    id: int
    name: str
    service_name: str
    location_type: str
    location_label: str
    duration_in_min: int
    restriction: str | None  # conditions to accept before confirming
    instruction: str | None  # shown on the confirmation page
    organisation: OrganisationInfo
    timezone: str
    collectif: bool = False  # sessions to choose from instead of slots (rdv_app.services.online_booking.sessions)
    documents_number: int = 1  # ANTS titles booked at once; `duration_in_min` is then the motif's times this


# --------------------------------------------------------------------------- entry points


@boundary
def find_place(uow: UnitOfWork, text: str) -> Place:
    """The territory of a département number ("62", "2A", "974") or a postcode ("62000", "97400")."""
    value = (text or "").strip().replace(" ", "")
    if _POSTCODE.match(value):
        number = value[:3] if value.startswith("97") else value[:2]
        if value.startswith("20"):  # Corsica: 200xx-201xx are in 2A, 202xx-206xx in 2B
            number = "2A" if value[:3] in ("200", "201") else "2B"
    elif _DEPARTEMENT.match(value) or _NAMED_TERRITORY.match(value):
        number = value.upper()
    else:
        raise DomainError(PLACE_ERROR, "place")
    territory = uow.session.exec(_territory_statement(), params={"number": number}).first()
    if territory is None:
        raise DomainError(f"La prise de rendez-vous en ligne n'est pas encore ouverte dans le département "
                          f"{number}.", "place")
    return Place(require_id(territory), territory.departement_number, territory.name)


@cache
def _territory_statement() -> Any:
    return select(Territory).where(Territory.departement_number == sa.bindparam("number"))


@boundary
def organisation_info(uow: UnitOfWork, organisation_id: int) -> OrganisationInfo:
    organisation = uow.session.get(Organisation, organisation_id)
    if organisation is None:
        raise NotFound("Cette organisation n'existe pas ou plus. Vérifiez le lien que vous avez reçu.")
    return _info(organisation)


@boundary
def structures(uow: UnitOfWork, territory_id: int, external_ids: list[str]) -> list[OrganisationInfo]:
    """The organisations of the territory with these external ids (a partner's names for them), by name."""
    rows = uow.session.exec(select(Organisation).where(
        Organisation.territory_id == territory_id, col(Organisation.external_id).in_(external_ids[:50]))
        .order_by(col(Organisation.name))).all()
    return [_info(o) for o in rows]


@boundary
def services(uow: UnitOfWork, scope: PublicScope, now: datetime | None = None) -> list[ServiceChoice]:
    """Services with at least one motif bookable online in the scope, by name."""
    ids = {m.service_id for m in _bookable_motifs(uow, scope, now)}
    rows = uow.session.exec(select(Service).where(col(Service.id).in_(ids)).order_by(Service.name)).all()
    return [ServiceChoice(require_id(s), s.name) for s in rows]


@boundary
def motifs(uow: UnitOfWork, scope: PublicScope, service_id: int, now: datetime | None = None) -> list[MotifChoice]:
    """The service's motifs bookable online, one choice per name and location type across organisations."""
    grouped: dict[str, list[Motif]] = {}
    for motif in _bookable_motifs(uow, scope, now):
        if motif.service_id == service_id:
            grouped.setdefault(motif_key(motif), []).append(motif)
    choices = [choice_of(key, found) for key, found in grouped.items()]
    return sorted(choices, key=lambda c: (c.name.casefold(), c.location_type))


def choice_of(key: str, found: list[Motif]) -> MotifChoice:
    return MotifChoice(key=key, name=found[0].name, location_type=found[0].location_type,
                       location_label=LOCATION_TYPE_LABELS[LocationType(found[0].location_type)],
                       motif_ids=tuple(sorted(require_id(m) for m in found)))


@boundary
def motif_choice(uow: UnitOfWork, scope: PublicScope, key: str, now: datetime | None = None) -> MotifChoice:
    found = [m for m in _bookable_motifs(uow, scope, now) if motif_key(m) == key]
    if not found:
        raise NotFound("Ce motif n'est plus proposé en ligne. Choisissez un autre motif.")
    return choice_of(key, found)


@boundary
def motif_key_of(uow: UnitOfWork, scope: PublicScope, motif_id: int,
                 now: datetime | None = None) -> tuple[str, int]:
    """(choice key, motif id) of one organisation's motif offered in the scope (deep links)."""
    for motif in _bookable_motifs(uow, scope, now):
        if motif.id == motif_id:
            return motif_key(motif), motif_id
    raise NotFound("Ce motif n'est plus proposé en ligne. Choisissez un autre motif.")


def motif_key(motif: Motif) -> str:
    return f"{motif.location_type}:{motif.name}"


@boundary
def lieux(uow: UnitOfWork, choice: MotifChoice, now: datetime | None = None,
          sector: SectorAddress | None = None) -> list[LieuCard]:
    """Lieux offering the motif (sur place), each with its next availability; soonest first, then by name.
    With the usager's address, a motif sectorised by agent offers only the plages of the sector's agents."""
    now = now or clock.now()
    cards: list[LieuCard] = []
    for motif_id in choice.motif_ids:
        context = motif_context(uow, motif_id, _organisation_of(uow, motif_id))
        agent_ids = sector_agents(uow, context, sector)
        if context.motif.collectif:
            cards += _session_lieux(uow, context, now, agent_ids)
            continue
        query = (select(PlageOuverture.lieu_id).distinct()
                 .join(PlageOuvertureMotif, col(PlageOuvertureMotif.plage_ouverture_id) == PlageOuverture.id)
                 .where(PlageOuvertureMotif.motif_id == motif_id, col(PlageOuverture.lieu_id).is_not(None)))
        if agent_ids is not None:
            query = query.where(col(PlageOuverture.agent_id).in_(list(agent_ids)))
        lieu_ids = set(uow.session.exec(query).all())
        rows = uow.session.exec(select(Lieu).where(col(Lieu.id).in_(lieu_ids),
                                                   Lieu.availability == LieuAvailability.ENABLED.value)).all()
        found = _next_slots(uow, context, now, [require_id(lieu) for lieu in rows], agent_ids)
        for lieu in rows:
            slot = found.get(require_id(lieu))
            cards.append(LieuCard(lieu_id=require_id(lieu), motif_id=motif_id,
                                  organisation_id=require_id(context.organisation),
                                  organisation_name=context.organisation.name, name=lieu.name,
                                  address=lieu.address, next_availability=_availability(slot, context)))
    return sorted(cards, key=lambda c: (_soonest(c.next_availability), c.name.casefold()))


@boundary
def organisations(uow: UnitOfWork, choice: MotifChoice, now: datetime | None = None,
                  sector: SectorAddress | None = None) -> list[OrganisationCard]:
    """Organisations offering the motif by phone, at home or by visio, with their next availability."""
    now = now or clock.now()
    cards = []
    for motif_id in choice.motif_ids:
        context = motif_context(uow, motif_id, _organisation_of(uow, motif_id))
        slot = _next_slots(uow, context, now, [None], sector_agents(uow, context, sector)).get(None)
        organisation = context.organisation
        cards.append(OrganisationCard(organisation_id=require_id(organisation), motif_id=motif_id,
                                      name=organisation.name, phone_number=organisation.phone_number,
                                      next_availability=_availability(slot, context)))
    return sorted(cards, key=lambda c: (_soonest(c.next_availability), c.name.casefold()))


@boundary
def motif_details(uow: UnitOfWork, motif_id: int, documents_number: int = 1) -> MotifDetails:
    """The booked motif as the usager reads it (recap, conditions, confirmation), for `documents_number`
    ANTS titles (`for_documents`: other motifs ignore it)."""
    motif = uow.session.get(Motif, motif_id)
    if motif is None or not (is_public_motif(motif) or is_public_collectif(motif)):
        raise NotFound("Ce motif n'est plus proposé en ligne. Choisissez un autre motif.")
    context = for_documents(uow, motif_context(uow, motif_id, motif.organisation_id), documents_number)
    return MotifDetails(
        id=motif_id, name=motif.name, service_name=context.service_name,
        location_type=motif.location_type, location_label=LOCATION_TYPE_LABELS[LocationType(motif.location_type)],
        duration_in_min=motif.default_duration_in_min * context.documents_number, restriction=(motif.restriction_for_rdv or "").strip() or None,
        instruction=(motif.instruction_for_rdv or "").strip() or None, organisation=_info(context.organisation),
        timezone=context.organisation.time_zone, collectif=motif.collectif, documents_number=context.documents_number)


@boundary
def lieu_card(uow: UnitOfWork, motif_id: int, lieu_id: int) -> tuple[str, str]:
    """(name, address) of a lieu where the motif can be booked; NotFound otherwise."""
    motif = uow.session.get(Motif, motif_id)
    lieu = uow.session.get(Lieu, lieu_id)
    if motif is None or lieu is None or lieu.organisation_id != motif.organisation_id \
            or lieu.availability != LieuAvailability.ENABLED.value:
        raise NotFound("Ce lieu ne propose plus ce motif. Choisissez un autre lieu.")
    return lieu.name, lieu.address


@boundary
@timed(SLOT_SEARCH, kind="public")
def week(uow: UnitOfWork, motif_id: int, lieu_id: int | None, from_day: date | None = None,
         now: datetime | None = None, sector: SectorAddress | None = None, documents_number: int = 1) -> PublicWeek:
    """Seven days of bookable start times from `from_day` (default: today), one button per start.

    Days outside the booking window are marked closed; an empty week gives the next availability. With
    the usager's address, a motif sectorised by agent offers only the sector's agents' plages. For several
    ANTS titles (`documents_number`), the slots last the motif's duration times that number."""
    context = for_documents(uow, _public_context(uow, motif_id), documents_number)
    return motif_week(uow, context, lieu_id, from_day, now, agent_ids=sector_agents(uow, context, sector))


def motif_week(uow: UnitOfWork, context: MotifContext, lieu_id: int | None, from_day: date | None,
               now: datetime | None, searcher: Searcher = Searcher.USAGER,
               agent_ids: frozenset[int] | None = None) -> PublicWeek:
    """`week` for a motif the caller may show: the booking delays apply, as for every online booking."""
    now = now or clock.now()
    tz = context.time_zone
    today = now.astimezone(tz).date()
    first_day = max(from_day or today, today)
    last_day = first_day + timedelta(days=WEEK - 1)
    search = load_search(uow, context, first_day, last_day, searcher=searcher, now=now, lieu_id=lieu_id,
                         agent_ids=agent_ids)
    earliest, latest = booking_window(search)
    first_open = earliest.astimezone(tz).date()
    last_open = latest.astimezone(tz).date() if latest is not None else None
    by_day: dict[date, list[tuple[str, str]]] = {first_day + timedelta(days=i): [] for i in range(WEEK)}
    for slot in displayed_slots(search, first_day, last_day, lieu_id=lieu_id):
        local = slot.starts_at.astimezone(tz)
        by_day[local.date()].append((slot.starts_at.astimezone(UTC).isoformat(), datefmt.hour(local)))
    following = None
    if not any(by_day.values()):
        start = last_day + timedelta(days=1)
        end = horizon(context, searcher, now)
        if start <= end:
            ahead = load_search(uow, context, start, end, searcher=searcher, now=now, lieu_id=lieu_id,
                                agent_ids=agent_ids)
            following = _availability(next_availability(ahead, from_day=start, lieu_id=lieu_id), context)
    days = [DaySlots(day=day, label=datefmt.long_date(day),
                     closed=day < first_open or (last_open is not None and day > last_open), times=times)
            for day, times in by_day.items()]
    return PublicWeek(first_day=first_day, today=today, days=days, next_availability=following,
                      has_previous=first_day > today, has_next=last_open is None or last_day < last_open,
                      following_day=following.starts_at.astimezone(tz).date() if following else None)


@boundary
def slot_offered(uow: UnitOfWork, motif_id: int, lieu_id: int | None, starts_at: datetime,
                 now: datetime | None = None, sector: SectorAddress | None = None, documents_number: int = 1) -> bool:
    """Whether the usager may book this start, as the engine that confirms the booking decides: a start
    from an edited or stale address (past, at night, beyond the booking window) is not offered; nor, for
    several ANTS titles, a start without time for all of them."""
    now = now or clock.now()
    context = for_documents(uow, _public_context(uow, motif_id), documents_number)
    day = starts_at.astimezone(context.time_zone).date()
    if not now.astimezone(context.time_zone).date() <= day <= horizon(context, Searcher.USAGER, now):
        return False
    search = load_search(uow, context, day, day, searcher=Searcher.USAGER, now=now, lieu_id=lieu_id,
                         agent_ids=sector_agents(uow, context, sector))
    return validate_slot(search, starts_at, lieu_id=lieu_id) is not None


@boundary
def uncovered_contacts(uow: UnitOfWork, scope: PublicScope) -> list[OrganisationInfo]:
    """The territory's organisations, by name, for an usager whose address no sector covers."""
    rows = uow.session.exec(select(Organisation).where(Organisation.territory_id == scope.territory_id)
                            .order_by(col(Organisation.name))).all()
    return [_info(o) for o in rows]


def sector_agents(uow: UnitOfWork, context: MotifContext, sector: SectorAddress | None) -> frozenset[int] | None:
    """The agents whose plages a motif may offer at the usager's address; None: any agent (no address, or a
    motif not sectorised by agent: the sectors covering the address are not read)."""
    motif = context.motif
    if sector is None or motif.sectorisation_level != SectorisationLevel.AGENT.value:
        return None
    return sectors.address_coverage(uow, context.organisation.territory_id, sector).agents_for(
        motif.sectorisation_level, motif.organisation_id)


# --------------------------------------------------------------------------- helpers


def _public_context(uow: UnitOfWork, motif_id: int) -> MotifContext:
    """The motif with its organisation, in one query, if usagers may book it online."""
    try:
        context = motif_context(uow, motif_id)
    except NotFound:
        context = None
    if context is None or not is_public_motif(context.motif):
        raise NotFound("Ce motif n'est plus proposé en ligne. Choisissez un autre motif.")
    return context


def _bookable_motifs(uow: UnitOfWork, scope: PublicScope, now: datetime | None) -> list[Motif]:
    """Public motifs of the scope that have plages still to come (at an enabled lieu, or without lieu)."""
    return [m for m in open_motifs(uow, scope, now) if m.bookable_by == BookableBy.EVERYONE.value]


def open_motifs(uow: UnitOfWork, scope: PublicScope, now: datetime | None) -> list[Motif]:
    """The motifs open to usagers or to prescripteurs in the scope (at the usager's address, `scope.sector`)
    that have plages still to come (at an enabled lieu, or without lieu) or, collective, an open session; by
    name. Read once per unit of work: a page load asks it for the usager's choices and for the link to the
    prescripteurs' search (is anything open to them here?), the deep link's motif then the choice's."""
    return uow.remembered(("open motifs", scope, now), lambda: _search_open_motifs(uow, scope, now))


def _search_open_motifs(uow: UnitOfWork, scope: PublicScope, now: datetime | None) -> list[Motif]:
    offered, collective = _open_motifs_statements(scope.organisation_id is not None,
                                                  scope.organisation_ids is not None)
    params: dict[str, Any] = {"territory_id": scope.territory_id}
    if scope.organisation_id is not None:
        params["organisation_id"] = scope.organisation_id
    if scope.organisation_ids is not None:
        params["organisation_ids"] = list(scope.organisation_ids)
    found = (motifs_offered_by(uow, offered, now, params)
             + sessions.motifs_of_open_sessions(uow, collective, now or clock.now(), params))
    return sectors.offered_in_sectors(uow, scope.territory_id, sorted(found, key=lambda m: (m.name, require_id(m))),
                                      scope.sector, now)


@cache
def _open_motifs_statements(by_organisation: bool, by_organisations: bool) -> tuple[Any, Any]:
    """The statements of `open_motifs` (individual motifs, collective ones) for a scope's `:territory_id`, and
    its `:organisation_id` or `:organisation_ids` when it has them: built once, as every page load asks them."""
    condition = sa.and_(col(Motif.bookable_by).in_(PRESCRIPTION_BOOKABLE), col(Motif.deleted_at).is_(None),
                        col(Motif.organisation_id).in_(select(Organisation.id).where(
                            Organisation.territory_id == sa.bindparam("territory_id"))))
    if by_organisation:
        condition = sa.and_(condition, col(Motif.organisation_id) == sa.bindparam("organisation_id"))
    if by_organisations:
        condition = sa.and_(condition, col(Motif.organisation_id).in_(
            sa.bindparam("organisation_ids", expanding=True)))
    return offered_motifs_statement(condition), sessions.sessions_where(condition)


def _session_lieux(uow: UnitOfWork, context: MotifContext, now: datetime,
                   agent_ids: frozenset[int] | None) -> list[LieuCard]:
    """A collective motif's lieux: those with an open session (led by one of `agent_ids` when given), the
    next one as their availability."""
    found = sessions.next_sessions_by_lieu(uow, require_id(context.motif), now, agent_ids)
    rows = uow.session.exec(select(Lieu).where(col(Lieu.id).in_(list(found)))).all()
    return [LieuCard(lieu_id=require_id(lieu), motif_id=require_id(context.motif),
                     organisation_id=require_id(context.organisation), organisation_name=context.organisation.name,
                     name=lieu.name, address=lieu.address,
                     next_availability=Availability(found[require_id(lieu)].starts_at, found[require_id(lieu)].label))
            for lieu in rows]


def offered_motifs(uow: UnitOfWork, condition: sa.ColumnElement[bool], now: datetime | None) -> list[Motif]:
    """Individual motifs matching `condition` that have plages still to come (at an enabled lieu, or
    without lieu), by name: those a search may offer."""
    return motifs_offered_by(uow, offered_motifs_statement(condition), now)


def offered_motifs_statement(condition: sa.ColumnElement[bool]) -> Any:
    """The statement of `offered_motifs`, to build once when `condition` has bound parameters of its own."""
    today: sa.BindParameter[date] = sa.bindparam("today")
    still_to_come = sa.or_(
        sa.and_(col(PlageOuverture.recurrence).is_(None), col(PlageOuverture.first_day) >= today),
        sa.and_(col(PlageOuverture.recurrence).is_not(None),
                sa.or_(col(PlageOuverture.recurrence_until).is_(None), col(PlageOuverture.recurrence_until) >= today)),
    )
    with_plages = (
        select(PlageOuvertureMotif.motif_id)
        .join(PlageOuverture, col(PlageOuverture.id) == PlageOuvertureMotif.plage_ouverture_id)
        .outerjoin(Lieu, col(Lieu.id) == PlageOuverture.lieu_id)
        .where(still_to_come, sa.or_(col(PlageOuverture.lieu_id).is_(None),
                                     col(Lieu.availability) == LieuAvailability.ENABLED.value))
    )
    return (select(Motif).where(condition, col(Motif.collectif).is_(False), col(Motif.id).in_(with_plages))
            .order_by(col(Motif.name), col(Motif.id)))


def motifs_offered_by(uow: UnitOfWork, statement: Any, now: datetime | None,
                      params: Mapping[str, Any] | None = None) -> list[Motif]:
    """`offered_motifs` of a statement of `offered_motifs_statement`, with its condition's `params`."""
    today = (now or clock.now()).date() - timedelta(days=1)  # a day of margin for every time zone
    return list(uow.session.exec(statement, params={"today": today, **(params or {})}).all())


def _organisation_of(uow: UnitOfWork, motif_id: int) -> int:
    return uow.session.exec(select(Motif.organisation_id).where(Motif.id == motif_id)).one()


def _next_slots(uow: UnitOfWork, context: MotifContext, now: datetime,
                lieu_ids: list[int | None], agent_ids: frozenset[int] | None = None) -> dict[int | None, Slot]:
    """Each lieu's next slot (None: at any lieu or without one). The first two weeks are loaded first
    (where almost every answer is); only the lieux still without a slot load the rest of the horizon,
    instead of months of RDVs for all. Each window is loaded once for all its lieux."""
    today = now.astimezone(context.time_zone).date()
    last_day = horizon(context, Searcher.USAGER, now)
    found: dict[int | None, Slot] = {}
    first_days = today, min(today + timedelta(days=_FIRST_WINDOW_DAYS - 1), last_day)
    windows = [first_days, (first_days[1] + timedelta(days=1), last_day)]
    for first_day, window_end in windows:
        missing = [lieu_id for lieu_id in lieu_ids if lieu_id not in found]
        if not missing or first_day > window_end:
            break
        search = load_search(uow, context, first_day, window_end, searcher=Searcher.USAGER, now=now,
                             agent_ids=agent_ids)
        # Never past the window's last day: later days' RDVs were not loaded.
        found |= next_availabilities(search, missing, from_day=first_day, to_day=window_end)
    return found


def _availability(slot: Slot | None, context: MotifContext) -> Availability | None:
    if slot is None:
        return None
    return Availability(slot.starts_at, datefmt.long_datetime(slot.starts_at, context.organisation.timezone
                                                              or "Europe/Paris"))


def _soonest(availability: Availability | None) -> datetime:
    return availability.starts_at if availability else datetime.max.replace(tzinfo=UTC)


def _info(organisation: Organisation) -> OrganisationInfo:
    return OrganisationInfo(id=require_id(organisation), name=organisation.name, slug=organisation.slug,
                            territory_id=organisation.territory_id, phone_number=organisation.phone_number,
                            email=organisation.email, website=organisation.website)



# --------------------------------------------------------------------------- the usager's address


ADDRESS_NOT_COVERED = "Votre adresse n'est couverte par aucun secteur"


@boundary
def asks_address(uow: UnitOfWork, scope: PublicScope) -> bool:
    """Whether the search of a territory needs the usager's address: some of its motifs are sectorised."""
    return sectors.territory_sectorised(uow, scope.territory_id)


@boundary
def address_covered(uow: UnitOfWork, scope: PublicScope) -> bool:
    """Whether a sector of the territory covering the usager's address is attributed."""
    return scope.sector is None or sectors.address_coverage(uow, scope.territory_id, scope.sector).covered


def address_params(suggestion: AddressSuggestion) -> dict[str, str] | None:
    """The booking address's parameters of a Base Adresse Nationale suggestion (None: not a French commune):
    its département, label, commune and street."""
    address = address_of(suggestion.city_code, street_id_of(suggestion.ban_id))
    if address is None:
        return None
    return {"departement": departement_of(address.city_code), "adresse": suggestion.label,
            "commune": address.city_code, "rue": address.street_ban_id}
