"""Benchmark of "Statistiques" (issue 19): an organisation with 200,000 RDVs over two years (and another
organisation beside it with 50,000), on each database; the organisation's page (`organisation_stats`: the
rights, the counters, "RDV créés" by origin, by service and by location type per week) for an admin and
for a basic agent (whose scope adds the visibility rule), over the page's default twelve weeks and over a
whole year; and the agent's own page (`personal_stats`: the RDVs they are on, 25,000 of them for the
basic agent). Each case also reports the CPU time of the process (the median), steadier than the clock on
a shared machine.

`make bench`, or `.venv/bin/pytest tests/bench/test_bench_stats.py --benchmark-only -s`.
Measured, not asserted: the 95th percentile, for a target of 200 ms; each call is the whole use case (a
unit of work, the rights, four aggregate queries). The data is written by bulk inserts.
"""

from __future__ import annotations

import os
import random
import statistics
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa
from factories import insert_rows
from pg import Cluster

from rdv_app.db.engine import get_engine
from rdv_app.db.migrate import upgrade
from rdv_app.db.models import (
    Agent,
    AgentRole,
    AgentService,
    Motif,
    Organisation,
    Rdv,
    RdvAgent,
    Service,
    Territory,
)
from rdv_app.db.uow import UnitOfWork
from rdv_app.services.stats import organisation_stats, personal_stats

RDVS, ELSEWHERE = 200_000, 50_000
BATCH = 10_000
TARGET_MS = 200
LAST_DAY = date(2026, 12, 6)  # a Sunday
PERIODS = {"12 weeks": (LAST_DAY - timedelta(days=83), LAST_DAY), "52 weeks": (LAST_DAY - timedelta(days=363), LAST_DAY)}
STATUSES = ("seen", "seen", "seen", "excused", "revoked", "noshow", "unknown")
ORIGINS = ("agent", "agent", "usager", "usager", "prescripteur", "system")


def _rdv_rows(organisation_id: int, motifs: list[int], count: int, chance: random.Random) -> list[dict[str, object]]:
    end = datetime(2026, 12, 6, 23, tzinfo=UTC)
    rows = []
    for _ in range(count):
        starts_at = end - timedelta(minutes=30 * chance.randrange(2 * 365 * 48))
        created_at = starts_at - timedelta(hours=chance.randrange(24 * 30))
        status = chance.choice(STATUSES)
        rows.append({"uuid": f"{chance.getrandbits(128):032x}", "organisation_id": organisation_id,
                     "motif_id": chance.choice(motifs), "starts_at": starts_at,
                     "ends_at": starts_at + timedelta(minutes=30), "status": status,
                     "cancelled_at": created_at if status in ("excused", "revoked", "noshow") else None,
                     "users_count": 1, "created_by_type": chance.choice(ORIGINS), "ics_sequence": 0,
                     "created_at": created_at, "updated_at": created_at})
    return rows


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str, int, int, int]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('bench_stats') / 'bench.db'}"
    else:
        cluster: Cluster = request.getfixturevalue("pg_cluster")
        url = cluster.create_database("rdv_bench_stats")
    upgrade(url)
    with UnitOfWork(url) as uow:
        s = uow.session
        territory = Territory(departement_number="62", name="Pas-de-Calais")
        s.add(territory)
        s.flush()
        here, elsewhere = (Organisation(territory_id=territory.id, name=name, slug=name.lower())
                           for name in ("Ici", "Ailleurs"))
        pmi, social = Service(name="PMI", short_name="PMI"), Service(name="Service social", short_name="SOCIAL")
        admin = Agent(email="admin@demo.test", first_name="Camille", last_name="Martin")
        basic = Agent(email="agent@demo.test", first_name="Julien", last_name="Petit")
        s.add_all([here, elsewhere, pmi, social, admin, basic])
        s.flush()
        s.add_all([AgentRole(agent_id=admin.id, organisation_id=here.id, access_level="admin"),
                   AgentRole(agent_id=basic.id, organisation_id=here.id),
                   AgentService(agent_id=admin.id, service_id=pmi.id),
                   AgentService(agent_id=basic.id, service_id=pmi.id)])
        motifs: dict[int, list[int]] = {}
        for organisation in (here, elsewhere):
            rows = [Motif(organisation_id=organisation.id, service_id=service.id, name=f"{service.name} {kind}",
                          location_type=kind)
                    for service in (pmi, social) for kind in ("public_office", "phone", "home", "visio")]
            s.add_all(rows)
            s.flush()
            motifs[organisation.id] = [motif.id for motif in rows]  # type: ignore[misc]
        uow.commit()
        who = (admin.id, basic.id, here.id, elsewhere.id)
    chance = random.Random(19)
    engine = get_engine(url)
    with engine.begin() as conn:
        for organisation_id, total in ((who[2], RDVS), (who[3], ELSEWHERE)):
            for _batch in range(0, total, BATCH):
                ids = insert_rows(conn, Rdv, _rdv_rows(organisation_id, motifs[organisation_id], BATCH, chance),
                                  ids=True)
                # One agent per RDV; one in ten has the basic agent on it.
                insert_rows(conn, RdvAgent, [{"rdv_id": rdv_id, "agent_id": who[1] if n % 10 == 0 else who[0]}
                                             for n, rdv_id in enumerate(ids)])
    # The steady state autovacuum keeps on PostgreSQL (statistics, and the visibility map that lets the
    # covering indexes answer alone); SQLite's planner statistics.
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(sa.text("VACUUM ANALYZE" if request.param == "postgresql" else "ANALYZE"))
    return request.param, url, who[0], who[1], who[2]


@pytest.mark.parametrize("period", list(PERIODS))
@pytest.mark.parametrize("role", ["admin", "basic"])
def test_bench_organisation_stats(benchmark, database: tuple[str, str, int, int, int], role: str,
                                  period: str) -> None:
    name, url, admin_id, basic_id, organisation_id = database
    agent_id = admin_id if role == "admin" else basic_id
    first, last = PERIODS[period]
    _measure(benchmark, f"organisation stats, {role}, {period}", name, url, lambda uow: organisation_stats(
        uow, agent_id, organisation_id, first, last).by_origin.total)


@pytest.mark.parametrize("period", list(PERIODS))
def test_bench_personal_stats(benchmark, database: tuple[str, str, int, int, int], period: str) -> None:
    name, url, _admin_id, basic_id, organisation_id = database
    first, last = PERIODS[period]
    _measure(benchmark, f"personal stats, basic, {period}", name, url, lambda uow: personal_stats(
        uow, basic_id, organisation_id, first, last).by_origin.total)


def _measure(benchmark, case: str, name: str, url: str, compute: Callable[[UnitOfWork], int]) -> None:
    totals: list[int] = []
    cpu: list[float] = []

    def run() -> None:
        started = time.process_time()
        with UnitOfWork(url, read_only=True) as uow:
            totals.append(compute(uow))
        cpu.append(time.process_time() - started)

    benchmark.pedantic(run, rounds=30, iterations=1, warmup_rounds=2)
    timings = sorted(benchmark.stats.stats.data)
    p95 = statistics.quantiles(timings, n=20)[-1] * 1000
    assert min(totals) > 0
    print(f"\n{case} ({name}, {RDVS} RDVs in the organisation, {ELSEWHERE} beside): "
          f"p95 {p95:.1f} ms, median {benchmark.stats['median'] * 1000:.1f} ms, target {TARGET_MS} ms; "
          f"CPU median {statistics.median(cpu[2:]) * 1000:.1f} ms; {totals[-1]} RDVs created in the period; "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
