"""Benchmark of the reminder scan the worker runs once a minute (rdv_app.notify.reminders.due_rdv_ids).

`.venv/bin/pytest tests/bench/test_bench_notify_reminders.py --benchmark-only -s`. Reported, not asserted.
10,000 RDVs over the next 7 days in two territories (Paris and La Réunion); the RDVs whose reminder time
has passed already have their reminder queued, except 20 that just fell due: the steady state of a busy
instance, where each scan must find those 20 among the rest.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from pg import Cluster

from rdv_app.db.engine import get_engine
from rdv_app.db.migrate import upgrade
from rdv_app.db.models import Motif, Organisation, OutboxMessage, Rdv, Service, Territory
from rdv_app.db.uow import UnitOfWork
from rdv_app.domain import clock
from rdv_app.domain.reminders import reminder_at
from rdv_app.notify.reminders import due_rdv_ids

RDVS = 10_000
JUST_DUE = 20


def _database(kind: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    if kind == "sqlite":
        url = f"sqlite:///{tmp_path / 'bench.db'}"
    else:
        cluster: Cluster = request.getfixturevalue("pg_cluster")
        url = cluster.create_database("bench_reminders")
    upgrade(url)
    return url


def _fill(url: str, now: datetime) -> int:
    with UnitOfWork(url) as uow:
        s = uow.session
        paris = Territory(departement_number="62", name="Pas-de-Calais")
        reunion = Territory(departement_number="974", name="La Réunion", timezone="Indian/Reunion")
        service = Service(name="PMI", short_name="PMI")
        s.add_all([paris, reunion, service])
        s.flush()
        orgs = [Organisation(territory_id=paris.id, name="PMI Arras", slug="arras", timezone="Europe/Paris"),
                Organisation(territory_id=reunion.id, name="PMI Saint-Denis", slug="sd", timezone="Indian/Reunion")]
        s.add_all(orgs)
        s.flush()
        motifs = [Motif(organisation_id=o.id, service_id=service.id, name="Consultation") for o in orgs]
        s.add_all(motifs)
        uow.commit()
        places = [(o.id, m.id, o.timezone, d) for o, m, d in zip(orgs, motifs, ("62", "974"), strict=True)]
    rdvs, reminders, due_without = [], [], 0
    step = timedelta(days=7) / RDVS
    for index in range(RDVS):
        org_id, motif_id, zone, departement = places[index % 2]
        starts_at = now + step * (index + 1)
        rdv_uuid = str(uuid.uuid4())
        rdvs.append({"uuid": rdv_uuid, "organisation_id": org_id, "motif_id": motif_id, "starts_at": starts_at,
                     "ends_at": starts_at + timedelta(minutes=30), "status": "unknown", "created_by_type": "agent",
                     "ics_sequence": 0, "users_count": 1, "created_at": now, "updated_at": now})
        if reminder_at(starts_at, zone, departement) <= now:
            if due_without < JUST_DUE:
                due_without += 1
                continue
            reminders.append(rdv_uuid)
    engine = get_engine(url)
    with engine.begin() as connection:
        connection.execute(sa.insert(Rdv.__table__), rdvs)
        ids = dict(connection.execute(sa.select(Rdv.__table__.c.uuid, Rdv.__table__.c.id)).all())
        connection.execute(sa.insert(OutboxMessage.__table__), [
            {"idempotency_key": f"rdv_upcoming_reminder:{u}:0:sms:usager:1", "channel": "sms",
             "event": "rdv_upcoming_reminder", "payload": {"to": "+33612345678", "text": "Rappel"},
             "status": "sent", "attempts": 1, "next_attempt_at": now, "rdv_id": ids[u], "created_at": now}
            for u in reminders])
        connection.execute(sa.text("ANALYZE"))
    return due_without


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_bench_reminder_scan(benchmark, database: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    url = _database(database, tmp_path, request)
    now = clock.now()
    due = _fill(url, now)

    def scan() -> list[int]:
        with UnitOfWork(url) as uow:
            return due_rdv_ids(uow.session, now)

    assert len(benchmark.pedantic(scan, rounds=10, iterations=1)) == due == JUST_DUE
    print(f"\n{database}: scan of {RDVS} RDVs over 7 days, {JUST_DUE} due: median "
          f"{benchmark.stats.stats.median * 1000:.1f} ms")
