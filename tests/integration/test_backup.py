"""Backups that restore, on SQLite and PostgreSQL: the demo database backed up by the command line,
restored into an empty database, holds every row (counts and a checksum per table), and the app serves
from it (its HTTP routes answer with the restored data)."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn
from pg import free_port
from reflex.config import reload_config
from sqlmodel import select

from rdv_app.api.http import http_routes
from rdv_app.db.backup import BackupError, fingerprints, restore
from rdv_app.db.migrate import upgrade
from rdv_app.db.models import Agent
from rdv_app.db.uow import UnitOfWork
from rdv_app.demo.seed import seed_demo
from rdv_app.services.agents import webcal

ROOT = Path(__file__).resolve().parents[2]


def _cli(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "rdv_app.cli", *args], cwd=ROOT, capture_output=True, text=True,
                          env={**os.environ, "REFLEX_DB_URL": url}, timeout=300, check=False)


@pytest.fixture
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A second empty database of the same kind, to restore into."""
    if request.node.callspec.params["database"] == "sqlite":
        return f"sqlite:///{tmp_path / 'restored.db'}"
    return request.getfixturevalue("pg_cluster").create_database(f"restored_{abs(hash(request.node.nodeid)) % 10**9}")


@pytest.fixture
def serving(empty_url: str) -> Iterator[str]:
    """Our HTTP routes served by uvicorn on loopback, from the restored database."""
    previous = os.environ.get("REFLEX_DB_URL")
    os.environ["REFLEX_DB_URL"] = empty_url
    reload_config()
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(http_routes, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)
    if previous is None:
        os.environ.pop("REFLEX_DB_URL", None)
    else:
        os.environ["REFLEX_DB_URL"] = previous
    reload_config()


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_a_backup_restores_every_row_and_the_app_serves_from_it(database: str, fresh_url: str, empty_url: str,
                                                                 tmp_path: Path, serving: str) -> None:
    upgrade(fresh_url)
    with UnitOfWork(fresh_url) as uow:
        seed_demo(uow)
        agent = uow.session.exec(select(Agent).where(Agent.email == "camille.martin@demo.test")).one()
        feed = webcal.feed_links(uow, agent.id).https_url  # type: ignore[arg-type]
    before = fingerprints(fresh_url)
    assert before["rdv"].rows > 0 and before["usager"].rows > 0

    saved = _cli(fresh_url, "backup", str(tmp_path / "snapshot"))
    assert saved.returncode == 0, saved.stderr
    assert "Sauvegarde écrite" in saved.stdout
    restored = _cli(empty_url, "restore", str(tmp_path / "snapshot"))
    assert restored.returncode == 0, restored.stderr
    assert fingerprints(empty_url) == before

    # The app serves from it: its health and an agent's calendar feed, read from the restored rows.
    with httpx.Client(base_url=serving, timeout=10) as client:
        deadline = time.monotonic() + 10
        while True:
            try:
                health = client.get("/_health")
                break
            except httpx.ConnectError:
                assert time.monotonic() < deadline, "the server did not start"
                time.sleep(0.05)
        calendar = client.get("/calendrier/" + feed.rsplit("/", 1)[1])
    assert health.json() == {"status": "ok", "database": "ok"}
    assert calendar.status_code == 200 and calendar.text.count("BEGIN:VEVENT") > 0

    # Restoring twice would mix two states: refused, nothing touched.
    again = _cli(empty_url, "restore", str(tmp_path / "snapshot"))
    assert again.returncode == 1 and "contient déjà des tables" in again.stderr
    assert fingerprints(empty_url) == before
    with pytest.raises(BackupError):
        restore(empty_url, tmp_path / "missing")
