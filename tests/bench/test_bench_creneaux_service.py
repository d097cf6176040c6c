"""Benchmarks of the agents' "Trouver un RDV" at the service level, queries included, on SQLite and on
PostgreSQL: `.venv/bin/pytest tests/bench/test_bench_creneaux_service.py --benchmark-only -q -s`.

Targets from issue 3, reported rather than asserted (speed is never a test assertion; the results are):
- a week of slots (`creneaux.find_week`) on the engine benchmark's data: one motif, 20 agents with two
  weekly plages on 5 days, 31 days of RDVs (5,000, some in another organisation, ~10% cancelled) and
  200 absences, searched by an admin of the organisation: p95 <= 100 ms on each database;
- the next availability of the 50 lieux of a territory, for an agent (`creneaux.lieux_availability`):
  <= 300 ms, and for an usager choosing a motif without a lieu (`public_search.lieux`, the issue "Faster
  than RDV Service Public on every database"): p95 <= 150 ms. The
  organisation has 75 agents (two for every other lieu); each lieu's plages are all taken until a day 0 to
  70 days ahead (a different one per lieu), then lightly booked for four months: about 19,400 RDVs in the
  six-month horizon, all loaded by the search.
Each measured call is a whole use case: a unit of work is opened, the rights are checked, the inputs are
loaded, the engine runs and the views are built. The median and the p95 (nearest rank over the raw
timings) are printed and stored in `extra_info`. The data is built once per database, deterministically
(fixed seeds, fixed dates, a fixed `now`), with bulk Core inserts.
"""

from __future__ import annotations

import math
import random
import statistics
import time as clock
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from bench.bench_report import record_ratio
from factories import PARIS, at_paris, insert_rows

from rdv_app.db.engine import get_engine
from rdv_app.db.migrate import upgrade
from rdv_app.db.models import (
    Absence,
    Agent,
    AgentRole,
    AgentService,
    Lieu,
    Motif,
    Organisation,
    PlageOuverture,
    PlageOuvertureMotif,
    Rdv,
    RdvAgent,
    Service,
    Territory,
)
from rdv_app.db.uow import UnitOfWork
from rdv_app.domain.off_days import holidays_between
from rdv_app.domain.recurrence import Recurrence
from rdv_app.services.availability import creneaux
from rdv_app.services.online_booking import public_search

NOW = datetime(2026, 3, 1, 11, 0, tzinfo=UTC)  # Sunday 1 March 2026, noon in Paris
TODAY = date(2026, 3, 1)
FIRST_DAY = date(2026, 3, 2)  # the 31 days of RDVs: Monday 2 March to Wednesday 1 April (DST on 29 March)
DAYS = 31
WEEK_START = date(2026, 3, 9)  # the searched week, inside the 31 days
CREATED = datetime(2026, 1, 1, tzinfo=UTC)
WEEKDAYS = Recurrence.weekly((0, 1, 2, 3, 4)).to_json()
HALVES = ((9, 12), (14, 17))  # the two weekly plages of every agent, local times
AGENTS = 20
RDVS_PER_AGENT = 250  # 5,000 in all
ABSENCES_PER_AGENT = 10  # 200 in all
LIEUX = 50
BOOKED_AFTER_DAYS = 120  # territory: sparse RDVs after each lieu's next availability, for this long
ROUNDS = 50
CANCELLED = ("excused", "revoked")


@dataclass
class World:
    url: str
    database: str
    admin: int
    org: int
    motif: int
    busy: dict[int, list[tuple[datetime, datetime]]]  # non-cancelled RDVs of the 20 agents, by agent
    cancelled: dict[int, list[tuple[datetime, datetime]]]  # and their cancelled ones
    absences: dict[int, list[dict[str, Any]]]  # the 20 agents' absence rows
    territory_org: int
    territory_motif: int
    expected_next: dict[int, datetime]  # lieu id -> its next slot
    lieu_names: dict[int, str]
    sizes: dict[str, int] = field(default_factory=dict)


def _uuid(counter: Iterator[int]) -> str:
    return str(uuid.UUID(int=next(counter)))


def _rdv_row(org: int, motif: int, lieu: int | None, start: datetime, end: datetime, counter: Iterator[int],
             status: str = "unknown") -> dict[str, Any]:
    return {"uuid": _uuid(counter), "organisation_id": org, "motif_id": motif, "lieu_id": lieu,
            "starts_at": start, "ends_at": end, "status": status,
            "cancelled_at": start - timedelta(days=1) if status in CANCELLED else None,
            "created_at": CREATED, "updated_at": CREATED}


def _plage_rows(agent: int, org: int, lieu: int, counter: Iterator[int]) -> list[dict[str, Any]]:
    return [{"agent_id": agent, "organisation_id": org, "lieu_id": lieu, "title": "Permanence",
             "first_day": date(2026, 1, 5), "start_time": time(start), "end_time": time(end),
             "recurrence": WEEKDAYS, "recurrence_until": None,
             "created_at": CREATED + timedelta(seconds=next(counter)), "updated_at": CREATED}
            for start, end in HALVES]


def _half_day(rng: random.Random, day: date, start_hour: int,
              count: int) -> Iterator[tuple[datetime, datetime]]:
    """`count` RDVs of 15 to 30 minutes in a 3-hour plage, on the 5-minute grid, without overlaps."""
    durations = [rng.choice((15, 20, 25, 30)) for _ in range(count)]
    free_units = (180 - sum(durations)) // 5
    cuts = sorted(rng.randint(0, free_units) for _ in range(count))
    gaps = [b - a for a, b in zip([0, *cuts], cuts, strict=False)]
    minute = 0
    for gap, duration in zip(gaps, durations, strict=True):
        minute += 5 * gap
        start = at_paris(day, start_hour) + timedelta(minutes=minute)
        yield start, start + timedelta(minutes=duration)
        minute += duration


def _absence_rows(rng: random.Random, agent: int, working_days: list[date]) -> list[dict[str, Any]]:
    """Mostly one-off absences of 1 or 2 hours; one whole day; one every other week."""
    rows = []
    for index in range(ABSENCES_PER_AGENT):
        day = rng.choice(working_days)
        row = {"agent_id": agent, "title": "Indisponibilité", "first_day": day, "end_day": day,
               "recurrence": None, "recurrence_until": None, "created_at": CREATED, "updated_at": CREATED}
        if index == ABSENCES_PER_AGENT - 1:
            row |= {"start_time": time(14), "end_time": time(15),
                    "recurrence": Recurrence.weekly((day.weekday(),), interval=2).to_json()}
        elif index == ABSENCES_PER_AGENT - 2:
            row |= {"start_time": time(8), "end_time": time(19)}
        else:
            start = rng.choice((9, 10, 11, 14, 15))
            row |= {"start_time": time(start), "end_time": time(start + rng.choice((1, 2)))}
        rows.append(row)
    return rows


def _working_days(first: date, last: date, holidays: frozenset[date]) -> list[date]:
    days = (first + timedelta(days=n) for n in range((last - first).days + 1))
    return [d for d in days if d.weekday() < 5 and d not in holidays]


def _build(url: str, database: str) -> World:
    engine = get_engine(url)
    counter = iter(range(1, 10**9))
    holidays = holidays_between("62", TODAY, TODAY + timedelta(days=200))
    sizes: dict[str, int] = {}
    with engine.begin() as conn:
        (territory,) = insert_rows(conn, Territory, [{"departement_number": "62", "name": "Pas-de-Calais",
                                                  "created_at": CREATED}], ids=True)
        (service,) = insert_rows(conn, Service, [{"name": "PMI", "short_name": "PMI"}], ids=True)
        org, other, territory_org = insert_rows(conn, Organisation, [
            {"territory_id": territory, "name": name, "slug": slug, "timezone": "Europe/Paris",
             "created_at": CREATED, "updated_at": CREATED}
            for name, slug in (("PMI Arras", "pmi-arras"), ("MDS Lens", "mds-lens"),
                               ("Territoire Artois", "territoire-artois"))
        ], ids=True)
        motif, other_motif, territory_motif = insert_rows(conn, Motif, [
            {"organisation_id": o, "service_id": service, "name": "Consultation",
             "default_duration_in_min": 30, "created_at": CREATED, "updated_at": CREATED}
            for o in (org, other, territory_org)
        ], ids=True)

        # --- the engine benchmark's data, in the organisation "PMI Arras"
        agent_rows = [{"email": "admin@bench.test", "first_name": "Camille", "last_name": "Admin"}]
        agent_rows += [{"email": f"agent{n:02d}@bench.test", "first_name": "Agent",
                        "last_name": f"Numéro {n:02d}"} for n in range(AGENTS)]
        admin, *agents = insert_rows(conn, Agent, [r | {"created_at": CREATED, "updated_at": CREATED}
                                               for r in agent_rows], ids=True)
        lieux = insert_rows(conn, Lieu, [{"organisation_id": org, "name": f"Centre {n}",
                                      "address": f"{n} rue A, Arras", "created_at": CREATED}
                                     for n in (1, 2)], ids=True)
        roles = [{"agent_id": admin, "organisation_id": o, "access_level": "admin", "created_at": CREATED}
                 for o in (org, territory_org)]
        roles += [{"agent_id": a, "organisation_id": org, "access_level": "basic", "created_at": CREATED}
                  for a in agents]
        roles += [{"agent_id": a, "organisation_id": other, "access_level": "basic", "created_at": CREATED}
                  for a in agents[::4]]
        services = [{"agent_id": a, "service_id": service} for a in [admin, *agents]]
        plage_rows = [row for n, a in enumerate(agents) for row in _plage_rows(a, org, lieux[n % 2], counter)]

        working_days = _working_days(FIRST_DAY, FIRST_DAY + timedelta(days=DAYS - 1), holidays)
        rdv_rows: list[dict[str, Any]] = []
        rdv_agents: list[int] = []
        absence_rows: list[dict[str, Any]] = []
        busy: dict[int, list[tuple[datetime, datetime]]] = {a: [] for a in agents}
        cancelled: dict[int, list[tuple[datetime, datetime]]] = {a: [] for a in agents}
        for n, agent in enumerate(agents):
            rng = random.Random(n)
            base, extra = divmod(RDVS_PER_AGENT, len(working_days))
            fuller = set(rng.sample(working_days, extra))
            for day in working_days:
                count = base + (day in fuller)
                for (start_hour, _), half_count in zip(HALVES, (count // 2, count - count // 2), strict=True):
                    for start, end in _half_day(rng, day, start_hour, half_count):
                        index = len(rdv_rows)
                        if index % 10 == 3:  # in another organisation: busy all the same
                            row = _rdv_row(other, other_motif, None, start, end, counter)
                        elif index % 10 == 7:  # cancelled: free again
                            row = _rdv_row(org, motif, lieux[n % 2], start, end, counter,
                                           CANCELLED[index // 10 % 2])
                        else:
                            row = _rdv_row(org, motif, lieux[n % 2], start, end, counter)
                        (cancelled if row["status"] in CANCELLED else busy)[agent].append((start, end))
                        rdv_rows.append(row)
                        rdv_agents.append(agent)
            absence_rows += _absence_rows(rng, agent, working_days)
        sizes |= {"agents": len(agents), "plages": len(plage_rows), "rdvs": len(rdv_rows),
                  "cancelled": sum(r["status"] in CANCELLED for r in rdv_rows),
                  "other_org": sum(r["organisation_id"] == other for r in rdv_rows),
                  "absences": len(absence_rows)}

        # --- a territory's organisation with 50 lieux served by one or two agents each
        lieu_names = {f"Lieu {n + 1:02d}": n for n in range(LIEUX)}
        territory_lieux = insert_rows(conn, Lieu, [
            {"organisation_id": territory_org, "name": name, "address": f"{n + 1} place du Marché, Artois",
             "created_at": CREATED} for name, n in lieu_names.items()
        ], ids=True)
        served = {n: 2 if n % 2 == 0 else 1 for n in range(LIEUX)}
        territory_agents = insert_rows(conn, Agent, [
            {"email": f"lieu{n:02d}-{k}@bench.test", "first_name": "Agent", "last_name": f"Lieu {n:02d}-{k}",
             "created_at": CREATED, "updated_at": CREATED}
            for n in range(LIEUX) for k in range(served[n])
        ], ids=True)
        agents_of: dict[int, list[int]] = {}
        remaining = iter(territory_agents)
        for n in range(LIEUX):
            agents_of[n] = [next(remaining) for _ in range(served[n])]
        roles += [{"agent_id": a, "organisation_id": territory_org, "access_level": "basic",
                   "created_at": CREATED} for a in territory_agents]
        services += [{"agent_id": a, "service_id": service} for a in territory_agents]
        territory_plages = [row for n in range(LIEUX) for a in agents_of[n]
                            for row in _plage_rows(a, territory_org, territory_lieux[n], counter)]

        expected_next: dict[int, datetime] = {}
        territory_rdvs = 0
        horizon_days = _working_days(FIRST_DAY, TODAY + timedelta(days=BOOKED_AFTER_DAYS), holidays)
        for n in range(LIEUX):
            lieu = territory_lieux[n]
            # Every plage taken until a day 0 to 70 days ahead (distinct per lieu); that day's morning
            # partly taken for a third of the lieux; sparse RDVs afterwards.
            target = TODAY + timedelta(days=n * 29 % 71)
            next_day = next(d for d in horizon_days if d >= target)
            partly = n % 3 == 1
            expected_next[lieu] = at_paris(next_day, 10, 30) if partly else at_paris(next_day, 9)
            for day in horizon_days:
                if day < next_day:
                    spans = [(at_paris(day, h), at_paris(day, h + 1)) for h in (9, 10, 11, 14, 15, 16)]
                elif day == next_day:
                    spans = [(at_paris(day, 9), at_paris(day, 10, 30))] if partly else []
                else:
                    spans = [(at_paris(day, 11), at_paris(day, 11, 30)), (at_paris(day, 15), at_paris(day, 16))]
                for agent in agents_of[n]:
                    for start, end in spans:
                        rdv_rows.append(_rdv_row(territory_org, territory_motif, lieu, start, end, counter))
                        rdv_agents.append(agent)
                        territory_rdvs += 1
        sizes |= {"territory_lieux": LIEUX, "territory_agents": len(territory_agents),
                  "territory_plages": len(territory_plages), "territory_rdvs": territory_rdvs}

        insert_rows(conn, AgentRole, roles)
        insert_rows(conn, AgentService, services)
        all_plages = [*plage_rows, *territory_plages]
        plage_ids = insert_rows(conn, PlageOuverture, all_plages, ids=True)
        motif_of = {org: motif, territory_org: territory_motif}
        insert_rows(conn, PlageOuvertureMotif, [
            {"plage_ouverture_id": pid, "motif_id": motif_of[row["organisation_id"]]}
            for pid, row in zip(plage_ids, all_plages, strict=True)
        ])
        insert_rows(conn, Absence, absence_rows)
        rdv_ids = insert_rows(conn, Rdv, rdv_rows, ids=True)
        insert_rows(conn, RdvAgent, [{"rdv_id": rdv, "agent_id": agent}
                                 for rdv, agent in zip(rdv_ids, rdv_agents, strict=True)])
    if engine.dialect.name == "postgresql":
        # What autovacuum would have done after such a load: planner statistics.
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(sa.text("ANALYZE"))
    absences: dict[int, list[dict[str, Any]]] = {a: [] for a in agents}
    for row in absence_rows:
        absences[row["agent_id"]].append(row)
    return World(url=url, database=database, admin=admin, org=org, motif=motif, busy=busy,
                 cancelled=cancelled, absences=absences,
                 territory_org=territory_org, territory_motif=territory_motif, expected_next=expected_next,
                 lieu_names={territory_lieux[n]: name for name, n in lieu_names.items()}, sizes=sizes)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def world(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """A migrated database holding both benchmarks' data, built once per database for this module."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('bench-sqlite') / 'creneaux.db'}"
    else:
        url = request.getfixturevalue("pg_cluster").create_database("rdv_bench_creneaux")
    upgrade(url)
    started = clock.perf_counter()
    built = _build(url, request.param)
    print(f"\n[{request.param}] data built in {clock.perf_counter() - started:.1f} s: {built.sizes}")
    yield built
    get_engine(url).dispose()


def _report(benchmark: Any, capsys: pytest.CaptureFixture[str], label: str, world: World, target_ms: float,
            **extra: Any) -> None:
    """Median and p95 (nearest rank) of the raw timings, printed and kept in `extra_info`."""
    benchmark.extra_info.update(extra)
    if benchmark.stats is None:  # --benchmark-disable: the function ran once, nothing was timed
        return
    timings = sorted(benchmark.stats.stats.data)
    median_ms = statistics.median(timings) * 1000
    p95_ms = timings[math.ceil(0.95 * len(timings)) - 1] * 1000
    benchmark.extra_info.update(median_ms=round(median_ms, 2), p95_ms=round(p95_ms, 2), target_ms=target_ms)
    with capsys.disabled():
        print(f"\n{label} [{world.database}]: median {median_ms:.1f} ms, p95 {p95_ms:.1f} ms "
              f"(target {target_ms:.0f} ms, {len(timings)} rounds) {extra}")


def _median_and_p95(seconds: list[float]) -> tuple[float, float]:
    """Median and p95 (nearest rank) in milliseconds."""
    ordered = sorted(seconds)
    return statistics.median(ordered) * 1000, ordered[math.ceil(0.95 * len(ordered)) - 1] * 1000


Intervals = list[tuple[datetime, datetime]]


def _overlapping(slot: creneaux.SlotView, intervals: Intervals) -> Intervals:
    end = slot.starts_at + timedelta(minutes=30)
    return [(start, stop) for start, stop in intervals if start < end and slot.starts_at < stop]


def _absence_intervals(rows: list[dict[str, Any]]) -> list[tuple[datetime, datetime]]:
    """The absences' occurrences in the searched week, as instants."""
    intervals = []
    for row in rows:
        recurrence = Recurrence.from_json(row["recurrence"], row["first_day"])
        days = (recurrence.dates(row["first_day"], WEEK_START, WEEK_START + timedelta(days=6)) if recurrence
                else [row["first_day"]])
        span = row["end_day"] - row["first_day"]
        intervals += [(datetime.combine(day, row["start_time"], PARIS).astimezone(UTC),
                       datetime.combine(day + span, row["end_time"], PARIS).astimezone(UTC)) for day in days]
    return intervals


def test_find_week_20_agents(benchmark, capsys, world: World) -> None:
    """A week of slots for the organisation's motif, every agent, searched by an admin."""

    def find_week() -> creneaux.Week:
        with UnitOfWork(world.url) as uow:
            return creneaux.find_week(uow, world.admin, world.org, world.motif, WEEK_START, now=NOW)

    week = benchmark.pedantic(find_week, rounds=ROUNDS, iterations=1, warmup_rounds=2)
    slots = [slot for day in week.days for slot in day.slots]
    _report(benchmark, capsys, "find_week, 20 agents, 5,000 RDVs, 200 absences", world, 100,
            slots=len(slots), **world.sizes)
    assert week.first_day == WEEK_START and len(week.days) == 7 and week.next_availability is None
    assert len(slots) > 100
    assert {slot.agent.id for slot in slots} == set(world.busy)
    assert len({(slot.starts_at, slot.agent.id) for slot in slots}) == len(slots)
    for slot in slots:
        assert WEEK_START <= slot.day < WEEK_START + timedelta(days=7) and slot.day.weekday() < 5
        blocked = world.busy[slot.agent.id] + _absence_intervals(world.absences[slot.agent.id])
        assert not _overlapping(slot, blocked), (slot, _overlapping(slot, blocked))
    # Cancelled RDVs leave their time free.
    assert any(_overlapping(slot, world.cancelled[slot.agent.id]) for slot in slots)


def test_lieux_availability_50_lieux(benchmark, capsys, world: World) -> None:
    """The next availability of each of the territory organisation's 50 lieux, soonest first."""

    def lieux() -> list[creneaux.LieuAvailabilityView]:
        with UnitOfWork(world.url) as uow:
            return creneaux.lieux_availability(uow, world.admin, world.territory_org, world.territory_motif,
                                               now=NOW)

    found = benchmark.pedantic(lieux, rounds=ROUNDS, iterations=1, warmup_rounds=2)
    weeks_ahead = sorted({(slot - NOW).days // 7 for slot in world.expected_next.values()})
    _report(benchmark, capsys, "lieux_availability, 50 lieux", world, 300, weeks_ahead=weeks_ahead,
            agents=world.sizes["territory_agents"], rdvs=world.sizes["territory_rdvs"])
    assert len(found) == LIEUX
    assert all(view.next_slot is not None for view in found)
    starts = [view.next_slot.starts_at for view in found]  # type: ignore[union-attr]
    assert starts == sorted(starts)
    expected = sorted(world.expected_next,
                      key=lambda lieu: (world.expected_next[lieu], world.lieu_names[lieu]))
    assert [(view.lieu_id, view.next_slot.starts_at) for view in found] == [  # type: ignore[union-attr]
        (lieu, world.expected_next[lieu]) for lieu in expected
    ]
    assert all(view.next_slot.lieu_id == view.lieu_id for view in found)  # type: ignore[union-attr]


def test_public_lieux_50_lieux(benchmark, capsys, world: World) -> None:
    """An usager's list of the 50 lieux offering the territory organisation's motif, each with its next
    availability (usager delays, the motif's 3-month horizon), soonest first."""
    choice = public_search.MotifChoice(key="public_office:Consultation", name="Consultation",
                                       location_type="public_office", location_label="Sur place",
                                       motif_ids=(world.territory_motif,))

    cpu: list[float] = []  # this process's CPU time of each call: the machine's load does not count

    def lieux() -> list[public_search.LieuCard]:
        started = clock.process_time()
        with UnitOfWork(world.url, read_only=True) as uow:
            cards = public_search.lieux(uow, choice, NOW)
        cpu.append(clock.process_time() - started)
        return cards

    cards = benchmark.pedantic(lieux, rounds=ROUNDS, iterations=1, warmup_rounds=2)
    if benchmark.stats is None:  # --benchmark-disable: one call, nothing timed
        _report(benchmark, capsys, "public lieux, 50 lieux", world, 150)
    else:
        cpu_p50, cpu_p95 = _median_and_p95(cpu[2:])  # without the warm-up rounds
        _report(benchmark, capsys, "public lieux, 50 lieux", world, 150, rdvs=world.sizes["territory_rdvs"],
                cpu_p50_ms=round(cpu_p50, 1), cpu_p95_ms=round(cpu_p95, 1))
        p50, p95 = _median_and_p95(benchmark.stats.stats.data)
        record_ratio(f"next availability, 50 lieux, usager [{world.database}]",
                     f"{len(cpu) - 2} rounds; CPU of this process (the server's not counted)",
                     f"p50 {p50:.0f} ms, p95 {p95:.0f} ms; CPU p50 {cpu_p50:.0f} ms, p95 {cpu_p95:.0f} ms",
                     "p95 <= 150 ms")
    expected = sorted(world.expected_next, key=lambda lieu: (world.expected_next[lieu], world.lieu_names[lieu]))
    assert [(card.lieu_id, card.next_availability.starts_at) for card in cards] == [  # type: ignore[union-attr]
        (lieu, world.expected_next[lieu]) for lieu in expected
    ]
