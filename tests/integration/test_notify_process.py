"""The worker as it runs for real: `python -m rdv_app.cli worker` (killed, or stopped with SIGTERM) and
inside the app through its lifespan task. OVH is configured from the environment, endpoint given as a URL.

Crash safety (issue 16): a worker killed with SIGKILL at each step of a delivery, the step reached from
outside (the loopback OVH or SMTP server holding a call, a database lock holding the record), then a new
worker started: every SMS reaches OVH once, every receipt names the SMS OVH received, within 30 s.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from fakes.ovh_server import FakeOvh
from fakes.smtp_server import SmtpServer
from sqlmodel import select

from rdv_app.db.engine import get_engine
from rdv_app.db.models import OutboxMessage, Receipt
from rdv_app.db.uow import UnitOfWork
from rdv_app.notify.outbox import enqueue
from rdv_app.notify.worker import deliver_now_async, lifespan, run_once

ROOT = Path(__file__).resolve().parents[2]
# How the worker process is started (its start-up is `rdv_app.notify.worker.serve`).
WORKER_COMMAND = [sys.executable, "-m", "rdv_app.cli", "worker"]
# The promise of issue 16: a dead worker's messages go out within this time, not after a 5-minute lease.
RECOVERY = 30.0


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
        process = subprocess.Popen([*WORKER_COMMAND, db_url], cwd=ROOT,
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


def _leases(db_url: str) -> list[datetime]:
    """When the leases of the rows still being sent end."""
    with UnitOfWork(db_url) as uow:
        return list(uow.session.exec(select(OutboxMessage.locked_until).where(OutboxMessage.status == "sending")))


def _wait_until(condition: Callable[[], bool], what: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"still waiting for {what}"
        time.sleep(0.05)


def _receipts(db_url: str) -> list[Receipt]:
    with UnitOfWork(db_url) as uow:
        rows = list(uow.session.exec(select(Receipt).order_by(Receipt.id)))
        uow.session.expunge_all()
    return rows


def _in_flight(db_url: str) -> list[bool]:
    with UnitOfWork(db_url) as uow:
        rows = uow.session.exec(select(OutboxMessage.in_flight_tag).order_by(OutboxMessage.id))
        return [tag is not None for tag in rows]


def _kill(process: subprocess.Popen) -> None:
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)


@contextlib.contextmanager
def _record_blocked(db_url: str, outbox_id: int) -> Iterator[Callable[[], None]]:
    """Holds what the worker's record of `outbox_id` needs (the row on PostgreSQL, the write lock on SQLite);
    yields a wait that returns once the worker is stuck on it (seen on PostgreSQL; on SQLite, given time)."""
    engine = get_engine(db_url)
    with engine.connect() as connection:
        if engine.dialect.name == "sqlite":
            connection.info["sqlite_begin"] = "IMMEDIATE"
        with connection.begin():
            if engine.dialect.name == "postgresql":
                connection.execute(sa.select(OutboxMessage.id).where(OutboxMessage.id == outbox_id).with_for_update())

            def stuck() -> None:
                if engine.dialect.name == "sqlite":
                    time.sleep(1.0)
                    return
                def waiting() -> bool:
                    # A new transaction each time: pg_stat_activity is a snapshot taken once per transaction.
                    with engine.connect() as observer:
                        return observer.execute(sa.text(
                            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                            "AND query LIKE 'UPDATE outbox_message SET status%'")).scalar_one() == 1

                _wait_until(waiting, "the record to wait", 10)

            yield stuck


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
    # A second before the dead worker's lease ends (it claimed the ten rows at once, however long ago on a
    # loaded machine), nothing is taken; a second after, the seven rows it left.
    leases = _leases(db_url)
    assert run_once(db_url, now=min(leases) - timedelta(seconds=1)) == 0
    assert run_once(db_url, now=max(leases) + timedelta(seconds=1)) == 7

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


KILL_POINTS = ["after claim", "after provider call", "before record"]


@pytest.mark.parametrize("kill_point", KILL_POINTS)
def test_a_worker_killed_at_any_step_loses_no_sms_and_sends_none_twice(
        db_url: str, ovh: FakeOvh, smtp: SmtpServer, start_worker: Callable[[], subprocess.Popen],
        kill_point: str) -> None:
    ids = _queue_sms(db_url, 10)
    if kill_point == "after claim":
        ovh.hang_clock()  # a fresh worker's first call: every message claimed, none tried
    else:
        ovh.hang_after_accepting("message 3")  # OVH has taken the 4th SMS; the worker has not heard so
    victim = start_worker()
    assert ovh.hung.wait(timeout=30)

    if kill_point == "before record":
        with _record_blocked(db_url, ids[3]) as stuck:
            ovh.release(accept=True)
            assert ovh.answered.wait(timeout=10)
            stuck()  # the answer is in, the record waits
            _kill(victim)
    else:
        _kill(victim)
        ovh.release(accept=True)
    killed_at = time.monotonic()

    # What the kill left: every message claimed; from the 4th on, nothing recorded, the 4th in flight.
    sent = 0 if kill_point == "after claim" else 3
    assert _statuses(db_url) == [("sent", 1)] * sent + [("sending", 1)] * (10 - sent)
    assert _in_flight(db_url) == [index == 3 and sent == 3 for index in range(10)]
    assert len(ovh.received) == (0 if kill_point == "after claim" else 4)

    survivor = start_worker()
    _wait_until(lambda: all(status == "sent" for status, _ in _statuses(db_url)), "the survivor", RECOVERY)
    recovery = time.monotonic() - killed_at
    survivor.send_signal(signal.SIGTERM)
    assert survivor.wait(timeout=30) == 0

    received = {sms.message: sms for sms in ovh.received}
    assert ovh.count_by_message() == {f"message {index}": 1 for index in range(10)}
    receipts = _receipts(db_url)
    assert sorted((receipt.outbox_message_id, receipt.result, receipt.provider_message_id) for receipt in receipts) \
        == [(outbox_id, "sent", str(received[f"message {index}"].id)) for index, outbox_id in enumerate(ids)]
    # Only the SMS in flight when the worker died counts an attempt more; the others got theirs back.
    assert [attempts for _, attempts in _statuses(db_url)] == [2 if index == 3 and sent == 3 else 1 for index in range(10)]
    print(f"\n| {kill_point} | {get_engine(db_url).dialect.name} | SMS received {len(ovh.received)} for 10 queued, "
          f"at most {max(ovh.count_by_message().values())} per message | {len(receipts)} receipts, all 'sent' "
          f"with OVH's id | recovered in {recovery:.1f} s |")


def test_a_worker_killed_after_the_smtp_server_took_an_email_sends_it_again_with_the_same_message_id(
        db_url: str, ovh: FakeOvh, smtp: SmtpServer, start_worker: Callable[[], subprocess.Popen]) -> None:
    """SMTP has no "did it leave?" question: the email goes out at least once, each copy with the same
    Message-ID, so that mail systems can drop the second one."""
    ids = []
    with UnitOfWork(db_url) as uow:
        for index in range(3):
            ids.append(enqueue(uow.session, channel="mail", event="rdv_created", idempotency_key=f"rdv:{index}:mail",
                               payload={"to": f"usager{index}@demo.test", "subject": f"RDV {index}", "text": "Bonjour"}))
        uow.commit()
    smtp.hang_after_accepting("usager1@demo.test")
    victim = start_worker()
    assert smtp.hung.wait(timeout=30)
    _kill(victim)
    smtp.release()
    killed_at = time.monotonic()

    survivor = start_worker()
    _wait_until(lambda: all(status == "sent" for status, _ in _statuses(db_url)), "the survivor", RECOVERY)
    assert time.monotonic() - killed_at < RECOVERY
    survivor.send_signal(signal.SIGTERM)
    assert survivor.wait(timeout=30) == 0

    copies = [(message["Subject"], message["Message-ID"]) for _, message in smtp.messages]
    assert sorted(subject for subject, _ in copies) == ["RDV 0", "RDV 1", "RDV 1", "RDV 2"]
    message_ids = {subject: {message_id for s, message_id in copies if s == subject} for subject, _ in copies}
    assert all(len(found) == 1 for found in message_ids.values())
    receipts = _receipts(db_url)
    assert sorted((receipt.outbox_message_id, receipt.result, receipt.provider_message_id) for receipt in receipts) \
        == [(outbox_id, "sent", *message_ids[f"RDV {index}"]) for index, outbox_id in enumerate(ids)]
