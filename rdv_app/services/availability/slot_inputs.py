"""Loads what the slot engine needs, with a fixed number of set-based queries.

Whatever the number of agents, plages, occurrences and RDVs, one load is four queries: the plages of
the motif (with their lieu and agent filters), the absences of those plages' agents, and those agents'
busy RDVs in every organisation; the motif, organisation and territory come in one joined query.
Holidays come from the `holidays` package, without a query.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlmodel import col, select

from rdv_app.db.models import (
    Absence,
    Lieu,
    Motif,
    Organisation,
    PlageOuverture,
    PlageOuvertureMotif,
    Rdv,
    RdvAgent,
    Territory,
)
from rdv_app.db.uow import UnitOfWork
from rdv_app.domain import clock
from rdv_app.domain.enums import CANCELLED_STATUSES, LieuAvailability
from rdv_app.domain.off_days import holidays_between
from rdv_app.domain.recurrence import Recurrence
from rdv_app.domain.slots import (
    AgentAbsence,
    BusyInterval,
    Plage,
    Searcher,
    SlotMotif,
    SlotSearch,
    horizon_last_day,
)
from rdv_app.services.errors import NotFound


@dataclass(frozen=True)
class MotifContext:
    motif: Motif
    organisation: Organisation
    departement_number: str

    @property
    def time_zone(self) -> ZoneInfo:
        return ZoneInfo(self.organisation.time_zone)


def motif_context(uow: UnitOfWork, motif_id: int, organisation_id: int, *,
                  archived_too: bool = False) -> MotifContext:
    """The motif with its organisation; an archived motif only with `archived_too` (its RDVs still move)."""
    query = (select(Motif, Organisation, Territory.departement_number)
             .join(Organisation, col(Organisation.id) == Motif.organisation_id)
             .join(Territory, col(Territory.id) == Organisation.territory_id)
             .where(Motif.id == motif_id, Motif.organisation_id == organisation_id))
    if not archived_too:
        query = query.where(col(Motif.deleted_at).is_(None))
    row = uow.session.exec(query).first()
    if row is None:
        raise NotFound("Ce motif n'existe pas ou a été archivé.")
    motif, organisation, departement = row
    return MotifContext(motif=motif, organisation=organisation, departement_number=departement)


def _slot_motif(motif: Motif) -> SlotMotif:
    return SlotMotif(id=motif.id, duration_in_min=motif.default_duration_in_min,  # type: ignore[arg-type]
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
    plages = _plages(uow, motif.id, first_day, last_day, agent_ids, lieu_id)  # type: ignore[arg-type]
    agents = set(agent_ids) if agent_ids is not None else {p.agent_id for p in plages}
    tz = context.time_zone
    # Local days become instants through the zone; a day more on each side covers every offset.
    range_start = datetime.combine(first_day - timedelta(days=1), time(0), tz).astimezone(UTC)
    range_end = datetime.combine(last_day + timedelta(days=2), time(0), tz).astimezone(UTC)
    return SlotSearch(
        motif=_slot_motif(motif),
        plages=tuple(plages),
        absences=tuple(_absences(uow, agents, first_day, last_day)) if agents else (),
        busy=tuple(_busy(uow, agents, range_start, range_end, exclude_rdv_id)) if agents else (),
        holidays=holidays_between(context.departement_number, first_day, last_day),
        time_zone=tz,
        now=now,
        searcher=searcher,
    )


def _in_range(model: type[PlageOuverture] | type[Absence], first_day: date, last_day: date,
              last_column: sa.ColumnElement) -> sa.ColumnElement[bool]:
    """Rows with an occurrence that may meet first_day..last_day (one-off by its days, series by its span)."""
    one_off = sa.and_(col(model.recurrence).is_(None), last_column >= first_day)
    series = sa.and_(col(model.recurrence).is_not(None),
                     sa.or_(col(model.recurrence_until).is_(None), col(model.recurrence_until) >= first_day))
    return sa.and_(col(model.first_day) <= last_day, sa.or_(one_off, series))


def _plages(uow: UnitOfWork, motif_id: int, first_day: date, last_day: date,
            agent_ids: Collection[int] | None, lieu_id: int | None) -> list[Plage]:
    query = (
        select(PlageOuverture)
        .join(PlageOuvertureMotif, col(PlageOuvertureMotif.plage_ouverture_id) == PlageOuverture.id)
        .outerjoin(Lieu, col(Lieu.id) == PlageOuverture.lieu_id)
        .where(PlageOuvertureMotif.motif_id == motif_id,
               _in_range(PlageOuverture, first_day, last_day, col(PlageOuverture.first_day)),
               # A disabled lieu offers nothing, even while its plages still exist.
               sa.or_(col(PlageOuverture.lieu_id).is_(None), Lieu.availability != LieuAvailability.DISABLED))
    )
    if agent_ids is not None:
        query = query.where(col(PlageOuverture.agent_id).in_(list(agent_ids)))
    if lieu_id is not None:
        query = query.where(PlageOuverture.lieu_id == lieu_id)
    return [
        Plage(id=row.id, agent_id=row.agent_id, lieu_id=row.lieu_id,  # type: ignore[arg-type]
              motif_ids=frozenset({motif_id}), first_day=row.first_day, start_time=row.start_time,
              end_time=row.end_time, recurrence=Recurrence.from_json(row.recurrence, row.first_day),
              created_at=row.created_at)
        for row in uow.session.exec(query).all()
    ]


def _absences(uow: UnitOfWork, agent_ids: set[int], first_day: date, last_day: date) -> list[AgentAbsence]:
    rows = uow.session.exec(
        select(Absence).where(col(Absence.agent_id).in_(agent_ids),
                              _in_range(Absence, first_day, last_day, col(Absence.end_day)))
    ).all()
    return [
        AgentAbsence(agent_id=row.agent_id, first_day=row.first_day, start_time=row.start_time,
                     end_day=row.end_day, end_time=row.end_time,
                     recurrence=Recurrence.from_json(row.recurrence, row.first_day))
        for row in rows
    ]


def _busy(uow: UnitOfWork, agent_ids: set[int], start: datetime, end: datetime,
          exclude_rdv_id: int | None) -> list[BusyInterval]:
    """Every non-cancelled RDV of these agents meeting [start, end), in every organisation."""
    query = (select(RdvAgent.agent_id, Rdv.starts_at, Rdv.ends_at)
             .join(Rdv, col(Rdv.id) == RdvAgent.rdv_id)
             .where(col(RdvAgent.agent_id).in_(agent_ids), col(Rdv.starts_at) < end, col(Rdv.ends_at) > start,
                    col(Rdv.status).not_in([s.value for s in CANCELLED_STATUSES])))
    if exclude_rdv_id is not None:
        query = query.where(Rdv.id != exclude_rdv_id)
    rows = uow.session.exec(query).all()
    return [BusyInterval(agent_id=agent_id, starts_at=starts_at, ends_at=ends_at)
            for agent_id, starts_at, ends_at in rows]
