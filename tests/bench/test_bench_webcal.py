"""Benchmark of the webcal feed (issue 8): an agent with 2,000 RDVs in the window.

`make bench`, or `.venv/bin/pytest tests/bench/test_bench_webcal.py --benchmark-only -s`.
Target: the whole answer (query, calendar text, hash for the ETag) in at most 200 ms. Reported, not
asserted: the median is printed.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pg import Cluster

from rdv_app.db.migrate import upgrade
from rdv_app.db.models import Agent, AgentRole, Lieu, Motif, Organisation, Rdv, RdvAgent, Service, Territory
from rdv_app.db.uow import UnitOfWork
from rdv_app.services.agents import webcal

RDVS = 2_000
NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)
SECRET = "bench-webcal-secret-0123456789abcdef"


def _database(kind: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    if kind == "sqlite":
        url = f"sqlite:///{tmp_path / 'bench.db'}"
    else:
        cluster: Cluster = request.getfixturevalue("pg_cluster")
        url = cluster.create_database("bench_webcal")
    upgrade(url)
    with UnitOfWork(url) as uow:
        s = uow.session
        territory = Territory(departement_number="62", name="Pas-de-Calais")
        service = Service(name="Protection maternelle et infantile", short_name="PMI")
        s.add_all([territory, service])
        s.flush()
        organisation = Organisation(territory_id=territory.id, name="PMI Arras", slug="pmi-arras")
        agent = Agent(email="julien@demo.test", first_name="Julien", last_name="Petit",
                      calendar_uid_hash=webcal.stored_secret(SECRET)[0])
        s.add_all([organisation, agent])
        s.flush()
        s.add(AgentRole(agent_id=agent.id, organisation_id=organisation.id))
        lieu = Lieu(organisation_id=organisation.id, name="Centre de PMI d'Arras",
                    address="12 boulevard de Strasbourg, 62000 Arras")
        motifs = [Motif(organisation_id=organisation.id, service_id=service.id, name=f"Consultation {n}")
                  for n in range(5)]
        s.add_all([lieu, *motifs])
        s.flush()
        rdvs = []
        for index in range(RDVS):
            starts_at = NOW - timedelta(days=30) + timedelta(hours=3 * index)
            rdvs.append(Rdv(organisation_id=organisation.id, motif_id=motifs[index % 5].id, lieu_id=lieu.id,
                            starts_at=starts_at, ends_at=starts_at + timedelta(minutes=30),
                            ics_sequence=index % 3))
        s.add_all(rdvs)
        s.flush()
        s.add_all([RdvAgent(rdv_id=rdv.id, agent_id=agent.id) for rdv in rdvs])
        uow.commit()
    return url


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_bench_webcal_feed_of_two_thousand_rdvs(benchmark, database: str, tmp_path: Path,
                                                request: pytest.FixtureRequest) -> None:
    url = _database(database, tmp_path, request)

    def build() -> webcal.Feed:
        with UnitOfWork(url) as uow:
            return webcal.agent_feed(uow, SECRET, now=NOW)

    feed = benchmark.pedantic(build, rounds=20, iterations=1, warmup_rounds=2)
    assert feed.body.count(b"BEGIN:VEVENT") == RDVS
    print(f"\nwebcal feed, {RDVS} RDVs ({database}): median {benchmark.stats['median'] * 1000:.0f} ms, "
          f"{len(feed.body) // 1024} KiB (target: 200 ms or less)")
