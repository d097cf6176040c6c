"""Loads what the slot engine needs, with a fixed number of set-based queries.

Whatever the number of agents, plages, occurrences and RDVs, one load is four queries: the plages of
the motif (with their lieu and agent filters), the absences of those plages' agents, and those agents'
busy RDVs in every organisation; the motif, organisation and territory come in one joined query.
Holidays come from the `holidays` package, without a query.

Rows are read as plain tuples of the columns the engine needs, never as models (no per-row validation,
no identity map). The busy RDVs, by far the most rows, come out of the database as the engine counts
time (integer microseconds since the epoch, computed by the database) and sorted by agent and start, so
that they become the engine's `BusyTimes` without a datetime being made or a list being sorted here.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import Mapped
from sqlmodel import col, select
from sqlmodel.sql.expression import Select

from rdv_app.db.models import (
    Absence,
    Lieu,
    Motif,
    MotifCategory,
    Organisation,
    PlageOuverture,
    PlageOuvertureMotif,
    Rdv,
    RdvAgent,
    Service,
    Territory,
)
from rdv_app.db.rows import require_id
from rdv_app.db.uow import UnitOfWork
from rdv_app.domain import ants, clock
from rdv_app.domain.enums import CANCELLED_STATUSES, LieuAvailability
from rdv_app.domain.off_days import holidays_between
from rdv_app.domain.recurrence import Recurrence
from rdv_app.domain.slots import (
    AgentAbsence,
    BusyTimes,
    Plage,
    Searcher,
    SlotMotif,
    SlotSearch,
    horizon_last_day,
)
from rdv_app.services.errors import NotFound

_BATCH = 500  # busy RDV rows fetched at a time


@dataclass(frozen=True)
class MotifContext:
    motif: Motif
    organisation: Organisation
    departement_number: str
    documents_number: int = 1  # ANTS: one slot for several titles lasts the motif's duration times this
    service_name: str = ""

    @property
    def time_zone(self) -> ZoneInfo:
        return ZoneInfo(self.organisation.time_zone)


def motif_context(uow: UnitOfWork, motif_id: int, organisation_id: int | None = None, *,
                  archived_too: bool = False) -> MotifContext:
    """The motif with its organisation (checked to be `organisation_id` when given); an archived motif
    only with `archived_too` (its RDVs still move). Once per page load (its details, then its week)."""
    context = uow.remembered(("motif context", motif_id, archived_too),
                             lambda: _motif_context(uow, motif_id, archived_too))
    if context is None or (organisation_id is not None and context.motif.organisation_id != organisation_id):
        raise NotFound("Ce motif n'existe pas ou a été archivé.")
    return context


@cache
def _motif_context_statement(archived_too: bool) -> Select[Motif, Organisation, str, str]:
    query = (select(Motif, Organisation, Territory.departement_number, Service.name)
             .join(Organisation, col(Organisation.id) == Motif.organisation_id)
             .join(Territory, col(Territory.id) == Organisation.territory_id)
             .outerjoin(Service, col(Service.id) == Motif.service_id)
             .where(Motif.id == sa.bindparam("motif_id")))
    if not archived_too:
        query = query.where(col(Motif.deleted_at).is_(None))
    return query


def _motif_context(uow: UnitOfWork, motif_id: int, archived_too: bool) -> MotifContext | None:
    row = uow.session.exec(_motif_context_statement(archived_too), params={"motif_id": motif_id}).first()
    if row is None:
        return None
    motif, organisation, departement, service_name = row
    return MotifContext(motif=motif, organisation=organisation, departement_number=departement,
                        service_name=service_name or "")


def for_documents(uow: UnitOfWork, context: MotifContext, documents_number: int) -> MotifContext:
    """The motif booked for `documents_number` titles at one counter (integrations.md 1a: the ANTS hub's
    `documents_number`, carried into the booking by its callback link): for a motif of an ANTS category,
    its duration times that number (at most `ants.MAX_DOCUMENTS`); any other motif keeps its duration."""
    count = min(max(documents_number, 1), ants.MAX_DOCUMENTS)
    if count == 1 or context.motif.motif_category_id is None:
        return replace(context, documents_number=1)
    category = uow.session.get(MotifCategory, context.motif.motif_category_id)
    if category is None or category.name not in ants.ANTS_CATEGORIES:
        return replace(context, documents_number=1)
    return replace(context, documents_number=count)


def _slot_motif(motif: Motif, documents_number: int = 1) -> SlotMotif:
    return SlotMotif(id=require_id(motif), duration_in_min=motif.default_duration_in_min * documents_number,
                     min_booking_delay=motif.min_public_booking_delay,
                     max_booking_delay=motif.max_public_booking_delay)


def horizon(context: MotifContext, searcher: Searcher, now: datetime) -> date:
    """Last local day the next availability looks at (maximum delay, or six months for agents)."""
    empty = SlotSearch(motif=_slot_motif(context.motif), plages=(), absences=(), busy=(), holidays=frozenset(),
                       time_zone=context.time_zone, now=now, searcher=searcher)
    return horizon_last_day(empty)


def load_search(
    uow: UnitOfWork,
    context: MotifContext,
    first_day: date,
    last_day: date,
    *,
    searcher: Searcher,
    now: datetime | None = None,
    agent_ids: Collection[int] | None = None,
    lieu_id: int | None = None,
    exclude_rdv_id: int | None = None,
) -> SlotSearch:
    """The engine's input for the local days first_day..last_day (whole days, organisation time zone).

    With `agent_ids`, only their plages, and their absences and RDVs whether they have plages or not;
    `exclude_rdv_id` leaves out the RDV being moved."""
    now = now or clock.now()
    motif = context.motif
    plages = _plages(uow, require_id(motif), first_day, last_day, agent_ids, lieu_id)
    agents = set(agent_ids) if agent_ids is not None else {p.agent_id for p in plages}
    tz = context.time_zone
    # Local days become instants through the zone; a day more on each side covers every offset.
    range_start = datetime.combine(first_day - timedelta(days=1), time(0), tz).astimezone(UTC)
    range_end = datetime.combine(last_day + timedelta(days=2), time(0), tz).astimezone(UTC)
    return SlotSearch(
        motif=_slot_motif(motif, context.documents_number),
        plages=tuple(plages),
        absences=tuple(_absences(uow, agents, first_day, last_day)) if agents else (),
        busy=(),
        holidays=holidays_between(context.departement_number, first_day, last_day),
        time_zone=tz,
        now=now,
        searcher=searcher,
        busy_times=busy_times(uow, agents, range_start, range_end, exclude_rdv_id) if agents else {},
    )


def load_searches(uow: UnitOfWork, contexts: Collection[MotifContext], first_day: date, last_day: date, *,
                  searcher: Searcher, now: datetime | None = None) -> dict[int, SlotSearch]:
    """`load_search` for many motifs at once (by motif id), in three queries whatever their number: their
    plages, the absences and the busy RDVs of all their agents (each search gets the agents' RDVs of all,
    and reads only its own agents'). For a search across many organisations (the ANTS hub's)."""
    if not contexts:
        return {}
    now = now or clock.now()
    by_motif: dict[int, list[Plage]] = {require_id(c.motif): [] for c in contexts}
    for motif_id, plage in _plages_of(uow, list(by_motif), first_day, last_day):
        by_motif[motif_id].append(plage)
    agents = {p.agent_id for plages in by_motif.values() for p in plages}
    absences = _absences(uow, agents, first_day, last_day) if agents else []
    # A day more on each side covers every offset of every zone.
    range_start = datetime.combine(first_day - timedelta(days=2), time(0), UTC)
    range_end = datetime.combine(last_day + timedelta(days=3), time(0), UTC)
    busy = busy_times(uow, agents, range_start, range_end) if agents else {}
    holidays = {d: holidays_between(d, first_day, last_day) for d in {c.departement_number for c in contexts}}
    searches: dict[int, SlotSearch] = {}
    for context in contexts:
        plages = by_motif[require_id(context.motif)]
        own = {p.agent_id for p in plages}
        searches[require_id(context.motif)] = SlotSearch(
            motif=_slot_motif(context.motif, context.documents_number), plages=tuple(plages),
            absences=tuple(a for a in absences if a.agent_id in own), busy=(),
            holidays=holidays[context.departement_number], time_zone=context.time_zone, now=now, searcher=searcher,
            busy_times=busy)
    return searches


def _plages_of(uow: UnitOfWork, motif_ids: list[int], first_day: date,
               last_day: date) -> list[tuple[int, Plage]]:
    """(motif id, plage) for the plages of these motifs, as `_plages` reads them for one."""
    rows = uow.session.execute(_plages_of_statement(),
                               {"motif_ids": motif_ids, "first_day": first_day, "last_day": last_day})
    return [
        (motif_id, Plage(id=id_, agent_id=agent_id, lieu_id=lieu, motif_ids=frozenset({motif_id}), first_day=first,
                         start_time=start, end_time=end, recurrence=Recurrence.from_json(recurrence, first),
                         created_at=created_at))
        for motif_id, id_, agent_id, lieu, first, start, end, recurrence, created_at in rows
    ]


# The statements of a search are built once, with bound parameters (`:first_day`, `:last_day`, the ids,
# lists of ids expanded at execution): building, coercing and keying them again at each search took
# about a quarter of a week's Python time.


@cache
def _plages_of_statement() -> sa.Select[*tuple[Any, ...]]:
    return (_plages_select(col(PlageOuvertureMotif.motif_id))
            .where(col(PlageOuvertureMotif.motif_id).in_(sa.bindparam("motif_ids", expanding=True))))


@cache
def _plages_statement(by_agents: bool, by_lieu: bool) -> sa.Select[*tuple[Any, ...]]:
    query = _plages_select().where(col(PlageOuvertureMotif.motif_id) == sa.bindparam("motif_id"))
    if by_agents:
        query = query.where(col(PlageOuverture.agent_id).in_(sa.bindparam("agent_ids", expanding=True)))
    if by_lieu:
        query = query.where(col(PlageOuverture.lieu_id) == sa.bindparam("lieu_id"))
    return query


def _plages_select(*before: Mapped[int]) -> sa.Select[*tuple[Any, ...]]:
    """The plages with an occurrence that may meet `:first_day`..`:last_day`, at no lieu or an enabled one."""
    return (
        sa.select(*before, col(PlageOuverture.id), col(PlageOuverture.agent_id), col(PlageOuverture.lieu_id),
                  col(PlageOuverture.first_day), col(PlageOuverture.start_time), col(PlageOuverture.end_time),
                  col(PlageOuverture.recurrence), col(PlageOuverture.created_at))
        .join(PlageOuvertureMotif, col(PlageOuvertureMotif.plage_ouverture_id) == PlageOuverture.id)
        .outerjoin(Lieu, col(Lieu.id) == PlageOuverture.lieu_id)
        .where(_in_range(PlageOuverture, col(PlageOuverture.first_day)),
               # A disabled lieu offers nothing, even while its plages still exist.
               sa.or_(col(PlageOuverture.lieu_id).is_(None), col(Lieu.availability) != LieuAvailability.DISABLED))
    )


def _in_range(model: type[PlageOuverture] | type[Absence], last_column: Mapped[date]) -> sa.ColumnElement[bool]:
    """Rows with an occurrence that may meet `:first_day`..`:last_day` (one-off by its days, series by its span)."""
    first_day: sa.BindParameter[date] = sa.bindparam("first_day")
    last_day: sa.BindParameter[date] = sa.bindparam("last_day")
    one_off = sa.and_(col(model.recurrence).is_(None), last_column >= first_day)
    series = sa.and_(col(model.recurrence).is_not(None),
                     sa.or_(col(model.recurrence_until).is_(None), col(model.recurrence_until) >= first_day))
    return sa.and_(col(model.first_day) <= last_day, sa.or_(one_off, series))


def _plages(uow: UnitOfWork, motif_id: int, first_day: date, last_day: date,
            agent_ids: Collection[int] | None, lieu_id: int | None) -> list[Plage]:
    params: dict[str, Any] = {"motif_id": motif_id, "first_day": first_day, "last_day": last_day}
    if agent_ids is not None:
        params["agent_ids"] = list(agent_ids)
    if lieu_id is not None:
        params["lieu_id"] = lieu_id
    rows = uow.session.execute(_plages_statement(agent_ids is not None, lieu_id is not None), params)
    motif_ids = frozenset({motif_id})
    return [
        Plage(id=id_, agent_id=agent_id, lieu_id=lieu, motif_ids=motif_ids, first_day=first, start_time=start,
              end_time=end, recurrence=Recurrence.from_json(recurrence, first), created_at=created_at)
        for id_, agent_id, lieu, first, start, end, recurrence, created_at in rows
    ]


@cache
def _absences_statement() -> sa.Select[*tuple[Any, ...]]:
    return (sa.select(col(Absence.agent_id), col(Absence.first_day), col(Absence.start_time), col(Absence.end_day),
                      col(Absence.end_time), col(Absence.recurrence))
            .where(col(Absence.agent_id).in_(sa.bindparam("agent_ids", expanding=True)),
                   _in_range(Absence, col(Absence.end_day))))


def _absences(uow: UnitOfWork, agent_ids: set[int], first_day: date, last_day: date) -> list[AgentAbsence]:
    rows = uow.session.execute(_absences_statement(),
                               {"agent_ids": list(agent_ids), "first_day": first_day, "last_day": last_day})
    return [
        AgentAbsence(agent_id=agent_id, first_day=first, start_time=start, end_day=end_day, end_time=end,
                     recurrence=Recurrence.from_json(recurrence, first))
        for agent_id, first, start, end_day, end, recurrence in rows
    ]


def busy_times(uow: UnitOfWork, agent_ids: Collection[int], start: datetime, end: datetime,
               exclude_rdv_id: int | None = None) -> dict[int, BusyTimes]:
    """Every non-cancelled RDV of these agents meeting [start, end), in every organisation, by agent."""
    query = _busy_statement(uow.session.get_bind().dialect.name, exclude_rdv_id is not None)
    params: dict[str, Any] = {"agent_ids": list(agent_ids), "start": start, "end": end}
    if exclude_rdv_id is not None:
        params["exclude_rdv_id"] = exclude_rdv_id
    grouped: dict[int, tuple[list[int], list[int]]] = {}
    current = None
    for agent_id, begins, finishes in _plain_rows(uow, query, params):
        if agent_id != current:  # rows come by agent, then start
            current = agent_id
            agent_starts, agent_ends = grouped[agent_id] = ([], [])
        agent_starts.append(begins)
        agent_ends.append(finishes)
    return {agent_id: BusyTimes(*lists) for agent_id, lists in grouped.items()}


@cache
def _busy_statement(dialect: str, excluding: bool) -> sa.Select[int, int, int]:
    starts = _microseconds(col(Rdv.starts_at), dialect).label("starts_us")
    ends = _microseconds(col(Rdv.ends_at), dialect).label("ends_us")
    query = (sa.select(col(RdvAgent.agent_id), starts, ends)
             .join(Rdv, col(Rdv.id) == RdvAgent.rdv_id)
             .where(col(RdvAgent.agent_id).in_(sa.bindparam("agent_ids", expanding=True)),
                    col(Rdv.starts_at) < sa.bindparam("end"), col(Rdv.ends_at) > sa.bindparam("start"),
                    col(Rdv.status).not_in([s.value for s in CANCELLED_STATUSES]))
             .order_by(col(RdvAgent.agent_id), starts))
    if excluding:
        query = query.where(col(Rdv.id) != sa.bindparam("exclude_rdv_id"))
    return query


def _plain_rows(uow: UnitOfWork, query: sa.Executable, params: dict[str, Any]) -> Iterator[tuple[Any, ...]]:
    """The rows of a query of plain integer columns, as the driver returns them, by batches.

    A search reads thousands of busy RDVs: here they skip the ORM's per-row loading and SQLAlchemy's row
    objects (the columns need no conversion), and never pile up all at once for the garbage collector to
    count. Half the CPU time of iterating the ORM result, on both databases."""
    with uow.session.connection().execute(query, params) as result:
        cursor = result.cursor  # the DBAPI cursor of this result
        while batch := cursor.fetchmany(_BATCH):
            yield from batch


def _microseconds(instant: Mapped[datetime], dialect: str) -> sa.ColumnElement[int]:
    """An instant column as integer microseconds since the epoch, computed by the database (exact).

    SQLite holds instants as UTC text 'YYYY-MM-DD HH:MM:SS.ffffff' (`UTCDateTime`): whole seconds from
    unixepoch() (SQLite 3.38 or later; several times cheaper than strftime('%s')), microseconds from the
    digits after the point (none: 0). PostgreSQL's epoch of a timestamptz is an exact numeric."""
    if dialect == "sqlite":
        return sa.func.unixepoch(instant) * 1_000_000 + sa.cast(sa.func.substr(instant, 21, 6), sa.Integer)
    return sa.cast(sa.extract("epoch", instant) * 1_000_000, sa.BigInteger)
