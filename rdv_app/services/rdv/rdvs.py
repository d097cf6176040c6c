"""Planning and following RDVs in the agents' workspace (issue 4; domain.md sections 1, 3.1, 8 and 10).

Rights (domain.md section 8, "RDV scope"): an agent acts on an RDV of an organisation where they hold
a role when they are on it, when its motif belongs to one of their services, or when they are an admin
or a secrétaire. Another organisation's RDV is NotFound, one outside the agent's scope
PermissionDenied; the motif, lieu, agents and usagers of a new RDV are checked the same way. Nothing is
written before every check has passed.

Planning and editing raise `NeedsConfirmation` for benign warnings (an agent busy elsewhere or absent,
no plage d'ouverture of the agents for the motif, a start in the past, the same usager with the same
motif that day); the agent confirms by calling again with `confirm_warnings=True`. An exact duplicate
(same organisation, lieu, start, end, motif and usagers, not cancelled) is refused outright.

Every write records its audit row in the same transaction, and every change that may concern the
participants or the agents goes through `_changed`, which returns the facts the notifications need
(`RdvChange`): the notification module is wired there, in the same transaction as the change.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import aliased
from sqlmodel import col, select

from rdv_app.db.models import (
    Absence,
    Agent,
    AuditLog,
    Lieu,
    Motif,
    Organisation,
    Participation,
    PlageOuverture,
    PlageOuvertureMotif,
    Rdv,
    RdvAgent,
    Service,
    Territory,
    Usager,
)
from rdv_app.db.uow import UnitOfWork
from rdv_app.domain import clock, datefmt, rdv_status
from rdv_app.domain.enums import (
    CANCELLED_STATUSES,
    AccessLevel,
    AuthorType,
    LieuAvailability,
    LocationType,
    NotificationEvent,
    RdvStatus,
    VisibilityType,
)
from rdv_app.domain.labels import LOCATION_TYPE_LABELS, RDV_STATUS_LABELS
from rdv_app.domain.recipients import phone_region, sms_number
from rdv_app.domain.recurrence import Recurrence
from rdv_app.notify.events import notify_rdv_change
from rdv_app.services import audit
from rdv_app.services.errors import DomainError, NeedsConfirmation, NotFound, PermissionDenied
from rdv_app.services.integrations.webhooks import emit as emit_webhook
from rdv_app.services.rights import AgentScope, agent_scope, visible_agent_ids
from rdv_app.services.usagers import usagers as usagers_service

MAX_DURATION_IN_MIN = 24 * 60
# Another organisation's RDV (or one outside the agent's rights) in an agenda: grey, no detail.
# #6b7280 keeps white text readable (WCAG AA).
BUSY_COLOUR = "#6b7280"
BUSY_TITLE = "Occupé"
_CANCELLED = [s.value for s in CANCELLED_STATUSES]
_ENTITY = "rdv"


@dataclass(frozen=True)
class RdvChange:
    """What the notifications of one change need (domain.md section 3.1)."""

    rdv_id: int
    event: NotificationEvent  # rdv_created, rdv_updated or rdv_cancelled
    status: RdvStatus  # the RDV's status after the change
    starts_at: datetime  # after the change
    old_starts_at: datetime | None  # None on creation
    time_or_lieu_changed: bool  # the start or the lieu changed: usagers hear of updates only then
    old_agent_ids: tuple[int, ...]
    new_agent_ids: tuple[int, ...]
    usager_ids: tuple[int, ...]  # the participations concerned (created, cancelled or still to come)
    author_agent_id: int | None  # None when an usager made the change (online booking)
    outbox_ids: tuple[int, ...] = ()  # the SMS and emails queued for it, to deliver right after the commit
    author_type: AuthorType = AuthorType.AGENT


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


@dataclass(frozen=True)
class _Planned:
    """An RDV as it would be saved, for the checks shared by planning and editing."""

    organisation_id: int
    time_zone: str
    motif: Motif
    starts_at: datetime
    ends_at: datetime
    lieu_id: int | None
    agents: dict[int, str]  # id -> name, in the chosen order
    usagers: dict[int, str]
    exclude_rdv_id: int | None = None


# --------------------------------------------------------------------------- planning


def plan_rdv(uow: UnitOfWork, actor_agent_id: int, organisation_id: int, *, motif_id: int, starts_at: datetime,
             duration_in_min: int, agent_ids: Sequence[int], lieu_id: int | None, usager_ids: Sequence[int],
             notify: Mapping[int, tuple[bool, bool]] | None = None, context: str | None = None,
             confirm_warnings: bool = False, now: datetime | None = None) -> int:
    """Creates an individual RDV and returns its id.

    `notify` maps an usager id to (lifecycle notifications, reminder); usagers left out get the motif's
    default (on when the motif is visible and notified). Usagers of another organisation of the
    territory are added to this one.
    """
    now = _now(now)
    scope = agent_scope(uow, actor_agent_id, organisation_id)
    motif = _usable_motif(uow, scope, motif_id)
    if motif.collectif:
        raise DomainError("Un RDV collectif se crée depuis la page des RDV collectifs.", "motif_id")
    ends_at = _ends_at(starts_at, duration_in_min)
    agents = _usable_agents(uow, scope, agent_ids)
    lieu_id = _usable_lieu(uow, organisation_id, motif, lieu_id)
    if not usager_ids:
        raise DomainError("Ajoutez au moins un usager.", "usager_ids")
    usagers = usagers_service.usagers_for_rdv(uow, organisation_id, usager_ids)
    ordered_usagers = {u: _usager_name(usagers[u]) for u in dict.fromkeys(usager_ids)}
    flags = _notification_flags(motif, ordered_usagers, notify)
    planned = _Planned(organisation_id, _time_zone(uow, organisation_id), motif, starts_at, ends_at, lieu_id,
                       agents, ordered_usagers)
    _refuse_duplicate(uow, planned)
    if not confirm_warnings:
        _raise_warnings(_overlaps(uow, planned) + _absences(uow, planned) + _outside_plages(uow, planned)
                        + _in_the_past(planned, now) + _same_motif_same_day(uow, planned))

    rdv = Rdv(organisation_id=organisation_id, motif_id=motif.id, lieu_id=lieu_id,  # type: ignore[arg-type]
              starts_at=starts_at, ends_at=ends_at, status=RdvStatus.UNKNOWN.value,
              context=(context or "").strip() or None, users_count=len(ordered_usagers),
              created_by_type=AuthorType.AGENT.value, created_by_agent_id=actor_agent_id,
              created_at=now, updated_at=now)
    uow.session.add(rdv)
    uow.session.flush()
    rdv_id: int = rdv.id  # type: ignore[assignment]
    uow.session.add_all([RdvAgent(rdv_id=rdv_id, agent_id=agent_id) for agent_id in agents])
    uow.session.add_all([
        Participation(rdv_id=rdv_id, usager_id=usager_id, status=RdvStatus.UNKNOWN.value,
                      send_lifecycle_notifications=flags[usager_id][0],
                      send_reminder_notification=flags[usager_id][1],
                      created_by_type=AuthorType.AGENT.value, created_by_agent_id=actor_agent_id)
        for usager_id in ordered_usagers
    ])
    usagers_service.add_to_organisation(uow, organisation_id, list(usagers.values()), actor_agent_id)
    _audit(uow, planned, rdv_id, actor_agent_id, "created", audit.diff({}, _facts(planned)))
    _changed(uow, now, rdv_id, NotificationEvent.RDV_CREATED, status=RdvStatus.UNKNOWN, starts_at=starts_at,
             old_starts_at=None, time_or_lieu_changed=False, old_agent_ids=(), new_agent_ids=tuple(agents),
             usager_ids=tuple(ordered_usagers), author_agent_id=actor_agent_id)
    emit_webhook(uow.session, "rdv", rdv_id, "created", now=now)
    uow.commit()
    return rdv_id


def update_rdv(uow: UnitOfWork, actor_agent_id: int, organisation_id: int, rdv_id: int, *, starts_at: datetime,
               duration_in_min: int, lieu_id: int | None, agent_ids: Sequence[int],
               confirm_warnings: bool = False, now: datetime | None = None) -> RdvChange | None:
    """Changes the time, duration, lieu and agents of an RDV; None when nothing changed.

    Warnings are those of planning that the change can cause: the agents' time when the time or the
    agents change, the past when the start changes, the same motif that day when the day changes.
    """
    now = _now(now)
    scope = agent_scope(uow, actor_agent_id, organisation_id)
    rdv, motif = _visible_rdv(uow, scope, rdv_id)
    ends_at = _ends_at(starts_at, duration_in_min)
    old_agents = _agent_ids_of(uow, rdv_id)
    agents = _usable_agents(uow, scope, agent_ids, keep=old_agents)
    lieu_id = _usable_lieu(uow, organisation_id, motif, lieu_id, keep=rdv.lieu_id)
    participations = _participations(uow, rdv_id)
    usager_names = _usager_names(uow, [p.usager_id for p in participations])
    planned = _Planned(organisation_id, _time_zone(uow, organisation_id), motif, starts_at, ends_at, lieu_id,
                       agents, {p.usager_id: usager_names[p.usager_id] for p in participations},
                       exclude_rdv_id=rdv_id)
    before = _facts(_Planned(organisation_id, planned.time_zone, motif, rdv.starts_at, rdv.ends_at, rdv.lieu_id,
                             dict.fromkeys(old_agents, ""), planned.usagers))
    changes = audit.diff(before, _facts(planned))
    if not changes:
        return None
    time_changed = rdv.starts_at != starts_at or rdv.ends_at != ends_at
    if time_changed or rdv.lieu_id != lieu_id:
        _refuse_duplicate(uow, planned)
    if not confirm_warnings:
        warnings: list[str] = []
        if time_changed or set(old_agents) != set(agents):
            warnings += _overlaps(uow, planned) + _absences(uow, planned) + _outside_plages(uow, planned)
        if rdv.starts_at != starts_at:
            warnings += _in_the_past(planned, now)
        tz = ZoneInfo(planned.time_zone)
        if rdv.starts_at.astimezone(tz).date() != starts_at.astimezone(tz).date():
            warnings += _same_motif_same_day(uow, planned)
        _raise_warnings(warnings)

    old_starts_at, old_lieu_id = rdv.starts_at, rdv.lieu_id
    if time_changed or rdv.lieu_id != lieu_id:
        rdv.ics_sequence += 1  # calendars that hold the event must see a newer version
    rdv.starts_at, rdv.ends_at, rdv.lieu_id, rdv.updated_at = starts_at, ends_at, lieu_id, now
    uow.session.add(rdv)
    for agent_id in set(old_agents) - set(agents):
        uow.session.delete(uow.session.get(RdvAgent, (rdv_id, agent_id)))
    uow.session.add_all([RdvAgent(rdv_id=rdv_id, agent_id=a) for a in agents if a not in old_agents])
    _audit(uow, planned, rdv_id, actor_agent_id, "updated", changes)
    change = _changed(uow, now, rdv_id, NotificationEvent.RDV_UPDATED, status=RdvStatus(rdv.status), starts_at=starts_at,
                      old_starts_at=old_starts_at,
                      time_or_lieu_changed=old_starts_at != starts_at or old_lieu_id != lieu_id,
                      old_agent_ids=tuple(old_agents), new_agent_ids=tuple(agents),
                      usager_ids=tuple(p.usager_id for p in participations
                                       if p.status not in CANCELLED_STATUSES),
                      author_agent_id=actor_agent_id)
    emit_webhook(uow.session, "rdv", rdv_id, "updated", now=now)
    uow.commit()
    return change


# --------------------------------------------------------------------------- statuses


def change_status(uow: UnitOfWork, actor_agent_id: int, organisation_id: int, rdv_id: int, status: str, *,
                  now: datetime | None = None) -> RdvChange | None:
    """Sets the RDV's status; its participations follow (domain.md section 1). Returns the change to
    notify, if any: a cancellation, or a cancelled RDV set back to "à venir" (it counts as re-created)."""
    now = _now(now)
    scope = agent_scope(uow, actor_agent_id, organisation_id)
    rdv, motif = _visible_rdv(uow, scope, rdv_id)
    new = _parse_status(status)
    participations = _participations(uow, rdv_id)
    try:
        outcome = rdv_status.change_rdv_status(
            current=RdvStatus(rdv.status), cancelled_at=rdv.cancelled_at, new=new,
            participations={p.usager_id: RdvStatus(p.status) for p in participations},
            collectif=motif.collectif, now=now)
    except rdv_status.StatusError as error:
        raise DomainError(str(error), "status") from None
    return _apply_status(uow, rdv, participations, outcome, actor_agent_id, now)


def change_participation_status(uow: UnitOfWork, actor_agent_id: int, organisation_id: int, rdv_id: int,
                                usager_id: int, status: str, *, now: datetime | None = None) -> RdvChange | None:
    """Sets one participant's status; the RDV's status follows (domain.md section 1)."""
    now = _now(now)
    scope = agent_scope(uow, actor_agent_id, organisation_id)
    rdv, motif = _visible_rdv(uow, scope, rdv_id)
    new = _parse_status(status)
    participations = _participations(uow, rdv_id)
    try:
        outcome = rdv_status.change_participation_status(
            rdv_status=RdvStatus(rdv.status), cancelled_at=rdv.cancelled_at,
            participations={p.usager_id: RdvStatus(p.status) for p in participations}, key=usager_id, new=new,
            collectif=motif.collectif, is_past=rdv.starts_at <= now, now=now)
    except rdv_status.StatusError as error:
        raise DomainError(str(error), "status") from None
    return _apply_status(uow, rdv, participations, outcome, actor_agent_id, now)


def cancel_rdv(uow: UnitOfWork, actor_agent_id: int, organisation_id: int, rdv_id: int, *,
               excused: bool = False, now: datetime | None = None) -> RdvChange | None:
    """Cancels an RDV: by the service (revoked), or for the usager (excused)."""
    scope = agent_scope(uow, actor_agent_id, organisation_id)
    rdv, _ = _visible_rdv(uow, scope, rdv_id)
    if rdv.status in CANCELLED_STATUSES:
        raise DomainError("Ce RDV est déjà annulé.", "status")
    status = RdvStatus.EXCUSED if excused else RdvStatus.REVOKED
    return change_status(uow, actor_agent_id, organisation_id, rdv_id, status.value, now=now)


def delete_rdv(uow: UnitOfWork, actor_agent_id: int, organisation_id: int, rdv_id: int, *,
               now: datetime | None = None) -> None:
    """Deletes an RDV entered by mistake (admins only; participants are not notified: cancel instead to
    tell them). The webhook "destroyed" payload is built before the deletion."""
    now = _now(now)
    scope = agent_scope(uow, actor_agent_id, organisation_id)
    if scope.access_level != AccessLevel.ADMIN:
        raise PermissionDenied("Seuls les administrateurs de l'organisation peuvent supprimer un RDV.")
    rdv, _ = _visible_rdv(uow, scope, rdv_id)
    emit_webhook(uow.session, "rdv", rdv_id, "destroyed", now=now)
    audit.record(uow.session, action="deleted", entity_type=_ENTITY, entity_id=rdv_id,
                 changes={"starts_at": [rdv.starts_at.isoformat(), None]}, organisation_id=organisation_id,
                 actor_agent_id=actor_agent_id)
    uow.session.exec(sa.delete(Participation).where(col(Participation.rdv_id) == rdv_id))
    uow.session.exec(sa.delete(RdvAgent).where(col(RdvAgent.rdv_id) == rdv_id))
    uow.session.delete(rdv)
    uow.commit()


def _parse_status(value: str) -> RdvStatus:
    try:
        return rdv_status.parse_status(value)
    except rdv_status.StatusError as error:
        raise DomainError(str(error), "status") from None


def _apply_status(uow: UnitOfWork, rdv: Rdv, participations: list[Participation],
                  outcome: rdv_status.StatusOutcome[int], actor_agent_id: int, now: datetime) -> RdvChange | None:
    old_status = RdvStatus(rdv.status)
    before = {p.usager_id: RdvStatus(p.status) for p in participations}
    changes: dict[str, Any] = {}
    if outcome.status != old_status:
        changes["status"] = [old_status.value, outcome.status.value]
    for participation in participations:
        new = outcome.participations[participation.usager_id]
        if new != before[participation.usager_id]:
            changes[f"participation:{participation.usager_id}"] = [participation.status, new.value]
            participation.status = new.value
            uow.session.add(participation)
    if not changes:
        return None
    rdv.status, rdv.cancelled_at, rdv.updated_at = outcome.status.value, outcome.cancelled_at, now
    rdv.users_count = sum(1 for s in outcome.participations.values() if s not in CANCELLED_STATUSES)
    cancelled = tuple(u for u, s in outcome.participations.items()
                      if s in CANCELLED_STATUSES and before[u] not in CANCELLED_STATUSES)
    restored = tuple(u for u, s in outcome.participations.items()
                     if s == RdvStatus.UNKNOWN and before[u] in CANCELLED_STATUSES)
    event: NotificationEvent | None = None
    concerned: tuple[int, ...] = ()
    if cancelled or (outcome.status in CANCELLED_STATUSES and old_status not in CANCELLED_STATUSES):
        event, concerned = NotificationEvent.RDV_CANCELLED, cancelled
    elif restored or (old_status in CANCELLED_STATUSES and outcome.status == RdvStatus.UNKNOWN):
        event, concerned = NotificationEvent.RDV_CREATED, restored
    if event is not None:
        rdv.ics_sequence += 1  # a cancellation or a re-creation replaces the event in calendars
    uow.session.add(rdv)
    audit.record(uow.session, action="status_changed", entity_type=_ENTITY, entity_id=rdv.id,  # type: ignore[arg-type]
                 changes=changes, organisation_id=rdv.organisation_id, actor_agent_id=actor_agent_id)
    change = None
    if event is not None:
        agents = tuple(_agent_ids_of(uow, rdv.id))  # type: ignore[arg-type]
        change = _changed(uow, now, rdv.id, event, status=outcome.status, starts_at=rdv.starts_at,  # type: ignore[arg-type]
                          old_starts_at=rdv.starts_at, time_or_lieu_changed=False, old_agent_ids=agents,
                          new_agent_ids=agents, usager_ids=concerned, author_agent_id=actor_agent_id)
    emit_webhook(uow.session, "rdv", rdv.id, "updated", now=now)  # type: ignore[arg-type]
    uow.commit()
    return change


def _changed(uow: UnitOfWork, now: datetime, rdv_id: int, event: NotificationEvent, *, status: RdvStatus,
             starts_at: datetime, old_starts_at: datetime | None, time_or_lieu_changed: bool,
             old_agent_ids: tuple[int, ...], new_agent_ids: tuple[int, ...], usager_ids: tuple[int, ...],
             author_agent_id: int) -> RdvChange:
    """The one place every notifiable RDV change passes through, before its transaction commits: the
    notification module queues its SMS and emails here, in the change's transaction (outbox rows)."""
    change = RdvChange(rdv_id=rdv_id, event=event, status=status, starts_at=starts_at, old_starts_at=old_starts_at,
                       time_or_lieu_changed=time_or_lieu_changed, old_agent_ids=old_agent_ids,
                       new_agent_ids=new_agent_ids, usager_ids=usager_ids, author_agent_id=author_agent_id)
    outbox_ids = notify_rdv_change(uow.session, change, now=now)
    return dataclasses.replace(change, outbox_ids=tuple(outbox_ids))


# --------------------------------------------------------------------------- reading


def get_rdv(uow: UnitOfWork, actor_agent_id: int, organisation_id: int, rdv_id: int, *,
            now: datetime | None = None) -> RdvDetails:
    """An RDV's page: details, participants with their notification flags, status, history."""
    now = _now(now)
    scope = agent_scope(uow, actor_agent_id, organisation_id)
    rdv, motif = _visible_rdv(uow, scope, rdv_id)
    tz = _time_zone(uow, organisation_id)
    service_name = uow.session.exec(select(Service.name).where(Service.id == motif.service_id)).one()
    lieu = uow.session.get(Lieu, rdv.lieu_id) if rdv.lieu_id is not None else None
    agent_ids = _agent_ids_of(uow, rdv_id)
    agent_names = _agent_names(uow, agent_ids + ([rdv.created_by_agent_id] if rdv.created_by_agent_id else []))
    participants = []
    rows = uow.session.exec(
        select(Participation, Usager).join(Usager, col(Usager.id) == Participation.usager_id)
        .where(Participation.rdv_id == rdv_id).order_by(Usager.last_name, Usager.first_name, Usager.id)
    ).all()
    responsibles = {u.id: u for u in uow.session.exec(select(Usager).where(col(Usager.id).in_(
        [usager.responsible_id for _, usager in rows if usager.responsible_id is not None]))).all()}
    organisation, departement = uow.session.exec(
        select(Organisation, Territory.departement_number).join(Territory, col(Territory.id) == Organisation.territory_id)
        .where(Organisation.id == organisation_id)).one()
    region = phone_region(departement)
    for participation, usager in rows:
        responsible = responsibles.get(usager.responsible_id)  # type: ignore[arg-type]
        participants.append(Participant(
            usager_id=usager.id, name=_usager_name(usager), status=participation.status,  # type: ignore[arg-type]
            status_label=rdv_status.status_label(participation.status, rdv.starts_at, now, tz),
            send_lifecycle_notifications=participation.send_lifecycle_notifications,
            send_reminder_notification=participation.send_reminder_notification,
            email=usager.email, phone_number=usager.phone_number,
            responsible_name=_usager_name(responsible) if responsible else None,
            reaches=_reaches(responsible or usager, region)))
    local = datefmt.local(rdv.starts_at, tz)
    return RdvDetails(
        id=rdv.id, uuid=rdv.uuid, organisation_id=organisation_id, timezone=tz,  # type: ignore[arg-type]
        motif_id=motif.id, motif_name=motif.name, motif_colour=motif.color,  # type: ignore[arg-type]
        service_name=service_name, location_type=motif.location_type, collectif=motif.collectif,
        starts_at=rdv.starts_at, ends_at=rdv.ends_at,
        duration_in_min=int((rdv.ends_at - rdv.starts_at).total_seconds() // 60),
        day=datefmt.long_date(local.date()), time=datefmt.hour(local),
        lieu_id=rdv.lieu_id, lieu=lieu.name if lieu else LOCATION_TYPE_LABELS[LocationType(motif.location_type)],
        lieu_address=lieu.address if lieu else None,
        agents=[AgentRef(a, agent_names[a]) for a in agent_ids],
        participants=participants,
        status=rdv.status, status_label=rdv_status.status_label(rdv.status, rdv.starts_at, now, tz),
        cancelled_at=rdv.cancelled_at,
        status_choices=[(s.value, RDV_STATUS_LABELS[s]) for s in rdv_status.allowed_statuses(motif.collectif)],
        context=rdv.context,
        created_by=agent_names.get(rdv.created_by_agent_id, "") if rdv.created_by_agent_id  # type: ignore[arg-type]
        else _AUTHOR_LABELS.get(rdv.created_by_type, ""),
        created_at=rdv.created_at, ics_sequence=rdv.ics_sequence,
        history=_history(uow, rdv_id, tz),
        organisation_name=organisation.name, end_time=datefmt.hour(datefmt.local(rdv.ends_at, tz)),
        created_when=datefmt.long_datetime(rdv.created_at, tz),
        where=_where(rdv, motif, lieu, [usager for _, usager in rows], responsibles),
    )


VISIO_BASE_URL = "https://webconf.numerique.gouv.fr/RdvServicePublic"


def _where(rdv: Rdv, motif: Motif, lieu: Lieu | None, usagers: Sequence[Usager],
           responsibles: Mapping[int, Usager]) -> tuple[str, ...]:
    """Where the RDV takes place, as agents need it (domain.md section 1, "Address, by location type")."""
    if lieu is not None:
        single_use = " (lieu ponctuel)" if lieu.availability == LieuAvailability.SINGLE_USE else ""
        lines = [f"{lieu.name}{single_use}", lieu.address]
        return (*lines, f"Téléphone du lieu : {lieu.phone_number}") if lieu.phone_number else tuple(lines)
    if motif.location_type == LocationType.PHONE:
        numbers = [f"{_usager_name(u)} : {u.phone_number}" for u in usagers if u.phone_number]
        return ("Par téléphone", *(["Numéros des participants : " + " ; ".join(numbers)] if numbers
                                   else ["Aucun numéro de téléphone renseigné pour les participants."]))
    if motif.location_type == LocationType.HOME:
        # The first address found, responsibles first: a relative lives at their responsible's.
        people = [*(responsibles[u.responsible_id] for u in usagers if u.responsible_id in responsibles), *usagers]
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


def list_rdvs_for_calendar(uow: UnitOfWork, actor_agent_id: int, organisation_id: int, agent_ids: Sequence[int],
                           start: datetime, end: datetime, *, now: datetime | None = None) -> list[CalendarEvent]:
    """Events of these agents meeting [start, end), by start: the organisation's RDVs (cancelled ones
    flagged), and as grey blocks without any detail their RDVs of other organisations and those the
    actor may not open."""
    for instant in (start, end):
        if instant.utcoffset() is None:
            raise DomainError("La période demandée est invalide.")
    scope = agent_scope(uow, actor_agent_id, organisation_id)
    return calendar_events(uow, scope, calendar_agents(uow, scope, agent_ids), start, end,
                           time_zone=_time_zone(uow, organisation_id), now=now)


def calendar_agents(uow: UnitOfWork, scope: AgentScope, agent_ids: Sequence[int]) -> list[int]:
    """The agents asked for, once each and in order; PermissionDenied unless the actor may see them all."""
    wanted = list(dict.fromkeys(agent_ids))
    if not set(wanted) <= visible_agent_ids(uow, scope):
        raise PermissionDenied("Vous ne pouvez pas consulter l'agenda de cet agent.")
    return wanted


def calendar_events(uow: UnitOfWork, scope: AgentScope, agent_ids: Sequence[int], start: datetime, end: datetime,
                    *, time_zone: str, now: datetime | None = None) -> list[CalendarEvent]:
    """`list_rdvs_for_calendar` for agents `calendar_agents` has checked: two queries reading only the
    columns an event shows, whatever the number of agents and RDVs."""
    if not agent_ids:
        return []
    now = _now(now)
    organisation_id = scope.organisation_id
    overlapping = sa.and_(col(Rdv.starts_at) < end, col(Rdv.ends_at) > start)
    asked = aliased(RdvAgent)  # an agent asked for, on each RDV found in the range
    # One row per agent and participant of each RDV, by usager name: every agent counts for the rights,
    # the ones asked for are shown.
    rows = uow.session.exec(
        select(Rdv.id, Rdv.starts_at, Rdv.ends_at, Rdv.status, Rdv.name, Rdv.users_count,
               Rdv.max_participants_count, Motif.name, Motif.color, Motif.collectif, Motif.service_id,
               RdvAgent.agent_id, Participation.id, Usager.first_name, Usager.last_name)
        .join(Motif, col(Motif.id) == Rdv.motif_id).join(RdvAgent, col(RdvAgent.rdv_id) == Rdv.id)
        .outerjoin(Participation, col(Participation.rdv_id) == Rdv.id)
        .outerjoin(Usager, col(Usager.id) == Participation.usager_id)
        .where(Rdv.organisation_id == organisation_id, overlapping, sa.exists().where(
            asked.rdv_id == Rdv.id, col(asked.agent_id).in_(agent_ids)))
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
        if not _in_scope(scope, service_id, agents):
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


# --------------------------------------------------------------------------- rights and inputs


def _now(now: datetime | None) -> datetime:
    return now or clock.now()


def _time_zone(uow: UnitOfWork, organisation_id: int) -> str:
    organisation = uow.session.get(Organisation, organisation_id)
    assert organisation is not None
    return organisation.timezone or "Europe/Paris"


def _in_scope(scope: AgentScope, motif_service_id: int, rdv_agent_ids: Collection[int]) -> bool:
    return (scope.sees_whole_organisation or scope.agent_id in rdv_agent_ids
            or motif_service_id in scope.service_ids)


def visible_rdv(uow: UnitOfWork, actor_agent_id: int, organisation_id: int, rdv_id: int) -> tuple[Rdv, Motif]:
    """The RDV and its motif when the actor may follow it: the one rights check of every RDV read."""
    return _visible_rdv(uow, agent_scope(uow, actor_agent_id, organisation_id), rdv_id)


def _visible_rdv(uow: UnitOfWork, scope: AgentScope, rdv_id: int) -> tuple[Rdv, Motif]:
    row = uow.session.exec(select(Rdv, Motif).join(Motif, col(Motif.id) == Rdv.motif_id)
                           .where(Rdv.id == rdv_id, Rdv.organisation_id == scope.organisation_id)).first()
    if row is None:
        raise NotFound("Ce RDV n'existe pas.")
    rdv, motif = row
    if not _in_scope(scope, motif.service_id, _agent_ids_of(uow, rdv_id)):
        raise PermissionDenied("Ce RDV concerne un motif d'un autre service.")
    return rdv, motif


def _usable_motif(uow: UnitOfWork, scope: AgentScope, motif_id: int) -> Motif:
    motif = uow.session.get(Motif, motif_id)
    if motif is None or motif.organisation_id != scope.organisation_id or motif.deleted_at is not None:
        raise NotFound("Ce motif n'existe pas ou a été archivé.")
    if not scope.sees_whole_organisation and motif.service_id not in scope.service_ids:
        raise PermissionDenied("Ce motif n'est pas accessible depuis votre compte.")
    return motif


def _ends_at(starts_at: datetime, duration_in_min: int) -> datetime:
    if not isinstance(starts_at, datetime) or starts_at.utcoffset() is None:
        raise DomainError("La date et l'heure de début sont invalides.", "starts_at")
    if isinstance(duration_in_min, bool) or not isinstance(duration_in_min, int) \
            or not 0 < duration_in_min <= MAX_DURATION_IN_MIN:
        raise DomainError("La durée doit être comprise entre 1 minute et 24 heures.", "duration_in_min")
    return starts_at + timedelta(minutes=duration_in_min)


def _usable_agents(uow: UnitOfWork, scope: AgentScope, agent_ids: Sequence[int],
                   keep: Collection[int] = ()) -> dict[int, str]:
    """The chosen agents by name, each visible to the actor (an agent already on the RDV may stay)."""
    wanted = list(dict.fromkeys(agent_ids))
    if not wanted:
        raise DomainError("Choisissez au moins un agent.", "agent_ids")
    allowed = visible_agent_ids(uow, scope) | set(keep)
    active = set(uow.session.exec(select(Agent.id).where(col(Agent.id).in_(wanted),
                                                         col(Agent.deleted_at).is_(None))).all())
    if not set(wanted) <= allowed or not set(wanted) <= active:
        raise PermissionDenied("Vous ne pouvez pas planifier de RDV pour cet agent.")
    names = _agent_names(uow, wanted)
    return {agent_id: names[agent_id] for agent_id in wanted}


def _usable_lieu(uow: UnitOfWork, organisation_id: int, motif: Motif, lieu_id: int | None,
                 keep: int | None = None) -> int | None:
    if motif.location_type != LocationType.PUBLIC_OFFICE:
        if lieu_id is not None:
            raise DomainError("Ce motif ne se déroule pas dans un lieu : n'en choisissez pas.", "lieu_id")
        return None
    if lieu_id is None:
        raise DomainError("Choisissez un lieu.", "lieu_id")
    lieu = uow.session.get(Lieu, lieu_id)
    if lieu is None or lieu.organisation_id != organisation_id:
        raise NotFound("Ce lieu n'existe pas.")
    if lieu.availability == LieuAvailability.DISABLED and lieu_id != keep:
        raise DomainError("Ce lieu n'est plus ouvert : choisissez-en un autre.", "lieu_id")
    return lieu_id


def _notification_flags(motif: Motif, usagers: Mapping[int, str],
                        notify: Mapping[int, tuple[bool, bool]] | None) -> dict[int, tuple[bool, bool]]:
    notify = notify or {}
    if not set(notify) <= set(usagers):
        raise DomainError("Les notifications ne concernent que les participants du RDV.", "notify")
    default = motif.visibility_type == VisibilityType.VISIBLE_AND_NOTIFIED
    return {u: (bool(notify[u][0]), bool(notify[u][1])) if u in notify else (default, default) for u in usagers}


# --------------------------------------------------------------------------- checks and warnings


def _refuse_duplicate(uow: UnitOfWork, planned: _Planned) -> None:
    lieu = (col(Rdv.lieu_id).is_(None) if planned.lieu_id is None else col(Rdv.lieu_id) == planned.lieu_id)
    query = select(Rdv.id).where(Rdv.organisation_id == planned.organisation_id, Rdv.motif_id == planned.motif.id,
                                 lieu, Rdv.starts_at == planned.starts_at, Rdv.ends_at == planned.ends_at,
                                 col(Rdv.status).not_in(_CANCELLED))
    if planned.exclude_rdv_id is not None:
        query = query.where(Rdv.id != planned.exclude_rdv_id)
    candidates = list(uow.session.exec(query).all())
    if not candidates:
        return
    participants: dict[int, set[int]] = {c: set() for c in candidates}
    for rdv_id, usager_id in uow.session.exec(select(Participation.rdv_id, Participation.usager_id)
                                              .where(col(Participation.rdv_id).in_(candidates))).all():
        participants[rdv_id].add(usager_id)
    if set(planned.usagers) in participants.values():
        raise DomainError("Un RDV identique existe déjà : même motif, lieu, horaire et participants.")


def _raise_warnings(warnings: list[str]) -> None:
    if warnings:
        raise NeedsConfirmation(list(dict.fromkeys(warnings)))


def _overlaps(uow: UnitOfWork, planned: _Planned) -> list[str]:
    """Another RDV of an agent at that time, in any organisation (never said which)."""
    query = (select(RdvAgent.agent_id).join(Rdv, col(Rdv.id) == RdvAgent.rdv_id)
             .where(col(RdvAgent.agent_id).in_(list(planned.agents)), col(Rdv.starts_at) < planned.ends_at,
                    col(Rdv.ends_at) > planned.starts_at, col(Rdv.status).not_in(_CANCELLED)))
    if planned.exclude_rdv_id is not None:
        query = query.where(Rdv.id != planned.exclude_rdv_id)
    busy = set(uow.session.exec(query).all())
    return [f"{name} a déjà un RDV sur ce créneau." for agent_id, name in planned.agents.items() if agent_id in busy]


def _local_days(planned: _Planned) -> tuple[ZoneInfo, date, date]:
    tz = ZoneInfo(planned.time_zone)
    return tz, planned.starts_at.astimezone(tz).date(), planned.ends_at.astimezone(tz).date()


def _absences(uow: UnitOfWork, planned: _Planned) -> list[str]:
    """An indisponibilité of an agent meeting the RDV; its times are read in the organisation's zone,
    as the slot engine does."""
    tz, first_day, last_day = _local_days(planned)
    rows = uow.session.exec(select(Absence).where(
        col(Absence.agent_id).in_(list(planned.agents)), col(Absence.first_day) <= last_day,
        sa.or_(sa.and_(col(Absence.recurrence).is_(None), col(Absence.end_day) >= first_day),
               sa.and_(col(Absence.recurrence).is_not(None),
                       sa.or_(col(Absence.recurrence_until).is_(None), col(Absence.recurrence_until) >= first_day))))
    ).all()
    absent = set()
    for absence in rows:
        span = absence.end_day - absence.first_day
        for day in _occurrence_days(absence.first_day, absence.recurrence, first_day - span, last_day):
            begins = datetime.combine(day, absence.start_time, tz)
            ends = datetime.combine(day + span, absence.end_time, tz)
            if begins < planned.ends_at and ends > planned.starts_at:
                absent.add(absence.agent_id)
    return [f"{name} est indisponible (absence) sur ce créneau."
            for agent_id, name in planned.agents.items() if agent_id in absent]


def _outside_plages(uow: UnitOfWork, planned: _Planned) -> list[str]:
    """No plage d'ouverture of the agents, for this motif (and lieu), holds the whole RDV."""
    tz, day, last_day = _local_days(planned)
    query = (select(PlageOuverture)
             .join(PlageOuvertureMotif, col(PlageOuvertureMotif.plage_ouverture_id) == PlageOuverture.id)
             .where(PlageOuvertureMotif.motif_id == planned.motif.id,
                    col(PlageOuverture.agent_id).in_(list(planned.agents)), col(PlageOuverture.first_day) <= day,
                    sa.or_(col(PlageOuverture.recurrence_until).is_(None),
                           col(PlageOuverture.recurrence_until) >= day)))
    if planned.lieu_id is not None:
        query = query.where(PlageOuverture.lieu_id == planned.lieu_id)
    if day == last_day:
        for plage in uow.session.exec(query).all():
            if (any(_occurrence_days(plage.first_day, plage.recurrence, day, day))
                    and datetime.combine(day, plage.start_time, tz) <= planned.starts_at
                    and planned.ends_at <= datetime.combine(day, plage.end_time, tz)):
                return []
    return ["Ce créneau est en dehors des plages d'ouverture des agents pour ce motif."]


def _in_the_past(planned: _Planned, now: datetime) -> list[str]:
    return ["Ce RDV commence dans le passé."] if planned.starts_at < now else []


def _same_motif_same_day(uow: UnitOfWork, planned: _Planned) -> list[str]:
    tz, day, _ = _local_days(planned)
    day_start = datetime.combine(day, time(0), tz)
    day_end = datetime.combine(day + timedelta(days=1), time(0), tz)
    query = (select(Participation.usager_id).join(Rdv, col(Rdv.id) == Participation.rdv_id)
             .where(Rdv.motif_id == planned.motif.id, col(Participation.usager_id).in_(list(planned.usagers)),
                    col(Rdv.starts_at) >= day_start, col(Rdv.starts_at) < day_end,
                    col(Rdv.status).not_in(_CANCELLED), col(Participation.status).not_in(_CANCELLED)))
    if planned.exclude_rdv_id is not None:
        query = query.where(Rdv.id != planned.exclude_rdv_id)
    booked = set(uow.session.exec(query).all())
    return [f"{name} a déjà un RDV pour ce motif ce jour-là."
            for usager_id, name in planned.usagers.items() if usager_id in booked]


def _occurrence_days(first_day: date, recurrence: dict[str, Any] | None, start: date, end: date) -> list[date]:
    rule = Recurrence.from_json(recurrence, first_day)
    if rule is None:
        return [first_day] if start <= first_day <= end else []
    return list(rule.dates(first_day, start, end))


# --------------------------------------------------------------------------- loading and history


def _agent_ids_of(uow: UnitOfWork, rdv_id: int) -> list[int]:
    return list(uow.session.exec(select(RdvAgent.agent_id).where(RdvAgent.rdv_id == rdv_id)
                                 .order_by(RdvAgent.agent_id)).all())


def _participations(uow: UnitOfWork, rdv_id: int) -> list[Participation]:
    return list(uow.session.exec(select(Participation).where(Participation.rdv_id == rdv_id)
                                 .order_by(Participation.id)).all())


def _agent_name(first_name: str | None, last_name: str) -> str:
    return f"{first_name or ''} {last_name}".strip()


def _agent_names(uow: UnitOfWork, agent_ids: Collection[int]) -> dict[int, str]:
    return {agent_id: _agent_name(first, last) for agent_id, first, last in uow.session.exec(
        select(Agent.id, Agent.first_name, Agent.last_name).where(col(Agent.id).in_(list(agent_ids)))).all()}


def _usager_name(usager: Usager) -> str:
    return f"{usager.first_name} {usager.last_name.upper()}"


def _usager_names(uow: UnitOfWork, usager_ids: Collection[int]) -> dict[int, str]:
    return {u.id: _usager_name(u) for u in uow.session.exec(  # type: ignore[misc]
        select(Usager).where(col(Usager.id).in_(list(usager_ids)))).all()}


def _facts(planned: _Planned) -> dict[str, Any]:
    """What the history follows of an RDV; ids are turned into names when the history is read."""
    return {
        "starts_at": planned.starts_at.astimezone(UTC),
        "duration_in_min": int((planned.ends_at - planned.starts_at).total_seconds() // 60),
        "lieu_id": planned.lieu_id,
        "agent_ids": sorted(planned.agents),
        "usager_ids": sorted(planned.usagers),
    }


def _audit(uow: UnitOfWork, planned: _Planned, rdv_id: int, actor_agent_id: int, action: str,
           changes: dict[str, Any]) -> None:
    audit.record(uow.session, action=action, entity_type=_ENTITY, entity_id=rdv_id, changes=changes,
                 organisation_id=planned.organisation_id, actor_agent_id=actor_agent_id)


_ACTION_LABELS = {"created": "RDV créé", "updated": "RDV modifié", "status_changed": "Statut modifié"}
_AUTHOR_LABELS = {AuthorType.USAGER.value: "L'usager", AuthorType.PRESCRIPTEUR.value: "Un prescripteur",
                  AuthorType.SYSTEM.value: "Automatique", AuthorType.AGENT.value: "Un agent"}
# In the order the history lists them; participants' statuses come last.
_FIELD_LABELS = {"starts_at": "Début", "duration_in_min": "Durée", "lieu_id": "Lieu", "agent_ids": "Agents",
                 "usager_ids": "Participants", "status": "Statut"}
_PARTICIPATION = "participation:"


def _history(uow: UnitOfWork, rdv_id: int, tz: str) -> list[HistoryEntry]:
    """The audit rows of the RDV, oldest first, in words: who, when, what (old → new)."""
    rows = list(uow.session.exec(select(AuditLog).where(AuditLog.entity_type == _ENTITY,
                                                        AuditLog.entity_id == str(rdv_id))
                                 .order_by(AuditLog.occurred_at, AuditLog.id)).all())
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
    agents = _agent_names(uow, agent_ids)
    usagers = _usager_names(uow, usager_ids)
    lieux = dict(uow.session.exec(select(Lieu.id, Lieu.name).where(col(Lieu.id).in_(lieu_ids))).all())

    def value(field: str, raw: Any) -> str:
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
