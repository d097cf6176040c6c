"""Benchmark of connecting Outlook (issue 22): an agent with 500 RDVs from one month back gets one
Outlook sync queued per RDV in the connection's transaction.

`make bench`, or `.venv/bin/pytest tests/bench/test_bench_outlook_backfill.py --benchmark-only -s`.
Reported, not asserted: the median is printed (each round is rolled back).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pg import Cluster

from rdv_app.db.migrate import upgrade
from rdv_app.db.models import Agent, AgentRole, Lieu, Motif, Organisation, Rdv, RdvAgent, Service, Territory
from rdv_app.db.uow import UnitOfWork
from rdv_app.notify import outlook

RDVS = 500
NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)


def _database(kind: str, tmp_path: Path, request: pytest.FixtureRequest) -> tuple[str, int]:
    if kind == "sqlite":
        url = f"sqlite:///{tmp_path / 'bench.db'}"
    else:
        cluster: Cluster = request.getfixturevalue("pg_cluster")
        url = cluster.create_database("bench_outlook")
    upgrade(url)
    with UnitOfWork(url) as uow:
        s = uow.session
        territory = Territory(departement_number="62", name="Pas-de-Calais")
        service = Service(name="Protection maternelle et infantile", short_name="PMI")
        s.add_all([territory, service])
        s.flush()
        organisation = Organisation(territory_id=territory.id, name="PMI Arras", slug="pmi-arras")
        agent = Agent(email="julien@demo.test", first_name="Julien", last_name="Petit")
        s.add_all([organisation, agent])
        s.flush()
        s.add(AgentRole(agent_id=agent.id, organisation_id=organisation.id))
        lieu = Lieu(organisation_id=organisation.id, name="Centre de PMI d'Arras", address="12 bd de Strasbourg")
        motif = Motif(organisation_id=organisation.id, service_id=service.id, name="Consultation")
        s.add_all([lieu, motif])
        s.flush()
        rdvs = [Rdv(organisation_id=organisation.id, motif_id=motif.id, lieu_id=lieu.id,
                    starts_at=NOW - timedelta(days=30) + timedelta(hours=3 * index),
                    ends_at=NOW - timedelta(days=30) + timedelta(hours=3 * index, minutes=30))
                for index in range(RDVS)]
        s.add_all(rdvs)
        s.flush()
        s.add_all([RdvAgent(rdv_id=rdv.id, agent_id=agent.id) for rdv in rdvs])
        agent_id = agent.id
        uow.commit()
    assert agent_id is not None
    return url, agent_id


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_bench_outlook_connect_backfill_of_five_hundred_rdvs(benchmark, database: str, tmp_path: Path,
                                                             request: pytest.FixtureRequest) -> None:
    url, agent_id = _database(database, tmp_path, request)

    def backfill() -> int:
        with UnitOfWork(url) as uow:
            queued = outlook.queue_backfill(uow.session, agent_id, NOW)
            uow.rollback()
            return queued

    queued = benchmark.pedantic(backfill, rounds=5, iterations=1, warmup_rounds=1)
    assert queued == RDVS
    print(f"\nOutlook connect backfill, {RDVS} RDVs ({database}): median {benchmark.stats['median'] * 1000:.0f} ms")
