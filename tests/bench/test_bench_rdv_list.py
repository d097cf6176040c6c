"""Benchmarks of "Liste des RDV" and its export (issue 19), on each database: 200,000 RDVs in the agents'
organisation over 400 days (and 20,000 in another one), each with an agent and an usager.

- a page of the list (`search_rdvs`: rights, count up to 1,000, page of 10) as an admin and as a basic agent
  (the visibility rule), with no filter, each filter (agent, lieu, motif, statut, période, usager) and two
  organisations, on page 1 and on deep pages (reached by their first RDV, as "Page suivante" does): the
  95th percentile of each, for a target of 50 ms, and the CPU time of this process (all of SQLite's work,
  PostgreSQL's client side only), which a machine loaded by other work does not inflate as much;
- an export of 100,000 of those RDVs (`build_next_export`, as the worker runs it): its time and the growth
  of the process's resident memory while it runs (sampled every 20 ms), for targets of 60 s and 50 MiB.

`make bench`, or `.venv/bin/pytest tests/bench/test_bench_rdv_list.py --benchmark-only -s`. Measured, not
asserted; each call is a whole use case in its own unit of work.
"""

from __future__ import annotations

import os
import statistics
import threading
import time
import uuid
from datetime import UTC, date, datetime, timedelta

import psutil
import pytest
import sqlalchemy as sa
from factories import insert_rows
from pg import Cluster
from sqlmodel import col, select

from rdv_app.db.engine import get_engine
from rdv_app.db.migrate import upgrade
from rdv_app.db.models import (
    Agent,
    AgentRole,
    AgentService,
    Export,
    Lieu,
    Motif,
    Organisation,
    Participation,
    Rdv,
    RdvAgent,
    Service,
    Territory,
    Usager,
    UsagerProfile,
)
from rdv_app.db.uow import UnitOfWork
from rdv_app.domain import clock
from rdv_app.domain.rdv_list import RdvFilters
from rdv_app.services.rdv import rdv_export, rdv_search
from rdv_app.services.rdv.rdv_search import Cursor, search_rdvs

RDVS = 200_000
OTHER_RDVS = 20_000
USAGERS = 20_000
DAYS = 400
BATCH = 10_000
FIRST_DAY = date(2026, 1, 5)
NOW = datetime(2026, 9, 1, 10, 0, tzinfo=UTC)
TARGET_MS = 50
EXPORTED = 100_000
STATUSES = ("seen", "seen", "seen", "excused", "revoked", "noshow", "unknown")


def _rdv_rows(organisation_id: int, motifs: list[int], lieux: list[int | None], start: int, count: int,
              total: int) -> list[dict[str, object]]:
    """RDVs `start` to `start + count` of `total` spread evenly over DAYS days, between 7:00 and 17:00 UTC."""
    rows = []
    per_day = total // DAYS
    for n in range(start, start + count):
        day, slot = divmod(n, per_day)
        starts_at = datetime.combine(FIRST_DAY + timedelta(days=day % DAYS), datetime.min.time(), UTC) \
            + timedelta(hours=7, minutes=(slot * 2) % 600)
        status = STATUSES[n % len(STATUSES)]
        rows.append({"uuid": str(uuid.uuid4()), "organisation_id": organisation_id, "motif_id": motifs[n % len(motifs)],
                     "lieu_id": lieux[n % len(lieux)],
                     "starts_at": starts_at, "ends_at": starts_at + timedelta(minutes=30), "status": status,
                     "cancelled_at": NOW if status in ("excused", "revoked", "noshow") else None,
                     "users_count": 1, "created_by_type": "agent", "ics_sequence": 0,
                     "created_at": starts_at - timedelta(days=10), "updated_at": starts_at - timedelta(days=10)})
    return rows


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str, dict[str, int]]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('bench_rdv_list') / 'bench.db'}"
    else:
        cluster: Cluster = request.getfixturevalue("pg_cluster")
        url = cluster.create_database("rdv_bench_rdv_list")
    upgrade(url)
    with UnitOfWork(url) as uow:
        s = uow.session
        territory = Territory(departement_number="62", name="Pas-de-Calais")
        s.add(territory)
        s.flush()
        here, elsewhere = (Organisation(territory_id=territory.id, name=name, slug=name.lower())
                           for name in ("Ici", "Ailleurs"))
        pmi, social = Service(name="PMI", short_name="PMI"), Service(name="Social", short_name="SOC")
        s.add_all([here, elsewhere, pmi, social])
        s.flush()
        agents = [Agent(email=f"agent{n}@demo.test", first_name="Agent", last_name=f"N{n}") for n in range(6)]
        s.add_all(agents)
        s.flush()
        for n, agent in enumerate(agents):
            s.add(AgentRole(agent_id=agent.id, organisation_id=here.id, access_level="admin" if n == 0 else "basic"))
            s.add(AgentService(agent_id=agent.id, service_id=(pmi if n % 2 == 0 else social).id))
        s.add(AgentRole(agent_id=agents[0].id, organisation_id=elsewhere.id, access_level="admin"))
        motifs = [Motif(organisation_id=here.id, service_id=(pmi if n % 2 == 0 else social).id, name=f"Motif {n}")
                  for n in range(6)]
        other_motif = Motif(organisation_id=elsewhere.id, service_id=pmi.id, name="Ailleurs")
        lieux = [Lieu(organisation_id=here.id, name=f"Lieu {n}", address=f"{n} rue de la Paix 62000 Arras")
                 for n in range(3)]
        s.add_all([*motifs, other_motif, *lieux])
        uow.commit()
        ids = {"admin": agents[0].id, "basic": agents[1].id, "here": here.id, "elsewhere": elsewhere.id,
               "agent": agents[3].id, "lieu": lieux[1].id, "motif": motifs[1].id}
        lieu_ids: list[int | None] = [None, *(lieu.id for lieu in lieux)]
        motif_ids, other_motif_id, agent_ids = [m.id for m in motifs], other_motif.id, [a.id for a in agents]
    engine = get_engine(url)
    with engine.begin() as conn:
        usager_ids = insert_rows(conn, Usager, [
            {"first_name": "Prénom", "last_name": f"Nom{n}", "notify_by_sms": True, "notify_by_email": True,
             "logged_once_with_franceconnect": False, "created_through": "agent_creation", "created_at": NOW,
             "updated_at": NOW, "search_terms": ""} for n in range(USAGERS)], ids=True)
        insert_rows(conn, UsagerProfile, [{"organisation_id": ids["here"], "usager_id": u, "created_at": NOW}
                                          for u in usager_ids])
        for organisation_id, motifs_of, lieux_of, count in ((ids["here"], motif_ids, lieu_ids, RDVS),
                                                            (ids["elsewhere"], [other_motif_id], [None], OTHER_RDVS)):
            for start in range(0, count, BATCH):
                rows = _rdv_rows(organisation_id, motifs_of, lieux_of, start, BATCH, count)
                rdv_ids = insert_rows(conn, Rdv, rows, ids=True)
                insert_rows(conn, RdvAgent, [{"rdv_id": r, "agent_id": agent_ids[(r // 7) % len(agent_ids)]}
                                             for r in rdv_ids])
                insert_rows(conn, Participation, [
                    {"rdv_id": r, "usager_id": usager_ids[r % USAGERS], "status": row["status"],
                     "send_lifecycle_notifications": True, "send_reminder_notification": True,
                     "link_failed_attempts": 0, "created_by_type": "agent", "created_by_agent_prescripteur": False,
                     "created_at": NOW} for r, row in zip(rdv_ids, rows, strict=True)])
    if request.param == "postgresql":
        # What autovacuum does after such a load: planner statistics and the visibility map (index-only
        # scans). Out of a transaction: an ANALYZE in one that rolls back leaves no statistics.
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(sa.text("VACUUM ANALYZE"))
    ids["usager"] = usager_ids[123]
    return request.param, url, ids


def _cases(ids: dict[str, int]) -> dict[str, tuple[int, RdvFilters, int]]:
    """name: (agent, filters, page)."""
    month = RdvFilters(status="unknown_past", start=date(2026, 5, 1), end=date(2026, 5, 31))
    period = RdvFilters(start=date(2026, 3, 1), end=date(2026, 6, 30))
    return {
        "admin, no filter, page 1": (ids["admin"], RdvFilters(), 1),
        "admin, no filter, page 500": (ids["admin"], RdvFilters(), 500),
        "admin, no filter, last page": (ids["admin"], RdvFilters(), 20_000),
        "basic agent (visibility rule), page 1": (ids["basic"], RdvFilters(), 1),
        "basic agent, page 5,000": (ids["basic"], RdvFilters(), 5_000),
        "admin, à renseigner in a month": (ids["admin"], month, 1),
        "basic agent, à renseigner in a month": (ids["basic"], month, 1),
        "admin, four months": (ids["admin"], period, 1),
        "basic agent, four months, page 300": (ids["basic"], period, 300),
        "admin, status seen": (ids["admin"], RdvFilters(status="seen"), 1),
        "basic agent, status noshow": (ids["basic"], RdvFilters(status="noshow"), 1),
        "admin, a lieu": (ids["admin"], RdvFilters(lieu_ids=(ids["lieu"],)), 1),
        "basic agent, a lieu, page 900": (ids["basic"], RdvFilters(lieu_ids=(ids["lieu"],)), 900),
        "admin, a motif": (ids["admin"], RdvFilters(motif_ids=(ids["motif"],)), 1),
        "basic agent, a motif": (ids["basic"], RdvFilters(motif_ids=(ids["motif"],)), 1),
        "admin, an usager": (ids["admin"], RdvFilters(usager_id=ids["usager"]), 1),
        "basic agent, an usager": (ids["basic"], RdvFilters(usager_id=ids["usager"]), 1),
        "admin, an agent": (ids["admin"], RdvFilters(agent_id=ids["agent"]), 1),
        "basic agent, an agent": (ids["basic"], RdvFilters(agent_id=ids["agent"]), 1),
        "basic agent, an agent, page 300": (ids["basic"], RdvFilters(agent_id=ids["agent"]), 300),
        "admin, two organisations": (ids["admin"], RdvFilters(organisation_ids=(ids["here"], ids["elsewhere"])), 1),
        "admin, two organisations, page 10,000": (
            ids["admin"], RdvFilters(organisation_ids=(ids["here"], ids["elsewhere"])), 10_000),
    }


CASES = list(_cases({k: 1 for k in ("admin", "basic", "here", "elsewhere", "agent", "usager", "lieu", "motif")}))


def cursor_of_page(url: str, agent: int, organisation: int, filters: RdvFilters, page: int) -> Cursor | None:
    """`start` of page `page` (its first RDV), as clicking "Page suivante" from the page before reaches it."""
    if page == 1:
        return None
    with UnitOfWork(url, read_only=True) as uow:
        checked = rdv_search.scoped(uow, agent, organisation, filters)
        starts_at, rdv_id = uow.session.execute(
            select(col(Rdv.starts_at), col(Rdv.id)).where(*rdv_search.conditions(checked, NOW))
            .order_by(col(Rdv.starts_at), col(Rdv.id)).offset((page - 1) * rdv_search.PAGE_SIZE).limit(1)).one()
    return Cursor(starts_at, rdv_id)


@pytest.mark.parametrize("case", CASES)
def test_bench_rdv_list_page(benchmark, database: tuple[str, str, dict[str, int]], case: str) -> None:
    name, url, ids = database
    agent, filters, page = _cases(ids)[case]
    start = cursor_of_page(url, agent, ids["here"], filters, page)
    found: list[int] = []
    cpu: list[float] = []

    def one_page() -> None:
        started = time.process_time()
        with UnitOfWork(url, read_only=True) as uow:
            found.append(search_rdvs(uow, agent, ids["here"], filters, start=start, now=NOW).total)
        cpu.append(time.process_time() - started)

    benchmark.pedantic(one_page, rounds=60, iterations=1, warmup_rounds=3)
    timings = sorted(benchmark.stats.stats.data)
    p95 = statistics.quantiles(timings, n=20)[-1] * 1000
    assert found[-1] > 0
    print(f"\nRDV list, {case} ({name}, {RDVS} RDVs): p95 {p95:.1f} ms, median "
          f"{benchmark.stats['median'] * 1000:.1f} ms, target {TARGET_MS} ms; CPU median "
          f"{statistics.median(cpu) * 1000:.1f} ms; {found[-1]} RDVs counted; "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")


def test_bench_export_of_100_000_rdvs(benchmark, database: tuple[str, str, dict[str, int]]) -> None:
    name, url, ids = database
    # 200 of the 400 days: 100,000 RDVs.
    filters = RdvFilters(start=FIRST_DAY, end=FIRST_DAY + timedelta(days=DAYS // 2 - 1))
    process = psutil.Process()
    peaks: list[int] = []
    results: list[tuple[int, float]] = []

    def export() -> None:
        with UnitOfWork(url) as uow:
            requested = rdv_export.request_export(uow, ids["admin"], ids["here"], filters, "rdv_export", "xlsx",
                                                  now=clock.now())
        baseline, peak, done = process.memory_info().rss, [0], threading.Event()

        def sample() -> None:
            while not done.wait(0.02):
                peak[0] = max(peak[0], process.memory_info().rss)

        sampler = threading.Thread(target=sample)
        sampler.start()
        started = time.perf_counter()
        try:
            assert rdv_export.build_next_export(url)
        finally:
            done.set()
            sampler.join()
        elapsed = time.perf_counter() - started
        peaks.append(max(peak[0], process.memory_info().rss) - baseline)
        with UnitOfWork(url, read_only=True) as uow:
            export = uow.session.exec(select(Export).where(Export.id == requested.id)).one()
            results.append((export.total, elapsed))
            assert export.status == "available" and export.content is not None

    benchmark.pedantic(export, rounds=1, iterations=1)
    total, elapsed = results[-1]
    assert total == EXPORTED
    print(f"\nexport of {total} RDVs (.xlsx, {name}): {elapsed:.1f} s (target 60 s), resident memory growth "
          f"{peaks[-1] / 2**20:.1f} MiB (target 50 MiB)")
