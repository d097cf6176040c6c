"""The worker as it runs for real: `python -m rdv_app.notify.worker` (killed, or stopped with SIGTERM) and
inside the app through its lifespan task. OVH is configured from the environment, endpoint given as a URL."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from fakes.ovh_server import FakeOvh
from fakes.smtp_server import SmtpServer
from sqlmodel import select

from rdv_app.db.models import OutboxMessage
from rdv_app.db.uow import UnitOfWork
from rdv_app.domain import clock
from rdv_app.notify.outbox import enqueue
from rdv_app.notify.worker import LEASE, deliver_now_async, lifespan, run_once

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def ovh() -> Iterator[FakeOvh]:
    with FakeOvh() as server:
        yield server


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    with SmtpServer() as server:
        yield server


def _environment(ovh: FakeOvh, smtp: SmtpServer) -> dict[str, str]:
    return {
        "OVH_ENDPOINT": ovh.endpoint,
        "OVH_APPLICATION_KEY": ovh.application_key,
        "OVH_APPLICATION_SECRET": ovh.application_secret,
        "OVH_CONSUMER_KEY": ovh.consumer_key,
        "RDV_OVH_SMS_SERVICE": ovh.service_name,
        "RDV_SMS_SENDER": "RDV S.P.",
        "RDV_SMTP_HOST": "127.0.0.1",
        "RDV_SMTP_PORT": str(smtp.port),
        "RDV_MAIL_FROM": "RDV Service Public <ne-pas-repondre@rdv.test>",
    }


@pytest.fixture
def start_worker(db_url: str, ovh: FakeOvh, smtp: SmtpServer,
                 tmp_path: Path) -> Iterator[Callable[[], subprocess.Popen]]:
    processes: list[subprocess.Popen] = []

    def start() -> subprocess.Popen:
        log = (tmp_path / f"worker-{len(processes)}.log").open("w")
        process = subprocess.Popen([sys.executable, "-m", "rdv_app.cli", "worker", db_url], cwd=ROOT,
                                   env=os.environ | _environment(ovh, smtp), stdout=log, stderr=subprocess.STDOUT)
        processes.append(process)
        return process

    yield start
    for process in processes:
        if process.poll() is None:
            process.kill()
            process.wait()


def _queue_sms(db_url: str, count: int) -> list[int]:
    ids = []
    with UnitOfWork(db_url) as uow:
        for index in range(count):
            ids.append(enqueue(uow.session, channel="sms", event="rdv_created", idempotency_key=f"rdv:{index}:sms",
                               payload={"to": f"+3361{index:07d}", "text": f"message {index}"}))
        uow.commit()
    return ids


def _statuses(db_url: str) -> list[tuple[str, int]]:
    with UnitOfWork(db_url) as uow:
        rows = uow.session.exec(select(OutboxMessage.status, OutboxMessage.attempts).order_by(OutboxMessage.id))
        return [tuple(row) for row in rows]


def _wait_until(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + 30
    while not condition():
        assert time.monotonic() < deadline, f"still waiting for {what}"
        time.sleep(0.05)


def test_a_killed_worker_loses_nothing_and_duplicates_nothing(db_url: str, ovh: FakeOvh, smtp: SmtpServer,
                                                              start_worker: Callable[[], subprocess.Popen],
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    _queue_sms(db_url, 10)
    ovh.hang_on("message 3")
    process = start_worker()
    assert ovh.hung.wait(timeout=30)

    process.send_signal(signal.SIGKILL)  # while OVH holds the 4th message, before accepting it
    process.wait(timeout=30)
    ovh.release(accept=False)
    assert _statuses(db_url) == [("sent", 1)] * 3 + [("sending", 1)] * 7

    # The survivor runs in this process, configured the same way, with the clock moved.
    for name, value in _environment(ovh, smtp).items():
        monkeypatch.setenv(name, value)
    assert run_once(db_url, now=clock.now() + LEASE - timedelta(seconds=5)) == 0
    assert run_once(db_url, now=clock.now() + LEASE + timedelta(seconds=1)) == 7

    assert _statuses(db_url) == [("sent", 1)] * 3 + [("sent", 2)] * 7
    assert ovh.count_by_message() == {f"message {index}": 1 for index in range(10)}


def test_sigterm_finishes_the_message_in_flight_and_hands_back_the_rest(
        db_url: str, ovh: FakeOvh, smtp: SmtpServer, start_worker: Callable[[], subprocess.Popen],
        tmp_path: Path) -> None:
    _queue_sms(db_url, 10)
    ovh.hang_on("message 3")
    process = start_worker()
    assert ovh.hung.wait(timeout=30)

    process.send_signal(signal.SIGTERM)
    time.sleep(0.2)  # the handler only sets a flag; the call to OVH is still waiting
    ovh.release(accept=True)
    assert process.wait(timeout=30) == 0

    assert _statuses(db_url) == [("sent", 1)] * 4 + [("pending", 0)] * 6
    log = (tmp_path / "worker-0.log").read_text()
    assert "SIGTERM received" in log and "outbox worker: stopped" in log

    restarted = start_worker()
    _wait_until(lambda: all(status == "sent" for status, _ in _statuses(db_url)), "the restarted worker")
    restarted.send_signal(signal.SIGTERM)
    assert restarted.wait(timeout=30) == 0
    assert ovh.count_by_message() == {f"message {index}": 1 for index in range(10)}


def test_inside_the_app_the_loop_and_deliver_now_send_everything_once(
        db_url: str, ovh: FakeOvh, smtp: SmtpServer, monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in _environment(ovh, smtp).items():
        monkeypatch.setenv(name, value)

    async def scenario() -> None:
        async with lifespan(db_url):
            [right_away] = _queue_sms(db_url, 1)
            # The loop may take it first; either way it leaves once.
            assert await deliver_now_async([right_away], db_url) in (0, 1)
            with UnitOfWork(db_url) as uow:
                enqueue(uow.session, channel="mail", event="rdv_created", idempotency_key="rdv:0:mail",
                        payload={"to": "usager@demo.test", "subject": "RDV confirmé", "text": "Bonjour"})
                uow.commit()
            while not all(status == "sent" for status, _ in _statuses(db_url)):
                await asyncio.sleep(0.05)

    asyncio.run(asyncio.wait_for(scenario(), timeout=30))

    assert ovh.count_by_message() == {"message 0": 1}
    assert [message["Subject"] for _, message in smtp.messages] == ["RDV confirmé"]
