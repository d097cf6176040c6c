"""Benchmark of the agents' agenda at the service level, queries included, on SQLite and on PostgreSQL:
`.venv/bin/pytest tests/bench/test_bench_agenda_week.py --benchmark-only -s`.

Target from issue 4, reported rather than asserted: loading one agent's week (`agenda.agenda`, what the
calendar asks for when it shows a week) takes at most 150 ms at the 95th percentile.

Data: the demo (seeded for a fixed day), plus a dense week in "PMI Arras": Julien Petit and four PMI
colleagues each hold 40 RDVs a day from Monday to Friday (12 minutes each, 08:00 to 16:00, one usager
each, one in ten cancelled), two weekly plages d'ouverture, a weekly recurring indisponibilité and a
one-off one, and two RDVs a day in another organisation (shown as grey blocks). The measured call is
the whole use case: a unit of work is opened, the rights are checked, RDVs, plages and absences are
read and the events built. The median and the p95 (nearest rank) are printed and kept in `extra_info`,
with the number of SQL statements of one call (the same for one agent and for five).
"""

from __future__ import annotations

import math
import statistics
import time as clock
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from factories import at_paris, insert_rows
from sqlmodel import col, select

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
    Participation,
    PlageOuverture,
    PlageOuvertureMotif,
    Rdv,
    RdvAgent,
    Service,
    Usager,
    UsagerProfile,
)
from rdv_app.db.uow import UnitOfWork
from rdv_app.demo.seed import seed_demo
from rdv_app.domain.recurrence import Recurrence
from rdv_app.services.availability import agenda

SEEDED_ON = date(2026, 12, 1)
WEEK = date(2026, 12, 7)  # Monday
NOW = datetime(2026, 12, 4, 9, 0, tzinfo=UTC)
CREATED = datetime(2026, 11, 1, tzinfo=UTC)
AGENTS = 5
RDVS_PER_DAY = 40
RDV_MINUTES = 12
ROUNDS = 50
TARGET_MS = 150


@dataclass
class World:
    url: str
    database: str
    julien: int
    admin: int
    org: int
    agents: list[int]
    rdvs_of_julien: int  # in the week, cancelled ones included
    sizes: dict[str, int] = field(default_factory=dict)


def _build(url: str, database: str) -> World:
    with UnitOfWork(url) as uow:
        seed_demo(uow, SEEDED_ON)
        s = uow.session
        org = s.exec(select(Organisation).where(Organisation.name == "PMI Arras")).one()
        other = s.exec(select(Organisation).where(Organisation.slug == "mds-lens")).one()
        julien = s.exec(select(Agent.id).where(Agent.email == "julien.petit@demo.test")).one()
        admin = s.exec(select(Agent.id).where(Agent.email == "camille.martin@demo.test")).one()
        motif = s.exec(select(Motif).where(Motif.organisation_id == org.id,
                                           Motif.name == "Consultation pédiatrique")).one()
        other_motif = s.exec(select(Motif.id).where(Motif.organisation_id == other.id)).first()
        lieu = s.exec(select(Lieu.id).where(Lieu.organisation_id == org.id).order_by(Lieu.id)).first()
        other_lieu = s.exec(select(Lieu.id).where(Lieu.organisation_id == other.id).order_by(Lieu.id)).first()
        usagers = list(s.exec(select(UsagerProfile.usager_id).where(UsagerProfile.organisation_id == org.id)).all())
        demo_counts = {"demo_rdvs": len(s.exec(select(Rdv.id)).all()), "demo_usagers": len(usagers)}
        org_id, other_id, motif_id, service_id = org.id, other.id, motif.id, motif.service_id
    counter = iter(range(10**6, 10**7))
    with get_engine(url).begin() as conn:
        colleagues = insert_rows(conn, Agent, [
            {"email": f"bench.pmi{n}@demo.test", "first_name": "Agent", "last_name": f"Bench {n}",
             "created_at": CREATED, "updated_at": CREATED} for n in range(AGENTS - 1)], ids=True)
        agents = [julien, *colleagues]
        insert_rows(conn, AgentRole, [{"agent_id": a, "organisation_id": org_id, "access_level": "basic"}
                                  for a in colleagues])
        insert_rows(conn, AgentRole, [{"agent_id": julien, "organisation_id": other_id, "access_level": "basic"}
                                  for _ in [0] if not conn.execute(sa.select(AgentRole.__table__.c.id).where(
                                      AgentRole.__table__.c.agent_id == julien,
                                      AgentRole.__table__.c.organisation_id == other_id)).first()])
        insert_rows(conn, AgentService, [{"agent_id": a, "service_id": service_id} for a in colleagues])
        weekly = Recurrence.weekly((0, 1, 2, 3, 4)).to_json()
        plages = insert_rows(conn, PlageOuverture, [
            {"agent_id": a, "organisation_id": org_id, "lieu_id": lieu, "title": title,
             "first_day": date(2026, 9, 7), "start_time": time(start), "end_time": time(end), "recurrence": weekly,
             "recurrence_until": None, "created_at": CREATED, "updated_at": CREATED}
            for a in agents for title, start, end in (("Matin", 8, 12), ("Après-midi", 13, 17))], ids=True)
        insert_rows(conn, PlageOuvertureMotif, [{"plage_ouverture_id": p, "motif_id": motif_id} for p in plages])
        insert_rows(conn, Absence, [
            row for a in agents for row in (
                {"agent_id": a, "title": "Réunion d'équipe", "first_day": date(2026, 9, 9), "start_time": time(17),
                 "end_day": date(2026, 9, 9), "end_time": time(18), "recurrence": Recurrence.weekly((2,)).to_json(),
                 "recurrence_until": None, "created_at": CREATED, "updated_at": CREATED},
                {"agent_id": a, "title": "Formation", "first_day": WEEK + timedelta(days=4), "start_time": time(16),
                 "end_day": WEEK + timedelta(days=4), "end_time": time(18), "recurrence": None,
                 "recurrence_until": None, "created_at": CREATED, "updated_at": CREATED})])
        rows, owners = [], []
        for agent_index, agent_id in enumerate(agents):
            for day in (WEEK + timedelta(days=d) for d in range(5)):
                for slot in range(RDVS_PER_DAY):
                    start = at_paris(day, 8) + timedelta(minutes=RDV_MINUTES * slot)
                    cancelled = (slot + agent_index) % 10 == 0
                    rows.append({"uuid": str(uuid.UUID(int=next(counter))), "organisation_id": org_id,
                                 "motif_id": motif_id, "lieu_id": lieu, "starts_at": start,
                                 "ends_at": start + timedelta(minutes=RDV_MINUTES),
                                 "status": "revoked" if cancelled else "unknown",
                                 "cancelled_at": CREATED if cancelled else None, "users_count": 1,
                                 "created_at": CREATED, "updated_at": CREATED})
                    owners.append(agent_id)
                for hour in (17, 18):
                    rows.append({"uuid": str(uuid.UUID(int=next(counter))), "organisation_id": other_id,
                                 "motif_id": other_motif, "lieu_id": other_lieu, "starts_at": at_paris(day, hour),
                                 "ends_at": at_paris(day, hour, 30), "status": "unknown", "cancelled_at": None,
                                 "users_count": 1,
                                 "created_at": CREATED, "updated_at": CREATED})
                    owners.append(agent_id)
        rdv_ids = insert_rows(conn, Rdv, rows, ids=True)
        insert_rows(conn, RdvAgent, [{"rdv_id": r, "agent_id": a} for r, a in zip(rdv_ids, owners, strict=True)])
        insert_rows(conn, Participation, [
            {"rdv_id": r, "usager_id": usagers[i % len(usagers)], "status": row["status"],
             "created_at": CREATED} for i, (r, row) in enumerate(zip(rdv_ids, rows, strict=True))])
    with UnitOfWork(url) as uow:
        rdvs_of_julien = len(uow.session.exec(
            select(RdvAgent.rdv_id).join(Rdv, col(Rdv.id) == RdvAgent.rdv_id)
            .where(RdvAgent.agent_id == julien, Rdv.organisation_id == org_id,
                   col(Rdv.starts_at) >= at_paris(WEEK, 0), col(Rdv.starts_at) < at_paris(WEEK + timedelta(days=7), 0))
        ).all())
        sizes = {**demo_counts, "rdvs": len(uow.session.exec(select(Rdv.id)).all()),
                 "usagers": len(uow.session.exec(select(Usager.id)).all()),
                 "services": len(uow.session.exec(select(Service.id)).all())}
    return World(url, database, julien, admin, org_id, agents, rdvs_of_julien, sizes)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def world(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('bench-agenda') / 'agenda.db'}"
    else:
        url = request.getfixturevalue("pg_cluster").create_database("rdv_bench_agenda")
    upgrade(url)
    started = clock.perf_counter()
    built = _build(url, request.param)
    print(f"\n[{request.param}] data built in {clock.perf_counter() - started:.1f} s: {built.sizes}")
    yield built
    get_engine(url).dispose()


def _report(benchmark: Any, capsys: pytest.CaptureFixture[str], label: str, world: World, **extra: Any) -> None:
    benchmark.extra_info.update(extra)
    if benchmark.stats is None:  # --benchmark-disable: the function ran once, nothing was timed
        return
    timings = sorted(benchmark.stats.stats.data)
    median_ms = statistics.median(timings) * 1000
    p95_ms = timings[math.ceil(0.95 * len(timings)) - 1] * 1000
    benchmark.extra_info.update(median_ms=round(median_ms, 2), p95_ms=round(p95_ms, 2), target_ms=TARGET_MS)
    with capsys.disabled():
        print(f"\n{label} [{world.database}]: median {median_ms:.1f} ms, p95 {p95_ms:.1f} ms "
              f"(target {TARGET_MS} ms, {len(timings)} rounds) {extra}")


def _week(world: World, actor: int, agent_ids: list[int]) -> agenda.Agenda:
    with UnitOfWork(world.url) as uow:
        return agenda.agenda(uow, actor, world.org, agent_ids, WEEK, WEEK + timedelta(days=6), now=NOW)


def _statements(world: World, actor: int, agent_ids: list[int]) -> int:
    """SQL statements sent by one call, reported next to the timings."""
    sent: list[str] = []

    def record(_conn, _cursor, statement, _parameters, _context, _executemany) -> None:
        sent.append(statement)

    engine = get_engine(world.url)
    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        _week(world, actor, agent_ids)
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)
    return len(sent)


def _kinds(result: agenda.Agenda) -> dict[str, int]:
    kinds: dict[str, int] = {}
    for event in result.events:
        kinds[event.kind] = kinds.get(event.kind, 0) + 1
    return kinds


def test_one_agents_week(benchmark, capsys, world: World) -> None:
    """Julien opens his own week: 200 RDVs of his (20 cancelled), plages, absences, grey blocks."""
    result = benchmark.pedantic(lambda: _week(world, world.julien, [world.julien]), rounds=ROUNDS, iterations=1,
                                warmup_rounds=2)
    kinds = _kinds(result)
    _report(benchmark, capsys, "agenda, one agent's week", world, **kinds,
            statements=_statements(world, world.julien, [world.julien]))
    shown = kinds["rdv"]
    # His week's RDVs in the organisation, cancelled ones only when he shows them.
    assert shown <= world.rdvs_of_julien and shown >= AGENTS and shown >= RDVS_PER_DAY * 5 * 9 // 10
    # The demo's own plages of Julien come on top of the two weekly ones added here.
    assert kinds["plage"] >= 10 and kinds["absence"] >= 2 and kinds["busy"] == 10
    assert all(WEEK.isoformat() <= e.start[:10] <= (WEEK + timedelta(days=6)).isoformat() for e in result.events)


def test_five_agents_week_for_an_admin(benchmark, capsys, world: World) -> None:
    """Camille (admin) shows the five agents side by side: about 1,000 RDVs."""
    result = benchmark.pedantic(lambda: _week(world, world.admin, world.agents), rounds=ROUNDS, iterations=1,
                                warmup_rounds=2)
    kinds = _kinds(result)
    _report(benchmark, capsys, "agenda, five agents' week", world, **kinds,
            statements=_statements(world, world.admin, world.agents))
    assert kinds["rdv"] >= AGENTS * RDVS_PER_DAY * 5 * 9 // 10 and kinds["plage"] >= 10 * AGENTS
