"""Prescription by agents, "Élargir la recherche" (admin-domain.md section 10, the FAQ's "Comment trouver
une disponibilité dans d'autres organisations ?").

An agent of an organisation books, for an usager followed in the territory, a slot of a motif open to
prescripteurs in any organisation of the same territory, their own included (rights.prescription_motifs:
the territory decides, never the département number; a basic agent who is not a secrétaire sees the
motifs of their services only). The search is the public one: services, then a motif by name and where
it takes place, then a lieu or an organisation, then a week of slots, with the motif's booking delays
(they are public slots) and no agent's name; for a collective motif, its open sessions with their seats
left instead (rdv_app.services.online_booking.sessions, the same delays). The usager is one of the organisation's (in full) or of the
territory's other organisations (masked), or one the agent creates on the way. The booking is the
usagers' own (rdv_app.services.rdv.lifecycle.prescribe_rdv, or prescribe_seat for a seat of a session). Afterwards the agent sees the confirmation
of the RDV they booked, never the RDV itself when it belongs to another organisation.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa
from sqlmodel import col, select

from rdv_app.db.models import Lieu, Motif, Organisation, Participation, Rdv, Service, Usager
from rdv_app.db.rows import require_id
from rdv_app.db.uow import UnitOfWork
from rdv_app.domain import clock, datefmt
from rdv_app.domain.enums import LieuAvailability, LocationType
from rdv_app.domain.labels import LOCATION_TYPE_LABELS
from rdv_app.domain.masking import preview
from rdv_app.domain.sectorisation import SectorAddress
from rdv_app.domain.slots import Searcher
from rdv_app.domain.usager_search import parse_query
from rdv_app.metrics import SLOT_SEARCH, timed
from rdv_app.services.availability.slot_inputs import motif_context
from rdv_app.services.boundary import boundary
from rdv_app.services.errors import NotFound
from rdv_app.services.integrations import ants as ants_service
from rdv_app.services.integrations.ants import NumberNeed
from rdv_app.services.online_booking import public_search, sessions
from rdv_app.services.online_booking.public_search import (
    LieuCard,
    MotifChoice,
    OrganisationCard,
    PublicWeek,
    ServiceChoice,
)
from rdv_app.services.organisation import sectors
from rdv_app.services.rights import (
    AgentScope,
    agent_scope,
    prescribable_motif,
    prescription_motifs,
    prescription_usager,
    prescription_usagers,
    territory_of,
)
from rdv_app.services.usagers import usagers as usagers_service
from rdv_app.services.usagers.usagers import UsagerSearch, UsagerSummary

GONE = "Ce motif n'est plus ouvert à la prescription. Choisissez un autre motif."
SESSION_GONE = "Cet atelier est complet ou n'est plus ouvert à la réservation. Choisissez une autre date."


@dataclass(frozen=True)
class Recap:
    """The "Récapitulatif" before "Confirmer le RDV"."""

    motif_name: str
    service_name: str
    organisation_name: str
    place: str  # the lieu's name and address, or how the RDV takes place
    when: str  # "lundi 7 décembre 2026 à 09h00", in the motif's organisation's time zone
    usager_name: str
    usager_phone: str | None


@dataclass(frozen=True)
class Prescribed:
    """The confirmation of an RDV the agent booked by prescription ("Rendez-vous confirmé")."""

    rdv_id: int
    when: str
    motif_name: str
    place: str
    usager_name: str
    usager_phone: str | None
    instruction: str | None
    organisation_name: str
    organisation_phone: str | None
    organisation_email: str | None


def _motifs(uow: UnitOfWork, scope: AgentScope, now: datetime | None,
            address: SectorAddress | None = None) -> list[Motif]:
    condition = prescription_motifs(uow, scope)
    motifs = sorted(public_search.offered_motifs(uow, condition, now)
                    + sessions.motifs_with_open_sessions(uow, condition, now or clock.now()),
                    key=lambda m: (m.name, require_id(m)))
    return sectors.offered_in_sectors(uow, territory_of(uow, scope.organisation_id), motifs, address, now)


def usager_address(uow: UnitOfWork, scope: AgentScope, usager_id: int | None) -> SectorAddress | None:
    """The address of the usager the search is for, in a sectorised territory (their commune): motifs
    sectorised by organisation or agent are offered where their sectors cover it. None: no usager yet."""
    if usager_id is None:
        return None
    usager = prescription_usager(uow, scope, usager_id)
    return sectors.usager_address(uow, territory_of(uow, scope.organisation_id), usager)


@boundary
def is_offered(uow: UnitOfWork, actor_agent_id: int, organisation_id: int) -> bool:
    """Whether "Élargir la recherche" has anything to show: a motif of the territory open to
    prescripteurs that this agent may book (with or without plages yet)."""
    scope = agent_scope(uow, actor_agent_id, organisation_id)
    return uow.session.exec(select(Motif.id).where(prescription_motifs(uow, scope)).limit(1)).first() is not None


@boundary
def services(uow: UnitOfWork, actor_agent_id: int, organisation_id: int,
             now: datetime | None = None, usager_id: int | None = None) -> list[ServiceChoice]:
    """Services with a motif the agent may book by prescription (for the usager's address), by name."""
    scope = agent_scope(uow, actor_agent_id, organisation_id)
    ids = {m.service_id for m in _motifs(uow, scope, now, usager_address(uow, scope, usager_id))}
    rows = uow.session.exec(select(Service).where(col(Service.id).in_(ids)).order_by(Service.name)).all()
    return [ServiceChoice(require_id(s), s.name) for s in rows]


@boundary
def motifs(uow: UnitOfWork, actor_agent_id: int, organisation_id: int, service_id: int,
           now: datetime | None = None, usager_id: int | None = None) -> list[MotifChoice]:
    """The service's motifs, one choice per name and location type across the territory's organisations."""
    scope = agent_scope(uow, actor_agent_id, organisation_id)
    grouped: dict[str, list[Motif]] = {}
    for motif in _motifs(uow, scope, now, usager_address(uow, scope, usager_id)):
        if motif.service_id == service_id:
            grouped.setdefault(public_search.motif_key(motif), []).append(motif)
    choices = [public_search.choice_of(key, found) for key, found in grouped.items()]
    return sorted(choices, key=lambda c: (c.name.casefold(), c.location_type))


def _choice(uow: UnitOfWork, scope: AgentScope, key: str, now: datetime | None,
            address: SectorAddress | None = None) -> MotifChoice:
    found = [m for m in _motifs(uow, scope, now, address) if public_search.motif_key(m) == key]
    if not found:
        raise NotFound(GONE)
    return public_search.choice_of(key, found)


@boundary
def lieux(uow: UnitOfWork, actor_agent_id: int, organisation_id: int, motif_key: str,
          now: datetime | None = None, usager_id: int | None = None) -> list[LieuCard]:
    """The lieux of the territory offering the motif chosen (sur place), soonest availability first."""
    scope = agent_scope(uow, actor_agent_id, organisation_id)
    address = usager_address(uow, scope, usager_id)
    return public_search.lieux(uow, _choice(uow, scope, motif_key, now, address), now, address)


@boundary
def organisations(uow: UnitOfWork, actor_agent_id: int, organisation_id: int, motif_key: str,
                  now: datetime | None = None, usager_id: int | None = None) -> list[OrganisationCard]:
    """The organisations offering the motif chosen by phone, at home or by visio."""
    scope = agent_scope(uow, actor_agent_id, organisation_id)
    address = usager_address(uow, scope, usager_id)
    return public_search.organisations(uow, _choice(uow, scope, motif_key, now, address), now, address)


@boundary
@timed(SLOT_SEARCH, kind="prescription")
def week(uow: UnitOfWork, actor_agent_id: int, organisation_id: int, motif_id: int, lieu_id: int | None,
         from_day: date | None = None, now: datetime | None = None, usager_id: int | None = None) -> PublicWeek:
    """Seven days of slots of one organisation's motif, with its booking delays (and, for the usager's
    address, the agents of their sectors for a motif sectorised by agent)."""
    scope = agent_scope(uow, actor_agent_id, organisation_id)
    motif = prescribable_motif(uow, scope, motif_id)
    _check_lieu(uow, motif, lieu_id)
    context = motif_context(uow, motif_id, motif.organisation_id)
    agent_ids = public_search.sector_agents(uow, context, usager_address(uow, scope, usager_id))
    return public_search.motif_week(uow, context, lieu_id, from_day, now, Searcher.PRESCRIPTEUR, agent_ids)


@boundary
def is_collectif(uow: UnitOfWork, actor_agent_id: int, organisation_id: int, motif_id: int) -> bool:
    """Whether the motif the agent may book by prescription is booked by sessions rather than slots."""
    return prescribable_motif(uow, agent_scope(uow, actor_agent_id, organisation_id), motif_id).collectif


@boundary
def open_sessions(uow: UnitOfWork, actor_agent_id: int, organisation_id: int, motif_id: int, lieu_id: int | None,
                  now: datetime | None = None) -> list[sessions.OpenSession]:
    """A collective motif's sessions at the lieu that still have a seat, inside its booking delays."""
    scope = agent_scope(uow, actor_agent_id, organisation_id)
    motif = prescribable_motif(uow, scope, motif_id)
    if not motif.collectif:
        raise NotFound(GONE)
    _check_lieu(uow, motif, lieu_id)
    return sessions.open_sessions(uow, motif_id, lieu_id, now=now)


@boundary
def search_usagers(uow: UnitOfWork, actor_agent_id: int, organisation_id: int, query: str,
                   limit: int = 8) -> UsagerSearch:
    """"Pour quel usager prenez-vous RDV ?": the organisation's usagers in full, the territory's others
    masked (their name, and only hints of their birth date, phone and email)."""
    scope = agent_scope(uow, actor_agent_id, organisation_id)
    parsed = parse_query(query)
    if parsed.is_empty:
        return UsagerSearch([], [])
    in_full = usagers_service.listed_in(uow, organisation_id)
    base = (select(Usager).where(prescription_usagers(uow, scope), usagers_service.matching(uow, parsed))
            .order_by(*usagers_service.by_name(uow)).limit(limit))
    own = [usagers_service.summary(u) for u in uow.session.exec(base.where(in_full)).all()]
    masked = [preview(require_id(u), first_name=u.first_name, last_name=u.last_name, birth_date=u.birth_date,
                      phone_number=u.phone_number, email=u.email)
              for u in uow.session.exec(base.where(sa.not_(in_full))).all()]
    return UsagerSearch(own, masked)


@boundary
def recap(uow: UnitOfWork, actor_agent_id: int, organisation_id: int, *, motif_id: int, lieu_id: int | None,
          starts_at: datetime, usager_id: int) -> Recap:
    """What "Confirmer le RDV" will book; NotFound for a motif or an usager out of the agent's reach."""
    scope = agent_scope(uow, actor_agent_id, organisation_id)
    motif = prescribable_motif(uow, scope, motif_id)
    lieu = _check_lieu(uow, motif, lieu_id)
    usager = prescription_usager(uow, scope, usager_id)
    organisation = uow.session.get(Organisation, motif.organisation_id)
    service = uow.session.get(Service, motif.service_id)
    if organisation is None or service is None:
        raise NotFound(GONE)
    name, phone = _usager_shown(uow, organisation_id, usager)
    return Recap(motif_name=motif.name, service_name=service.name, organisation_name=organisation.name,
                 place=_place(motif, lieu), when=datefmt.long_datetime(starts_at, organisation.time_zone),
                 usager_name=name, usager_phone=phone)


@boundary
def session_recap(uow: UnitOfWork, actor_agent_id: int, organisation_id: int, *, rdv_id: int, usager_id: int,
                  now: datetime | None = None) -> Recap:
    """What "Confirmer le RDV" will book for a seat of a session; NotFound (SESSION_GONE) when the session
    is full, cancelled or out of the booking delays."""
    scope = agent_scope(uow, actor_agent_id, organisation_id)
    motif_id = uow.session.exec(select(Rdv.motif_id).where(Rdv.id == rdv_id)).first()
    if motif_id is None:
        raise NotFound(SESSION_GONE)
    motif = prescribable_motif(uow, scope, motif_id)
    session = sessions.open_session(uow, motif_id, rdv_id, now=now)
    if session is None:
        raise NotFound(SESSION_GONE)
    lieu = uow.session.get(Lieu, session.lieu_id) if session.lieu_id is not None else None
    usager = prescription_usager(uow, scope, usager_id)
    organisation = uow.session.get(Organisation, motif.organisation_id)
    service = uow.session.get(Service, motif.service_id)
    if organisation is None or service is None:
        raise NotFound(GONE)
    name, phone = _usager_shown(uow, organisation_id, usager)
    return Recap(motif_name=session.name, service_name=service.name, organisation_name=organisation.name,
                 place=_place(motif, lieu), when=session.label, usager_name=name, usager_phone=phone)


@boundary
def prescribed_rdv(uow: UnitOfWork, actor_agent_id: int, organisation_id: int, rdv_id: int,
                   usager_id: int | None = None) -> Prescribed:
    """The confirmation of an RDV this agent booked by prescription (for `usager_id`, in a collective
    session); NotFound for any other RDV."""
    agent_scope(uow, actor_agent_id, organisation_id)
    query = (
        select(Rdv, Motif, Organisation, Usager)
        .join(Motif, col(Motif.id) == Rdv.motif_id)
        .join(Organisation, col(Organisation.id) == Rdv.organisation_id)
        .join(Participation, col(Participation.rdv_id) == Rdv.id)
        .join(Usager, col(Usager.id) == Participation.usager_id)
        .where(Rdv.id == rdv_id, col(Participation.created_by_agent_prescripteur).is_(True),
               Participation.created_by_agent_id == actor_agent_id))
    if usager_id is not None:
        query = query.where(Participation.usager_id == usager_id)
    row = uow.session.exec(query).first()
    if row is None:
        raise NotFound("Ce rendez-vous est introuvable.")
    rdv, motif, organisation, usager = row
    lieu = uow.session.get(Lieu, rdv.lieu_id) if rdv.lieu_id is not None else None
    name, phone = _usager_shown(uow, organisation_id, usager)
    return Prescribed(rdv_id=rdv_id, when=datefmt.long_datetime(rdv.starts_at, organisation.time_zone),
                      motif_name=rdv.name or motif.name, place=_place(motif, lieu), usager_name=name,
                      usager_phone=phone,
                      instruction=(motif.instruction_for_rdv or "").strip() or None,
                      organisation_name=organisation.name,
                      organisation_phone=(lieu.phone_number if lieu else None) or organisation.phone_number,
                      organisation_email=organisation.email)


@boundary
def ants_number_need(uow: UnitOfWork, actor_agent_id: int, organisation_id: int, motif_id: int,
                     usager_id: int) -> NumberNeed:
    """Whether the récapitulatif asks the usager's pre-demande number (a motif of an ANTS category), with
    the number stored on them when the agent's organisation sees them in full (never for a masked usager)."""
    scope = agent_scope(uow, actor_agent_id, organisation_id)
    prescribable_motif(uow, scope, motif_id)
    usager = prescription_usager(uow, scope, usager_id)
    if not ants_service.motif_needs_number(uow, motif_id):
        return NumberNeed(False)
    visible = uow.session.exec(select(Usager.id).where(Usager.id == usager_id,
                                                       usagers_service.listed_in(uow, organisation_id))).first()
    return NumberNeed(True, (usager.ants_pre_demande_number or "") if visible is not None else "")


@boundary
def chosen_usager(uow: UnitOfWork, actor_agent_id: int, organisation_id: int, usager_id: int) -> UsagerSummary:
    """The usager as the agent may see them: in full if their organisation sees them, masked otherwise."""
    scope = agent_scope(uow, actor_agent_id, organisation_id)
    usager = prescription_usager(uow, scope, usager_id)
    name, phone = _usager_shown(uow, organisation_id, usager)
    return UsagerSummary(id=usager_id, name=name, birth_date=None, phone_number=phone, email=None)


def _usager_shown(uow: UnitOfWork, organisation_id: int, usager: Usager) -> tuple[str, str | None]:
    visible = uow.session.exec(select(Usager.id).where(Usager.id == usager.id,
                                                       usagers_service.listed_in(uow, organisation_id))).first()
    if visible is not None:
        shown = usagers_service.summary(usager)
        return shown.name, shown.phone_number
    masked = preview(require_id(usager), first_name=usager.first_name, last_name=usager.last_name,
                     birth_date=usager.birth_date, phone_number=usager.phone_number, email=usager.email)
    return masked.name, masked.phone_number


def _check_lieu(uow: UnitOfWork, motif: Motif, lieu_id: int | None) -> Lieu | None:
    if motif.location_type != LocationType.PUBLIC_OFFICE.value:
        return None
    lieu = uow.session.get(Lieu, lieu_id) if lieu_id is not None else None
    if lieu is None or lieu.organisation_id != motif.organisation_id \
            or lieu.availability != LieuAvailability.ENABLED.value:
        raise NotFound("Ce lieu ne propose plus ce motif. Choisissez un autre lieu.")
    return lieu


def _place(motif: Motif, lieu: Lieu | None) -> str:
    if lieu is not None:
        return f"{lieu.name}, {lieu.address}"
    return LOCATION_TYPE_LABELS[LocationType(motif.location_type)]
