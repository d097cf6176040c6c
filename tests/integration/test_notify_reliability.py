"""Nothing lost, nothing sent twice: outages, permanent errors, racing workers, the 24 h retry budget."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import timedelta

import pytest
import sqlalchemy as sa
from fakes.ovh_server import FakeOvh
from fakes.smtp_server import SmtpServer
from sqlmodel import select

from rdv_app.db.engine import get_engine
from rdv_app.db.models import OutboxMessage, Receipt
from rdv_app.db.uow import UnitOfWork
from rdv_app.domain import clock
from rdv_app.notify.outbox import enqueue
from rdv_app.notify.sms import OvhSmsProvider
from rdv_app.notify.worker import MAX_ATTEMPTS, RETRY_DELAYS, Worker


@pytest.fixture
def ovh() -> Iterator[FakeOvh]:
    with FakeOvh() as server:
        yield server


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    with SmtpServer() as server:
        yield server


def _worker(db_url: str, ovh: FakeOvh, smtp: SmtpServer, **options: object) -> Worker:
    timeout = options.pop("timeout", (2.0, 5.0))
    return Worker(db_url, sms=OvhSmsProvider(ovh.settings(), timeout=timeout), smtp=smtp.settings(), **options)


def _queue_sms(db_url: str, count: int = 1, **payload: str) -> list[int]:
    """`count` SMS to distinct numbers (the daily cap is per number), texts "message 0", "message 1"..."""
    ids = []
    with UnitOfWork(db_url) as uow:
        for index in range(count):
            body = {"to": f"+3361{index:07d}", "text": f"message {index}"} | payload
            ids.append(enqueue(uow.session, channel="sms", event="rdv_created", idempotency_key=f"rdv:{index}:sms",
                               payload=body))
        uow.commit()
    return ids


def _messages(db_url: str) -> list[OutboxMessage]:
    with UnitOfWork(db_url) as uow:
        rows = list(uow.session.exec(select(OutboxMessage).order_by(OutboxMessage.id)))
        uow.session.expunge_all()
    return rows


def _receipts(db_url: str) -> list[Receipt]:
    with UnitOfWork(db_url) as uow:
        rows = list(uow.session.exec(select(Receipt).order_by(Receipt.id)))
        uow.session.expunge_all()
    return rows


@pytest.mark.parametrize("outage", ["http500", "timeout", "refuse"])
def test_an_ovh_outage_delays_the_sms_which_then_goes_out_once(db_url: str, ovh: FakeOvh, smtp: SmtpServer,
                                                                 outage: str) -> None:
    ovh.hang_seconds = 1.5
    worker = _worker(db_url, ovh, smtp, timeout=(2.0, 0.5))
    _queue_sms(db_url)
    now = clock.now()
    ovh.go_down(outage)

    assert worker.run_once(now=now) == 1

    [message] = _messages(db_url)
    assert (message.status, message.attempts, message.locked_until) == ("pending", 1, None)
    first_wait = message.next_attempt_at - now
    assert RETRY_DELAYS[0] * 0.9 <= first_wait <= RETRY_DELAYS[0] * 1.1
    assert worker.run_once(now=now + timedelta(seconds=20)) == 0  # not before its time

    ovh.come_back()
    assert worker.run_once(now=message.next_attempt_at) == 1

    assert ovh.count_by_message() == {"message 0": 1}
    [message] = _messages(db_url)
    assert (message.status, message.attempts, message.last_error) == ("sent", 2, None)
    failed, sent = _receipts(db_url)
    assert failed.result == "failure" and failed.error_message.startswith("Échec temporaire, nouvel essai prévu : OVH")
    assert failed.sms_provider == "ovh" and failed.sms_phone_number == "+33610000000"
    assert (sent.result, sent.provider_message_id) == ("sent", str(ovh.received[0].id))


@pytest.mark.parametrize("refusal", ["invalid receiver", "unknown sender"])
def test_a_permanent_error_fails_at_once_without_retry(db_url: str, ovh: FakeOvh, smtp: SmtpServer,
                                                        refusal: str) -> None:
    if refusal == "invalid receiver":
        ovh.invalid_receivers.add("+33610000000")
        expected = "Échec définitif : OVH : numéro refusé par l'opérateur"
    else:
        ovh.allowed_senders = {"RdvSoli"}
        expected = "Échec définitif : OVH : paramètres refusés (The sender RDV S.P. does not exist"
    worker = _worker(db_url, ovh, smtp)
    _queue_sms(db_url)
    now = clock.now()

    assert worker.run_once(now=now) == 1
    assert worker.run_once(now=now + timedelta(days=2)) == 0

    [message] = _messages(db_url)
    assert (message.status, message.attempts) == ("failed", 1)
    [receipt] = _receipts(db_url)
    assert receipt.result == "failure" and receipt.error_message.startswith(expected)
    assert ovh.received == []


def test_the_retry_budget_ends_in_a_final_failure_after_about_a_day(db_url: str, ovh: FakeOvh,
                                                                     smtp: SmtpServer) -> None:
    worker = _worker(db_url, ovh, smtp)
    _queue_sms(db_url)
    ovh.go_down("http503")
    start = now = clock.now()
    waits = []

    while True:
        assert worker.run_once(now=now) == 1
        [message] = _messages(db_url)
        if message.status != "pending":
            break
        assert worker.run_once(now=message.next_attempt_at - timedelta(seconds=1)) == 0
        waits.append(message.next_attempt_at - now)
        now = message.next_attempt_at

    assert (message.status, message.attempts) == ("failed", MAX_ATTEMPTS)
    for wait, planned in zip(waits, RETRY_DELAYS, strict=True):
        assert planned * 0.9 <= wait <= planned * 1.1
    assert timedelta(hours=22) <= now - start <= timedelta(hours=27)
    receipts = _receipts(db_url)
    assert [receipt.result for receipt in receipts] == ["failure"] * MAX_ATTEMPTS
    assert all(r.error_message.startswith("Échec temporaire") for r in receipts[:-1])
    assert receipts[-1].error_message.startswith(f"Échec définitif après {MAX_ATTEMPTS} tentatives : OVH")
    assert worker.run_once(now=now + timedelta(days=7)) == 0
    assert ovh.received == []


def test_two_racing_workers_send_each_message_exactly_once(db_url: str, ovh: FakeOvh, smtp: SmtpServer) -> None:
    """PostgreSQL: FOR UPDATE SKIP LOCKED; SQLite: BEGIN IMMEDIATE. Counted by the OVH server."""
    _queue_sms(db_url, count=50)
    workers = [_worker(db_url, ovh, smtp, batch_size=5) for _ in range(2)]
    start = threading.Barrier(2)
    handled: list[int] = []

    def run(worker: Worker) -> None:
        start.wait()
        handled.append(worker.run_once(limit=50))

    threads = [threading.Thread(target=run, args=(worker,)) for worker in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert sum(handled) == 50 and min(handled) > 0
    assert ovh.count_by_message() == {f"message {index}": 1 for index in range(50)}
    assert {message.status for message in _messages(db_url)} == {"sent"}
    assert len(_receipts(db_url)) == 50


def test_a_message_whose_attempts_keep_dying_with_their_worker_is_abandoned(db_url: str, ovh: FakeOvh,
                                                                           smtp: SmtpServer) -> None:
    """What repeated crashes leave behind: every attempt claimed, none recorded, the last lease expired."""
    [outbox_id] = _queue_sms(db_url)
    now = clock.now()
    with get_engine(db_url).begin() as connection:
        connection.execute(sa.update(OutboxMessage.__table__).where(OutboxMessage.__table__.c.id == outbox_id)
                           .values(status="sending", attempts=MAX_ATTEMPTS, locked_until=now - timedelta(seconds=1)))

    assert _worker(db_url, ovh, smtp).run_once(now=now) == 1

    [message] = _messages(db_url)
    assert (message.status, message.attempts) == ("failed", MAX_ATTEMPTS + 1)
    [receipt] = _receipts(db_url)
    assert receipt.error_message == f"Échec définitif : {MAX_ATTEMPTS} tentatives interrompues."
    assert ovh.received == []
