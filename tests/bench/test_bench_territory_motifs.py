"""Benchmarks of the territory motifs page (issue 9): 500 motifs in the 20 organisations the territorial admin
administers, some with RDVs, and 5 more organisations of the territory they do not administer.

`make bench`, or `.venv/bin/pytest tests/bench/test_bench_territory_motifs.py --benchmark-only -s`.
Measured, not asserted: the table of the whole territory (`list_territory_motifs`), and the preview of a
bulk change of the delays of all 500 motifs (`preview_bulk_change`, every motif validated). Each call is a
whole use case: a unit of work, the rights, the queries, the views.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pg import Cluster

from rdv_app.db.migrate import upgrade
from rdv_app.db.models import (
    Agent,
    AgentRole,
    AgentTerritorialRole,
    Motif,
    Organisation,
    Rdv,
    Service,
    Territory,
    TerritoryService,
)
from rdv_app.db.uow import UnitOfWork
from rdv_app.domain.motif_rules import DAY, MONTH
from rdv_app.services.organisation import territory_motifs
from rdv_app.services.organisation.territory_motifs import BulkChange

ORGANISATIONS = 20
OTHER_ORGANISATIONS = 5  # of the territory, not administered: their motifs are left out of the page
MOTIFS_PER_ORGANISATION = 25
NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)


def _database(kind: str, name: str, tmp_path: Path, request: pytest.FixtureRequest) -> tuple[str, int, int]:
    if kind == "sqlite":
        url = f"sqlite:///{tmp_path / 'bench.db'}"
    else:
        cluster: Cluster = request.getfixturevalue("pg_cluster")
        url = cluster.create_database(name)
    upgrade(url)
    with UnitOfWork(url) as uow:
        s = uow.session
        territory = Territory(departement_number="62", name="Pas-de-Calais")
        services = [Service(name="PMI", short_name="PMI"), Service(name="Service social", short_name="Social")]
        admin = Agent(email="camille@demo.test", first_name="Camille", last_name="Martin")
        s.add_all([territory, *services, admin])
        s.flush()
        s.add_all([TerritoryService(territory_id=territory.id, service_id=service.id) for service in services])
        s.add(AgentTerritorialRole(agent_id=admin.id, territory_id=territory.id))
        every = [Organisation(territory_id=territory.id, name=f"Organisation {n:02d}", slug=f"org-{n}")
                 for n in range(ORGANISATIONS + OTHER_ORGANISATIONS)]
        s.add_all(every)
        s.flush()
        organisations = every[:ORGANISATIONS]
        s.add_all([AgentRole(agent_id=admin.id, organisation_id=org.id, access_level="admin")
                   for org in organisations])
        motifs = [Motif(organisation_id=org.id, service_id=services[n % 2].id, name=f"Motif {n:02d}")
                  for org in every for n in range(MOTIFS_PER_ORGANISATION)]
        s.add_all(motifs)
        s.flush()
        s.add_all([Rdv(organisation_id=motif.organisation_id, motif_id=motif.id, starts_at=NOW + timedelta(days=1),
                       ends_at=NOW + timedelta(days=1, minutes=30)) for motif in motifs[::5]])
        uow.commit()
        return url, admin.id, territory.id  # type: ignore[return-value]


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_bench_territory_table_of_500_motifs(benchmark, database: str, tmp_path: Path,
                                             request: pytest.FixtureRequest) -> None:
    url, admin, territory = _database(database, "bench_territory_table", tmp_path, request)

    def table() -> list[territory_motifs.TerritoryMotifRow]:
        with UnitOfWork(url) as uow:
            return territory_motifs.list_territory_motifs(uow, admin, territory)

    rows = benchmark.pedantic(table, rounds=20, iterations=1, warmup_rounds=2)
    assert len(rows) == ORGANISATIONS * MOTIFS_PER_ORGANISATION
    print(f"\nterritory table, {len(rows)} motifs ({database}): median {benchmark.stats['median'] * 1000:.0f} ms")


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_bench_bulk_change_preview_of_500_motifs(benchmark, database: str, tmp_path: Path,
                                                 request: pytest.FixtureRequest) -> None:
    url, admin, territory = _database(database, "bench_territory_bulk_preview", tmp_path, request)
    with UnitOfWork(url) as uow:
        ids = [row.motif.id for row in territory_motifs.list_territory_motifs(uow, admin, territory)]
    change = BulkChange(min_public_booking_delay=DAY, max_public_booking_delay=2 * MONTH)

    def preview() -> territory_motifs.BulkPreview:
        with UnitOfWork(url) as uow:
            return territory_motifs.preview_bulk_change(uow, admin, territory, ids, change)

    result = benchmark.pedantic(preview, rounds=5, iterations=1, warmup_rounds=1)
    assert len(result.changed) == len(ids)
    print(f"\nbulk change preview, {len(ids)} motifs ({database}): "
          f"median {benchmark.stats['median'] * 1000:.0f} ms")
