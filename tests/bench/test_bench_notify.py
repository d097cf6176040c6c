"""Benchmark of the outbox worker (issue 6): 10,000 queued SMS sent to the loopback OVH server.

`make bench`, or `.venv/bin/pytest tests/bench/test_bench_notify.py --benchmark-only -s`.
Target: 200 messages per second or more, with flat memory. Reported, not asserted (speed is never a test
assertion): the rate and the worker's resident memory after each 1,000 messages are printed.
One worker, batches of 50, every message claimed, sent (signed call to OVH) and recorded with its receipt.
"""

from __future__ import annotations

from pathlib import Path

import psutil
import pytest
from fakes.ovh_server import FakeOvh
from pg import Cluster

from rdv_app.db.migrate import upgrade
from rdv_app.db.uow import UnitOfWork
from rdv_app.notify.outbox import enqueue
from rdv_app.notify.sms import OvhSmsProvider
from rdv_app.notify.worker import Worker

MESSAGES = 10_000
STEP = 1_000


def _database(kind: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    if kind == "sqlite":
        url = f"sqlite:///{tmp_path / 'bench.db'}"
    else:
        cluster: Cluster = request.getfixturevalue("pg_cluster")
        url = cluster.create_database("bench_notify")
    upgrade(url)
    with UnitOfWork(url) as uow:
        for index in range(MESSAGES):
            enqueue(uow.session, channel="sms", event="rdv_created", idempotency_key=f"bench:{index}",
                    payload={"to": f"+3361{index:07d}", "text": f"RDV PMI Arras vendredi 10/12 à 13h10. ({index})"})
        uow.commit()
    return url


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_bench_worker_sends_ten_thousand_sms(benchmark, database: str, tmp_path: Path,
                                             request: pytest.FixtureRequest) -> None:
    url = _database(database, tmp_path, request)
    process = psutil.Process()
    resident_mb: list[int] = []

    with FakeOvh(keep_messages=False) as ovh:
        worker = Worker(url, sms=OvhSmsProvider(ovh.settings()))

        def send_all() -> int:
            sent = 0
            while sent < MESSAGES:
                sent += worker.run_once(limit=STEP)
                resident_mb.append(process.memory_info().rss // 2**20)
            return sent

        assert benchmark.pedantic(send_all, rounds=1, iterations=1) == MESSAGES
        assert ovh.accepted == MESSAGES

    seconds = benchmark.stats.stats.mean
    print(f"\n{database}: {MESSAGES} SMS in {seconds:.1f} s = {MESSAGES / seconds:.0f} messages/s; "
          f"resident memory (MB) after each {STEP}: {resident_mb}")
