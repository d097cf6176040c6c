"""`/_ready` tells a load balancer whether a process can serve (issue 27): the database answers and is at
the schema of this code, and the Redis of the rate limits answers when one is configured; `/_health`
stays the cheap liveness check. Our HTTP routes served by uvicorn in a process of their own, on SQLite and
PostgreSQL, with a real redis-server."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from pg import free_port
from processes import python_env

from rdv_app.db.migrate import head_revision, upgrade
from rdv_app.db.uow import UnitOfWork
from rdv_app.demo.seed import seed_demo

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Callable[..., str]]:
    """Starts the HTTP routes on `database_url` (and `redis_url`), returns their base URL."""
    processes: list[subprocess.Popen] = []

    def start(database_url: str, redis: str | None = None, demo: bool = True) -> str:
        port = free_port()
        env = python_env(REFLEX_DB_URL=database_url)
        env.pop("REFLEX_REDIS_URL", None)
        if not demo:
            env.pop("RDV_DEMO", None)
        if redis:
            env["REFLEX_REDIS_URL"] = redis
        log = (tmp_path / f"server-{port}.log").open("w")
        process = subprocess.Popen([sys.executable, "-m", "uvicorn", "rdv_app.api.http:http_routes", "--host",
                                    "127.0.0.1", "--port", str(port), "--log-level", "warning"],
                                   cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        processes.append(process)
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(f"{base}/_health", timeout=5)
                return base
            except httpx.TransportError:
                assert process.poll() is None and time.monotonic() < deadline, (tmp_path / f"server-{port}.log").read_text()
                time.sleep(0.1)

    yield start
    for process in processes:
        process.terminate()
        process.wait(timeout=20)


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_a_process_is_ready_once_its_database_is_at_the_schema_of_its_code(
        database: str, fresh_url: str, serve: Callable[..., str]) -> None:
    base = serve(fresh_url)
    # Not migrated yet: alive, not ready.
    assert httpx.get(f"{base}/_health", timeout=10).status_code == 200
    waiting = httpx.get(f"{base}/_ready", timeout=10)
    assert waiting.status_code == 503
    assert waiting.json() == {"status": "error", "database": "ok",
                              "schema": f"en retard (vide au lieu de {head_revision()})", "redis": "non configuré"}

    upgrade(fresh_url)
    ready = httpx.get(f"{base}/_ready", timeout=10)
    assert (ready.status_code, ready.json()) == (200, {"status": "ok", "database": "ok", "schema": "à jour",
                                                       "redis": "non configuré"})


def test_a_process_whose_redis_stops_answering_is_not_ready(
        tmp_path: Path, redis_url: str, serve: Callable[..., str]) -> None:
    url = f"sqlite:///{tmp_path / 'rdv.db'}"
    upgrade(url)
    base = serve(url, redis_url)
    ready = httpx.get(f"{base}/_ready", timeout=10)
    assert (ready.status_code, ready.json()["redis"]) == (200, "ok")

    port = redis_url.rsplit(":", 1)[1].split("/")[0]
    subprocess.run(["redis-cli", "-p", port, "shutdown", "nosave"], capture_output=True, check=False)
    deadline = time.monotonic() + 30
    while (gone := httpx.get(f"{base}/_ready", timeout=30)).status_code == 200:
        assert time.monotonic() < deadline, "still ready without Redis"
        time.sleep(0.2)
    assert (gone.status_code, gone.json()) == (503, {"status": "error", "database": "ok", "schema": "à jour",
                                                     "redis": "injoignable"})
    assert httpx.get(f"{base}/_health", timeout=10).status_code == 200


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_a_real_instance_on_the_demo_database_is_not_ready(database: str, fresh_url: str,
                                                          serve: Callable[..., str]) -> None:
    upgrade(fresh_url)
    instance = serve(fresh_url, demo=False)
    empty = httpx.get(f"{instance}/_ready", timeout=10)
    assert (empty.status_code, empty.json()["demo"]) == (200, "absente")
    with UnitOfWork(fresh_url) as uow:
        seed_demo(uow)
    refused = httpx.get(f"{instance}/_ready", timeout=10)
    assert (refused.status_code, refused.json()["demo"]) == (503, "comptes de démonstration présents : instance refusée")
    demo = httpx.get(f"{serve(fresh_url)}/_ready", timeout=10)
    assert demo.status_code == 200 and "demo" not in demo.json()
