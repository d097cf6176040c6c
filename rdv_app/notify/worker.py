"""The outbox worker: claims due messages, delivers them, records every attempt as a receipt.

Three short steps per message, so that no transaction stays open during a network call:
1. claim a batch in one statement: due rows become `sending` with a lease (`locked_until`). PostgreSQL
   picks them with `FOR UPDATE SKIP LOCKED`, so concurrent workers take disjoint rows; SQLite has a single
   writer and the statement runs in a `BEGIN IMMEDIATE` transaction. Rows left `sending` by a crashed
   worker become due again when their lease ends.
2. deliver outside any transaction (OVH, SMTP);
3. record the outcome and its receipt in a new transaction, only if the claim is still ours (same
   `attempts`), then: sent; pending again with exponential backoff; or failed.

Each claim increments `attempts`, so a claim is identified by (id, attempts) and an interrupted attempt
counts toward the retry budget.

Besides delivering, the loop runs the scheduled work once a minute: it queues the reminders that are
due (`rdv_app.notify.reminders`) and the daily maintenance jobs (`rdv_app.notify.daily_jobs`).

`python -m rdv_app.cli worker [DATABASE_URL]` runs it as a process (SIGTERM stops it after the message
in flight); `lifespan` runs it inside the app (`make run`), unless RDV_NOTIFY_WORKER=external says that
such a process runs; `deliver_now` sends given messages right after a commit.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import os
import random
import signal
import sys
import threading
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from rdv_app.db.engine import database_url, get_engine
from rdv_app.db.models import OutboxMessage, Receipt
from rdv_app.domain import clock
from rdv_app.domain.enums import Channel, OutboxStatus, ReceiptResult
from rdv_app.notify import daily_jobs, mailer, reminders, webhooks
from rdv_app.notify.errors import PermanentDeliveryError, TemporaryDeliveryError
from rdv_app.notify.outbox import EXPIRES_AT
from rdv_app.notify.sms import SmsProvider, sms_provider_from_env

logger = logging.getLogger(__name__)

OUTBOX = OutboxMessage.__table__
RECEIPTS = Receipt.__table__

BATCH_SIZE = 50
LEASE = timedelta(minutes=5)
# The slowest a single delivery can be (SMTP timeout 30 s, OVH 25 s): a batch stops early enough that
# no message is still being sent when its lease ends and another worker may take it.
SLOWEST_DELIVERY = timedelta(seconds=60)
POLL_INTERVAL = 2.0
# Reminders and daily jobs are looked for this often (seconds).
SCHEDULE_INTERVAL = 60.0
DAILY_SMS_CAP = 10
SMS_CAP_WINDOW = timedelta(hours=24)
# Delivery channels this worker sends.
CHANNELS: tuple[Channel, ...] = (Channel.SMS, Channel.MAIL, Channel.WEBHOOK)


def _retry_delays(first: timedelta = timedelta(seconds=30), cap: timedelta = timedelta(hours=2),
                  window: timedelta = timedelta(hours=24)) -> tuple[timedelta, ...]:
    """30 s, 1 min, 2 min... doubling up to 2 h, until the waits add up to 24 h."""
    delays: list[timedelta] = []
    delay = first
    while sum(delays, timedelta()) < window:
        delays.append(delay)
        delay = min(delay * 2, cap)
    return tuple(delays)


RETRY_DELAYS = _retry_delays()
MAX_ATTEMPTS = len(RETRY_DELAYS) + 1
# Random spread of each wait, so that messages failed together do not all come back together.
JITTER = 0.1


@dataclass(frozen=True)
class Claim:
    id: int
    attempts: int
    idempotency_key: str
    channel: Channel
    event: str
    payload: dict[str, Any]
    organisation_id: int | None
    rdv_id: int | None
    usager_id: int | None


@dataclass(frozen=True)
class Outcome:
    status: OutboxStatus
    result: ReceiptResult
    error: str | None = None
    retry_at: datetime | None = None
    provider_message_id: str | None = None
    sms_count: int | None = None


class Worker:
    """Delivers outbox messages of one database. `now` parameters exist for tests that move time."""

    def __init__(self, url: str | None = None, *, sms: SmsProvider | None = None,
                 smtp: mailer.SmtpSettings | None = None, batch_size: int = BATCH_SIZE,
                 lease: timedelta = LEASE, stop_event: threading.Event | None = None) -> None:
        self.url = url or database_url()
        self.engine = get_engine(self.url)
        self.sms = sms or sms_provider_from_env()
        self.smtp = smtp or mailer.SmtpSettings.from_env()
        # No SMTP server configured (the demo): emails are recorded as processed, never sent.
        self.demo_mail = smtp is None and mailer.uses_demo_mailbox()
        self.batch_size = batch_size
        self.lease = lease
        self.stop_event = stop_event or threading.Event()
        self._random = random.Random()  # noqa: S311 - spreads retries, nothing secret

    # ----------------------------------------------------------------------------------- entry points

    def run_once(self, now: datetime | None = None, limit: int | None = None) -> int:
        """Delivers due messages, batch after batch, up to `limit` (one batch by default).

        Returns how many messages were attempted (sent, retried, failed or cancelled).
        """
        limit = limit or self.batch_size
        handled = 0
        while handled < limit and not self.stop_event.is_set():
            size = min(self.batch_size, limit - handled)
            claims = self._claim(size, now)
            handled += self._process(claims, now)
            if len(claims) < size:
                break
        return handled

    def deliver(self, outbox_ids: Iterable[int], now: datetime | None = None) -> int:
        """Delivers these messages if they are due and nobody else holds them; returns how many."""
        ids = list(dict.fromkeys(outbox_ids))
        handled = 0
        for start in range(0, len(ids), self.batch_size):
            chunk = ids[start:start + self.batch_size]
            handled += self._process(self._claim(len(chunk), now, ids=chunk), now)
        return handled

    def run_scheduled(self, now: datetime | None = None) -> list[int]:
        """Queues the reminders due at `now` and runs the daily jobs not yet done today (by any worker).

        Returns the ids of the reminder messages queued; the next `run_once` sends them.
        """
        now = now or clock.now()
        queued = reminders.queue_due_reminders(self.url, now)
        daily_jobs.run_daily_jobs(self.url, now)
        return queued

    def run_forever(self) -> None:
        """Polls until `stop_event` is set; runs the scheduled work every SCHEDULE_INTERVAL."""
        mail = "demo mailbox, nothing sent" if self.demo_mail else f"SMTP {self.smtp.host}:{self.smtp.port}"
        logger.info("outbox worker: started (SMS via %s, emails via %s)", self.sms.name, mail)
        pause = POLL_INTERVAL
        next_schedule = time.monotonic()
        while not self.stop_event.is_set():
            if time.monotonic() >= next_schedule:
                next_schedule = time.monotonic() + SCHEDULE_INTERVAL
                try:
                    self.run_scheduled()
                except Exception:  # reminders or a daily job failing must not stop deliveries
                    logger.exception("outbox worker: scheduled work failed, next try in %.0f s", SCHEDULE_INTERVAL)
            try:
                handled = self.run_once()
            except Exception:  # a database outage (or any bug) pauses the loop; dying would stop all mail
                logger.exception("outbox worker: batch failed, pausing %.0f s", pause)
                self.stop_event.wait(pause)
                pause = min(pause * 2, 60.0)
                continue
            pause = POLL_INTERVAL
            if handled < self.batch_size:
                self.stop_event.wait(POLL_INTERVAL)
        logger.info("outbox worker: stopped")

    # ----------------------------------------------------------------------------------- claim

    @staticmethod
    @contextlib.contextmanager
    def _writing(connection: sa.Connection) -> Iterator[sa.Connection]:
        """A write transaction; on SQLite it takes the write lock at BEGIN (see rdv_app.db.engine), so
        that a claim cannot interleave with another and no read lock has to be upgraded."""
        if connection.dialect.name == "sqlite":
            connection.info["sqlite_begin"] = "IMMEDIATE"
        with connection.begin():
            yield connection

    def _claim(self, size: int, now: datetime | None, ids: Sequence[int] | None = None) -> list[Claim]:
        now = now or clock.now()
        c = OUTBOX.c
        due = sa.or_(
            sa.and_(c.status == OutboxStatus.PENDING.value, c.next_attempt_at <= now),
            sa.and_(c.status == OutboxStatus.SENDING.value, c.locked_until < now),
        )
        chosen = sa.select(c.id).where(due, c.channel.in_([channel.value for channel in CHANNELS]))
        if ids is not None:
            chosen = chosen.where(c.id.in_(ids))
        chosen = chosen.order_by(c.next_attempt_at, c.id).limit(size).with_for_update(skip_locked=True)
        statement = (
            sa.update(OUTBOX)
            .where(c.id.in_(chosen))
            .values(status=OutboxStatus.SENDING.value, locked_until=now + self.lease, attempts=c.attempts + 1)
            .returning(c.id, c.attempts, c.idempotency_key, c.channel, c.event, c.payload, c.organisation_id,
                       c.rdv_id, c.usager_id, c.next_attempt_at)
        )
        with self.engine.connect() as connection, self._writing(connection):
            rows = connection.execute(statement).all()
        rows.sort(key=lambda row: (row.next_attempt_at, row.id))
        return [
            Claim(id=row.id, attempts=row.attempts, idempotency_key=row.idempotency_key,
                  channel=Channel(row.channel), event=row.event, payload=row.payload,
                  organisation_id=row.organisation_id, rdv_id=row.rdv_id, usager_id=row.usager_id)
            for row in rows
        ]

    def _release(self, connection: sa.Connection, claims: Sequence[Claim]) -> None:
        """Hands back claims not attempted (stop requested, lease running out), as if never claimed."""
        c = OUTBOX.c
        statement = (
            sa.update(OUTBOX)
            .where(c.id == sa.bindparam("claim_id"), c.attempts == sa.bindparam("claim_attempts"),
                   c.status == OutboxStatus.SENDING.value)
            .values(status=OutboxStatus.PENDING.value, locked_until=None, attempts=c.attempts - 1)
        )
        with self._writing(connection):
            connection.execute(statement, [{"claim_id": claim.id, "claim_attempts": claim.attempts}
                                           for claim in claims])

    # ----------------------------------------------------------------------------------- deliver

    def _process(self, claims: Sequence[Claim], now: datetime | None) -> int:
        if not claims:
            return 0
        deadline = time.monotonic() + (self.lease - SLOWEST_DELIVERY).total_seconds()
        # One connection for the batch, outside any transaction between statements: no pool checkout per
        # message, and nothing held while a provider answers.
        with self.engine.connect() as connection:
            sms_sent = self._recent_sms_counts(connection, claims, now or clock.now())
            for index, claim in enumerate(claims):
                if self.stop_event.is_set() or time.monotonic() > deadline:
                    self._release(connection, claims[index:])
                    return index
                outcome = self._attempt(claim, now or clock.now(), sms_sent)
                self._record(connection, claim, outcome, now or clock.now())
        return len(claims)

    def _attempt(self, claim: Claim, now: datetime, sms_sent: Counter[str]) -> Outcome:
        expires_at = claim.payload.get(EXPIRES_AT)
        if expires_at and datetime.fromisoformat(expires_at) <= now:
            return Outcome(OutboxStatus.CANCELLED, ReceiptResult.FAILURE, error="Non envoyé : échéance dépassée.")
        if claim.attempts > MAX_ATTEMPTS:
            # Only reachable when attempts kept dying with their worker: stop feeding a crash loop.
            return Outcome(OutboxStatus.FAILED, ReceiptResult.FAILURE,
                           error=f"Échec définitif : {claim.attempts - 1} tentatives interrompues.")
        try:
            if claim.channel is Channel.SMS:
                return self._send_sms(claim, sms_sent)
            if claim.channel is Channel.WEBHOOK:
                return self._send_webhook(claim, now)
            return self._send_mail(claim)
        except PermanentDeliveryError as error:
            return Outcome(OutboxStatus.FAILED, ReceiptResult.FAILURE, error=f"Échec définitif : {error}")
        except TemporaryDeliveryError as error:
            return self._retry_or_give_up(claim, str(error), now)
        except Exception as error:  # a bug in one message must not stop the others
            logger.exception("outbox message %s: unexpected error", claim.id)
            return self._retry_or_give_up(claim, f"erreur interne ({type(error).__name__})", now)

    def _retry_or_give_up(self, claim: Claim, detail: str, now: datetime) -> Outcome:
        if claim.attempts >= MAX_ATTEMPTS:
            return Outcome(OutboxStatus.FAILED, ReceiptResult.FAILURE,
                           error=f"Échec définitif après {claim.attempts} tentatives : {detail}")
        delay = RETRY_DELAYS[claim.attempts - 1] * self._random.uniform(1 - JITTER, 1 + JITTER)
        return Outcome(OutboxStatus.PENDING, ReceiptResult.FAILURE,
                       error=f"Échec temporaire, nouvel essai prévu : {detail}", retry_at=now + delay)

    def _send_webhook(self, claim: Claim, now: datetime) -> Outcome:
        """Webhooks keep their own schedule and delivery log (rdv_app.notify.webhooks)."""
        result = webhooks.deliver(self.engine, claim.id, claim.attempts, claim.payload, now)
        if result.delivered:
            return Outcome(OutboxStatus.SENT, ReceiptResult.SENT)
        if result.retry_at is None:
            return Outcome(OutboxStatus.FAILED, ReceiptResult.FAILURE, error=f"Échec définitif : {result.error}")
        return Outcome(OutboxStatus.PENDING, ReceiptResult.FAILURE,
                       error=f"Échec temporaire, nouvel essai prévu : {result.error}", retry_at=result.retry_at)

    def _send_sms(self, claim: Claim, sms_sent: Counter[str]) -> Outcome:
        to = claim.payload["to"]
        if sms_sent[to] >= DAILY_SMS_CAP:
            return Outcome(OutboxStatus.CANCELLED, ReceiptResult.FAILURE,
                           error=f"Non envoyé : plafond de {DAILY_SMS_CAP} SMS par jour atteint pour ce numéro.")
        result = self.sms.send(to, claim.payload["text"], claim.payload.get("sender"))
        sms_sent[to] += 1
        return Outcome(OutboxStatus.SENT, self.sms.receipt_result, provider_message_id=result.provider_id,
                       sms_count=result.segments)

    @staticmethod
    def _recent_sms_counts(connection: sa.Connection, claims: Sequence[Claim], now: datetime) -> Counter[str]:
        """SMS that reached each number of the batch in the last 24 h, counted once per batch.

        The cap is soft across concurrent workers (each counts what was recorded before its batch): at
        worst a number gets a few more than 10 in a day, never a message lost.
        """
        numbers = {claim.payload["to"] for claim in claims if claim.channel is Channel.SMS}
        if not numbers:
            return Counter()
        with connection.begin():
            return Counter({number: count
                            for number, count in connection.execute(recent_sms_statement(numbers, now))})

    def _send_mail(self, claim: Claim) -> Outcome:
        # The same Message-ID on every attempt lets mail systems drop a copy sent twice after a crash.
        digest = hashlib.sha256(claim.idempotency_key.encode()).hexdigest()[:32]
        message_id = f"<{digest}@{self.smtp.sender_domain}>"
        if self.demo_mail:
            logger.info("email (demo mailbox) to %s: %s", claim.payload["to"], claim.payload["subject"])
            return Outcome(OutboxStatus.SENT, ReceiptResult.PROCESSED, provider_message_id=message_id)
        sent_id = asyncio.run(mailer.send_mail(claim.payload, settings=self.smtp, message_id=message_id))
        return Outcome(OutboxStatus.SENT, ReceiptResult.SENT, provider_message_id=sent_id)

    # ----------------------------------------------------------------------------------- record

    def _record(self, connection: sa.Connection, claim: Claim, outcome: Outcome, now: datetime) -> None:
        values: dict[str, Any] = {"status": outcome.status.value, "locked_until": None, "last_error": outcome.error}
        if outcome.status is OutboxStatus.SENT:
            values["sent_at"] = now
        if outcome.retry_at is not None:
            values["next_attempt_at"] = outcome.retry_at
        is_sms = claim.channel is Channel.SMS
        receipt = {
            "outbox_message_id": claim.id,
            "rdv_id": claim.rdv_id,
            "usager_id": claim.usager_id,
            "organisation_id": claim.organisation_id,
            "event": claim.event,
            "channel": claim.channel.value,
            "result": outcome.result.value,
            "error_message": outcome.error,
            "sms_provider": self.sms.name if is_sms else None,
            "sms_count": outcome.sms_count,
            "provider_message_id": outcome.provider_message_id,
            "content": claim.payload.get("text") if is_sms else claim.payload.get("subject"),
            "sms_phone_number": claim.payload.get("to") if is_sms else None,
            "email_address": claim.payload.get("to") if claim.channel is Channel.MAIL else None,
            "created_at": now,
        }
        c = OUTBOX.c
        with self._writing(connection):
            updated = connection.execute(
                sa.update(OUTBOX)
                .where(c.id == claim.id, c.attempts == claim.attempts, c.status == OutboxStatus.SENDING.value)
                .values(**values)
            ).rowcount
            connection.execute(sa.insert(RECEIPTS).values(**receipt))
        if not updated:
            logger.warning("outbox message %s: lease lost before its outcome (%s) was recorded",
                           claim.id, outcome.status.value)
        elif outcome.status is not OutboxStatus.SENT:
            logger.warning("outbox message %s (%s, attempt %d): %s", claim.id, claim.channel.value,
                           claim.attempts, outcome.error)


def recent_sms_statement(numbers: Iterable[str], now: datetime) -> sa.Select:
    """(number, SMS sent) over the last SMS_CAP_WINDOW for these numbers. Only the receipts of these
    numbers in that window are read, through the index on receipt(sms_phone_number, created_at)."""
    r = RECEIPTS.c
    return (
        sa.select(r.sms_phone_number, sa.func.count())
        .where(r.sms_phone_number.in_(sorted(numbers)), r.created_at > now - SMS_CAP_WINDOW,
               r.channel == Channel.SMS.value,
               r.result.in_([ReceiptResult.SENT.value, ReceiptResult.DELIVERED.value, ReceiptResult.PROCESSED.value]))
        .group_by(r.sms_phone_number)
    )


# --------------------------------------------------------------------------------------- module API


def run_once(url: str | None = None, now: datetime | None = None, limit: int = BATCH_SIZE) -> int:
    return Worker(url).run_once(now=now, limit=limit)


def run_forever(stop_event: threading.Event, url: str | None = None) -> None:
    Worker(url, stop_event=stop_event).run_forever()


def deliver_now(outbox_ids: Iterable[int], url: str | None = None) -> int:
    """Sends these messages at once (call it right after the commit that queued them).

    Blocking; from async code (a Reflex event handler) use `deliver_now_async`. Messages another worker
    already holds, or not yet due, are left to the worker loop.
    """
    return Worker(url).deliver(outbox_ids)


async def deliver_now_async(outbox_ids: Iterable[int], url: str | None = None) -> int:
    return await asyncio.to_thread(deliver_now, list(outbox_ids), url)


WORKER_SETTING = "RDV_NOTIFY_WORKER"


def runs_in_app() -> bool:
    """Whether the app runs the worker itself: RDV_NOTIFY_WORKER is `app` (the default, `make run`), or
    `external` when `python -m rdv_app.notify.worker` runs as its own process (production)."""
    value = os.environ.get(WORKER_SETTING, "").strip().lower() or "app"
    if value not in ("app", "external"):
        raise RuntimeError(f"{WORKER_SETTING} doit valoir app ou external (reçu : {value!r}).")
    return value == "app"


@contextlib.asynccontextmanager
async def lifespan(url: str | None = None) -> AsyncIterator[None]:
    """The worker inside the app (`app.register_lifespan_task(lifespan)`), on its own thread.

    The worker is built here, so that a wrong configuration stops the app's start instead of a thread.
    """
    worker = Worker(url)
    thread = threading.Thread(target=worker.run_forever, name="outbox-worker", daemon=True)
    thread.start()
    try:
        yield
    finally:
        worker.stop_event.set()
        await asyncio.to_thread(thread.join)


def main(argv: Sequence[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    stop_event = threading.Event()

    def stop(signum: int, _frame: object) -> None:
        logger.info("outbox worker: %s received, stopping after the message in flight",
                    signal.Signals(signum).name)
        stop_event.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    run_forever(stop_event, argv[0] if argv else None)
    return 0

