"""50 usagers confirm at the same moment, on SQLite and PostgreSQL (issue 16: SQLite's 30 s lock limit left
little margin, 21 s for 50 simultaneous bookings): `make bench`, or
`.venv/bin/pytest tests/bench/test_bench_concurrent_bookings.py --benchmark-only -s`.

Two races, each started by a barrier: 50 confirmations of one start that two agents offer (two RDVs, 48
"créneau plus disponible"),
and 50 confirmations of 50 different slots of two agents (50 RDVs). Reported, not asserted: the slowest
confirmation against the database's limit (RDV_SQLITE_BUSY_TIMEOUT, 30 s by default), the median, and
the whole race.
"""

from __future__ import annotations

import statistics
import threading
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time

import factories as make
import pytest
from factories import at_paris

from rdv_app.auth import rate_limit
from rdv_app.db.engine import sqlite_busy_timeout
from rdv_app.db.migrate import upgrade
from rdv_app.db.uow import UnitOfWork
from rdv_app.services.rdv.lifecycle import SlotTaken, book_rdv

MONDAY = date(2026, 12, 7)
NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)
USAGERS = 50


@pytest.fixture(params=["sqlite", "postgresql"])
def world(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> dict:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('race') / 'rdv.db'}"
    else:
        url = request.getfixturevalue("pg_cluster").create_database(f"rdv_bench_race_{abs(hash(request.node.nodeid)) % 10**6}")
    upgrade(url)
    with UnitOfWork(url) as uow:
        s = uow.session
        service = make.service(s)
        org = make.organisation(s, make.territory(s))
        agents = [make.agent(s, f"agent{i}@demo.test", "Agent", f"N{i}", organisation=org, services=[service])
                  for i in range(2)]
        lieu = make.lieu(s, org)
        motif = make.motif(s, org, service, default_duration_in_min=10, bookable_by="everyone",
                           min_public_booking_delay=1800, max_public_booking_delay=30 * 86400)
        for agent in agents:
            make.plage(s, agent, org, lieu, [motif], title="Permanence", first_day=MONDAY,
                       start_time=clock_time(8), end_time=clock_time(18), created_at=NOW - timedelta(days=10))
        usagers = [make.usager(s, f"Usager{i}", "Durand", email=f"usager{i}@demo.test",
                               created_through="user_sign_up") for i in range(USAGERS)]
        uow.commit()
        return {"url": url, "motif": motif.id, "lieu": lieu.id, "usagers": [u.id for u in usagers],
                "database": request.param}


def _race(world: dict, starts: Callable[[int], datetime]) -> tuple[list[float], float, int]:
    rate_limit.reset_all()
    barrier = threading.Barrier(USAGERS)
    took: list[float] = [0.0] * USAGERS
    booked = [0]
    lock = threading.Lock()

    def confirm(index: int) -> None:
        barrier.wait()
        began = time.perf_counter()
        try:
            with UnitOfWork(world["url"]) as uow:
                book_rdv(uow, world["usagers"][index], motif_id=world["motif"], starts_at=starts(index),
                         lieu_id=world["lieu"], booking_key=f"race-{index}-{starts(index).isoformat()}", now=NOW)
            with lock:
                booked[0] += 1
        except SlotTaken:
            pass
        finally:
            took[index] = time.perf_counter() - began

    threads = [threading.Thread(target=confirm, args=(i,)) for i in range(USAGERS)]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    return took, time.perf_counter() - began, booked[0]


def _report(world: dict, label: str, took: list[float], whole: float, booked: int) -> None:
    limit = sqlite_busy_timeout() if world["database"] == "sqlite" else None
    print(f"\n{world['database']:<10} {label}: {booked} RDV; slowest confirmation {max(took):.2f} s, "
          f"median {statistics.median(took):.2f} s, whole race {whole:.2f} s"
          + (f" (SQLite's limit: {limit:.0f} s)" if limit else ""))


def test_fifty_usagers_confirm_one_slot_at_once(benchmark, world: dict) -> None:
    took, whole, booked = benchmark.pedantic(_race, args=(world, lambda _index: at_paris(MONDAY, 9)), rounds=1)
    _report(world, "50 confirmations of one slot", took, whole, booked)
    assert booked == 2  # the slot of each agent's plage, then it is gone


def test_fifty_usagers_confirm_fifty_slots_at_once(benchmark, world: dict) -> None:
    # Two usagers per start, one for each agent's plage.
    took, whole, booked = benchmark.pedantic(
        _race, args=(world, lambda index: at_paris(MONDAY, 8) + timedelta(minutes=10 * (index // 2))), rounds=1)
    _report(world, "50 confirmations of 50 slots", took, whole, booked)
    assert booked == USAGERS
