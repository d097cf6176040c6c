"""Slot engine ("créneaux"): which appointments can be booked, and with whom.

Pure Python: the service layer loads every input once (set-based queries) and passes plain frozen
dataclasses; the engine never queries anything. The same functions feed the display (usager pages,
the agents' "Trouver un RDV") and the final check that booking runs inside its transaction, so a slot
that is shown is exactly a slot that `validate_slot` accepts for the same data and the same `now`
(booking validates with its own, later `now`, and still accepts a slot shown a moment ago: see
`validate_slot`).

Inputs (`SlotSearch`): the motif (duration, booking delays), the candidate plages d'ouverture, the
agents' absences, their busy intervals (every non-cancelled RDV of those agents in ALL organisations),
the public holidays of the territory (local dates, see `off_days`), the organisation's time zone, who
is searching and `now`.

Rules, in the order they apply:

1. **Occurrences.** A plage without recurrence occurs on its first day; a recurring one on the days of
   `Recurrence.dates`, fast-forwarded to the searched range. Every occurrence keeps the first one's
   local wall-clock times (a 9:00-12:00 plage is 9:00-12:00 local on both sides of a DST change): local
   times become instants through `zoneinfo`, never by adding hours. Plages that do not list the motif
   or are outside the lieu or agents asked for are ignored. The search never starts before today, so
   expired plages and absences (one-off before today, recurrence ended before today) give nothing.
2. **Busy time.** A public holiday blocks its whole local day, so an occurrence on a holiday is dropped
   (occurrences never cross midnight: a plage ends after it starts on the same day). Absences (one-off,
   multi-day, recurring) and busy RDVs block their interval for their agent. Intervals that only touch
   (one ends when the other starts) do not conflict.
3. **Layout.** Slots are laid out from the start b of each free interval, stepping by the motif
   duration while the slot ends inside the interval. When b is already past, the first slot is b plus
   the smallest number of 5-minute steps that is not before now (now 15:03, b = 14:00 gives 15:05);
   after an RDV from 9:00 to 9:20, 30-minute slots go on at 9:20, 9:50...
4. **Booking delays.** Usagers and prescripteurs only see slots starting within
   [now + minimum delay, now + maximum delay] (a maximum of 0 means none); agents have no such window
   (only "not in the past").
5. **Several agents at one time.** `available_slots` returns every slot, ordered by start, then by the
   creation order of their plage (earliest `created_at`, then lowest id). `displayed_slots` keeps one
   slot per start for usagers and one per (start, agent) for agents: the first of that order, which is
   the one booking would pick. At booking the plage created first wins (`pick_slot_for_booking`):
   deterministic, no random choice.
6. **Next availability** is the earliest slot within the horizon (the maximum delay for usagers, six
   months for agents), found in one pass over the occurrences in chronological order that stops at the
   first free slot, instead of searching week after week.

Inside the engine an instant is an integer: microseconds since the Unix epoch (exact, like the aware
datetimes it stands for): comparing and adding them costs a fraction of datetime arithmetic, with no
time zone offsets and no timedelta objects; aware datetimes are made back only for the slots returned.
Busy intervals are grouped by agent and sorted once per `SlotSearch` (the loader may hand them already
grouped, as `BusyTimes`), plages are ranked once, and each occurrence finds the busy intervals it meets
by bisection: the work grows with occurrences + busy intervals (times log), not with their product.
`next_availabilities` finds the next availability of many lieux (an usager's search without a lieu) with
one filtering of the plages and one index of the busy intervals and absences for all of them.
"""

from __future__ import annotations

import calendar
import heapq
import math
from bisect import bisect_right
from collections.abc import Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from enum import StrEnum
from operator import itemgetter
from typing import NamedTuple

from rdv_app.domain.recurrence import Recurrence

# `_Run.datetime` (a method) hides the class in the annotations that follow it in `_Run`'s body.
_DateTime = datetime

ROUNDING_MINUTES = 5
AGENT_HORIZON_MONTHS = 6

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
_MINUTE = 60_000_000  # in microseconds
_ROUNDING = ROUNDING_MINUTES * _MINUTE
_DAY = 24 * 60 * _MINUTE
_EPOCH_ORDINAL = _EPOCH.toordinal()


def microseconds(instant: datetime) -> int:
    """An aware instant as the engine counts it: integer microseconds since the Unix epoch."""
    return (instant - _EPOCH) // _MICROSECOND


def from_microseconds(instant: int) -> datetime:
    """The aware UTC instant of a count of `microseconds`."""
    return _EPOCH + timedelta(microseconds=instant)


class Searcher(StrEnum):
    USAGER = "usager"
    PRESCRIPTEUR = "prescripteur"
    AGENT = "agent"

    @property
    def applies_booking_delays(self) -> bool:
        return self is not Searcher.AGENT


@dataclass(frozen=True, slots=True)
class SlotMotif:
    """What the engine needs of a motif; delays in seconds, as on `Motif`."""

    id: int
    duration_in_min: int
    min_booking_delay: int = 1800
    max_booking_delay: int = 7_889_238  # 0: no maximum, the horizon is then AGENT_HORIZON_MONTHS

    def __post_init__(self) -> None:
        if self.duration_in_min <= 0:
            raise ValueError("a motif lasts at least one minute")


@dataclass(frozen=True, slots=True)
class Plage:
    """A plage d'ouverture; days and times are local to the organisation's time zone."""

    id: int
    agent_id: int
    lieu_id: int | None
    motif_ids: frozenset[int]
    first_day: date
    start_time: time
    end_time: time
    recurrence: Recurrence | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class AgentAbsence:
    """An indisponibilité; it blocks the agent in every organisation."""

    agent_id: int
    first_day: date
    start_time: time
    end_day: date
    end_time: time
    recurrence: Recurrence | None = None


@dataclass(frozen=True, slots=True)
class BusyInterval:
    """A non-cancelled RDV of the agent, in any organisation: [starts_at, ends_at)."""

    agent_id: int
    starts_at: datetime
    ends_at: datetime
    # The same instants as the engine counts them, worked out once with the interval.
    start: int = field(init=False, repr=False, compare=False)
    end: int = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.starts_at.utcoffset() is None or self.ends_at.utcoffset() is None:
            raise ValueError("busy intervals are instants: aware datetimes required")
        object.__setattr__(self, "start", microseconds(self.starts_at))
        object.__setattr__(self, "end", microseconds(self.ends_at))


class BusyTimes:
    """One agent's busy intervals [start, end) in `microseconds`, sorted by start, with the running
    maximum of their ends.

    Intervals may overlap; since `ends_so_far` never decreases, bisecting it finds the first interval
    that can still meet a given time, and the sweep needs no merged copy of the intervals. Read-only once
    built: searches and caches share it.
    """

    __slots__ = ("starts", "ends", "ends_so_far")

    def __init__(self, starts: list[int], ends: list[int]) -> None:
        """`starts` sorted, `ends[i]` the end of the interval starting at `starts[i]`."""
        self.starts = starts
        self.ends = ends
        self.ends_so_far = _running_max(ends)

    @classmethod
    def of(cls, intervals: Iterable[tuple[int, int]]) -> BusyTimes:
        ordered = sorted(intervals)
        return cls([start for start, _ in ordered], [end for _, end in ordered])

    def with_extra(self, extra: Iterable[tuple[int, int]]) -> BusyTimes:
        """A copy holding `extra` intervals too (an agent's absences, a handful next to their RDVs)."""
        starts, ends = self.starts[:], self.ends[:]
        for start, end in extra:
            index = bisect_right(starts, start)
            starts.insert(index, start)
            ends.insert(index, end)
        return BusyTimes(starts, ends)

    def meets(self, start: int, end: int) -> bool:
        """Whether an interval meets [start, end): intervals that only touch do not."""
        index = bisect_right(self.ends_so_far, start)
        return index < len(self.starts) and self.starts[index] < end


def _running_max(values: list[int]) -> list[int]:
    """The maximum of values[:i + 1] for each i: a plain loop, three times faster than
    `accumulate(values, max)`, which calls `max` for every item."""
    found: list[int] = []
    append = found.append
    highest = values[0] if values else 0
    for value in values:
        if value > highest:
            highest = value
        append(highest)
    return found


_NO_BUSY_TIMES = BusyTimes([], [])


@dataclass(frozen=True, slots=True)
class SlotSearch:
    """Everything a search needs except the range: one load, then any number of calls.

    Busy RDVs come as `busy`, or already grouped by agent as `busy_times` (the loader builds those
    straight from rows), or both: the engine uses them together."""

    motif: SlotMotif
    plages: tuple[Plage, ...]
    absences: tuple[AgentAbsence, ...]
    busy: tuple[BusyInterval, ...]
    holidays: frozenset[date]
    time_zone: tzinfo
    now: datetime
    searcher: Searcher
    busy_times: Mapping[int, BusyTimes] = field(default_factory=dict, hash=False)
    _rdvs_by_agent: Mapping[int, BusyTimes] = field(init=False, repr=False, compare=False)
    _ranked_plages: tuple[Plage, ...] = field(init=False, repr=False, compare=False)
    # Shared by every call on this search: local time -> day -> instant, local day -> its UTC offset in
    # microseconds (None on a day the offset changes), a slot's start -> its (starts_at, ends_at) as aware
    # datetimes, and slots' ends by instant (the next slot's start).
    _instants: dict[time, dict[date, int]] = field(init=False, repr=False, compare=False)
    _offsets: dict[date, int | None] = field(init=False, repr=False, compare=False)
    _datetimes: dict[int, datetime] = field(init=False, repr=False, compare=False)
    _spans: dict[int, tuple[datetime, datetime]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.now.utcoffset() is None:
            raise ValueError("now must be an aware datetime")
        # Grouped and sorted once: a week, the next availability and every lieu of a list reuse it.
        rdvs_by_agent = self.busy_times
        if self.busy:
            by_agent: dict[int, list[tuple[int, int]]] = {}
            for busy in self.busy:
                by_agent.setdefault(busy.agent_id, []).append((busy.start, busy.end))
            grouped = {agent_id: BusyTimes.of(intervals) for agent_id, intervals in by_agent.items()}
            for agent_id, times in self.busy_times.items():
                extra = grouped.get(agent_id)
                grouped[agent_id] = times.with_extra(zip(extra.starts, extra.ends, strict=True)) if extra else times
            rdvs_by_agent = grouped
        object.__setattr__(self, "_rdvs_by_agent", rdvs_by_agent)
        # Creation order (earliest created_at, then lowest id): the rank that breaks ties between plages.
        object.__setattr__(self, "_ranked_plages", tuple(sorted(self.plages, key=lambda p: (p.created_at, p.id))))
        object.__setattr__(self, "_instants", {})
        object.__setattr__(self, "_offsets", {})
        object.__setattr__(self, "_datetimes", {})
        object.__setattr__(self, "_spans", {})


class Slot(NamedTuple):
    """One slot and who holds it. A named tuple: a search returns thousands, and a tuple is made several
    times faster than a frozen dataclass."""

    starts_at: datetime  # aware, UTC
    ends_at: datetime  # aware, UTC
    agent_id: int
    lieu_id: int | None
    plage_id: int


# What Slot(...) does, without the keyword handling of the named tuple's __new__: for the thousands of
# slots of one search.
_new_slot = tuple.__new__


def booking_window(search: SlotSearch) -> tuple[datetime, datetime | None]:
    """Earliest and latest start the searcher may book; no latest for agents (nor without a maximum)."""
    if not search.searcher.applies_booking_delays:
        return search.now, None
    earliest = search.now + timedelta(seconds=search.motif.min_booking_delay)
    if search.motif.max_booking_delay <= 0:
        return earliest, None
    return earliest, search.now + timedelta(seconds=search.motif.max_booking_delay)


def horizon_last_day(search: SlotSearch) -> date:
    """Last local day searched for the next availability."""
    _, latest = booking_window(search)
    if latest is not None:
        return latest.astimezone(search.time_zone).date()
    return _add_months(search.now.astimezone(search.time_zone).date(), AGENT_HORIZON_MONTHS)


def available_slots(
    search: SlotSearch,
    first_day: date,
    last_day: date,
    *,
    lieu_id: int | None = None,
    agent_ids: Collection[int] | None = None,
) -> list[Slot]:
    """Every slot on the local days first_day..last_day, ordered by start then plage creation."""
    run = _Run(search)
    plages, keys = _ordered_slots(run, first_day, last_day, lieu_id, agent_ids)
    return run.slots(plages, keys)


def displayed_slots(
    search: SlotSearch,
    first_day: date,
    last_day: date,
    *,
    lieu_id: int | None = None,
    agent_ids: Collection[int] | None = None,
) -> list[Slot]:
    """The slots to show: one per start for usagers and prescripteurs, one per (start, agent) for agents.

    The slot kept for a start is the one booking would choose (plage created first).
    """
    run = _Run(search)
    per_agent = not search.searcher.applies_booking_delays
    plages, keys = _ordered_slots(run, first_day, last_day, lieu_id, agent_ids)
    count = len(plages)
    span = run.span
    tails = [(p.agent_id, p.lieu_id, p.id) for p in plages]
    shown: list[Slot] = []
    append = shown.append
    current = -1  # no slot starts before the epoch: `clamp` keeps days from today on
    head: tuple[datetime, datetime] = (_EPOCH, _EPOCH)
    agents_at_start: set[int] = set()  # agents already shown at the current start
    for key in keys:
        start, rank = divmod(key, count)
        tail = tails[rank]
        if start != current:
            current = start
            head = span(start)  # once per start: slots of several agents share it
            agents_at_start.clear()
        elif not per_agent or tail[0] in agents_at_start:
            continue
        agents_at_start.add(tail[0])
        append(_new_slot(Slot, head + tail))
    return shown


def slot_starts(
    search: SlotSearch,
    first_day: date,
    last_day: date,
    *,
    lieu_id: int | None = None,
) -> list[int]:
    """The starts a usager is shown, in order, as `microseconds` (`from_microseconds` makes them instants
    again), without who holds them: the starts of `displayed_slots` without a slot made for each (the ANTS
    hub asks for thousands, the same few hundred instants from one lieu to the next, and reads only their
    times)."""
    run = _Run(search)
    plages, keys = _ordered_slots(run, first_day, last_day, lieu_id, None)
    count = len(plages)
    return list(dict.fromkeys(key // count for key in keys))


def next_availability(
    search: SlotSearch,
    *,
    from_day: date | None = None,
    to_day: date | None = None,
    lieu_id: int | None = None,
    agent_ids: Collection[int] | None = None,
) -> Slot | None:
    """The earliest slot from `from_day` (default today) to the end of the horizon, or None.

    `to_day` ends the search earlier, on that local day: the last one whose busy intervals and absences
    `search` holds. `search` must carry those of every day searched. Occurrences of all candidate
    plages are merged in chronological order and the walk stops as soon as no later occurrence can
    start before the best slot found.
    """
    return next_availabilities(search, (lieu_id,), from_day=from_day, to_day=to_day, agent_ids=agent_ids).get(lieu_id)


def next_availabilities(
    search: SlotSearch,
    lieu_ids: Iterable[int | None],
    *,
    from_day: date | None = None,
    to_day: date | None = None,
    agent_ids: Collection[int] | None = None,
) -> dict[int | None, Slot]:
    """`next_availability` of each of `lieu_ids` (None: at any lieu), by lieu; a lieu without one is left
    out.

    One pass of preparation for all of them: the candidate plages are filtered and grouped by lieu once,
    and the busy intervals and absence occurrences of all their agents are indexed once, instead of once
    per lieu; each lieu then walks only its own plages' occurrences.
    """
    run = _Run(search)
    last_day = horizon_last_day(search) if to_day is None else min(to_day, horizon_last_day(search))
    first_day, last_day = run.clamp(from_day or run.today, last_day)
    wanted = list(dict.fromkeys(lieu_ids))
    plages = run.candidate_plages(None, agent_ids)
    if first_day > last_day or not plages or not wanted:
        return {}
    # Ranks in the creation order of all candidates: a lieu's plages keep their relative order.
    by_lieu: dict[int | None, list[tuple[int, Plage]]] = {}
    for rank, plage in enumerate(plages):
        by_lieu.setdefault(plage.lieu_id, []).append((rank, plage))
    ranked_of = {lieu_id: list(enumerate(plages)) if lieu_id is None else by_lieu.get(lieu_id, [])
                 for lieu_id in wanted}
    agents = {plage.agent_id for ranked in ranked_of.values() for _, plage in ranked}
    busy = run.busy_index(agents, first_day, last_day)
    found: dict[int | None, Slot] = {}
    for lieu_id in wanted:
        slot = _earliest(run, ranked_of[lieu_id], busy, first_day, last_day)
        if slot is not None:
            found[lieu_id] = slot
    return found


def _earliest(run: _Run, ranked: list[tuple[int, Plage]], busy: Mapping[int, BusyTimes], first_day: date,
              last_day: date) -> Slot | None:
    """The first slot of these (rank, plage) on first_day..last_day: their occurrences merged in
    chronological order, the walk stopping as soon as no later occurrence can start before the best slot."""
    streams = [run.ranked_occurrences(rank, plage, first_day, last_day) for rank, plage in ranked]
    best: tuple[int, int, Plage] | None = None
    for occ_start, occ_end, rank, plage in heapq.merge(*streams, key=itemgetter(0, 2)):
        # A later occurrence may still tie with the best start and win through an earlier plage.
        if best is not None and occ_start > best[0]:
            break
        first = next(run.free_starts(occ_start, occ_end, busy[plage.agent_id]), None)
        if first is not None and (best is None or (first, rank) < best[:2]):
            best = (first, rank, plage)
    return None if best is None else run.slot(best[0], best[2])


def pick_slot_for_booking(
    slots: Iterable[Slot],
    plages: Iterable[Plage],
    starts_at: datetime,
    *,
    lieu_id: int | None = None,
    agent_id: int | None = None,
) -> Slot | None:
    """Among the slots starting exactly at `starts_at` (and at that lieu / with that agent when given),
    the one whose plage was created first (earliest `created_at`, then lowest id); None if there is none.
    """
    creation = {p.id: (p.created_at, p.id) for p in plages}
    matching = [
        s for s in slots
        if s.starts_at == starts_at
        and (lieu_id is None or s.lieu_id == lieu_id)
        and (agent_id is None or s.agent_id == agent_id)
    ]
    return min(matching, key=lambda s: creation[s.plage_id], default=None)


def validate_slot(
    search: SlotSearch,
    starts_at: datetime,
    *,
    lieu_id: int | None = None,
    agent_id: int | None = None,
) -> Slot | None:
    """The slot booking must use for `starts_at`, recomputed with the engine, or None when it is gone.

    Booking calls this inside its transaction, after locking, with freshly loaded inputs and its own
    `now`. A start is accepted when the whole slot fits in a free interval of an occurrence, on the
    5-minute grid counted from that interval's start, inside the booking window. It does not have to be
    on the grid laid out at this very `now`: today's rounded grid moves with the clock (15:05, 15:35...
    at 15:03; 15:10, 15:40... at 15:06), and a slot shown a minute ago must stay bookable while it is
    free. The plage is the one the slot is shown for (the first created whose grid lays it out, as
    `displayed_slots`), else the first created that accepts it.
    """
    if starts_at.utcoffset() is None:
        raise ValueError("starts_at must be an aware datetime")
    run = _Run(search)
    start = microseconds(starts_at)
    end = start + run.duration
    if start < run.lower or (run.upper is not None and start > run.upper):
        return None
    day = starts_at.astimezone(run.tz).date()
    plages = run.candidate_plages(lieu_id, None if agent_id is None else (agent_id,))
    if not plages:
        return None
    busy = run.busy_index({p.agent_id for p in plages}, day, day)
    step = math.gcd(ROUNDING_MINUTES, search.motif.duration_in_min) * _MINUTE
    accepting = None
    for plage in plages:  # creation order
        for occ_start, occ_end in run.occurrences(plage, day, day):
            for free_from, free_to in run.free_intervals(occ_start, occ_end, busy[plage.agent_id]):
                if start in run.layout(free_from, free_to):
                    return run.slot(start, plage)  # the plage the slot was shown for, as displayed_slots
                if (accepting is None and free_from <= start and end <= free_to
                        and (start - free_from) % step == 0):
                    accepting = plage
    return None if accepting is None else run.slot(start, accepting)


@dataclass(frozen=True, slots=True)
class Conflicts:
    """What stands in the way of a proposed [start, end) for some agents (the facts of the booking rules,
    rdv_app.domain.booking_rules)."""

    booked_agents: frozenset[int]  # another RDV of the agent meets it (any organisation)
    absent_agents: frozenset[int]  # an absence occurrence of the agent meets it
    inside_opening: bool  # one occurrence of a plage of these agents (motif, lieu) holds it whole
    on_holiday: bool  # it meets a public holiday


def conflicts(search: SlotSearch, starts_at: datetime, ends_at: datetime, agent_ids: Collection[int], *,
              lieu_id: int | None = None) -> Conflicts:
    """The conflicts of one proposed time, with the same occurrences, absences and busy intervals as the
    slots: `search` must hold the agents' plages, absences and RDVs of the local days it meets."""
    if starts_at.utcoffset() is None or ends_at.utcoffset() is None:
        raise ValueError("starts_at and ends_at must be aware datetimes")
    run = _Run(search)
    start, end = microseconds(starts_at), microseconds(ends_at)
    first_day, last_day = starts_at.astimezone(run.tz).date(), ends_at.astimezone(run.tz).date()
    agents = set(agent_ids)
    rdvs = search._rdvs_by_agent
    booked = {a for a in agents if a in rdvs and rdvs[a].meets(start, end)}
    absent = {absence.agent_id for absence in search.absences if absence.agent_id in agents
              and any(begins < end and finishes > start
                      for begins, finishes in run._absence_intervals(absence, first_day, last_day))}
    inside = first_day == last_day and any(
        occ_start <= start and end <= occ_end
        for plage in run.candidate_plages(lieu_id, agents)
        for occ_start, occ_end in run.occurrences(plage, first_day, last_day))
    on_holiday = any(first_day + timedelta(days=n) in search.holidays for n in range((last_day - first_day).days + 1))
    return Conflicts(frozenset(booked), frozenset(absent), inside, on_holiday)


def _ordered_slots(
    run: _Run, first_day: date, last_day: date, lieu_id: int | None, agent_ids: Collection[int] | None
) -> tuple[list[Plage], list[int]]:
    """The candidate plages, and one sorted key per slot: start * len(plages) + rank of its plage.

    Sorted keys are the slots ordered by start, then by plage creation; a key is an integer, so that a
    search of thousands of slots sorts plain integers and makes no object per slot until the end."""
    first_day, last_day = run.clamp(first_day, last_day)
    plages = run.candidate_plages(lieu_id, agent_ids)
    if first_day > last_day or not plages:
        return plages, []
    busy = run.busy_index({p.agent_id for p in plages}, first_day, last_day)
    count = len(plages)
    keys: list[int] = []
    extend = keys.extend
    # `free_intervals` and `layout` written out in the loop: this runs for every occurrence and free
    # interval of a search, and the calls cost more than the work (the unit and property tests check the
    # slots against the same rules with both).
    now, lower, upper, duration = run.now, run.lower, run.upper, run.duration
    step = duration * count
    for rank, plage in enumerate(plages):
        agent_busy = busy[plage.agent_id]
        starts, ends_so_far = agent_busy.starts, agent_busy.ends_so_far
        busy_count = len(starts)
        for occ_start, occ_end in run.occurrence_list(plage, first_day, last_day):
            index = bisect_right(ends_so_far, occ_start)
            free_from = occ_start
            while free_from < occ_end:
                if index < busy_count and starts[index] < occ_end:
                    free_to, resume = starts[index], ends_so_far[index]
                    index += 1
                else:
                    free_to, resume = occ_end, occ_end
                if free_to > free_from:
                    start = free_from
                    if start < now:
                        start += -((start - now) // _ROUNDING) * _ROUNDING
                    if start < lower:
                        start += -((start - lower) // duration) * duration
                    last_start = free_to - duration
                    if upper is not None and upper < last_start:
                        last_start = upper
                    extend(range(start * count + rank, (last_start + 1) * count, step))
                free_from = resume
    keys.sort()
    return plages, keys


class _Run:
    """State of one engine call: the search plus bounds and local-time conversions computed once."""

    __slots__ = ("search", "tz", "today", "now", "lower", "upper", "duration", "duration_delta", "_instants",
                 "_offsets", "_spans", "_datetimes", "_occurrence_lists")

    def __init__(self, search: SlotSearch) -> None:
        self.search = search
        self.tz = search.time_zone
        self.now = microseconds(search.now)
        self.today = search.now.astimezone(self.tz).date()
        earliest, latest = booking_window(search)
        self.lower = microseconds(earliest)
        self.upper = None if latest is None else microseconds(latest)
        self.duration = search.motif.duration_in_min * _MINUTE
        self.duration_delta = timedelta(minutes=search.motif.duration_in_min)
        self._instants = search._instants
        self._offsets = search._offsets
        self._spans = search._spans
        self._datetimes = search._datetimes
        self._occurrence_lists: dict[tuple[date, Recurrence | None, time, time, date, date], list[tuple[int, int]]] = {}

    def clamp(self, first_day: date, last_day: date) -> tuple[date, date]:
        """Restrict local days to those that can hold a slot: inside the searcher's booking window."""
        first_day = max(first_day, self.local_day(self.lower))
        if self.upper is not None:
            last_day = min(last_day, self.local_day(self.upper))
        return first_day, last_day

    def local_day(self, instant: int) -> date:
        return self.datetime(instant).astimezone(self.tz).date()

    def instant(self, day: date, at: time) -> int:
        """Local wall-clock day and time -> instant, through zoneinfo."""
        return self.instants_at(at).get(day) or self._new_instant(day, at)

    def instants_at(self, at: time) -> dict[date, int]:
        """The instants of local time `at` found so far, by day."""
        found = self._instants.get(at)
        if found is None:
            found = self._instants[at] = {}
        return found

    def _new_instant(self, day: date, at: time) -> int:
        offsets = self._offsets
        offset = offsets[day] if day in offsets else offsets.setdefault(day, self._steady_offset(day))
        if offset is None:  # the clocks change that day: zoneinfo decides
            value = microseconds(datetime.combine(day, at, tzinfo=self.tz))
        else:
            value = ((day.toordinal() - _EPOCH_ORDINAL) * _DAY + ((at.hour * 60 + at.minute) * 60 + at.second)
                     * 1_000_000 + at.microsecond - offset)
        self._instants[at][day] = value
        return value

    def _steady_offset(self, day: date) -> int | None:
        """The day's UTC offset in microseconds when it is the same from its midnight to the next (the
        clocks do not change that day), else None. On such a day a local time is the local midnight's
        instant plus the time: integer arithmetic instead of an aware datetime per occurrence."""
        midnight = datetime.combine(day, time(0))
        offsets = {self.tz.utcoffset(midnight + timedelta(hours=hours)) for hours in (0, 12, 24)}
        if len(offsets) != 1 or None in offsets:
            return None
        return offsets.pop() // _MICROSECOND  # type: ignore[operator]

    def datetime(self, instant: int) -> _DateTime:
        """Instant -> aware UTC datetime."""
        return _EPOCH + timedelta(microseconds=instant)

    def span(self, start: int) -> tuple[_DateTime, _DateTime]:
        """A slot's start and end as aware UTC datetimes; slots of several agents share them, and a slot's
        end is the next slot's start (made once, the cheaper way: the start plus the duration)."""
        span = self._spans.get(start)
        if span is None:
            made = self._datetimes
            starts_at = made.get(start) or self.datetime(start)
            ends_at = made[start + self.duration] = starts_at + self.duration_delta
            span = self._spans[start] = (starts_at, ends_at)
        return span

    def candidate_plages(self, lieu_id: int | None, agent_ids: Collection[int] | None) -> list[Plage]:
        """Plages that can give slots, in creation order: the rank used to break ties."""
        motif_id = self.search.motif.id
        agents = None if agent_ids is None else set(agent_ids)
        return [
            p for p in self.search._ranked_plages
            if motif_id in p.motif_ids
            and (lieu_id is None or p.lieu_id == lieu_id)
            and (agents is None or p.agent_id in agents)
        ]

    def occurrences(self, plage: Plage, first_day: date, last_day: date) -> Iterator[tuple[int, int]]:
        """(start, end) instants of the plage's occurrences on first_day..last_day, holidays dropped."""
        holidays = self.search.holidays
        start_time, end_time = plage.start_time, plage.end_time
        starts, ends = self.instants_at(start_time), self.instants_at(end_time)
        for day in _days(plage.first_day, plage.recurrence, first_day, last_day):
            if day not in holidays:
                yield (starts.get(day) or self._new_instant(day, start_time),
                       ends.get(day) or self._new_instant(day, end_time))

    def occurrence_list(self, plage: Plage, first_day: date, last_day: date) -> list[tuple[int, int]]:
        """`occurrences` as a list, made once per call for all the plages with the same days and times
        (the agents of a service mostly share them)."""
        key = (plage.first_day, plage.recurrence, plage.start_time, plage.end_time, first_day, last_day)
        found = self._occurrence_lists.get(key)
        if found is None:
            found = self._occurrence_lists[key] = list(self.occurrences(plage, first_day, last_day))
        return found

    def ranked_occurrences(self, rank: int, plage: Plage, first_day: date,
                           last_day: date) -> Iterator[tuple[int, int, int, Plage]]:
        for occ_start, occ_end in self.occurrences(plage, first_day, last_day):
            yield occ_start, occ_end, rank, plage

    def busy_index(self, agent_ids: set[int], first_day: date, last_day: date) -> dict[int, BusyTimes]:
        """Per agent, its RDVs and the absence occurrences meeting the local days first_day..last_day."""
        absences: dict[int, list[tuple[int, int]]] = {}
        for absence in self.search.absences:
            if absence.agent_id in agent_ids:
                absences.setdefault(absence.agent_id, []).extend(
                    self._absence_intervals(absence, first_day, last_day))
        index = {}
        rdvs_by_agent = self.search._rdvs_by_agent
        for agent_id in agent_ids:
            rdvs = rdvs_by_agent.get(agent_id, _NO_BUSY_TIMES)
            extra = absences.get(agent_id)
            index[agent_id] = rdvs.with_extra(extra) if extra else rdvs
        return index

    def _absence_intervals(self, absence: AgentAbsence, first_day: date,
                           last_day: date) -> Iterator[tuple[int, int]]:
        span = absence.end_day - absence.first_day
        # An occurrence that began before first_day may still cover it.
        for day in _days(absence.first_day, absence.recurrence, first_day - span, last_day):
            yield self.instant(day, absence.start_time), self.instant(day + span, absence.end_time)

    def free_starts(self, occ_start: int, occ_end: int, busy: BusyTimes) -> Iterator[int]:
        """Slot starts of one occurrence, in order, laid out in each free interval."""
        for free_from, free_to in self.free_intervals(occ_start, occ_end, busy):
            yield from self.layout(free_from, free_to)

    def free_intervals(self, occ_start: int, occ_end: int, busy: BusyTimes) -> Iterator[tuple[int, int]]:
        """The parts of one occurrence that no busy interval covers, in order."""
        starts, ends_so_far = busy.starts, busy.ends_so_far
        index = bisect_right(ends_so_far, occ_start)  # intervals before it all end by occ_start
        count = len(starts)
        free_from = occ_start
        while free_from < occ_end:
            if index < count and starts[index] < occ_end:
                free_to, resume = starts[index], ends_so_far[index]
                index += 1
            else:
                free_to, resume = occ_end, occ_end
            if free_to > free_from:
                yield free_from, free_to
            free_from = resume

    def layout(self, free_from: int, free_to: int) -> range:
        """Slot starts in one free interval: from its start, by the motif's duration, inside the window."""
        duration = self.duration
        start = free_from
        if start < self.now:
            start += -((start - self.now) // _ROUNDING) * _ROUNDING
        if start < self.lower:
            # Skipping whole steps keeps the grid anchored on free_from (and on the rounded start).
            start += -((start - self.lower) // duration) * duration
        last_start = free_to - duration
        if self.upper is not None and self.upper < last_start:
            last_start = self.upper
        return range(start, last_start + 1, duration)

    def slot(self, start: int, plage: Plage) -> Slot:
        starts_at, ends_at = self.span(start)
        return Slot(starts_at, ends_at, plage.agent_id, plage.lieu_id, plage.id)

    def slots(self, plages: list[Plage], keys: Iterable[int]) -> list[Slot]:
        """The slots of `keys` (start * len(plages) + rank of the plage in `plages`), in that order."""
        spans, span, count = self._spans, self.span, len(plages)
        found = []
        for key in keys:
            start, rank = divmod(key, count)
            starts_at, ends_at = spans.get(start) or span(start)
            plage = plages[rank]
            found.append(_new_slot(Slot, (starts_at, ends_at, plage.agent_id, plage.lieu_id, plage.id)))
        return found


def _days(first_day: date, recurrence: Recurrence | None, start: date, end: date) -> Iterable[date]:
    if recurrence is None:
        return (first_day,) if start <= first_day <= end else ()
    return recurrence.dates(first_day, start, end)


def _add_months(day: date, months: int) -> date:
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))
