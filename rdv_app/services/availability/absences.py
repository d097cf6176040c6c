"""Indisponibilités (absences): list, read, create, edit, delete.

An absence belongs to its agent, not to an organisation: it blocks them in every organisation, and the
slot engine reads it from there. The actor works in one organisation, whose role gives the rights
(domain.md section 8: for oneself, and for the agents one may see there) and whose time zone gives
"today" and the wall-clock meaning of the days and times.

One-off absences may span several days; a recurring absence covers a single day per occurrence. A
recurring absence is one row and there are no per-occurrence exceptions: it is edited and deleted as a
whole series (to stop it from some day on, give the recurrence an end date).

Bad input raises DomainError with its form field; an absence of an agent outside the organisation is
NotFound, one of an agent the actor may not see PermissionDenied. Nothing is written before every check
has passed, and each write adds its audit row in the same transaction.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

import sqlalchemy as sa
from sqlmodel import col, select

from rdv_app.db.models import Absence, AgentRole
from rdv_app.db.rows import require_id
from rdv_app.db.uow import UnitOfWork
from rdv_app.domain import clock
from rdv_app.domain.availability_text import describe_absence
from rdv_app.domain.events import Actor, AvailabilityChanged, Change
from rdv_app.domain.periods import is_expired
from rdv_app.domain.recurrence import Recurrence
from rdv_app.services import audit, versions
from rdv_app.services.availability.inputs import (
    agents_by_id,
    check_day,
    parse_recurrence,
    running,
)
from rdv_app.services.boundary import boundary
from rdv_app.services.errors import DomainError, NotFound, PermissionDenied, require_filled
from rdv_app.services.organisation import local_time
from rdv_app.services.rights import AgentScope, agent_scope, selected_agents, visible_agent_ids

ENTITY = "absence"


@dataclass(frozen=True)
class AbsenceView:
    id: int
    agent_id: int
    agent_name: str
    title: str
    first_day: date
    start_time: time
    end_day: date
    end_time: time
    recurrence: dict[str, Any] | None  # normalised JSON, for the edit form
    description: str
    expired: bool
    version: str  # what the edit form gives back with its save (rdv_app.services.versions)

    @property
    def is_recurring(self) -> bool:
        return self.recurrence is not None


@dataclass(frozen=True)
class _AbsenceInput:
    agent_id: int
    title: str
    first_day: date
    start_time: time
    end_day: date
    end_time: time
    recurrence: Recurrence | None


@boundary
def list_absences(uow: UnitOfWork, actor_agent_id: int, organisation_id: int,
                  agent_ids: Collection[int] | None = None, past: bool = False, *,
                  now: datetime | None = None) -> list[AbsenceView]:
    """Absences of the agents the actor may see in the organisation (or of `agent_ids`, which must all be
    visible), by agent then date: those to come or under way ("À venir"), or with `past` those that have
    ended ("Passées"); each absence is in exactly one of the two."""
    scope = agent_scope(uow, actor_agent_id, organisation_id)
    agents = selected_agents(uow, scope, agent_ids)
    today = local_time.today(uow, organisation_id, now)
    not_ended = running(Absence, col(Absence.end_day), today)
    query = select(Absence).where(col(Absence.agent_id).in_(agents), sa.not_(not_ended) if past else not_ended)
    return _views(uow, uow.session.exec(query).all(), today)


@boundary
def get_absence(uow: UnitOfWork, actor_agent_id: int, organisation_id: int, absence_id: int, *,
                now: datetime | None = None) -> AbsenceView:
    scope = agent_scope(uow, actor_agent_id, organisation_id)
    absence = _managed_absence(uow, scope, absence_id)
    return _views(uow, [absence], local_time.today(uow, organisation_id, now))[0]


@boundary
def create_absence(uow: UnitOfWork, actor_agent_id: int, organisation_id: int, *, agent_id: int | None, title: str,
                   first_day: date | None, start_time: time | None, end_day: date | None = None,
                   end_time: time | None, recurrence: dict[str, Any] | None = None,
                   now: datetime | None = None) -> int:
    """Creates the absence (ending on `first_day` when `end_day` is empty) and returns its id."""
    scope = agent_scope(uow, actor_agent_id, organisation_id)
    data = _validated(uow, scope, local_time.today(uow, organisation_id, now), previous=None,
                      agent_id=agent_id, title=title, first_day=first_day, start_time=start_time,
                      end_day=end_day, end_time=end_time, recurrence=recurrence)
    # Built empty then filled by _apply: SQLModel does not validate a table model on init, its stubs do.
    absence = Absence(agent_id=data.agent_id)  # type: ignore[call-arg]
    _apply(absence, data)
    uow.session.add(absence)
    uow.session.flush()
    audit.record(uow.session, action="create", entity_type=ENTITY, entity_id=require_id(absence),
                 changes=audit.diff({}, _snapshot(data)), organisation_id=organisation_id,
                 actor_agent_id=actor_agent_id)
    uow.record(AvailabilityChanged(model=ENTITY, record_id=require_id(absence), organisation_id=organisation_id,
                                   change=Change.CREATED, actor=Actor.agent(actor_agent_id), occurred_at=clock.now()))
    uow.commit()
    return require_id(absence)


@boundary
def update_absence(uow: UnitOfWork, actor_agent_id: int, organisation_id: int, absence_id: int, *,
                   agent_id: int | None, title: str, first_day: date | None, start_time: time | None,
                   end_day: date | None = None, end_time: time | None, recurrence: dict[str, Any] | None = None,
                   expected_version: str | None = None, now: datetime | None = None) -> None:
    """Replaces every field of the absence; a recurring one changes as a whole series (every occurrence,
    past ones included), since occurrences have no exceptions of their own. The edit form gives the
    `expected_version` it loaded (`AbsenceView.version`): an absence changed since is not saved."""
    scope = agent_scope(uow, actor_agent_id, organisation_id)
    absence = _managed_absence(uow, scope, absence_id)
    versions.lock(uow, absence)
    versions.check_version(expected_version, _snapshot_of(absence))
    data = _validated(uow, scope, local_time.today(uow, organisation_id, now), previous=absence,
                      agent_id=agent_id, title=title, first_day=first_day, start_time=start_time,
                      end_day=end_day, end_time=end_time, recurrence=recurrence)
    before = _snapshot_of(absence)
    _apply(absence, data)
    absence.updated_at = clock.now()
    changes = audit.diff(before, _snapshot(data))
    audit.record(uow.session, action="update", entity_type=ENTITY, entity_id=absence_id,
                 changes=changes, organisation_id=organisation_id,
                 actor_agent_id=actor_agent_id)
    uow.record(AvailabilityChanged(model=ENTITY, record_id=absence_id, organisation_id=organisation_id,
                                   change=Change.UPDATED, actor=Actor.agent(actor_agent_id), occurred_at=clock.now(),
                                   previous_agent_id=before["agent_id"], notify=bool(changes)))
    uow.commit()


@boundary
def delete_absence(uow: UnitOfWork, actor_agent_id: int, organisation_id: int, absence_id: int) -> None:
    """Deletes the absence; a recurring one goes whole, every occurrence at once (a single occurrence
    cannot be deleted on its own)."""
    scope = agent_scope(uow, actor_agent_id, organisation_id)
    absence = _managed_absence(uow, scope, absence_id)
    before = _snapshot_of(absence)
    uow.record(AvailabilityChanged(model=ENTITY, record_id=absence_id, organisation_id=organisation_id,
                                   change=Change.DELETED, actor=Actor.agent(actor_agent_id), occurred_at=clock.now()))
    uow.publish()  # before the deletion: the handlers still read the absence
    uow.session.delete(absence)
    audit.record(uow.session, action="delete", entity_type=ENTITY, entity_id=absence_id,
                 changes=audit.diff(before, {}), organisation_id=organisation_id, actor_agent_id=actor_agent_id)
    uow.commit()


def _validated(uow: UnitOfWork, scope: AgentScope, today: date, *, previous: Absence | None,
               agent_id: int | None, title: str, first_day: date | None, start_time: time | None,
               end_day: date | None, end_time: time | None, recurrence: dict[str, Any] | None) -> _AbsenceInput:
    require_filled({"agent_id": (agent_id, "Choisissez l'agent concerné."),
                    "title": (title, "Le titre est obligatoire."),
                    "first_day": (first_day, "Choisissez le premier jour."),
                    "start_time": (start_time, "Indiquez l'heure de début."),
                    "end_time": (end_time, "Indiquez l'heure de fin.")})
    # Filled, or require_filled has refused.
    assert agent_id is not None and first_day is not None and start_time is not None and end_time is not None
    if agent_id not in visible_agent_ids(uow, scope):
        raise PermissionDenied("Vous ne pouvez pas gérer les indisponibilités de cet agent.")
    cleaned_title = title.strip()
    # An absence being edited keeps its days; only new days must be realistic.
    first = check_day(first_day, "first_day", today, is_new=previous is None or first_day != previous.first_day)
    last = check_day(end_day or first, "end_day", today, is_new=previous is None or (end_day or first) != previous.end_day)
    if last < first:
        raise DomainError("Le dernier jour ne peut pas précéder le premier.", "end_day")
    if last == first and end_time <= start_time:
        raise DomainError("L'heure de fin doit être après l'heure de début.", "end_time")
    if recurrence is not None and last != first:
        raise DomainError("Seule une indisponibilité d'une journée peut être répétée : pour plusieurs jours, "
                          "créez une indisponibilité sans répétition.", "recurrence")
    return _AbsenceInput(agent_id=agent_id, title=cleaned_title, first_day=first, start_time=start_time,
                         end_day=last, end_time=end_time, recurrence=parse_recurrence(recurrence, first))


def _managed_absence(uow: UnitOfWork, scope: AgentScope, absence_id: int) -> Absence:
    absence = uow.session.get(Absence, absence_id)
    if absence is None or not _has_role(uow, absence.agent_id, scope.organisation_id):
        raise NotFound("Cette indisponibilité n'existe pas dans cette organisation.")
    if absence.agent_id not in visible_agent_ids(uow, scope):
        raise PermissionDenied("Vous ne pouvez pas gérer les indisponibilités de cet agent.")
    return absence


def _has_role(uow: UnitOfWork, agent_id: int, organisation_id: int) -> bool:
    return uow.session.exec(select(AgentRole.id).where(
        AgentRole.agent_id == agent_id, AgentRole.organisation_id == organisation_id)).first() is not None


def _apply(absence: Absence, data: _AbsenceInput) -> None:
    absence.agent_id = data.agent_id
    absence.title = data.title
    absence.first_day = data.first_day
    absence.start_time = data.start_time
    absence.end_day = data.end_day
    absence.end_time = data.end_time
    absence.recurrence = data.recurrence.to_json() if data.recurrence else None


def _snapshot(data: _AbsenceInput) -> dict[str, Any]:
    """The audited fields, in the same shape for a validated input and for a stored row."""
    return {"agent_id": data.agent_id, "title": data.title, "first_day": data.first_day,
            "start_time": data.start_time, "end_day": data.end_day, "end_time": data.end_time,
            "recurrence": data.recurrence.to_json() if data.recurrence else None}


def _snapshot_of(absence: Absence) -> dict[str, Any]:
    return {"agent_id": absence.agent_id, "title": absence.title, "first_day": absence.first_day,
            "start_time": absence.start_time, "end_day": absence.end_day, "end_time": absence.end_time,
            "recurrence": absence.recurrence}


def _views(uow: UnitOfWork, absences: Collection[Absence], today: date) -> list[AbsenceView]:
    agents = agents_by_id(uow, {a.agent_id for a in absences})
    views = []
    for absence in sorted(absences, key=lambda a: (agents[a.agent_id].sort_key, a.first_day,
                                                   a.start_time, a.id)):
        recurrence = Recurrence.from_json(absence.recurrence, absence.first_day)
        views.append(AbsenceView(
            id=require_id(absence),
            agent_id=absence.agent_id,
            agent_name=agents[absence.agent_id].full_name,
            title=absence.title,
            first_day=absence.first_day,
            start_time=absence.start_time,
            end_day=absence.end_day,
            end_time=absence.end_time,
            recurrence=recurrence.to_json() if recurrence else None,
            description=describe_absence(absence.first_day, absence.start_time, absence.end_day,
                                         absence.end_time, recurrence),
            expired=is_expired(absence.end_day, absence.recurrence, absence.recurrence_until, today),
            version=versions.version_of(_snapshot_of(absence)),
        ))
    return views
