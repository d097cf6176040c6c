"""Nothing lost, nothing sent twice: outages, permanent errors, racing workers, the 24 h retry budget, dead
workers and attempts whose outcome was never heard (a crash, a lost answer, a database restart)."""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa
import time_machine
from fakes.ovh_server import FakeOvh
from fakes.smtp_server import SmtpServer
from sqlmodel import select

from rdv_app.db.engine import get_engine
from rdv_app.db.models import OutboxMessage, OutboxWorker, Receipt
from rdv_app.db.uow import UnitOfWork
from rdv_app.domain import clock
from rdv_app.notify.outbox import enqueue
from rdv_app.notify.sms import OvhSmsProvider
from rdv_app.notify.worker import HEARTBEAT_TIMEOUT, IN_FLIGHT_SETTLE, MAX_ATTEMPTS, RETRY_DELAYS, Worker


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


def _workers(db_url: str) -> list[str]:
    with UnitOfWork(db_url) as uow:
        return list(uow.session.exec(select(OutboxWorker.name).order_by(OutboxWorker.id)))


def _claimed_by(db_url: str, name: str, heartbeat_at: datetime, claims: dict[int, tuple[str, datetime] | None]) -> None:
    """What a worker leaves in the database: its row, and its claims, some in flight (tag, call start)."""
    table = OutboxMessage.__table__
    with get_engine(db_url).begin() as connection:
        worker_id = connection.execute(sa.insert(OutboxWorker.__table__).values(
            name=name, started_at=heartbeat_at, heartbeat_at=heartbeat_at).returning(OutboxWorker.__table__.c.id)
        ).scalar_one()
        for outbox_id, in_flight in claims.items():
            tag, started = in_flight or (None, None)
            connection.execute(sa.update(table).where(table.c.id == outbox_id).values(
                status="sending", attempts=1, claimed_by=worker_id, locked_until=clock.now() + timedelta(minutes=5),
                in_flight_tag=tag, in_flight_attempt=1 if tag else None, in_flight_at=started))


@pytest.mark.parametrize("in_flight_sms", ["had left", "never reached OVH"])
def test_a_dead_workers_claims_come_back_at_once_and_its_sms_in_flight_is_looked_for_at_ovh(
        db_url: str, ovh: FakeOvh, smtp: SmtpServer, in_flight_sms: str) -> None:
    ids = _queue_sms(db_url, count=4)
    now = clock.now()
    started = now - timedelta(seconds=5)
    if in_flight_sms == "had left":
        OvhSmsProvider(ovh.settings()).send("+33610000000", "message 0", tag="dead-attempt")
    _claimed_by(db_url, "dead", now - HEARTBEAT_TIMEOUT - timedelta(seconds=1),
                {ids[0]: ("dead-attempt", started), ids[1]: None, ids[2]: None})
    _claimed_by(db_url, "alive", now, {ids[3]: None})
    worker = _worker(db_url, ovh, smtp)

    # The two never tried go at once, with their attempt given back; the one in flight waits until its
    # call has certainly ended; the live worker's claim is left alone.
    assert worker.run_once() == 2
    assert _workers(db_url) == ["alive", f"{socket.gethostname()}:{os.getpid()}"]  # the dead one is gone
    assert [(m.status, m.attempts) for m in _messages(db_url)] == [("pending", 1), ("sent", 1), ("sent", 1),
                                                                    ("sending", 1)]
    assert worker.run_once(now=started + IN_FLIGHT_SETTLE - timedelta(seconds=1)) == 0
    assert worker.run_once(now=started + IN_FLIGHT_SETTLE) == 1

    assert ovh.count_by_message() == {"message 0": 1, "message 1": 1, "message 2": 1}
    first = _messages(db_url)[0]
    assert (first.status, first.attempts, first.in_flight_tag) == ("sent", 2, None)
    receipts = {receipt.outbox_message_id: receipt for receipt in _receipts(db_url)}
    [sms_0] = [sms for sms in ovh.received if sms.message == "message 0"]
    assert (receipts[ids[0]].result, receipts[ids[0]].provider_message_id) == ("sent", str(sms_0.id))
    assert (sms_0.tag == "dead-attempt") == (in_flight_sms == "had left")
    assert len(receipts) == 3


def test_an_sms_whose_answer_from_ovh_was_lost_is_recorded_as_sent_not_sent_again(
        db_url: str, ovh: FakeOvh, smtp: SmtpServer) -> None:
    """A read timeout is not a failure to send: OVH may have taken the SMS. The next attempt asks first."""
    worker = _worker(db_url, ovh, smtp, timeout=(2.0, 0.5))
    [outbox_id] = _queue_sms(db_url)
    ovh.hang_after_accepting("message 0")
    now = clock.now()

    assert worker.run_once(now=now) == 1
    ovh.release(accept=True)
    [message] = _messages(db_url)
    assert (message.status, message.in_flight_tag is not None) == ("pending", True)
    assert worker.run_once(now=message.next_attempt_at) == 1

    [sms] = ovh.received
    assert sms.tag == message.in_flight_tag
    [message] = _messages(db_url)
    assert (message.status, message.attempts, message.in_flight_tag) == ("sent", 2, None)
    failed, sent = _receipts(db_url)
    assert failed.result == "failure" and "ReadTimeout" in failed.error_message
    assert (sent.outbox_message_id, sent.result, sent.provider_message_id) == (outbox_id, "sent", str(sms.id))


def test_an_sms_in_flight_still_pending_at_ovh_is_asked_about_again_until_it_has_left(
        db_url: str, ovh: FakeOvh, smtp: SmtpServer) -> None:
    """OVH's pending jobs carry no tag: a pending job to the same number may be the one, so the answer waits."""
    ids = _queue_sms(db_url, count=2)
    ovh.keep_pending = True
    OvhSmsProvider(ovh.settings()).send("+33610000000", "message 0", tag="dead-attempt")
    now = clock.now()
    _claimed_by(db_url, "dead", now - HEARTBEAT_TIMEOUT - timedelta(seconds=1),
                {ids[0]: ("dead-attempt", now - IN_FLIGHT_SETTLE)})
    worker = _worker(db_url, ovh, smtp)

    assert worker.run_once(now=now) == 2
    first, second = _messages(db_url)
    assert (first.status, first.in_flight_tag, second.status) == ("pending", "dead-attempt", "sent")
    ovh.send_pending()
    assert worker.run_once(now=first.next_attempt_at) == 1

    assert ovh.count_by_message() == {"message 0": 1, "message 1": 1}
    assert [(m.status, m.in_flight_tag) for m in _messages(db_url)] == [("sent", None), ("sent", None)]
    waited, sent = [receipt for receipt in _receipts(db_url) if receipt.outbox_message_id == ids[0]]
    assert waited.result == "failure" and "encore en attente" in waited.error_message
    [sms_0] = [sms for sms in ovh.received if sms.message == "message 0"]
    assert (sent.result, sent.provider_message_id) == ("sent", str(sms_0.id))


@pytest.mark.postgresql_only
def test_a_database_restart_in_the_middle_of_a_batch_loses_and_duplicates_nothing(
        db_url: str, ovh: FakeOvh, smtp: SmtpServer) -> None:
    """The worker's connections are cut while OVH takes an SMS: its outcome cannot be recorded. The worker
    drops its identity; its claims come back as a dead worker's, and that SMS is found at OVH."""
    ids = _queue_sms(db_url, count=5)
    worker = _worker(db_url, ovh, smtp)
    ovh.hang_after_accepting("message 2")
    errors: list[Exception] = []

    def run() -> None:
        try:
            worker.run_once()
        except sa.exc.DBAPIError as error:
            errors.append(error)

    thread = threading.Thread(target=run)
    thread.start()
    assert ovh.hung.wait(timeout=30)
    with get_engine(db_url).connect() as admin:
        admin.execute(sa.text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                              "WHERE datname = current_database() AND pid <> pg_backend_pid()"))
    ovh.release(accept=True)
    thread.join(timeout=30)
    assert len(errors) == 1

    assert worker.run_once() == 0  # its old identity is not silent for long enough yet
    with time_machine.travel(clock.now() + IN_FLIGHT_SETTLE + timedelta(seconds=1)):
        assert worker.run_once() == 3

    assert ovh.count_by_message() == {f"message {index}": 1 for index in range(5)}
    assert [(m.status, m.attempts) for m in _messages(db_url)] == [("sent", 1)] * 2 + [("sent", 2)] + [("sent", 1)] * 2
    received = {sms.message: str(sms.id) for sms in ovh.received}
    assert sorted((r.outbox_message_id, r.result, r.provider_message_id) for r in _receipts(db_url)) \
        == [(outbox_id, "sent", received[f"message {index}"]) for index, outbox_id in enumerate(ids)]
