"""Benchmarks of the slot engine alone (no database): `make bench`, or
`.venv/bin/pytest tests/bench --benchmark-only`.

Targets from issue 3, reported rather than asserted (speed is never a test assertion):
- 20 agents, 2 weekly plages each on 5 days, 31 days, 5,000 RDVs and 200 absences: median <= 20 ms;
- doubling agents and RDVs at most doubles the time (the ratio is printed);
- next availability over a 6-month horizon (and, as a guide for the service layer, for 50 lieux).
Each measured call starts from the loaded inputs: building the `SlotSearch` is part of it.
The data is built deterministically (fixed seeds, fixed dates).
"""

from __future__ import annotations

import random
import statistics
import time as clock
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from rdv_app.domain.off_days import holidays_between
from rdv_app.domain.recurrence import Recurrence
from rdv_app.domain.slots import (
    AgentAbsence,
    BusyInterval,
    Plage,
    Searcher,
    SlotMotif,
    SlotSearch,
    displayed_slots,
    next_availability,
)

PARIS = ZoneInfo("Europe/Paris")
NOW = datetime(2025, 6, 1, 8, 0, tzinfo=PARIS)  # a Sunday
FIRST_DAY = date(2025, 6, 2)
LAST_DAY = FIRST_DAY + timedelta(days=30)  # 31 days
MOTIF = SlotMotif(id=1, duration_in_min=30, min_booking_delay=1800, max_booking_delay=7_889_238)
WEEKDAYS = Recurrence.weekly((0, 1, 2, 3, 4))
SIX_MONTHS_LAST_DAY = date(2025, 12, 1)


def _plages(agent_count: int) -> tuple[Plage, ...]:
    plages = []
    for agent_id in range(1, agent_count + 1):
        for half, (start, end) in enumerate(((time(9), time(12)), (time(13, 30), time(17, 30)))):
            plage_id = agent_id * 2 + half
            plages.append(Plage(
                id=plage_id, agent_id=agent_id, lieu_id=1, motif_ids=frozenset({MOTIF.id}),
                first_day=date(2025, 1, 6), start_time=start, end_time=end, recurrence=WEEKDAYS,
                created_at=datetime(2025, 1, 1, tzinfo=UTC) + timedelta(minutes=plage_id),
            ))
    return tuple(plages)


def _local(day: date, at: time) -> datetime:
    return datetime.combine(day, at, tzinfo=PARIS).astimezone(UTC)


def _agent_rdvs(agent_id: int, count: int, rng: random.Random) -> list[BusyInterval]:
    """RDVs of 20 to 45 minutes at 5-minute positions between 8:00 and 18:00 on the 31 days."""
    rdvs = []
    for _ in range(count):
        day = FIRST_DAY + timedelta(days=rng.randrange(31))
        start = _local(day, time(8)) + timedelta(minutes=5 * rng.randrange(120))
        rdvs.append(BusyInterval(agent_id, start, start + timedelta(minutes=rng.choice((20, 30, 45)))))
    return rdvs


def _agent_absences(agent_id: int, count: int, rng: random.Random) -> list[AgentAbsence]:
    """Mostly one-off absences of 1 to 3 hours; one in eight lasts three days, one in eight is
    every other week."""
    absences = []
    for index in range(count):
        day = FIRST_DAY + timedelta(days=rng.randrange(31))
        start = time(rng.choice((9, 10, 14, 15)))
        if index % 8 == 6:
            absences.append(AgentAbsence(agent_id, day, time(8), day + timedelta(days=2), time(19)))
        elif index % 8 == 7:
            absences.append(AgentAbsence(agent_id, day, start, day, time(start.hour + 2),
                                         Recurrence.weekly(interval=2)))
        else:
            absences.append(AgentAbsence(agent_id, day, start, day, time(start.hour + rng.choice((1, 2, 3)))))
    return absences


def build_search(agent_count: int, rdv_count: int, searcher: Searcher = Searcher.AGENT,
                 absence_count: int = 200) -> SlotSearch:
    """RDVs and absences shared evenly; each agent draws from its own seed, so that the first 20 agents
    of a larger search have exactly the data of the 20-agent one."""
    rdvs: list[BusyInterval] = []
    absences: list[AgentAbsence] = []
    for agent_id in range(1, agent_count + 1):
        rng = random.Random(agent_id)
        absences += _agent_absences(agent_id, absence_count // agent_count, rng)
        rdvs += _agent_rdvs(agent_id, rdv_count // agent_count, rng)
    return SlotSearch(
        motif=MOTIF,
        plages=_plages(agent_count),
        absences=tuple(absences),
        busy=tuple(rdvs),
        holidays=holidays_between("75", FIRST_DAY, SIX_MONTHS_LAST_DAY),
        time_zone=PARIS,
        now=NOW,
        searcher=searcher,
    )


def _interleaved_medians(functions, rounds: int) -> list[float]:
    """Median seconds of each function, timed in alternation so that machine noise hits all alike."""
    timings: list[list[float]] = [[] for _ in functions]
    for _ in range(rounds):
        for function, runs in zip(functions, timings, strict=True):
            started = clock.perf_counter()
            function()
            runs.append(clock.perf_counter() - started)
    return [statistics.median(runs) for runs in timings]


def _display(search: SlotSearch):
    """From the loaded inputs to the slots shown: building the search (grouping and sorting the RDVs
    per agent) is part of the measured work."""
    return displayed_slots(replace(search), FIRST_DAY, LAST_DAY)


def test_engine_20_agents_31_days(benchmark):
    slots = benchmark(_display, build_search(20, 5000))
    benchmark.extra_info["slots"] = len(slots)
    assert len({(s.starts_at, s.agent_id) for s in slots}) == len(slots) > 1000


def test_engine_20_agents_31_days_for_usager(benchmark):
    slots = benchmark(_display, build_search(20, 5000, Searcher.USAGER))
    benchmark.extra_info["slots"] = len(slots)
    assert len({s.starts_at for s in slots}) == len(slots) > 100


def test_growth_doubling_agents_and_rdvs(benchmark, capsys):
    small = build_search(20, 5000)
    doubled = build_search(40, 10_000)  # the 200 absences stay: each agent has half as many
    proportional = build_search(40, 10_000, absence_count=400)  # every agent as loaded as before
    searches = (small, doubled, proportional)
    medians = _interleaved_medians([lambda search=search: _display(search) for search in searches], rounds=40)
    counts = [len(_display(search)) for search in searches]
    ratio, proportional_ratio = medians[1] / medians[0], medians[2] / medians[0]
    benchmark.extra_info.update(
        small_ms=medians[0] * 1000, doubled_ms=medians[1] * 1000, proportional_ms=medians[2] * 1000,
        ratio=ratio, proportional_ratio=proportional_ratio, slot_counts=counts,
    )
    with capsys.disabled():
        print(f"\ngrowth: 20 agents/5,000 RDVs/200 absences {medians[0] * 1000:.2f} ms ({counts[0]} slots); "
              f"40 agents/10,000 RDVs/200 absences {medians[1] * 1000:.2f} ms ({counts[1]} slots), "
              f"ratio {ratio:.2f}; 40 agents/10,000 RDVs/400 absences {medians[2] * 1000:.2f} ms "
              f"({counts[2]} slots), ratio {proportional_ratio:.2f}")
    slots = benchmark(_display, doubled)
    assert len(slots) == counts[1] > counts[0]


def test_next_availability_soon(benchmark):
    search = build_search(20, 5000, Searcher.USAGER)
    slot = benchmark(lambda: next_availability(replace(search)))
    assert slot is not None and slot.starts_at.astimezone(PARIS).date() == FIRST_DAY


def _fully_booked_until(until: date) -> SlotSearch:
    """Every plage occurrence of the 20 agents is taken by hour-long RDVs up to `until`: the next
    availability lies about five months ahead, near the end of the six-month agent horizon."""
    plages = _plages(20)
    rdvs = []
    day = FIRST_DAY
    while day < until:
        if day.weekday() < 5:
            for plage in plages:
                start = _local(day, plage.start_time)
                end = _local(day, plage.end_time)
                while start < end:
                    rdvs.append(BusyInterval(plage.agent_id, start, min(start + timedelta(hours=1), end)))
                    start += timedelta(hours=1)
        day += timedelta(days=1)
    absences = [a for agent_id in range(1, 21) for a in _agent_absences(agent_id, 10, random.Random(agent_id))]
    return SlotSearch(
        motif=MOTIF, plages=plages, absences=tuple(absences), busy=tuple(rdvs),
        holidays=holidays_between("75", FIRST_DAY, SIX_MONTHS_LAST_DAY), time_zone=PARIS, now=NOW,
        searcher=Searcher.AGENT,
    )


def test_next_availability_six_month_horizon(benchmark):
    until = date(2025, 11, 3)
    search = _fully_booked_until(until)
    slot = benchmark(lambda: next_availability(replace(search)))
    benchmark.extra_info["rdvs"] = len(search.busy)
    assert slot is not None
    assert slot.starts_at.astimezone(PARIS).date() == until


def test_next_availability_of_50_lieux_from_one_search(benchmark):
    """The lieu list of "Trouver un RDV": 50 lieux with 2 agents each, one search built once, one next
    availability per lieu."""
    search = build_search(100, 10_000)
    lieux = [
        replace(plage, lieu_id=(plage.agent_id - 1) // 2 + 1) for plage in search.plages
    ]
    search = replace(search, plages=tuple(lieux))

    def all_lieux():
        shared = replace(search)
        return [next_availability(shared, lieu_id=lieu_id) for lieu_id in range(1, 51)]

    found = benchmark(all_lieux)
    assert all(slot is not None and slot.lieu_id == lieu_id for lieu_id, slot in enumerate(found, start=1))
