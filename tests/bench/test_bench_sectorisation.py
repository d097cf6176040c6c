"""Benchmark of the sectorised public search, queries included, on SQLite and PostgreSQL:
`.venv/bin/pytest tests/bench/test_bench_sectorisation.py --benchmark-only -q -s`.

Measured: what the usager's phone asks for once an address is chosen in a sectorised territory, the
services then the motifs of one service (`public_search.services` and `public_search.motifs`, each reading
the sectors covering the address). Data: a département of 900 communes with 30 streets each (27,000 street
zones and 900 city zones in 300 sectors), 20 organisations each with 5 motifs (one by organisation, one by
agent) and weekly plages, every sector attributed to an organisation and to an agent. Fixed `now`.
"""

from __future__ import annotations

import math
import statistics
from datetime import UTC, date, datetime, time
from typing import Any

import pytest
import sqlalchemy as sa

from rdv_app.db.engine import get_engine
from rdv_app.db.migrate import upgrade
from rdv_app.db.models import (
    Agent,
    AgentRole,
    Motif,
    Organisation,
    PlageOuverture,
    PlageOuvertureMotif,
    Sector,
    SectorAttribution,
    SectorZone,
    Service,
    Territory,
)
from rdv_app.db.uow import UnitOfWork
from rdv_app.domain.recurrence import Recurrence
from rdv_app.domain.sectorisation import SectorAddress
from rdv_app.services.online_booking import public_search
from rdv_app.services.online_booking.public_search import PublicScope

NOW = datetime(2026, 3, 2, 7, 0, tzinfo=UTC)
COMMUNES, STREETS, SECTORS, ORGANISATIONS = 900, 30, 300, 20
ROUNDS = 50


def _insert(conn: sa.Connection, model: Any, rows: list[dict[str, Any]]) -> list[int]:
    table = model.__table__
    return list(conn.execute(sa.insert(table).returning(table.c.id, sort_by_parameter_order=True), rows).scalars())


def _build(url: str) -> dict[str, Any]:
    weekdays = Recurrence.weekly((0, 1, 2, 3, 4)).to_json()
    with get_engine(url).begin() as conn:
        territory = _insert(conn, Territory, [{"departement_number": "62", "name": "Pas-de-Calais",
                                               "timezone": "Europe/Paris", "created_at": NOW}])[0]
        service = _insert(conn, Service, [{"name": "PMI", "short_name": "PMI", "is_secretariat": False,
                                           "is_social": False}])[0]
        organisations = _insert(conn, Organisation, [
            {"territory_id": territory, "name": f"Organisation {i}", "slug": f"org-{i}", "timezone": "Europe/Paris",
             "verticale": "rdv_solidarites", "created_at": NOW, "updated_at": NOW} for i in range(ORGANISATIONS)])
        agents = _insert(conn, Agent, [{"last_name": f"Agent {i}", "created_at": NOW, "updated_at": NOW}
                                       for i in range(ORGANISATIONS)])
        conn.execute(sa.insert(AgentRole.__table__), [{"agent_id": a, "organisation_id": o, "access_level": "basic"}
                                                      for a, o in zip(agents, organisations, strict=True)])
        levels = ("departement", "departement", "departement", "organisation", "agent")
        motif_rows = [{"organisation_id": o, "service_id": service, "name": f"Motif {level} {n}",
                       "sectorisation_level": level, "bookable_by": "everyone", "location_type": "phone",
                       "created_at": NOW, "updated_at": NOW} for o in organisations
                      for n, level in enumerate(levels)]
        motifs = _insert(conn, Motif, motif_rows)
        plages = _insert(conn, PlageOuverture, [
            {"agent_id": a, "organisation_id": o, "title": "Permanence", "first_day": date(2026, 3, 2),
             "start_time": time(9), "end_time": time(12), "recurrence": weekdays, "created_at": NOW,
             "updated_at": NOW} for a, o in zip(agents, organisations, strict=True)])
        conn.execute(sa.insert(PlageOuvertureMotif.__table__), [
            {"plage_ouverture_id": plages[i // len(levels)], "motif_id": m} for i, m in enumerate(motifs)])
        sectors = _insert(conn, Sector, [{"territory_id": territory, "name": f"Secteur {i}", "human_id": f"s{i}",
                                          "created_at": NOW} for i in range(SECTORS)])
        zones = []
        for c in range(COMMUNES):
            code = f"62{c:03d}"
            sector = sectors[c % SECTORS]
            zones.append({"sector_id": sector, "level": "city", "city_code": code, "city_name": f"Commune {c}",
                          "street_ban_id": "", "street_name": ""})
            zones += [{"sector_id": sectors[(c + s) % SECTORS], "level": "street", "city_code": code,
                       "city_name": f"Commune {c}", "street_ban_id": f"{code}_{s:04d}", "street_name": f"Rue {s}"}
                      for s in range(STREETS)]
        conn.execute(sa.insert(SectorZone.__table__), zones)
        conn.execute(sa.insert(SectorAttribution.__table__), [
            {"sector_id": s, "organisation_id": organisations[i % ORGANISATIONS], "agent_id": agent, "level": level}
            for i, s in enumerate(sectors)
            for agent, level in ((None, "organisation"), (agents[i % ORGANISATIONS], "agent"))])
    return {"territory": territory, "service": service, "zones": len(zones)}


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def world(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('bench_sectors') / 'rdv.db'}"
    else:
        url = request.getfixturevalue("pg_cluster").create_database("rdv_bench_sectorisation")
    upgrade(url)
    return {"url": url, "database": request.param, **_build(url)}


def test_services_then_motifs_for_an_address(benchmark, capsys, world: dict[str, Any]) -> None:
    scope = PublicScope(world["territory"], sector=SectorAddress("62417", "62417_0012"))

    def services_then_motifs() -> list[public_search.MotifChoice]:
        with UnitOfWork(world["url"]) as uow:
            found = public_search.services(uow, scope, NOW)
            return public_search.motifs(uow, scope, found[0].id, NOW)

    choices = benchmark.pedantic(services_then_motifs, rounds=ROUNDS, iterations=1, warmup_rounds=2)
    # The street's sector (one organisation and its agent): its 2 sectorised motifs, and every département one.
    assert sum(1 for c in choices if "departement" in c.name) == 3
    assert {c.name for c in choices if "departement" not in c.name} == {"Motif organisation 3", "Motif agent 4"}
    timings = sorted(benchmark.stats.stats.data) if benchmark.stats else []
    if timings:
        median_ms = statistics.median(timings) * 1000
        p95_ms = timings[math.ceil(0.95 * len(timings)) - 1] * 1000
        benchmark.extra_info.update(median_ms=round(median_ms, 2), p95_ms=round(p95_ms, 2), zones=world["zones"])
        with capsys.disabled():
            print(f"\nsectorised services + motifs [{world['database']}]: median {median_ms:.1f} ms, "
                  f"p95 {p95_ms:.1f} ms ({len(timings)} rounds, {world['zones']} zones)")
