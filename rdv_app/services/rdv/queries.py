"""Reading RDVs in the agents' workspace: an RDV's page (details, participants, history) and the
calendar events of some agents (issue 4; domain.md sections 1, 8 and 10). The changes are in
`rdv_app.services.rdv.lifecycle`.

Rights (domain.md section 8, "RDV scope"): an agent follows an RDV of an organisation where they hold
a role when they are on it, when its motif belongs to one of their services, or when they are an admin
or a secrétaire. Another organisation's RDV is NotFound, one outside the agent's scope
PermissionDenied (`visible_rdv`, the one rights check of every RDV read and change).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import aliased
from sqlmodel import col, select

from rdv_app.db.models import (
    Agent,
    AgentRole,
    AuditLog,
    Lieu,
    Motif,
    Organisation,
    Participation,
    Prescripteur,
    Rdv,
    RdvAgent,
    Service,
    Territory,
    Usager,
)
from rdv_app.db.rows import not_null, require_id
from rdv_app.db.uow import UnitOfWork
from rdv_app.domain import clock, collectifs, datefmt, rdv_status
from rdv_app.domain.enums import (
    CANCELLED_STATUSES,
    AuthorType,
    LieuAvailability,
    LocationType,
    RdvStatus,
)
from rdv_app.domain.labels import LOCATION_TYPE_LABELS, RDV_STATUS_LABELS
from rdv_app.domain.names import agent_name, usager_name
from rdv_app.domain.recipients import phone_region, sms_number
from rdv_app.services import versions
from rdv_app.services.boundary import boundary
from rdv_app.services.errors import NotFound, PermissionDenied
from rdv_app.services.organisation import local_time
from rdv_app.services.rights import AgentScope, agent_scope, sees_rdv, visible_agent_ids

# Another organisation's RDV (or one outside the agent's rights) in an agenda: grey, no detail.
# #6b7280 keeps white text readable (WCAG AA).
BUSY_COLOUR = "#6b7280"
BUSY_TITLE = "Occupé"
_ENTITY = "rdv"
_CANCELLED = [s.value for s in CANCELLED_STATUSES]


@dataclass(frozen=True)
class AgentRef:
    id: int
    name: str


@dataclass(frozen=True)
class Participant:
    usager_id: int
    name: str
    status: str
    status_label: str
    send_lifecycle_notifications: bool
    send_reminder_notification: bool
    email: str | None
    phone_number: str | None
    responsible_name: str | None = None  # a relative ("proche"): the person who receives the messages
    reaches: tuple[str, ...] = ()  # how the messages reach the recipient, or why they cannot


@dataclass(frozen=True)
class HistoryEntry:
    occurred_at: datetime
    when: str  # "lundi 7 décembre 2026 à 09h00", in the organisation's time zone
    author: str
    action: str
    details: list[str]


@dataclass(frozen=True)
class Prescriber:
    """"Rendez-vous pris par <agent>": who booked the RDV by prescription, to contact if there is an error."""

    name: str
    organisation_name: str
    email: str | None
    phone_number: str | None = None  # an external prescripteur's, when they gave it


@dataclass(frozen=True)
class RdvDetails:
    id: int
    uuid: str
    organisation_id: int
    timezone: str
    motif_id: int
    motif_name: str
    motif_colour: str
    service_name: str
    location_type: str
    collectif: bool
    starts_at: datetime
    ends_at: datetime
    duration_in_min: int
    day: str
    time: str
    lieu_id: int | None
    lieu: str  # its name, or where the RDV takes place without a lieu
    lieu_address: str | None
    agents: list[AgentRef]
    participants: list[Participant]
    status: str
    status_label: str
    cancelled_at: datetime | None
    status_choices: list[tuple[str, str]]
    context: str | None
    created_by: str
    created_at: datetime
    ics_sequence: int
    history: list[HistoryEntry]
    organisation_name: str = ""
    end_time: str = ""
    created_when: str = ""  # created_at in the organisation's time zone, in words
    where: tuple[str, ...] = ()  # where it takes place: lieu and address, phone numbers, home address, link
    prescribed_by: Prescriber | None = None
    fill: str = ""  # a collective session's "6/8" ("6" when unlimited)
    name: str | None = None  # a collective session's name
    max_participants_count: int | None = None  # a collective session's seats; None: unlimited
    version: str = ""  # of what the RDV page changes (`rdv_version`)


@dataclass(frozen=True)
class CalendarEvent:
    id: str
    starts_at: datetime
    ends_at: datetime
    agent_ids: tuple[int, ...]  # the requested agents this event belongs to
    title: str
    colour: str
    detailed: bool  # False: a grey busy block, everything below is empty
    rdv_id: int | None = None
    motif_name: str | None = None
    status: str | None = None
    status_label: str | None = None
    cancelled: bool = False
    usagers: tuple[str, ...] = ()


# --------------------------------------------------------------------------- planning


# --------------------------------------------------------------------------- statuses


# --------------------------------------------------------------------------- reading


@boundary
def get_rdv(uow: UnitOfWork, actor_agent_id: int, organisation_id: int, rdv_id: int, *,
            now: datetime | None = None) -> RdvDetails:
    """An RDV's page: details, participants with their notification flags, status, history."""
    now = now or clock.now()
    scope = agent_scope(uow, actor_agent_id, organisation_id)
    rdv, motif = visible_in_scope(uow, scope, rdv_id)
    tz = local_time.time_zone(uow, organisation_id)
    service_name = uow.session.exec(select(Service.name).where(Service.id == motif.service_id)).one()
    lieu = uow.session.get(Lieu, rdv.lieu_id) if rdv.lieu_id is not None else None
    agent_ids = agent_ids_of(uow, rdv_id)
    names = agent_names(uow, agent_ids + ([rdv.created_by_agent_id] if rdv.created_by_agent_id else []))
    participants = []
    rows = uow.session.exec(
        select(Participation, Usager).join(Usager, col(Usager.id) == Participation.usager_id)
        .where(col(Participation.rdv_id) == rdv_id).order_by(col(Usager.last_name), col(Usager.first_name), col(Usager.id))
    ).all()
    responsibles = {require_id(u): u for u in uow.session.exec(select(Usager).where(col(Usager.id).in_(
        [usager.responsible_id for _, usager in rows if usager.responsible_id is not None]))).all()}
    organisation, departement = uow.session.exec(
        select(Organisation, Territory.departement_number).join(Territory, col(Territory.id) == Organisation.territory_id)
        .where(Organisation.id == organisation_id)).one()
    region = phone_region(departement)
    for participation, usager in rows:
        responsible = responsibles.get(usager.responsible_id) if usager.responsible_id is not None else None
        participants.append(Participant(
            usager_id=require_id(usager), name=usager_name(usager.first_name, usager.last_name), status=participation.status,
            status_label=rdv_status.status_label(participation.status, rdv.starts_at, now, tz),
            send_lifecycle_notifications=participation.send_lifecycle_notifications,
            send_reminder_notification=participation.send_reminder_notification,
            email=usager.email, phone_number=usager.phone_number,
            responsible_name=usager_name(responsible.first_name, responsible.last_name) if responsible else None,
            reaches=_reaches(responsible or usager, region)))
    local = datefmt.local(rdv.starts_at, tz)
    return RdvDetails(
        id=require_id(rdv), uuid=rdv.uuid, organisation_id=organisation_id, timezone=tz,
        motif_id=require_id(motif), motif_name=motif.name, motif_colour=motif.color,
        service_name=service_name, location_type=motif.location_type, collectif=motif.collectif,
        starts_at=rdv.starts_at, ends_at=rdv.ends_at,
        duration_in_min=int((rdv.ends_at - rdv.starts_at).total_seconds() // 60),
        day=datefmt.long_date(local.date()), time=datefmt.hour(local),
        lieu_id=rdv.lieu_id, lieu=lieu.name if lieu else LOCATION_TYPE_LABELS[LocationType(motif.location_type)],
        lieu_address=lieu.address if lieu else None,
        agents=[AgentRef(a, names[a]) for a in agent_ids],
        participants=participants,
        status=rdv.status, status_label=rdv_status.status_label(rdv.status, rdv.starts_at, now, tz),
        cancelled_at=rdv.cancelled_at,
        status_choices=[(s.value, RDV_STATUS_LABELS[s]) for s in rdv_status.allowed_statuses(motif.collectif)],
        fill=collectifs.fill_label(rdv.users_count, rdv.max_participants_count) if motif.collectif else "",
        name=rdv.name, max_participants_count=rdv.max_participants_count,
        context=rdv.context,
        created_by=names.get(rdv.created_by_agent_id, "") if rdv.created_by_agent_id
        else _AUTHOR_LABELS.get(rdv.created_by_type, ""),
        created_at=rdv.created_at, ics_sequence=rdv.ics_sequence,
        history=_history(uow, rdv_id, tz),
        organisation_name=organisation.name, end_time=datefmt.hour(datefmt.local(rdv.ends_at, tz)),
        created_when=datefmt.long_datetime(rdv.created_at, tz),
        where=_where(rdv, motif, lieu, [usager for _, usager in rows], responsibles),
        prescribed_by=prescriber(uow, rdv_id),
        version=rdv_version(uow, rdv),
    )


def rdv_version(uow: UnitOfWork, rdv: Rdv) -> str:
    """The version (rdv_app.services.versions) of what the RDV page shows and changes (`page_values`)."""
    return versions.version_of(page_values(uow, rdv))


def page_values(uow: UnitOfWork, rdv: Rdv) -> dict[str, Any]:
    """What the RDV page shows and changes: its time, lieu, agents, status, a session's name and seats,
    and each participant with their status. Receipts and the history are not in it: a message sent
    meanwhile does not make the page stale."""
    rdv_id = require_id(rdv)
    participations = uow.session.exec(select(Participation.usager_id, Participation.status)
                                      .where(Participation.rdv_id == rdv_id)).all()
    return {"starts_at": rdv.starts_at, "ends_at": rdv.ends_at, "lieu_id": rdv.lieu_id, "status": rdv.status,
            "name": rdv.name, "max_participants_count": rdv.max_participants_count,
            "agent_ids": agent_ids_of(uow, rdv_id), "participations": sorted(participations)}


def prescriber(uow: UnitOfWork, rdv_id: int) -> Prescriber | None:
    """The agent who booked the RDV by prescription (admin-domain.md 10.3), with the organisation they
    work in (one where they hold a role, by name), or the external prescripteur who booked it on the public
    pages (domain.md 6.4), if one did."""
    # The RDV's author, or (a collective session) the prescripteur of one of its participations.
    external = uow.session.exec(
        select(Prescripteur).where(sa.or_(
            col(Prescripteur.id).in_(select(Rdv.created_by_prescripteur_id).where(Rdv.id == rdv_id)),
            col(Prescripteur.id).in_(select(Participation.prescripteur_id).where(Participation.rdv_id == rdv_id))))
        .order_by(col(Prescripteur.id))).first()
    if external is not None:
        return Prescriber(name=agent_name(external.first_name, external.last_name), organisation_name="",
                          email=external.email, phone_number=external.phone_number)
    row = uow.session.exec(
        select(Agent).join(Participation, col(Participation.created_by_agent_id) == Agent.id)
        .where(Participation.rdv_id == rdv_id, col(Participation.created_by_agent_prescripteur).is_(True))
        .order_by(col(Participation.id))).first()
    if row is None:
        return None
    organisation = uow.session.exec(
        select(Organisation.name).join(AgentRole, col(AgentRole.organisation_id) == Organisation.id)
        .where(AgentRole.agent_id == row.id).order_by(col(Organisation.name))).first()
    return Prescriber(name=agent_name(row.first_name, row.last_name), organisation_name=organisation or "",
                      email=row.email)


VISIO_BASE_URL = "https://webconf.numerique.gouv.fr/RdvServicePublic"


def _where(rdv: Rdv, motif: Motif, lieu: Lieu | None, usagers: Sequence[Usager],
           responsibles: Mapping[int, Usager]) -> tuple[str, ...]:
    """Where the RDV takes place, as agents need it (domain.md section 1, "Address, by location type")."""
    if lieu is not None:
        single_use = " (lieu ponctuel)" if lieu.availability == LieuAvailability.SINGLE_USE else ""
        lines = [f"{lieu.name}{single_use}", lieu.address]
        return (*lines, f"Téléphone du lieu : {lieu.phone_number}") if lieu.phone_number else tuple(lines)
    if motif.location_type == LocationType.PHONE:
        numbers = [f"{usager_name(u.first_name, u.last_name)} : {u.phone_number}" for u in usagers if u.phone_number]
        return ("Par téléphone", *(["Numéros des participants : " + " ; ".join(numbers)] if numbers
                                   else ["Aucun numéro de téléphone renseigné pour les participants."]))
    if motif.location_type == LocationType.HOME:
        # The first address found, responsibles first: a relative lives at their responsible's.
        people = [*(responsibles[u.responsible_id] for u in usagers
                if u.responsible_id is not None and u.responsible_id in responsibles), *usagers]
        address = next((" ".join(x for x in (p.address, p.address_details) if x) for p in people if p.address), None)
        return ("À domicile", address or "Aucune adresse renseignée pour les participants.")
    if motif.location_type == LocationType.VISIO:
        return ("Par visioconférence", f"{VISIO_BASE_URL}{rdv.uuid.replace('-', '').replace('_', '')}")
    return (LOCATION_TYPE_LABELS[LocationType(motif.location_type)],)


def _reaches(recipient: Usager, region: str) -> tuple[str, ...]:
    """How lifecycle messages and reminders reach the person who receives them (domain.md 3.1)."""
    if recipient.email and recipient.notify_by_email:
        email = f"Email à {recipient.email}"
    elif recipient.email:
        email = "Emails refusés par l'usager"
    else:
        email = "Pas d'adresse email"
    number = sms_number(recipient.phone_number, region)
    if number and recipient.notify_by_sms:
        sms = f"SMS au {recipient.phone_number}"
    elif number:
        sms = "SMS refusés par l'usager"
    elif recipient.phone_number:
        sms = "Numéro non mobile : pas de SMS"
    else:
        sms = "Pas de numéro de téléphone"
    return email, sms


@boundary
def list_rdvs_for_calendar(uow: UnitOfWork, actor_agent_id: int, organisation_id: int, agent_ids: Sequence[int],
                           start: datetime, end: datetime, *, now: datetime | None = None) -> list[CalendarEvent]:
    """Events of these agents meeting [start, end), by start: the organisation's RDVs (cancelled ones
    flagged), and as grey blocks without any detail their RDVs of other organisations and those the
    actor may not open."""
    scope = agent_scope(uow, actor_agent_id, organisation_id)
    return calendar_events(uow, scope, calendar_agents(uow, scope, agent_ids), start, end,
                           time_zone=local_time.time_zone(uow, organisation_id), now=now)


def calendar_agents(uow: UnitOfWork, scope: AgentScope, agent_ids: Sequence[int], *,
                    visible: Collection[int] | None = None) -> list[int]:
    """The agents asked for, once each and in order; PermissionDenied unless the actor may see them all
    (`visible`: what `rights.visible_agent_ids` gave the caller already)."""
    wanted = list(dict.fromkeys(agent_ids))
    if not set(wanted) <= set(visible_agent_ids(uow, scope) if visible is None else visible):
        raise PermissionDenied("Vous ne pouvez pas consulter l'agenda de cet agent.")
    return wanted


def calendar_events(uow: UnitOfWork, scope: AgentScope, agent_ids: Sequence[int], start: datetime, end: datetime,
                    *, time_zone: str, now: datetime | None = None) -> list[CalendarEvent]:
    """`list_rdvs_for_calendar` for agents `calendar_agents` has checked: two queries reading only the
    columns an event shows, whatever the number of agents and RDVs."""
    if not agent_ids:
        return []
    now = now or clock.now()
    organisation_id = scope.organisation_id
    overlapping = sa.and_(col(Rdv.starts_at) < end, col(Rdv.ends_at) > start)
    asked = aliased(RdvAgent)  # an agent asked for, on each RDV found in the range
    # One row per agent and participant of each RDV, by usager name: every agent counts for the rights,
    # the ones asked for are shown.
    rows = uow.session.exec(
        # sqlmodel types select() for at most 4 entities.
        select(Rdv.id, Rdv.starts_at, Rdv.ends_at, Rdv.status, Rdv.name, Rdv.users_count,  # type: ignore[call-overload]
               Rdv.max_participants_count, Motif.name, Motif.color, Motif.collectif, Motif.service_id,
               RdvAgent.agent_id, Participation.id, Usager.first_name, Usager.last_name)
        .join(Motif, col(Motif.id) == Rdv.motif_id).join(RdvAgent, col(RdvAgent.rdv_id) == Rdv.id)
        .outerjoin(Participation, col(Participation.rdv_id) == Rdv.id)
        .outerjoin(Usager, col(Usager.id) == Participation.usager_id)
        .where(Rdv.organisation_id == organisation_id, overlapping, sa.exists().where(
            col(asked.rdv_id) == col(Rdv.id), col(asked.agent_id).in_(agent_ids)))
        .order_by(Usager.last_name, Usager.first_name)
    ).all()
    found: dict[int, tuple[Any, ...]] = {}
    on_rdv: dict[int, set[int]] = {}
    names: dict[int, dict[int, str]] = {}  # by participation, in the order of the names
    for *rdv, agent_id, participation_id, first, last in rows:
        found.setdefault(rdv[0], tuple(rdv))
        on_rdv.setdefault(rdv[0], set()).add(agent_id)
        if participation_id is not None:
            names.setdefault(rdv[0], {})[participation_id] = f"{first} {last.upper()}"
    events = []
    busy: list[tuple[int, datetime, datetime]] = []
    for (rdv_id, starts_at, ends_at, status, rdv_name, users_count, max_participants, motif_name, colour, collectif,
         service_id) in found.values():
        agents = on_rdv[rdv_id]
        shown = tuple(a for a in agent_ids if a in agents)
        cancelled = status in CANCELLED_STATUSES
        if not sees_rdv(scope, service_id, agents):
            if not cancelled:
                busy += [(a, starts_at, ends_at) for a in shown]
            continue
        usagers = tuple(names.get(rdv_id, {}).values())
        title = ", ".join(usagers) or rdv_name or motif_name
        if collectif:
            seats = f"/{max_participants}" if max_participants else ""
            title = f"{rdv_name or motif_name} ({users_count}{seats})"
        events.append(CalendarEvent(
            id=f"rdv-{rdv_id}", starts_at=starts_at, ends_at=ends_at, agent_ids=shown, title=title,
            colour=colour, detailed=True, rdv_id=rdv_id, motif_name=motif_name, status=status,
            status_label=rdv_status.status_label(status, starts_at, now, time_zone),
            cancelled=cancelled, usagers=usagers))
    busy += uow.session.exec(
        select(RdvAgent.agent_id, Rdv.starts_at, Rdv.ends_at).join(Rdv, col(Rdv.id) == RdvAgent.rdv_id)
        .where(col(RdvAgent.agent_id).in_(agent_ids), Rdv.organisation_id != organisation_id, overlapping,
               col(Rdv.status).not_in(_CANCELLED))
    ).all()
    # A block says only "this agent is busy then": same agent and times give one block, and its id is
    # built from them so that no other organisation's identifier reaches the browser.
    for agent_id, starts_at, ends_at in sorted(set(busy)):
        events.append(CalendarEvent(
            id=f"busy-{agent_id}-{int(starts_at.timestamp())}-{int(ends_at.timestamp())}", starts_at=starts_at,
            ends_at=ends_at, agent_ids=(agent_id,), title=BUSY_TITLE, colour=BUSY_COLOUR, detailed=False))
    return sorted(events, key=lambda e: (e.starts_at, e.ends_at, e.id))


# --------------------------------------------------------------------------- rights


def visible_rdv(uow: UnitOfWork, actor_agent_id: int, organisation_id: int, rdv_id: int) -> tuple[Rdv, Motif]:
    """The RDV and its motif when the actor may follow it: the one rights check of every RDV read."""
    return visible_in_scope(uow, agent_scope(uow, actor_agent_id, organisation_id), rdv_id)


def visible_in_scope(uow: UnitOfWork, scope: AgentScope, rdv_id: int) -> tuple[Rdv, Motif]:
    row = uow.session.exec(select(Rdv, Motif).join(Motif, col(Motif.id) == Rdv.motif_id)
                           .where(Rdv.id == rdv_id, Rdv.organisation_id == scope.organisation_id)).first()
    if row is None:
        raise NotFound("Ce RDV n'existe pas.")
    rdv, motif = row
    if not sees_rdv(scope, motif.service_id, agent_ids_of(uow, rdv_id)):
        raise PermissionDenied("Ce RDV concerne un motif d'un autre service.")
    return rdv, motif


# --------------------------------------------------------------------------- loading and history


def agent_ids_of(uow: UnitOfWork, rdv_id: int) -> list[int]:
    return list(uow.session.exec(select(RdvAgent.agent_id).where(RdvAgent.rdv_id == rdv_id)
                                 .order_by(col(RdvAgent.agent_id))).all())


def agent_names(uow: UnitOfWork, agent_ids: Collection[int]) -> dict[int, str]:
    return {agent_id: agent_name(first, last) for agent_id, first, last in uow.session.exec(
        select(not_null(Agent.id), Agent.first_name, Agent.last_name).where(col(Agent.id).in_(list(agent_ids)))).all()}


def usager_names(uow: UnitOfWork, usager_ids: Collection[int]) -> dict[int, str]:
    return {require_id(u): usager_name(u.first_name, u.last_name) for u in uow.session.exec(
        select(Usager).where(col(Usager.id).in_(list(usager_ids)))).all()}


_ACTION_LABELS = {"created": "RDV créé", "updated": "RDV modifié", "status_changed": "Statut modifié",
                  "participant_added": "Participant inscrit", "participant_removed": "Participant retiré",
                  "participant_changed": "Participant changé"}
_AUTHOR_LABELS = {AuthorType.USAGER.value: "L'usager", AuthorType.PRESCRIPTEUR.value: "Un prescripteur",
                  AuthorType.SYSTEM.value: "Automatique", AuthorType.AGENT.value: "Un agent"}
# In the order the history lists them; participants' statuses come last.
_FIELD_LABELS = {"name": "Nom de l'atelier", "starts_at": "Début", "duration_in_min": "Durée", "lieu_id": "Lieu",
                 "agent_ids": "Agents", "max_participants_count": "Places", "usager_ids": "Participants",
                 "status": "Statut"}
_PARTICIPATION = "participation:"


def _history(uow: UnitOfWork, rdv_id: int, tz: str) -> list[HistoryEntry]:
    """The audit rows of the RDV, oldest first, in words: who, when, what (old → new)."""
    rows = list(uow.session.exec(select(AuditLog).where(AuditLog.entity_type == _ENTITY,
                                                        AuditLog.entity_id == str(rdv_id))
                                 .order_by(col(AuditLog.occurred_at), col(AuditLog.id))).all())
    agent_ids: set[int] = set()
    usager_ids: set[int] = set()
    lieu_ids: set[int] = set()
    for row in rows:
        if row.actor_agent_id is not None:
            agent_ids.add(row.actor_agent_id)
        if row.actor_usager_id is not None:
            usager_ids.add(row.actor_usager_id)
        for field, values in row.changes.items():
            present = [v for v in values if v is not None]
            if field == "agent_ids":
                agent_ids.update(a for v in present for a in v)
            elif field == "usager_ids":
                usager_ids.update(u for v in present for u in v)
            elif field == "lieu_id":
                lieu_ids.update(present)
            elif field.startswith(_PARTICIPATION):
                usager_ids.add(int(field.removeprefix(_PARTICIPATION)))
    agents = agent_names(uow, agent_ids)
    usagers = usager_names(uow, usager_ids)
    lieux = dict(uow.session.exec(select(Lieu.id, Lieu.name).where(col(Lieu.id).in_(lieu_ids))).all())

    def value(field: str, raw: Any) -> str:
        if field == "max_participants_count" and raw is None:
            return "illimitées"
        if raw is None:
            return "aucun"
        if field == "starts_at":
            return datefmt.long_datetime(datetime.fromisoformat(raw), tz)
        if field == "duration_in_min":
            return f"{raw} min"
        if field == "lieu_id":
            return lieux.get(raw, "lieu supprimé")
        if field == "agent_ids":
            return ", ".join(agents.get(a, "agent supprimé") for a in raw) or "aucun"
        if field == "usager_ids":
            return ", ".join(usagers.get(u, "usager supprimé") for u in raw) or "aucun"
        if field == "status":
            return RDV_STATUS_LABELS[RdvStatus(raw)]
        return str(raw)

    def line(field: str, old: Any, new: Any) -> tuple[int, str, str]:
        if field.startswith(_PARTICIPATION):
            who = usagers.get(int(field.removeprefix(_PARTICIPATION)), "usager supprimé")
            label, kind, rank = f"Statut de {who}", "status", len(_FIELD_LABELS)
        elif field in _FIELD_LABELS:
            label, kind, rank = _FIELD_LABELS[field], field, list(_FIELD_LABELS).index(field)
        else:  # a field written by another use case: shown as stored rather than hidden
            label, kind, rank = field, field, len(_FIELD_LABELS) + 1
        shown = value(kind, new)
        return rank, label, f"{label} : {shown}" if old is None else f"{label} : {value(kind, old)} → {shown}"

    entries = []
    for row in rows:
        # A fixed order: PostgreSQL may give the stored keys back in another order than SQLite.
        details = [text for _, _, text in sorted(line(field, old, new)
                                                 for field, (old, new) in row.changes.items())]
        if row.actor_agent_id is not None:
            author = agents.get(row.actor_agent_id, "Agent supprimé")
        elif row.actor_usager_id is not None:
            author = usagers.get(row.actor_usager_id, "Usager supprimé")
        else:
            author = _AUTHOR_LABELS[row.actor_type]
        entries.append(HistoryEntry(occurred_at=row.occurred_at, when=datefmt.long_datetime(row.occurred_at, tz),
                                    author=author, action=_ACTION_LABELS.get(row.action, row.action),
                                    details=details))
    return entries
