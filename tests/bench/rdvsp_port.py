"""RDV Service Public's slot computation, ported from ../shared/product/domain.md section 2.1, for the
side-by-side benchmarks only (never product code): the peer our engine is measured against.

As the peer does it: candidate plages in one query; for each plage occurrence, two queries (the agent's
absences that may meet the occurrence's day, the agent's non-cancelled RDVs overlapping it), busy times
sorted by start, then subtracted one by one from the occurrence, recursively; slots laid out in each free
interval, the first one rounded up to the next 5 minutes when it is past. Instants are aware datetimes.
The queries go through the raw driver connection with prepared parameters: the leanest a port can be,
so that our speed-up is not measured against an ORM's overhead.

`PeerInputs` holds the same rows in memory for the "engine alone" comparison: there each query becomes
what an index lookup returns, the agent's RDVs found by bisection on their starts (bounded by the agent's
longest RDV), and the agent's few absences filtered as the query does.
"""

from __future__ import annotations

import json
from bisect import bisect_left
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any

from rdv_app.domain.enums import CANCELLED_STATUSES
from rdv_app.domain.recurrence import Recurrence
from rdv_app.domain.slots import SlotSearch

ROUNDING = timedelta(minutes=5)
Interval = tuple[datetime, datetime]


@dataclass(frozen=True)
class PeerPlage:
    id: int
    agent_id: int
    lieu_id: int | None
    first_day: date
    start_time: time
    end_time: time
    recurrence: Recurrence | None


@dataclass(frozen=True)
class PeerAbsence:
    first_day: date
    start_time: time
    end_day: date
    end_time: time
    recurrence: Recurrence | None


@dataclass(frozen=True)
class PeerSlot:
    starts_at: datetime
    agent_id: int
    lieu_id: int | None


def available_slots(plages: Sequence[PeerPlage], first_day: date, last_day: date, *, duration_in_min: int,
                    now: datetime, tz: tzinfo, holidays: Iterable[date],
                    absences_of: Callable[[int, date, date], list[PeerAbsence]],
                    rdvs_of: Callable[[int, datetime, datetime], list[Interval]]) -> list[PeerSlot]:
    """Slots of the candidate plages on the local days first_day..last_day (domain.md 2.1, steps 1-7)."""
    range_begin = datetime.combine(first_day, time(0), tz)
    off_days = set(holidays)
    duration = timedelta(minutes=duration_in_min)
    slots: list[PeerSlot] = []
    for plage in plages:
        for day in _days(plage.first_day, plage.recurrence, first_day, last_day):
            starts_at = datetime.combine(day, plage.start_time, tz)
            ends_at = datetime.combine(day, plage.end_time, tz)
            if ends_at < now:
                continue
            busy = [(datetime.combine(day, time(0), tz), datetime.combine(day + timedelta(days=1), time(0), tz))
                    ] if day in off_days else []
            busy += [interval for absence in absences_of(plage.agent_id, day, day)
                     for interval in _absence_occurrences(absence, day, tz)]
            busy += rdvs_of(plage.agent_id, starts_at, ends_at)
            busy.sort(key=lambda interval: interval[0])
            for free_from, free_to in _subtract((starts_at, ends_at), busy):
                start = free_from
                if start < now:
                    start += -((start - now) // ROUNDING) * ROUNDING
                while start + duration <= free_to:
                    if start >= range_begin:
                        slots.append(PeerSlot(start.astimezone(UTC), plage.agent_id, plage.lieu_id))
                    start += duration
    return slots


def _subtract(free: Interval, busy: list[Interval]) -> list[Interval]:
    """The free range minus each busy time in turn: split, cut its head or tail, cover it, or miss it."""
    if not busy:
        return [free]
    (begin, end), (busy_begin, busy_end) = free, busy[0]
    rest = busy[1:]
    if busy_end <= begin or busy_begin >= end:  # touching is no conflict
        return _subtract(free, rest)
    if busy_begin <= begin and busy_end >= end:
        return []
    if busy_begin > begin and busy_end < end:
        return [(begin, busy_begin), *_subtract((busy_end, end), rest)]
    if busy_begin <= begin:
        return _subtract((busy_end, end), rest)
    return _subtract((begin, busy_begin), rest)


def _absence_occurrences(absence: PeerAbsence, day: date, tz: tzinfo) -> list[Interval]:
    span = absence.end_day - absence.first_day
    return [(datetime.combine(start, absence.start_time, tz), datetime.combine(start + span, absence.end_time, tz))
            for start in _days(absence.first_day, absence.recurrence, day - span, day)]


def _days(first_day: date, recurrence: Recurrence | None, start: date, end: date) -> Iterable[date]:
    if recurrence is None:
        return (first_day,) if start <= first_day <= end else ()
    return recurrence.dates(first_day, start, end)


# --------------------------------------------------------------------------- inputs in memory


@dataclass
class PeerInputs:
    """The peer's rows held in memory, by agent; its queries become index lookups."""

    plages: list[PeerPlage]
    absences: dict[int, list[PeerAbsence]]
    rdvs: dict[int, list[Interval]]  # sorted by start
    _starts: dict[int, list[datetime]] = field(init=False)
    _longest: dict[int, timedelta] = field(init=False)

    def __post_init__(self) -> None:
        for intervals in self.rdvs.values():
            intervals.sort()
        self._starts = {agent: [s for s, _ in intervals] for agent, intervals in self.rdvs.items()}
        self._longest = {agent: max(e - s for s, e in intervals) for agent, intervals in self.rdvs.items()}

    @classmethod
    def of(cls, search: SlotSearch) -> PeerInputs:
        """The rows of one of our engine's inputs (its busy RDVs given as `busy`), as the peer holds them."""
        rdvs: dict[int, list[Interval]] = {}
        for busy in search.busy:
            rdvs.setdefault(busy.agent_id, []).append((busy.starts_at, busy.ends_at))
        absences: dict[int, list[PeerAbsence]] = {}
        for a in search.absences:
            absences.setdefault(a.agent_id, []).append(
                PeerAbsence(a.first_day, a.start_time, a.end_day, a.end_time, a.recurrence))
        plages = [PeerPlage(p.id, p.agent_id, p.lieu_id, p.first_day, p.start_time, p.end_time, p.recurrence)
                  for p in sorted(search.plages, key=lambda p: (p.created_at, p.id)) if search.motif.id in p.motif_ids]
        return cls(plages, absences, rdvs)

    def slots(self, search: SlotSearch, first_day: date, last_day: date) -> list[PeerSlot]:
        return available_slots(self.plages, first_day, last_day, duration_in_min=search.motif.duration_in_min,
                               now=search.now, tz=search.time_zone, holidays=search.holidays,
                               absences_of=self.absences_of, rdvs_of=self.rdvs_of)

    def absences_of(self, agent_id: int, first_day: date, last_day: date) -> list[PeerAbsence]:
        return [a for a in self.absences.get(agent_id, ()) if _may_meet(a, first_day, last_day)]

    def rdvs_of(self, agent_id: int, starts_at: datetime, ends_at: datetime) -> list[Interval]:
        if agent_id not in self.rdvs:
            return []
        starts, intervals = self._starts[agent_id], self.rdvs[agent_id]
        low = bisect_left(starts, starts_at - self._longest[agent_id])
        return [(s, e) for s, e in intervals[low:bisect_left(starts, ends_at, low)] if e > starts_at]


def _may_meet(absence: PeerAbsence, first_day: date, last_day: date) -> bool:
    if absence.first_day > last_day:
        return False
    if absence.recurrence is None:
        return absence.end_day >= first_day
    return absence.recurrence.until is None or absence.recurrence.until >= first_day


# --------------------------------------------------------------------------- inputs from the database


class PeerQueries:
    """The peer's queries on one raw DBAPI connection (sqlite3 or psycopg), as RDV Service Public sends
    them: the plages once, then the absences and the RDVs of the agent for each occurrence."""

    def __init__(self, connection: Any, dialect: str) -> None:
        self.cursor = connection.cursor()
        self.sqlite = dialect == "sqlite"
        mark = "?" if self.sqlite else "%s"
        cancelled = ", ".join(f"'{status.value}'" for status in CANCELLED_STATUSES)
        self._absences_sql = (
            f"SELECT first_day, start_time, end_day, end_time, recurrence FROM absence WHERE agent_id = {mark} "
            f"AND first_day <= {mark} AND ((recurrence IS NULL AND end_day >= {mark}) OR (recurrence IS NOT NULL "
            f"AND (recurrence_until IS NULL OR recurrence_until >= {mark})))")
        self._rdvs_sql = (
            "SELECT rdv.starts_at, rdv.ends_at FROM rdv JOIN rdv_agent ON rdv_agent.rdv_id = rdv.id "
            "WHERE rdv_agent.agent_id = {m} AND rdv.starts_at < {m} AND rdv.ends_at > {m} "
            f"AND rdv.status NOT IN ({cancelled})").format(m=mark)
        self._plages_sql = (
            "SELECT p.id, p.agent_id, p.lieu_id, p.first_day, p.start_time, p.end_time, p.recurrence "
            "FROM plage_ouverture p JOIN plage_ouverture_motif pm ON pm.plage_ouverture_id = p.id "
            f"WHERE pm.motif_id = {mark} AND p.first_day <= {mark} AND ((p.recurrence IS NULL AND p.first_day >= {mark}) "
            f"OR (p.recurrence IS NOT NULL AND (p.recurrence_until IS NULL OR p.recurrence_until >= {mark}))) "
            "ORDER BY p.created_at, p.id")

    def plages(self, motif_id: int, first_day: date, last_day: date) -> list[PeerPlage]:
        self.cursor.execute(self._plages_sql, (motif_id, self._day(last_day), self._day(first_day),
                                               self._day(first_day)))
        return [PeerPlage(id_, agent_id, lieu_id, self._date(first), self._time(start), self._time(end),
                          self._recurrence(recurrence, self._date(first)))
                for id_, agent_id, lieu_id, first, start, end, recurrence in self.cursor.fetchall()]

    def absences_of(self, agent_id: int, first_day: date, last_day: date) -> list[PeerAbsence]:
        self.cursor.execute(self._absences_sql, (agent_id, self._day(last_day), self._day(first_day),
                                                 self._day(first_day)))
        return [PeerAbsence(self._date(first), self._time(start), self._date(end_day), self._time(end),
                            self._recurrence(recurrence, self._date(first)))
                for first, start, end_day, end, recurrence in self.cursor.fetchall()]

    def rdvs_of(self, agent_id: int, starts_at: datetime, ends_at: datetime) -> list[Interval]:
        self.cursor.execute(self._rdvs_sql, (agent_id, self._instant(ends_at), self._instant(starts_at)))
        if not self.sqlite:
            return self.cursor.fetchall()
        parse = datetime.fromisoformat
        return [(parse(s).replace(tzinfo=UTC), parse(e).replace(tzinfo=UTC)) for s, e in self.cursor.fetchall()]

    # SQLite hands back the text SQLAlchemy stored; psycopg hands back Python values.
    def _day(self, day: date) -> Any:
        return day.isoformat() if self.sqlite else day

    def _instant(self, instant: datetime) -> Any:
        utc = instant.astimezone(UTC)
        return utc.replace(tzinfo=None).isoformat(" ", "microseconds") if self.sqlite else utc

    def _date(self, value: Any) -> date:
        return date.fromisoformat(value) if isinstance(value, str) else value

    def _time(self, value: Any) -> time:
        return time.fromisoformat(value) if isinstance(value, str) else value

    def _recurrence(self, value: Any, first_day: date) -> Recurrence | None:
        return Recurrence.from_json(json.loads(value) if isinstance(value, str) else value, first_day)
