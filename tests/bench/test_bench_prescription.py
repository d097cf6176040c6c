"""20 agents of MDS Lens prescribe the last slot of PMI Arras at the same moment, on SQLite and PostgreSQL
(issue 20): `.venv/bin/pytest tests/bench/test_bench_prescription.py --benchmark-only -s`.

One race, started by a barrier, through the usagers' booking path (`prescribe_rdv`): one RDV, 19 "Ce créneau
n'est plus disponible". Reported, not asserted: the slowest confirmation, the median, the whole race.
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

from rdv_app.db.migrate import upgrade
from rdv_app.db.uow import UnitOfWork
from rdv_app.services.rdv.lifecycle import SlotTaken, prescribe_rdv

MONDAY = date(2026, 12, 7)
NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)
AGENTS = 20


@pytest.fixture(params=["sqlite", "postgresql"])
def world(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> dict:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('prescription') / 'rdv.db'}"
    else:
        url = request.getfixturevalue("pg_cluster").create_database(
            f"rdv_bench_prescription_{abs(hash(request.node.nodeid)) % 10**6}")
    upgrade(url)
    with UnitOfWork(url) as uow:
        s = uow.session
        territory, service = make.territory(s), make.service(s)
        lens = make.organisation(s, territory, "MDS Lens", "mds-lens")
        arras = make.organisation(s, territory, "PMI Arras", "pmi-arras")
        prescribers = [make.agent(s, f"agent{i}@lens.test", "Agent", f"N{i}", organisation=lens, services=[service])
                       for i in range(AGENTS)]
        julien = make.agent(s, "julien@arras.test", "Julien", "Petit", organisation=arras, services=[service])
        lieu = make.lieu(s, arras)
        motif = make.motif(s, arras, service, bookable_by="agents_and_prescripteurs")
        make.plage(s, julien, arras, lieu, [motif], title="Permanence", first_day=MONDAY,
                   start_time=clock_time(9), end_time=clock_time(9, 30), created_at=NOW - timedelta(days=10))
        usagers = [make.usager(s, f"Usager{i}", "Durand", organisations=[lens]) for i in range(AGENTS)]
        uow.commit()
        return {"url": url, "lens": lens.id, "motif": motif.id, "lieu": lieu.id, "database": request.param,
                "agents": [a.id for a in prescribers], "usagers": [u.id for u in usagers]}


def _race(world: dict) -> tuple[list[float], float, int]:
    barrier = threading.Barrier(AGENTS)
    took: list[float] = [0.0] * AGENTS
    booked = [0]
    lock = threading.Lock()

    def confirm(index: int) -> None:
        barrier.wait()
        began = time.perf_counter()
        try:
            with UnitOfWork(world["url"]) as uow:
                prescribe_rdv(uow, world["agents"][index], world["lens"], usager_id=world["usagers"][index],
                              motif_id=world["motif"], starts_at=at_paris(MONDAY, 9), lieu_id=world["lieu"],
                              booking_key=f"race-{index}", now=NOW)
            with lock:
                booked[0] += 1
        except SlotTaken:
            pass
        finally:
            took[index] = time.perf_counter() - began

    threads = [threading.Thread(target=confirm, args=(i,)) for i in range(AGENTS)]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    return took, time.perf_counter() - began, booked[0]


def test_twenty_agents_prescribe_the_last_slot_at_once(benchmark, world: dict) -> None:
    took, whole, booked = benchmark.pedantic(_race, args=(world,), rounds=1)
    print(f"\n{world['database']:<10} 20 prescriptions of the last slot: {booked} RDV; slowest confirmation "
          f"{max(took):.2f} s, median {statistics.median(took):.2f} s, whole race {whole:.2f} s")
    assert booked == 1
