"""A worker killed in the middle of an Outlook sync (`python -m rdv_app.cli worker`, SIGKILL while
Microsoft has created an event and not yet answered), then another worker started: every RDV has
exactly one event in the agent's calendar, within the recovery time of issue 16. On SQLite and
PostgreSQL."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fakes.microsoft_graph import FakeMicrosoft
from sqlmodel import select
from test_outlook_sync import REDIRECT_URI, _connect, _next_day_at, _plan, _world

from rdv_app.config import settings
from rdv_app.db.models import OutboxMessage, Rdv
from rdv_app.db.uow import UnitOfWork
from rdv_app.domain.enums import Channel, OutboxStatus

ROOT = Path(__file__).resolve().parents[2]
WORKER_COMMAND = [sys.executable, "-m", "rdv_app.cli", "worker"]
RECOVERY = 60.0  # the dead worker found (15 s), its call in flight settled (20 s), and a margin


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeMicrosoft]:
    with FakeMicrosoft(redirect_uris=(REDIRECT_URI,)) as server:
        for name, value in server.environment().items():
            monkeypatch.setenv(name, value)
        yield server
        server.release.set()


@pytest.fixture
def workers(db_url: str, fake: FakeMicrosoft, tmp_path: Path) -> Iterator[list[subprocess.Popen]]:
    started: list[subprocess.Popen] = []
    yield started
    for process in started:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()


def _start(db_url: str, fake: FakeMicrosoft, tmp_path: Path, started: list[subprocess.Popen]) -> subprocess.Popen:
    log = (tmp_path / f"worker-{len(started)}.log").open("w")
    env = os.environ | fake.environment() | {"RDV_SECRET_KEY": settings.secret_key, "RDV_SMS": "console"}
    process = subprocess.Popen([*WORKER_COMMAND, db_url], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    started.append(process)
    return process


def _outlook_statuses(db_url: str) -> list[str]:
    with UnitOfWork(db_url) as uow:
        return list(uow.session.exec(select(OutboxMessage.status)
                                     .where(OutboxMessage.channel == Channel.OUTLOOK.value)))


def test_a_worker_killed_mid_sync_then_restarted_gives_one_event_per_rdv(db_url: str, uow: UnitOfWork,
                                                                        fake: FakeMicrosoft, tmp_path: Path,
                                                                        workers: list[subprocess.Popen]) -> None:
    world = _world(uow)
    _connect(db_url, fake, world.agent)
    rdv_ids = [_plan(db_url, world, _next_day_at(hour), [world.agent]) for hour in (9, 11, 14)]
    fake.hold_posts = True

    first = _start(db_url, fake, tmp_path, workers)
    assert fake.held.wait(60), "the worker reached Microsoft"
    first.send_signal(signal.SIGKILL)  # Microsoft made the event; its answer never arrives
    first.wait(timeout=10)
    assert len(fake.calendar()) == 1
    fake.hold_posts = False
    fake.release.set()

    _start(db_url, fake, tmp_path, workers)
    deadline = time.monotonic() + RECOVERY
    while set(_outlook_statuses(db_url)) != {OutboxStatus.SENT.value}:
        assert time.monotonic() < deadline, _outlook_statuses(db_url)
        time.sleep(0.25)

    calendar = fake.calendar()
    with UnitOfWork(db_url) as check:
        starts = sorted(check.session.get(Rdv, rdv_id).starts_at for rdv_id in rdv_ids)  # type: ignore[union-attr]
    assert [event["instant"] for event in calendar] == starts
    assert len({event["transactionId"] for event in calendar}) == 3
