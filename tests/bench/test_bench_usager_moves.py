"""20 usagers move their RDVs to one slot at the same moment, on SQLite and PostgreSQL (issue 28, "Changer
la date"): `.venv/bin/pytest tests/bench/test_bench_usager_moves.py --benchmark-only -s`.

Each usager booked an RDV of their own on Monday; all 20 then confirm the same Tuesday start, which one
agent offers: one move wins, 19 are told "Ce créneau n'est plus disponible", and the 20 RDVs stay 20.
Reported, not asserted: the slowest confirmation against SQLite's lock limit, the median, the whole race.
"""

from __future__ import annotations

import statistics
import threading
import time
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time

import factories as make
import pytest
from factories import at_paris
from sqlmodel import func, select

from rdv_app.auth import rate_limit
from rdv_app.db.engine import sqlite_busy_timeout
from rdv_app.db.migrate import upgrade
from rdv_app.db.models import Participation, Rdv
from rdv_app.db.uow import UnitOfWork
from rdv_app.services.rdv.lifecycle import SlotTaken, book_rdv
from rdv_app.services.usagers import usager_rdvs

MONDAY = date(2026, 12, 7)
NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)
USAGERS = 20


@pytest.fixture(params=["sqlite", "postgresql"])
def world(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> dict:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('moves') / 'rdv.db'}"
    else:
        url = request.getfixturevalue("pg_cluster").create_database(f"rdv_bench_moves_{abs(hash(request.node.nodeid)) % 10**6}")
    upgrade(url)
    with UnitOfWork(url) as uow:
        s = uow.session
        service = make.service(s)
        org = make.organisation(s, make.territory(s))
        agent = make.agent(s, "agent@demo.test", "Agent", "Unique", organisation=org, services=[service])
        lieu = make.lieu(s, org)
        motif = make.motif(s, org, service, default_duration_in_min=10, bookable_by="everyone",
                           min_public_booking_delay=1800, max_public_booking_delay=30 * 86400)
        make.plage(s, agent, org, lieu, [motif], title="Permanence", first_day=MONDAY, start_time=clock_time(8),
                   end_time=clock_time(18), recurrence={"every": "week", "on": ["monday", "tuesday"]},
                   created_at=NOW - timedelta(days=10))
        usagers = [make.usager(s, f"Usager{i}", "Durand", email=f"usager{i}@demo.test",
                               created_through="user_sign_up") for i in range(USAGERS)]
        uow.commit()
        ids = [u.id for u in usagers]
    rate_limit.reset_all()
    participations = []
    for index, usager in enumerate(ids):
        with UnitOfWork(url) as uow:
            rdv_id = book_rdv(uow, usager, motif_id=motif.id, starts_at=_monday(index), lieu_id=lieu.id,  # type: ignore[arg-type]
                              booking_key=f"book-{index}", now=NOW).rdv_id
            participations.append(uow.session.exec(select(Participation.id).where(Participation.rdv_id == rdv_id)).one())
    return {"url": url, "usagers": ids, "participations": participations, "database": request.param}


def _monday(index: int) -> datetime:
    return at_paris(MONDAY, 8) + timedelta(minutes=10 * index)


def _race(world: dict) -> tuple[list[float], float, int]:
    barrier = threading.Barrier(USAGERS)
    took: list[float] = [0.0] * USAGERS
    moved = [0]
    lock = threading.Lock()
    target = at_paris(MONDAY + timedelta(days=1), 9)

    def confirm(index: int) -> None:
        barrier.wait()
        began = time.perf_counter()
        try:
            with UnitOfWork(world["url"]) as uow:
                usager_rdvs.move(uow, world["usagers"][index], world["participations"][index], starts_at=target,
                                 from_starts_at=_monday(index), now=NOW)
            with lock:
                moved[0] += 1
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
    return took, time.perf_counter() - began, moved[0]


def test_twenty_usagers_move_to_one_slot_at_once(benchmark, world: dict) -> None:
    took, whole, moved = benchmark.pedantic(_race, args=(world,), rounds=1)
    limit = sqlite_busy_timeout() if world["database"] == "sqlite" else None
    print(f"\n{world['database']:<10} 20 moves to one slot: {moved} moved; slowest confirmation {max(took):.2f} s, "
          f"median {statistics.median(took):.2f} s, whole race {whole:.2f} s"
          + (f" (SQLite's limit: {limit:.0f} s)" if limit else ""))
    assert moved == 1
    with UnitOfWork(world["url"]) as uow:
        assert uow.session.exec(select(func.count()).select_from(Rdv)).one() == USAGERS
