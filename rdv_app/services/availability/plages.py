"""Plages d'ouverture (menu "Planning"): list, read, create, edit, delete, and the yearly purge.

Rights (domain.md section 8): the actor needs a role in the organisation and manages the plages of the
agents they may see there (`visible_agent_ids`: everyone for admins and secrétaires, colleagues sharing
a service for the others). The motifs of a plage are those its agent (not the actor) may hold
(domain.md section 1): every motif of the organisation for an admin of it, the motifs of their services
otherwise, plus the `for_secretariat` motifs for a secrétaire; never an archived or collectif motif.

Bad input raises DomainError with the form field it belongs to; ids of another organisation raise
PermissionDenied (motifs, lieux, agents) or NotFound (plages). Benign warnings (an overlap with another
plage of the same agent in any organisation, a motif longer than the window) raise NeedsConfirmation
until the person confirms. Nothing is written before every check has passed, and each write adds its
audit row in the same transaction.

Days and times of day are wall-clock values of the organisation's time zone; "today" is taken there.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlmodel import col, select

from rdv_app.db.models import Agent, Lieu, Motif, Organisation, PlageOuverture, PlageOuvertureMotif
from rdv_app.db.rows import not_null, referenced, require_id
from rdv_app.db.uow import UnitOfWork
from rdv_app.domain import clock, datefmt, search_words
from rdv_app.domain.availability_text import describe_plage
from rdv_app.domain.enums import AccessLevel, LieuAvailability, LocationType
from rdv_app.domain.events import Actor, AvailabilityChanged, Change
from rdv_app.domain.periods import is_expired, shift_years
from rdv_app.domain.recurrence import Recurrence
from rdv_app.services import audit, versions
from rdv_app.services.availability.inputs import (
    agents_by_id,
    check_day,
    parse_recurrence,
    running,
)
from rdv_app.services.boundary import boundary
from rdv_app.services.errors import DomainError, NeedsConfirmation, NotFound, PermissionDenied, require_filled
from rdv_app.services.organisation import local_time
from rdv_app.services.rights import AgentScope, agent_scope, selected_agents, visible_agent_ids

ENTITY = "plage_ouverture"
# RGPD (domain.md section 10): plages are deleted one year after they end.
RETENTION_YEARS = 1
# Overlaps are looked for over this span from the later start: it holds many repetitions of any pattern
# (every 1-5 weeks, every 1-12 months); one first met later is left out, a warning being only a hint.
OVERLAP_HORIZON = timedelta(days=2 * 366)


@dataclass(frozen=True)
class PlageView:
    id: int
    agent_id: int
    agent_name: str
    title: str
    lieu_id: int | None
    lieu_name: str | None
    motif_ids: tuple[int, ...]  # in the order of motif_names
    motif_names: tuple[str, ...]
    first_day: date
    start_time: time
    end_time: time
    recurrence: dict[str, Any] | None  # normalised JSON, for the edit form
    description: str  # "Chaque semaine (lundi, jeudi) de 9h00 à 12h00, du 07/12/2026 au 31/03/2027"
    expired: bool
    version: str  # what the edit form gives back with its save (rdv_app.services.versions)

    @property
    def is_recurring(self) -> bool:
        return self.recurrence is not None


@dataclass(frozen=True)
class _PlageInput:
    title: str
    agent_id: int
    lieu_id: int | None
    motifs: tuple[Motif, ...]
    first_day: date
    start_time: time
    end_time: time
    recurrence: Recurrence | None


# --------------------------------------------------------------------------- use cases


@boundary
def list_plages(uow: UnitOfWork, actor_agent_id: int, organisation_id: int,
                agent_ids: Collection[int] | None = None, include_expired: bool = False, *,
                query: str = "", lieu_id: int | None = None, motif_id: int | None = None,
                now: datetime | None = None) -> list[PlageView]:
    """The organisation's plages of the agents the actor may see (or of `agent_ids`, which must all be
    visible), by agent then date; expired ones only on request. The search narrows them: at `lieu_id`,
    offering `motif_id`, and whose title, lieu, motifs or agent's name hold every word of `query`
    (domain/search_words.py, the same on every database)."""
    scope = agent_scope(uow, actor_agent_id, organisation_id)
    agents = selected_agents(uow, scope, agent_ids)
    today = local_time.today(uow, organisation_id, now)
    statement = select(PlageOuverture).where(PlageOuverture.organisation_id == organisation_id,
                                             col(PlageOuverture.agent_id).in_(agents))
    if not include_expired:
        statement = statement.where(running(PlageOuverture, col(PlageOuverture.first_day), today))
    if lieu_id is not None:
        statement = statement.where(PlageOuverture.lieu_id == lieu_id)
    if motif_id is not None:
        statement = statement.where(col(PlageOuverture.id).in_(
            select(PlageOuvertureMotif.plage_ouverture_id).where(PlageOuvertureMotif.motif_id == motif_id)))
    views = _views(uow, uow.session.exec(statement).all(), today)
    return [view for view in views
            if search_words.matches(query, view.title, view.lieu_name, view.agent_name, *view.motif_names)]


@boundary
def get_plage(uow: UnitOfWork, actor_agent_id: int, organisation_id: int, plage_id: int, *,
              now: datetime | None = None) -> PlageView:
    scope = agent_scope(uow, actor_agent_id, organisation_id)
    plage = _managed_plage(uow, scope, plage_id)
    return _views(uow, [plage], local_time.today(uow, organisation_id, now))[0]


@boundary
def create_plage(uow: UnitOfWork, actor_agent_id: int, organisation_id: int, *, title: str, agent_id: int | None,
                 lieu_id: int | None, motif_ids: Collection[int], first_day: date | None,
                 start_time: time | None, end_time: time | None, recurrence: dict[str, Any] | None,
                 confirm_warnings: bool = False, now: datetime | None = None) -> int:
    """Creates the plage and returns its id; NeedsConfirmation lists the warnings while not confirmed."""
    scope = agent_scope(uow, actor_agent_id, organisation_id)
    today = local_time.today(uow, organisation_id, now)
    data = _validated(uow, scope, today, previous_first_day=None, title=title, agent_id=agent_id,
                      lieu_id=lieu_id, motif_ids=motif_ids, first_day=first_day, start_time=start_time,
                      end_time=end_time, recurrence=recurrence)
    _confirm_or_raise(_warnings(uow, data, organisation_id, today, exclude_id=None), confirm_warnings)
    # Built empty then filled by _apply: SQLModel does not validate a table model on init, its stubs do.
    plage = PlageOuverture(organisation_id=organisation_id)  # type: ignore[call-arg]
    _apply(plage, data)
    uow.session.add(plage)
    uow.session.flush()
    _link_motifs(uow, require_id(plage), data.motifs)
    audit.record(uow.session, action="create", entity_type=ENTITY, entity_id=require_id(plage),
                 changes=audit.diff({}, _snapshot(data)), organisation_id=organisation_id,
                 actor_agent_id=actor_agent_id)
    uow.record(AvailabilityChanged(model=ENTITY, record_id=require_id(plage), organisation_id=organisation_id,
                                   change=Change.CREATED, actor=Actor.agent(actor_agent_id), occurred_at=clock.now()))
    uow.commit()
    return require_id(plage)


@boundary
def update_plage(uow: UnitOfWork, actor_agent_id: int, organisation_id: int, plage_id: int, *, title: str,
                 agent_id: int | None, lieu_id: int | None, motif_ids: Collection[int], first_day: date | None,
                 start_time: time | None, end_time: time | None, recurrence: dict[str, Any] | None,
                 confirm_warnings: bool = False, expected_version: str | None = None,
                 now: datetime | None = None) -> None:
    """Replaces every field of the plage (it may move to another agent the actor may see). The edit form
    gives the `expected_version` it loaded (`PlageView.version`): a plage changed since is not saved."""
    scope = agent_scope(uow, actor_agent_id, organisation_id)
    plage = _managed_plage(uow, scope, plage_id)
    versions.lock(uow, plage)
    versions.check_version(expected_version, _snapshot_of(uow, plage))
    today = local_time.today(uow, organisation_id, now)
    # An old series keeps its first day when edited; only a new first day must be realistic.
    data = _validated(uow, scope, today, previous_first_day=plage.first_day, title=title, agent_id=agent_id,
                      lieu_id=lieu_id, motif_ids=motif_ids, first_day=first_day, start_time=start_time,
                      end_time=end_time, recurrence=recurrence)
    _confirm_or_raise(_warnings(uow, data, organisation_id, today, exclude_id=plage_id), confirm_warnings)
    before = _snapshot_of(uow, plage)
    _apply(plage, data)
    plage.updated_at = clock.now()
    uow.session.exec(sa.delete(PlageOuvertureMotif).where(col(PlageOuvertureMotif.plage_ouverture_id) == plage_id))
    _link_motifs(uow, plage_id, data.motifs)
    changes = audit.diff(before, _snapshot(data))
    audit.record(uow.session, action="update", entity_type=ENTITY, entity_id=plage_id,
                 changes=changes, organisation_id=organisation_id,
                 actor_agent_id=actor_agent_id)
    uow.record(AvailabilityChanged(model=ENTITY, record_id=plage_id, organisation_id=organisation_id,
                                   change=Change.UPDATED, actor=Actor.agent(actor_agent_id), occurred_at=clock.now(),
                                   previous_agent_id=before["agent_id"], notify=bool(changes)))
    uow.commit()


@boundary
def delete_plage(uow: UnitOfWork, actor_agent_id: int, organisation_id: int, plage_id: int) -> None:
    """Deletes the plage, every occurrence of a series included."""
    scope = agent_scope(uow, actor_agent_id, organisation_id)
    plage = _managed_plage(uow, scope, plage_id)
    before = _snapshot_of(uow, plage)
    uow.record(AvailabilityChanged(model=ENTITY, record_id=plage_id, organisation_id=organisation_id,
                                   change=Change.DELETED, actor=Actor.agent(actor_agent_id), occurred_at=clock.now()))
    uow.publish()  # before the deletion: the handlers still read the plage
    _delete_plages(uow, [plage_id])
    audit.record(uow.session, action="delete", entity_type=ENTITY, entity_id=plage_id,
                 changes=audit.diff(before, {}), organisation_id=organisation_id, actor_agent_id=actor_agent_id)
    uow.commit()


def delete_agent_plages(uow: UnitOfWork, actor_agent_id: int, agent_id: int, organisation_id: int) -> int:
    """An agent leaves the organisation: their plages there go (webhooks told, the agent is not), in the
    caller's transaction; returns how many."""
    plage_ids = list(uow.session.exec(select(not_null(PlageOuverture.id)).where(
        PlageOuverture.agent_id == agent_id, PlageOuverture.organisation_id == organisation_id)))
    now = clock.now()
    for plage_id in plage_ids:
        uow.record(AvailabilityChanged(model=ENTITY, record_id=plage_id, organisation_id=organisation_id,
                                       change=Change.DELETED, actor=Actor.agent(actor_agent_id), occurred_at=now,
                                       notify=False))
    uow.publish()  # before the deletion: the handlers still read the plages
    _delete_plages(uow, plage_ids)
    return len(plage_ids)


def purge_expired_plages(uow: UnitOfWork, today: date) -> int:
    """The daily RGPD job: deletes the plages that ended more than a year before `today` (one-off: their
    day; series: their end date; a series without end never ends) and returns how many."""
    cutoff = shift_years(today, -RETENTION_YEARS)
    ended_before_cutoff = sa.or_(
        sa.and_(col(PlageOuverture.recurrence).is_(None), col(PlageOuverture.first_day) < cutoff),
        sa.and_(col(PlageOuverture.recurrence).is_not(None), col(PlageOuverture.recurrence_until) < cutoff),
    )
    rows = uow.session.exec(
        select(not_null(PlageOuverture.id), col(PlageOuverture.organisation_id), col(PlageOuverture.first_day),
               col(PlageOuverture.recurrence_until)).where(ended_before_cutoff)
    ).all()
    for plage_id, organisation_id, *_ in rows:
        uow.record(AvailabilityChanged(model=ENTITY, record_id=plage_id, organisation_id=organisation_id,
                                       change=Change.DELETED, actor=Actor.SYSTEM, occurred_at=clock.now(),
                                       notify=False, reason="rgpd"))
    uow.publish()  # before the deletion: the handlers still read the plages
    _delete_plages(uow, [plage_id for plage_id, *_ in rows])
    for plage_id, organisation_id, first_day, until in rows:
        # Only the end date is kept: the point of the purge is to forget the rest.
        audit.record(uow.session, action="purge", entity_type=ENTITY, entity_id=plage_id,
                     changes={"ended_on": [until or first_day, None]}, organisation_id=organisation_id)
    uow.commit()
    return len(rows)


# --------------------------------------------------------------------------- validation


def _validated(uow: UnitOfWork, scope: AgentScope, today: date, *, previous_first_day: date | None,
               title: str, agent_id: int | None, lieu_id: int | None, motif_ids: Collection[int],
               first_day: date | None, start_time: time | None, end_time: time | None,
               recurrence: dict[str, Any] | None) -> _PlageInput:
    require_filled({"title": (title, "Le titre est obligatoire."),
                    "agent_id": (agent_id, "Choisissez l'agent de la plage."),
                    "motif_ids": (motif_ids, "Choisissez au moins un motif."),
                    "first_day": (first_day, "Choisissez la date de la plage."),
                    "start_time": (start_time, "Indiquez l'heure de début."),
                    "end_time": (end_time, "Indiquez l'heure de fin.")})
    # Filled, or require_filled has refused.
    assert agent_id is not None and first_day is not None and start_time is not None and end_time is not None
    if agent_id not in visible_agent_ids(uow, scope):
        raise PermissionDenied("Vous ne pouvez pas gérer les plages d'ouverture de cet agent.")
    cleaned_title = title.strip()
    motifs = _usable_motifs(uow, agent_scope(uow, agent_id, scope.organisation_id), motif_ids)
    _check_lieu(uow, scope.organisation_id, lieu_id, motifs)
    day = check_day(first_day, "first_day", today, is_new=first_day != previous_first_day)
    if end_time <= start_time:
        raise DomainError("L'heure de fin doit être après l'heure de début.", "end_time")
    return _PlageInput(title=cleaned_title, agent_id=agent_id, lieu_id=lieu_id, motifs=motifs, first_day=day,
                       start_time=start_time, end_time=end_time, recurrence=parse_recurrence(recurrence, day))


def _usable_motifs(uow: UnitOfWork, holder: AgentScope, motif_ids: Collection[int]) -> tuple[Motif, ...]:
    wanted = set(motif_ids)  # not empty: require_filled
    motifs = uow.session.exec(
        select(Motif).where(col(Motif.id).in_(wanted), Motif.organisation_id == holder.organisation_id)
        .order_by(col(Motif.name), col(Motif.id))
    ).all()
    if len(motifs) != len(wanted):
        raise PermissionDenied("Ce motif n'appartient pas à cette organisation.")
    for motif in motifs:
        if motif.deleted_at is not None:
            raise DomainError(f"Le motif « {motif.name} » est archivé : retirez-le de la plage.", "motif_ids")
        if motif.collectif:
            raise DomainError(f"Le motif « {motif.name} » est collectif : ses séances se créent comme des RDV "
                              "collectifs, pas dans une plage d'ouverture.", "motif_ids")
        if not _may_hold(holder, motif):
            name = referenced(uow.session, Agent, holder.agent_id).full_name
            raise DomainError(f"Le motif « {motif.name} » relève d'un service auquel {name} n'appartient pas.",
                              "motif_ids")
    return tuple(motifs)


def _may_hold(holder: AgentScope, motif: Motif) -> bool:
    """domain.md section 1, "Motifs an agent may use for POs"."""
    return (holder.access_level == AccessLevel.ADMIN or motif.service_id in holder.service_ids
            or (holder.is_secretary and motif.for_secretariat))


def _check_lieu(uow: UnitOfWork, organisation_id: int, lieu_id: int | None, motifs: tuple[Motif, ...]) -> None:
    if lieu_id is None:
        on_site = [m for m in motifs if m.location_type == LocationType.PUBLIC_OFFICE]
        if on_site:
            raise DomainError(f"Choisissez un lieu : le motif « {on_site[0].name} » se déroule sur place.",
                              "lieu_id")
        return
    lieu = uow.session.get(Lieu, lieu_id)
    if lieu is None or lieu.organisation_id != organisation_id:
        raise PermissionDenied("Ce lieu n'appartient pas à cette organisation.")
    if lieu.availability != LieuAvailability.ENABLED:
        raise DomainError(f"Le lieu « {lieu.name} » n'est pas ouvert aux plages d'ouverture (désactivé ou "
                          "ponctuel) : choisissez-en un autre.", "lieu_id")


# --------------------------------------------------------------------------- warnings


def _confirm_or_raise(warnings: list[str], confirmed: bool) -> None:
    """Nothing is written while warnings are unconfirmed."""
    if warnings and not confirmed:
        raise NeedsConfirmation(warnings)


def _warnings(uow: UnitOfWork, data: _PlageInput, organisation_id: int, today: date,
              exclude_id: int | None) -> list[str]:
    window = _minutes(data.end_time) - _minutes(data.start_time)
    too_long = [
        f"Le motif « {m.name} » dure {m.default_duration_in_min} min, plus que la plage ({window} min) : "
        "aucun créneau de ce motif n'y tiendra."
        for m in data.motifs if m.default_duration_in_min > window
    ]
    return _overlaps(uow, data, organisation_id, today, exclude_id) + too_long


def _overlaps(uow: UnitOfWork, data: _PlageInput, organisation_id: int, today: date,
              exclude_id: int | None) -> list[str]:
    """One warning per other plage of the agent, in any organisation, sharing a moment with this one
    from today on (past overlaps can no longer be booked). Occurrences are compared as instants, each
    plage in its own organisation's time zone."""
    first = max(data.first_day, today)
    last_day = data.first_day if data.recurrence is None else data.recurrence.until
    last = first + OVERLAP_HORIZON if last_day is None else min(last_day, first + OVERLAP_HORIZON)
    mine = _occurrences(data.first_day, data.start_time, data.end_time, data.recurrence,
                        local_time.zone(uow, organisation_id), first, last)
    if not mine:
        return []
    # Another time zone may move an overlapping occurrence to the neighbouring local day.
    first, last = first - timedelta(days=1), last + timedelta(days=1)
    query = (
        select(PlageOuverture, Organisation.name, Organisation.timezone)
        .join(Organisation, col(Organisation.id) == PlageOuverture.organisation_id)
        .where(PlageOuverture.agent_id == data.agent_id, _meeting(first, last))
        .order_by(col(PlageOuverture.first_day), col(PlageOuverture.id))
    )
    if exclude_id is not None:
        query = query.where(PlageOuverture.id != exclude_id)
    name = referenced(uow.session, Agent, data.agent_id).full_name
    warnings = []
    for other, organisation_name, timezone in uow.session.exec(query).all():
        theirs = _occurrences(other.first_day, other.start_time, other.end_time,
                              Recurrence.from_json(other.recurrence, other.first_day),
                              ZoneInfo(timezone or "Europe/Paris"), first, last)
        day = _first_shared_day(mine, theirs)
        if day is None:
            continue
        where = "" if other.organisation_id == organisation_id else f" ({organisation_name})"
        warnings.append(f"Cette plage chevauche la plage « {other.title} »{where} de {name}, "
                        f"pour la première fois le {datefmt.long_date(day)}.")
    return warnings


def _meeting(first: date, last: date) -> sa.ColumnElement[bool]:
    """Plages with an occurrence that may fall on first..last."""
    one_off = sa.and_(col(PlageOuverture.recurrence).is_(None), col(PlageOuverture.first_day) >= first)
    series = sa.and_(col(PlageOuverture.recurrence).is_not(None),
                     sa.or_(col(PlageOuverture.recurrence_until).is_(None),
                            col(PlageOuverture.recurrence_until) >= first))
    return sa.and_(col(PlageOuverture.first_day) <= last, sa.or_(one_off, series))


_Occurrence = tuple[datetime, datetime, date]  # UTC start, UTC end, local day


def _occurrences(first_day: date, start_time: time, end_time: time, recurrence: Recurrence | None,
                 zone: ZoneInfo, first: date, last: date) -> list[_Occurrence]:
    if recurrence is None:
        days: Iterable[date] = [first_day] if first <= first_day <= last else []
    else:
        days = recurrence.dates(first_day, first, last)
    return [(datetime.combine(day, start_time, zone).astimezone(UTC),
             datetime.combine(day, end_time, zone).astimezone(UTC), day) for day in days]


def _first_shared_day(mine: list[_Occurrence], theirs: list[_Occurrence]) -> date | None:
    """The local day of the first of `mine` meeting one of `theirs` (both sorted; touching is no overlap)."""
    i = j = 0
    while i < len(mine) and j < len(theirs):
        (start, end, day), (other_start, other_end, _) = mine[i], theirs[j]
        if start < other_end and other_start < end:
            return day
        if end <= other_end:
            i += 1
        else:
            j += 1
    return None


def _minutes(moment: time) -> int:
    return moment.hour * 60 + moment.minute


# --------------------------------------------------------------------------- rows and views


def _managed_plage(uow: UnitOfWork, scope: AgentScope, plage_id: int) -> PlageOuverture:
    plage = uow.session.get(PlageOuverture, plage_id)
    if plage is None or plage.organisation_id != scope.organisation_id:
        raise NotFound("Cette plage d'ouverture n'existe pas dans cette organisation.")
    if plage.agent_id not in visible_agent_ids(uow, scope):
        raise PermissionDenied("Vous ne pouvez pas gérer les plages d'ouverture de cet agent.")
    return plage


def _apply(plage: PlageOuverture, data: _PlageInput) -> None:
    plage.agent_id = data.agent_id
    plage.title = data.title
    plage.lieu_id = data.lieu_id
    plage.first_day = data.first_day
    plage.start_time = data.start_time
    plage.end_time = data.end_time
    plage.recurrence = data.recurrence.to_json() if data.recurrence else None


def _link_motifs(uow: UnitOfWork, plage_id: int, motifs: tuple[Motif, ...]) -> None:
    uow.session.add_all([PlageOuvertureMotif(plage_ouverture_id=plage_id, motif_id=require_id(m)) for m in motifs])


def _delete_plages(uow: UnitOfWork, plage_ids: list[int]) -> None:
    if not plage_ids:
        return
    uow.session.exec(sa.delete(PlageOuvertureMotif).where(
        col(PlageOuvertureMotif.plage_ouverture_id).in_(plage_ids)))
    uow.session.exec(sa.delete(PlageOuverture).where(col(PlageOuverture.id).in_(plage_ids)))


def _snapshot(data: _PlageInput) -> dict[str, Any]:
    """The audited fields, in the same shape for a validated input and for a stored row."""
    return {"title": data.title, "agent_id": data.agent_id, "lieu_id": data.lieu_id,
            "motif_ids": sorted(require_id(m) for m in data.motifs),
            "first_day": data.first_day, "start_time": data.start_time, "end_time": data.end_time,
            "recurrence": data.recurrence.to_json() if data.recurrence else None}


def _snapshot_of(uow: UnitOfWork, plage: PlageOuverture) -> dict[str, Any]:
    motif_ids = uow.session.exec(select(PlageOuvertureMotif.motif_id).where(
        PlageOuvertureMotif.plage_ouverture_id == plage.id)).all()
    return _stored_snapshot(plage, motif_ids)


def _stored_snapshot(plage: PlageOuverture, motif_ids: Iterable[int]) -> dict[str, Any]:
    """What the edit form shows of a stored plage (its version is that of these values)."""
    return {"title": plage.title, "agent_id": plage.agent_id, "lieu_id": plage.lieu_id,
            "motif_ids": sorted(motif_ids), "first_day": plage.first_day, "start_time": plage.start_time,
            "end_time": plage.end_time, "recurrence": plage.recurrence}


def _views(uow: UnitOfWork, plages: Iterable[PlageOuverture], today: date) -> list[PlageView]:
    plages = list(plages)
    agents = agents_by_id(uow, {p.agent_id for p in plages})
    lieux = dict(uow.session.exec(select(not_null(Lieu.id), Lieu.name).where(
        col(Lieu.id).in_({p.lieu_id for p in plages if p.lieu_id is not None}))).all())
    motifs: dict[int, list[tuple[int, str]]] = {}
    for plage_id, motif_id, name in uow.session.exec(
        select(PlageOuvertureMotif.plage_ouverture_id, not_null(Motif.id), Motif.name)
        .join(Motif, col(Motif.id) == PlageOuvertureMotif.motif_id)
        .where(col(PlageOuvertureMotif.plage_ouverture_id).in_([p.id for p in plages]))
        .order_by(col(Motif.name), col(Motif.id))
    ).all():
        motifs.setdefault(plage_id, []).append((motif_id, name))
    views = []
    for plage in sorted(plages, key=lambda p: (agents[p.agent_id].sort_key, p.first_day, p.start_time,
                                               p.id)):
        recurrence = Recurrence.from_json(plage.recurrence, plage.first_day)
        listed = motifs.get(require_id(plage), [])
        views.append(PlageView(
            id=require_id(plage),
            agent_id=plage.agent_id,
            agent_name=agents[plage.agent_id].full_name,
            title=plage.title,
            lieu_id=plage.lieu_id,
            lieu_name=lieux.get(plage.lieu_id) if plage.lieu_id is not None else None,
            motif_ids=tuple(motif_id for motif_id, _ in listed),
            motif_names=tuple(name for _, name in listed),
            first_day=plage.first_day,
            start_time=plage.start_time,
            end_time=plage.end_time,
            recurrence=recurrence.to_json() if recurrence else None,
            description=describe_plage(plage.first_day, plage.start_time, plage.end_time, recurrence),
            expired=is_expired(plage.first_day, plage.recurrence, plage.recurrence_until, today),
            version=versions.version_of(_stored_snapshot(plage, (motif_id for motif_id, _ in listed))),
        ))
    return views
