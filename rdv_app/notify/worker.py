"""The outbox worker: claims due messages, delivers them, records every attempt as a receipt.

Short steps per message, so that no transaction stays open during a network call:
1. claim a batch in one statement: due rows become `sending`, `claimed_by` this worker, with a lease
   (`locked_until`). PostgreSQL picks them with `FOR UPDATE SKIP LOCKED`, so concurrent workers take disjoint
   rows; SQLite has a single writer and the statement runs in a `BEGIN IMMEDIATE` transaction.
2. read the RDV the message is about, if any: a message written for an older version that no longer holds
   (rdv_app.domain.withdrawal: a reminder of a moved RDV, anything but the cancellation of a cancelled
   one) is withdrawn instead of sent, as the change's own transaction withdraws what is still waiting;
   then mark the message in flight, in its own committed transaction, with a new attempt id (`in_flight_tag`,
   `in_flight_attempt`, `in_flight_at`), only if the claim is still ours;
3. deliver outside any transaction (OVH, SMTP, webhook, ANTS); an SMS carries its attempt id as OVH's `tag`;
4. record the outcome and its receipt in a new transaction, only if the claim is still ours (same worker,
   same `attempts`), then: sent; pending again with exponential backoff; or failed. A known outcome clears
   the in-flight mark; a temporary failure keeps it, as the call may have reached the provider.

Crashes. Each worker has a row in `outbox_worker` whose `heartbeat_at` it renews, at most every second, as
it claims and marks messages. A worker silent for HEARTBEAT_TIMEOUT is dead: the next worker to claim hands
its claims back at once (in the claim's transaction) and deletes its row:
- a message not in flight was never tried: it is pending again, due now, and its attempt is given back;
- a message in flight may have reached its provider: it is pending again, due IN_FLIGHT_SETTLE after its
  call started, once that call has certainly ended, and keeps its mark. Whoever claims it next first asks
  OVH whether that attempt's SMS left (its tag among the SMS sent, `find_sent`) and records it as sent if
  so, without sending again. Emails and webhooks have no such question: they are sent again with the same
  Message-ID or `webhook-id`, so that receivers can drop the copy (at least once, not exactly once).
A worker whose batch fails on a database error (a restart) drops its identity, so that its claims are
recovered the same way. Leases stay as the last resort: a row still `sending` after its lease is due again,
whoever holds it.

Heartbeats are real time (`clock.now()`): the `now` parameters move the schedule, not the life of processes.

Each claim increments `attempts`, so a claim is identified by (id, attempts) and an interrupted attempt
counts toward the retry budget when it got as far as its provider call.

SMS of an organisation whose territory has its own OVH account go through that account
(rdv_app.notify.territory_sms), read with the batch's claims, so that a change of the territory's settings
applies from the next batch; every other SMS goes through the instance's provider.

Besides delivering, the loop runs the scheduled work once a minute: it queues the reminders that are
due (`rdv_app.notify.reminders`) and the daily maintenance jobs (`rdv_app.notify.daily_jobs`); the long
jobs (the RDV list's exports, `rdv_app.notify.long_jobs`) run on a thread of their own beside it.

`python -m rdv_app.cli worker [DATABASE_URL]` runs it as a process (`serve`: SIGTERM stops it after the
message in flight); `lifespan` runs it inside the app (`make run`), unless RDV_NOTIFY_WORKER=external says
that such a process runs; `deliver_now` sends given messages right after a commit.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import os
import random
import secrets
import signal
import socket
import sys
import threading
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from rdv_app import logs
from rdv_app.config import settings as app_settings
from rdv_app.db.engine import database_url, get_engine
from rdv_app.db.models import Organisation, OutboxMessage, OutboxWorker, Rdv, Receipt, Territory
from rdv_app.db.rows import table_of
from rdv_app.db.types import UTCDateTime
from rdv_app.domain import clock
from rdv_app.domain.enums import CANCELLED_STATUSES, Channel, OutboxStatus, ReceiptResult
from rdv_app.domain.usager_link import without_link_token
from rdv_app.domain.withdrawal import WITHDRAWN, is_withdrawn
from rdv_app.error_tracking import init_error_tracking
from rdv_app.gc_tuning import freeze_startup_objects
from rdv_app.metrics import DELIVERIES, PROVIDER_LATENCY, timing
from rdv_app.notify import ants, daily_jobs, long_jobs, mailer, outlook, reminders, webhooks
from rdv_app.notify.errors import PermanentDeliveryError, TemporaryDeliveryError
from rdv_app.notify.outbox import EXPIRES_AT
from rdv_app.notify.sms import OVH_TIMEOUT, SmsProvider, SmsResult, sms_provider_from_env
from rdv_app.notify.territory_sms import territory_provider

logger = logging.getLogger(__name__)

OUTBOX = table_of(OutboxMessage)
RECEIPTS = table_of(Receipt)
RDVS = table_of(Rdv)
WORKERS = table_of(OutboxWorker)
ORGANISATIONS = table_of(Organisation)
TERRITORIES = table_of(Territory)

BATCH_SIZE = 50
LEASE = timedelta(minutes=5)
# The slowest a single delivery can be (SMTP timeout 30 s, OVH 15 s): a batch stops early enough that
# no message is still being sent when its lease ends and another worker may take it.
SLOWEST_DELIVERY = timedelta(seconds=60)
# A worker renews its heartbeat at most this often (seconds) and is dead once silent for HEARTBEAT_TIMEOUT,
# as long as an SMS call can last: a live worker waiting for OVH is not taken for dead. (One waiting longer
# for an SMTP server may be: its other claims then go to other workers, and its email in flight may be
# sent twice, with the same Message-ID.)
HEARTBEAT_EVERY = 1.0
HEARTBEAT_TIMEOUT = timedelta(seconds=sum(OVH_TIMEOUT))
# How long after its start a call in flight has certainly ended (OVH's timeouts, and a margin): a dead
# worker's message in flight is looked for at OVH, and sent again if need be, no sooner.
IN_FLIGHT_SETTLE = timedelta(seconds=sum(OVH_TIMEOUT) + 5)
POLL_INTERVAL = 2.0
# Reminders and daily jobs are looked for this often (seconds).
SCHEDULE_INTERVAL = 60.0
DAILY_SMS_CAP = 10
SMS_CAP_WINDOW = timedelta(hours=24)
# Delivery channels this worker sends.
CHANNELS: tuple[Channel, ...] = (Channel.SMS, Channel.MAIL, Channel.WEBHOOK, Channel.ANTS, Channel.OUTLOOK)


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

# The statements run for every message, built once: building one costs more than running it.
_c = OUTBOX.c
# The claim is still ours: same message, same attempt, same worker, still sending.
_HELD = (_c.id == sa.bindparam("claim_id"), _c.attempts == sa.bindparam("claim_attempts"),
         _c.claimed_by == sa.bindparam("worker_id"), _c.status == OutboxStatus.SENDING.value)
_NOT_IN_FLIGHT = {"in_flight_tag": None, "in_flight_attempt": None, "in_flight_at": None}
_UNCLAIMED = {"locked_until": None, "claimed_by": None}
# One ANTS coordination call at a time for an RDV (integrations.md 1c: RDV-SP's limit of one job per RDV):
# an `ants` row is not claimed while an older row of the same RDV is still to deliver (due, being sent or
# waiting for its retry). The claim reads the older row's status in its own statement, so two workers
# claiming at once cannot each take a row of the same RDV.
_older = OUTBOX.alias("older")
_ANTS_IN_TURN = sa.or_(_c.channel != Channel.ANTS.value, ~sa.exists().where(
    _older.c.channel == Channel.ANTS.value, _older.c.id < _c.id,
    _older.c.status.in_([OutboxStatus.PENDING.value, OutboxStatus.SENDING.value]),
    _older.c.payload["rdv_id"].as_integer() == _c.payload["rdv_id"].as_integer()))
_MARK_IN_FLIGHT = sa.update(OUTBOX).where(*_HELD).values(
    in_flight_tag=sa.bindparam("tag"), in_flight_attempt=sa.bindparam("claim_attempts"),
    in_flight_at=sa.bindparam("started_at", type_=UTCDateTime))
# An outcome known (sent, failed, cancelled) clears the in-flight mark; a temporary failure keeps it, as the
# call may have reached the provider.
_RECORD_KNOWN = sa.update(OUTBOX).where(*_HELD).values(
    **_UNCLAIMED, **_NOT_IN_FLIGHT, status=sa.bindparam("new_status"), last_error=sa.bindparam("error"),
    sent_at=sa.bindparam("sent_at", type_=UTCDateTime))
_RECORD_RETRY = sa.update(OUTBOX).where(*_HELD).values(
    **_UNCLAIMED, status=OutboxStatus.PENDING.value, last_error=sa.bindparam("error"),
    next_attempt_at=sa.bindparam("retry_at", type_=UTCDateTime))
_INSERT_RECEIPT = RECEIPTS.insert()
_RDV_NOW = sa.select(RDVS.c.ics_sequence, RDVS.c.status).where(RDVS.c.id == sa.bindparam("rdv_id"))
_CANCELLED = frozenset(status.value for status in CANCELLED_STATUSES)
# The territories with their own SMS account, of the given organisations (rdv_app.notify.territory_sms).
_OWN_SMS_ACCOUNTS = (
    sa.select(ORGANISATIONS.c.id.label("organisation_id"), TERRITORIES.c.id, TERRITORIES.c.sms_configuration,
              TERRITORIES.c.sms_sender)
    .join_from(ORGANISATIONS, TERRITORIES, TERRITORIES.c.id == ORGANISATIONS.c.territory_id)
    .where(ORGANISATIONS.c.id.in_(sa.bindparam("organisation_ids", expanding=True)),
           TERRITORIES.c.has_own_sms_provider.is_(True)))
_BEAT = sa.update(WORKERS).where(WORKERS.c.id == sa.bindparam("worker_id")).values(
    heartbeat_at=sa.bindparam("beat_at", type_=UTCDateTime))


@dataclass(frozen=True)
class Claim:
    id: int
    attempts: int
    worker_id: int
    idempotency_key: str
    channel: Channel
    event: str
    payload: dict[str, Any]
    organisation_id: int | None
    rdv_id: int | None
    usager_id: int | None
    rdv_version: int | None  # the RDV's version the message was written for
    # An earlier attempt that reached its provider call with no known outcome (see the module docstring).
    in_flight_tag: str | None = None
    in_flight_at: datetime | None = None


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
                 lease: timedelta = LEASE, stop_event: threading.Event | None = None,
                 ants_client: ants.CoordinationClient | None = None) -> None:
        self.url = url or database_url()
        self.engine = get_engine(self.url)
        self.sms = sms or sms_provider_from_env()
        self.smtp = smtp or mailer.SmtpSettings.from_env()
        # No SMTP server configured (the demo): emails are recorded as processed, never sent.
        self.demo_mail = smtp is None and mailer.uses_demo_mailbox()
        self.batch_size = batch_size
        self.lease = lease
        # The ANTS coordination API; None: the one configured when each message is sent.
        self.ants = ants_client
        self.stop_event = stop_event or threading.Event()
        self._random = random.Random()  # noqa: S311 - spreads retries, nothing secret
        # This worker's row in outbox_worker, registered at its first claim, and when it last beat.
        self._worker_id: int | None = None
        self._beaten_at = float("-inf")

    # ----------------------------------------------------------------------------------- entry points

    def run_once(self, now: datetime | None = None, limit: int | None = None) -> int:
        """Delivers due messages, batch after batch, up to `limit` (one batch by default), until none is due
        (an ANTS row whose RDV had an older one to deliver first becomes due once that one is sent).

        Returns how many messages were attempted (sent, retried, failed or cancelled).
        """
        limit = limit or self.batch_size
        handled = 0
        while handled < limit and not self.stop_event.is_set():
            size = min(self.batch_size, limit - handled)
            claims = self._claim(size, now)
            handled += self._process(claims, now)
            if not claims:
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
        logger.info("outbox worker: started (SMS via %s, emails via %s)", self.sms.name, logs.technical(mail))
        jobs = long_jobs.start(self.url, self.stop_event)
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
        if jobs is not None:
            jobs.join()
        self.retire()
        logger.info("outbox worker: stopped")

    def retire(self) -> None:
        """Deletes this worker's row once it holds no claim (the end of `run_forever`, of a one-off
        delivery). Not reaching the database is fine: the silent row is then deleted as a dead worker's."""
        if self._worker_id is None:
            return
        try:
            with self.engine.connect() as connection, self._writing(connection):
                connection.execute(sa.delete(WORKERS).where(WORKERS.c.id == self._worker_id))
        except sa.exc.SQLAlchemyError:
            logger.warning("outbox worker: could not delete its heartbeat row", exc_info=True)
        self._worker_id = None

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
        chosen = sa.select(c.id).where(due, c.channel.in_([channel.value for channel in CHANNELS]), _ANTS_IN_TURN)
        if ids is not None:
            chosen = chosen.where(c.id.in_(ids))
        chosen = chosen.order_by(c.next_attempt_at, c.id).limit(size).with_for_update(skip_locked=True)
        with self.engine.connect() as connection, self._writing(connection):
            worker_id = self._beat(connection)
            self._recover(connection)
            rows = list(connection.execute(
                sa.update(OUTBOX)
                .where(c.id.in_(chosen))
                .values(status=OutboxStatus.SENDING.value, locked_until=now + self.lease, claimed_by=worker_id,
                        attempts=c.attempts + 1)
                .returning(c.id, c.attempts, c.idempotency_key, c.channel, c.event, c.payload, c.organisation_id,
                           c.rdv_id, c.usager_id, c.rdv_version, c.next_attempt_at, c.in_flight_tag,
                           c.in_flight_at)
            ).all())
        rows.sort(key=lambda row: (row.next_attempt_at, row.id))
        return [
            Claim(id=row.id, attempts=row.attempts, worker_id=worker_id, idempotency_key=row.idempotency_key,
                  channel=Channel(row.channel), event=row.event, payload=row.payload,
                  organisation_id=row.organisation_id, rdv_id=row.rdv_id, usager_id=row.usager_id,
                  rdv_version=row.rdv_version, in_flight_tag=row.in_flight_tag, in_flight_at=row.in_flight_at)
            for row in rows
        ]

    def _beat(self, connection: sa.Connection) -> int:
        """Renews this worker's heartbeat (at most every HEARTBEAT_EVERY) within the caller's write
        transaction, and returns its id. A worker found gone (taken for dead, or its identity dropped)
        registers anew: its old claims are handed back, or about to be."""
        if self._worker_id is not None and time.monotonic() - self._beaten_at < HEARTBEAT_EVERY:
            return self._worker_id
        now = clock.now()
        if self._worker_id is not None:
            beaten = connection.execute(_BEAT, {"worker_id": self._worker_id, "beat_at": now}).rowcount
            if not beaten:
                logger.warning("outbox worker %s: taken for dead, registering again", self._worker_id)
                self._worker_id = None
        if self._worker_id is None:
            self._worker_id = connection.execute(
                sa.insert(WORKERS).values(name=f"{socket.gethostname()}:{os.getpid()}", started_at=now,
                                          heartbeat_at=now).returning(WORKERS.c.id)
            ).scalar_one()
        self._beaten_at = time.monotonic()
        return self._worker_id

    def _recover(self, connection: sa.Connection) -> None:
        """Hands back the claims of dead workers (silent for HEARTBEAT_TIMEOUT) and deletes their rows, within
        the caller's write transaction. A worker beating right now holds its row locked and is skipped."""
        now = clock.now()
        w, c = WORKERS.c, OUTBOX.c
        dead = connection.execute(
            sa.select(w.id).where(w.heartbeat_at < now - HEARTBEAT_TIMEOUT, w.id != self._worker_id)
            .with_for_update(skip_locked=True)
        ).scalars().all()
        if not dead:
            return
        claims = connection.execute(
            sa.select(c.id, c.attempts, c.claimed_by, c.in_flight_attempt, c.in_flight_at)
            .where(c.claimed_by.in_(dead), c.status == OutboxStatus.SENDING.value)
        ).all()
        never_tried = [row for row in claims if row.in_flight_attempt != row.attempts]
        in_flight = [row for row in claims if row.in_flight_attempt == row.attempts]
        released = {**_UNCLAIMED, "status": OutboxStatus.PENDING.value}
        if never_tried:
            connection.execute(sa.update(OUTBOX).where(*_HELD).values(**released, attempts=c.attempts - 1),
                               [{"claim_id": row.id, "claim_attempts": row.attempts, "worker_id": row.claimed_by}
                                for row in never_tried])
        if in_flight:
            connection.execute(
                sa.update(OUTBOX).where(*_HELD).values(**released,
                                                       next_attempt_at=sa.bindparam("due", type_=UTCDateTime)),
                [{"claim_id": row.id, "claim_attempts": row.attempts, "worker_id": row.claimed_by,
                  "due": row.in_flight_at + IN_FLIGHT_SETTLE} for row in in_flight])
        connection.execute(sa.delete(WORKERS).where(w.id.in_(dead)))
        logger.warning("outbox worker: %d dead worker(s) %s, %d message(s) handed back (%d were in flight)",
                       len(dead), sorted(dead), len(claims), len(in_flight))

    def _release(self, connection: sa.Connection, claims: Sequence[Claim]) -> None:
        """Hands back claims not attempted (stop requested, lease running out), as if never claimed."""
        statement = sa.update(OUTBOX).where(*_HELD).values(**_UNCLAIMED, status=OutboxStatus.PENDING.value,
                                                           attempts=_c.attempts - 1)
        with self._writing(connection):
            connection.execute(statement, [self._held(claim) for claim in claims])

    @staticmethod
    def _held(claim: Claim) -> dict[str, int]:
        return {"claim_id": claim.id, "claim_attempts": claim.attempts, "worker_id": claim.worker_id}

    def _mark_in_flight(self, connection: sa.Connection, claim: Claim) -> str | None:
        """Commits the new attempt's id before its provider call; None when the claim is no longer ours."""
        tag = f"{claim.id}-{secrets.token_hex(5)}"
        with self._writing(connection):
            self._beat(connection)  # first, so that a worker recovering this one skips it instead of waiting
            marked = connection.execute(_MARK_IN_FLIGHT, {**self._held(claim), "tag": tag,
                                                          "started_at": clock.now()}).rowcount
        if not marked:
            logger.warning("outbox message %s: claim lost before its attempt %d", claim.id, claim.attempts)
            return None
        return tag

    # ----------------------------------------------------------------------------------- deliver

    def _process(self, claims: Sequence[Claim], now: datetime | None) -> int:
        if not claims:
            return 0
        deadline = time.monotonic() + (self.lease - SLOWEST_DELIVERY).total_seconds()
        # One connection for the batch, outside any transaction between statements: no pool checkout per
        # message, and nothing held while a provider answers.
        with self.engine.connect() as connection:
            try:
                sms_sent, own_accounts = self._sms_facts(connection, claims, now or clock.now())
                for index, claim in enumerate(claims):
                    if self.stop_event.is_set() or time.monotonic() > deadline:
                        self._release(connection, claims[index:])
                        return index
                    sms = self._sms_provider(claim, own_accounts)
                    with logs.context(event_id=f"outbox-{claim.id}-{claim.attempts}",
                                      organisation_id=claim.organisation_id, handler=f"outbox.{claim.channel.value}"):
                        outcome = self._attempt(connection, claim, sms, now or clock.now(), sms_sent)
                        if outcome is not None:
                            self._record(connection, claim, sms, outcome, now or clock.now())
            except Exception:
                # The claims left, and the outcome of a call, cannot be written now (a database restart):
                # this worker takes a new identity, and its silent old one is recovered as a dead worker's.
                self._worker_id = None
                raise
        return len(claims)

    def _sms_provider(self, claim: Claim, own_accounts: dict[int, sa.Row]) -> SmsProvider:
        """The provider of the claim's SMS: its territory's own account, if it has one; otherwise the
        instance's (also returned for the other channels, which send no SMS)."""
        account = own_accounts.get(claim.organisation_id) if claim.organisation_id is not None else None
        if account is None:
            return self.sms
        return territory_provider(account.id, account.sms_configuration, account.sms_sender) or self.sms

    def _attempt(self, connection: sa.Connection, claim: Claim, sms: SmsProvider, now: datetime,
                 sms_sent: Counter[str]) -> Outcome | None:
        """The outcome of one attempt, or None when the claim was lost before any call (nothing to record)."""
        try:
            # Before anything else: an SMS that left must be recorded as sent, whatever happens next.
            if (found := self._find_sent(claim, sms)) is not None:
                sms_sent[claim.payload["to"]] += 1
                return Outcome(OutboxStatus.SENT, sms.receipt_result, provider_message_id=found.provider_id,
                               sms_count=found.segments)
            expires_at = claim.payload.get(EXPIRES_AT)
            if expires_at and datetime.fromisoformat(expires_at) <= now:
                return Outcome(OutboxStatus.CANCELLED, ReceiptResult.FAILURE, error="Non envoyé : échéance dépassée.")
            if claim.attempts > MAX_ATTEMPTS:
                # Only reachable when attempts kept dying with their worker: stop feeding a crash loop.
                return Outcome(OutboxStatus.FAILED, ReceiptResult.FAILURE,
                               error=f"Échec définitif : {claim.attempts - 1} tentatives interrompues.")
            if claim.channel is Channel.SMS:
                if sms_sent[claim.payload["to"]] >= DAILY_SMS_CAP:
                    return Outcome(OutboxStatus.CANCELLED, ReceiptResult.FAILURE,
                                   error=f"Non envoyé : plafond de {DAILY_SMS_CAP} SMS par jour atteint pour ce numéro.")
                with timing(PROVIDER_LATENCY, channel=Channel.SMS.value, provider=sms.name):
                    sms.prepare()
            if self._withdrawn(connection, claim):
                return Outcome(OutboxStatus.CANCELLED, ReceiptResult.FAILURE, error=WITHDRAWN)
            if (tag := self._mark_in_flight(connection, claim)) is None:
                return None
            if claim.channel is Channel.SMS:
                return self._send_sms(claim, sms, tag, sms_sent)
            if claim.channel is Channel.WEBHOOK:
                return self._send_webhook(claim, now)
            if claim.channel is Channel.ANTS:
                return self._sync_ants(claim)
            if claim.channel is Channel.OUTLOOK:
                return self._send_outlook(claim, now)
            return self._send_mail(claim)
        except sa.exc.SQLAlchemyError:
            raise  # the database, not the message: the whole batch stops (see _process)
        except PermanentDeliveryError as error:
            return Outcome(OutboxStatus.FAILED, ReceiptResult.FAILURE, error=f"Échec définitif : {error}")
        except TemporaryDeliveryError as error:
            return self._retry_or_give_up(claim, str(error), now)
        except Exception as error:  # a bug in one message must not stop the others
            logger.exception("outbox message %s: unexpected error", claim.id)
            return self._retry_or_give_up(claim, f"erreur interne ({type(error).__name__})", now)

    @staticmethod
    def _withdrawn(connection: sa.Connection, claim: Claim) -> bool:
        """Whether the RDV changed since the message was written, so that it must not leave (the RDV as
        committed now: the change's transaction withdrew what was waiting, not what a worker held)."""
        if claim.rdv_version is None:
            return False
        if claim.rdv_id is None:  # the RDV was deleted (the foreign key is set to NULL)
            return is_withdrawn(claim.event, claim.rdv_version, None, cancelled=True)
        with connection.begin():
            rdv = connection.execute(_RDV_NOW, {"rdv_id": claim.rdv_id}).first()
        if rdv is None:
            return is_withdrawn(claim.event, claim.rdv_version, None, cancelled=True)
        return is_withdrawn(claim.event, claim.rdv_version, rdv.ics_sequence, cancelled=rdv.status in _CANCELLED)

    @staticmethod
    def _find_sent(claim: Claim, sms: SmsProvider) -> SmsResult | None:
        """The SMS of an interrupted earlier attempt, if it left (asked to the provider the SMS goes through
        now: its territory's account, or the instance's)."""
        if claim.channel is not Channel.SMS or claim.in_flight_tag is None or claim.in_flight_at is None:
            return None
        found = sms.find_sent(claim.in_flight_tag, claim.payload["to"], claim.payload["text"], claim.in_flight_at)
        logger.warning("outbox message %s: interrupted attempt %s %s", claim.id, claim.in_flight_tag,
                       "had left: recorded as sent" if found else "had not left: sending it again")
        return found

    def _retry_or_give_up(self, claim: Claim, detail: str, now: datetime) -> Outcome:
        if claim.attempts >= MAX_ATTEMPTS:
            return Outcome(OutboxStatus.FAILED, ReceiptResult.FAILURE,
                           error=f"Échec définitif après {claim.attempts} tentatives : {detail}")
        delay = RETRY_DELAYS[claim.attempts - 1] * self._random.uniform(1 - JITTER, 1 + JITTER)
        return Outcome(OutboxStatus.PENDING, ReceiptResult.FAILURE,
                       error=f"Échec temporaire, nouvel essai prévu : {detail}", retry_at=now + delay)

    def _send_webhook(self, claim: Claim, now: datetime) -> Outcome:
        """Webhooks keep their own schedule and delivery log (rdv_app.notify.webhooks)."""
        with timing(PROVIDER_LATENCY, channel=Channel.WEBHOOK.value, provider="webhook"):
            result = webhooks.deliver(self.engine, claim.id, claim.attempts, claim.payload, now)
        if result.delivered:
            return Outcome(OutboxStatus.SENT, ReceiptResult.SENT)
        if result.retry_at is None:
            return Outcome(OutboxStatus.FAILED, ReceiptResult.FAILURE, error=f"Échec définitif : {result.error}")
        return Outcome(OutboxStatus.PENDING, ReceiptResult.FAILURE,
                       error=f"Échec temporaire, nouvel essai prévu : {result.error}", retry_at=result.retry_at)

    def _sync_ants(self, claim: Claim) -> Outcome:
        """The ANTS coordination API brought up to date for the claim's RDV (rdv_app.notify.ants)."""
        with timing(PROVIDER_LATENCY, channel=Channel.ANTS.value, provider="ants"):
            done = ants.deliver(self.engine, claim.payload, self.ants)
        return Outcome(OutboxStatus.SENT, ReceiptResult.SENT, provider_message_id=done[:200])
    def _send_outlook(self, claim: Claim, now: datetime) -> Outcome:
        """Microsoft Graph calls (rdv_app.notify.outlook): the outbox's backoff, never before Retry-After."""
        with timing(PROVIDER_LATENCY, channel=Channel.OUTLOOK.value, provider="graph"):
            result = outlook.deliver(self.engine, claim.event, claim.payload, now, worker_id=claim.worker_id)
        if result.delivered:
            return Outcome(OutboxStatus.SENT, ReceiptResult.SENT)
        if result.permanent:
            return Outcome(OutboxStatus.FAILED, ReceiptResult.FAILURE, error=f"Échec définitif : {result.error}")
        outcome = self._retry_or_give_up(claim, result.error or "", now)
        if outcome.retry_at is not None and result.retry_at is not None and result.retry_at > outcome.retry_at:
            return Outcome(outcome.status, outcome.result, error=outcome.error, retry_at=result.retry_at)
        return outcome

    @staticmethod
    def _send_sms(claim: Claim, sms: SmsProvider, tag: str, sms_sent: Counter[str]) -> Outcome:
        to = claim.payload["to"]
        with timing(PROVIDER_LATENCY, channel=Channel.SMS.value, provider=sms.name):
            result = sms.send(to, claim.payload["text"], claim.payload.get("sender"), tag=tag)
        sms_sent[to] += 1
        return Outcome(OutboxStatus.SENT, sms.receipt_result, provider_message_id=result.provider_id,
                       sms_count=result.segments)

    @staticmethod
    def _sms_facts(connection: sa.Connection, claims: Sequence[Claim],
                   now: datetime) -> tuple[Counter[str], dict[int, sa.Row]]:
        """What the batch's SMS need, read once per batch in one transaction:
        - the SMS that reached each of their numbers in the last 24 h. The cap is soft across concurrent
          workers (each counts what was recorded before its batch): at worst a number gets a few more than
          10 in a day, never a message lost;
        - for their organisations whose territory has its own account: organisation id -> the territory's
          id, sealed account and sender.
        """
        sms = [claim for claim in claims if claim.channel is Channel.SMS]
        if not sms:
            return Counter(), {}
        numbers = {claim.payload["to"] for claim in sms}
        organisation_ids = sorted({claim.organisation_id for claim in sms if claim.organisation_id is not None})
        with connection.begin():
            sent = Counter({number: count for number, count in connection.execute(recent_sms_statement(numbers, now))})
            accounts = connection.execute(_OWN_SMS_ACCOUNTS, {"organisation_ids": organisation_ids}).all()
        return sent, {row.organisation_id: row for row in accounts}

    def _send_mail(self, claim: Claim) -> Outcome:
        # The same Message-ID on every attempt lets mail systems drop a copy sent twice after a crash.
        digest = hashlib.sha256(claim.idempotency_key.encode()).hexdigest()[:32]
        message_id = f"<{digest}@{self.smtp.sender_domain}>"
        if self.demo_mail:
            logger.info("email (demo mailbox) to %s: %s", claim.payload["to"], claim.payload["subject"])
            return Outcome(OutboxStatus.SENT, ReceiptResult.PROCESSED, provider_message_id=message_id)
        with timing(PROVIDER_LATENCY, channel=Channel.MAIL.value, provider="smtp"):
            sent_id = asyncio.run(mailer.send_mail(claim.payload, settings=self.smtp, message_id=message_id))
        return Outcome(OutboxStatus.SENT, ReceiptResult.SENT, provider_message_id=sent_id)

    # ----------------------------------------------------------------------------------- record

    def _record(self, connection: sa.Connection, claim: Claim, sms: SmsProvider, outcome: Outcome,
                now: datetime) -> None:
        """Writes the outcome and its receipt if the claim is still ours; otherwise whoever holds the message
        now decides (and asks OVH whether this attempt's SMS left), and this outcome is dropped."""
        if outcome.status is OutboxStatus.PENDING:
            statement, values = _RECORD_RETRY, {"error": outcome.error, "retry_at": outcome.retry_at}
        else:
            sent_at = now if outcome.status is OutboxStatus.SENT else None
            statement, values = _RECORD_KNOWN, {"new_status": outcome.status.value, "error": outcome.error,
                                                "sent_at": sent_at}
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
            "sms_provider": sms.name if is_sms else None,
            "sms_count": outcome.sms_count,
            "provider_message_id": outcome.provider_message_id,
            "content": without_link_token(claim.payload.get("text", "")) if is_sms else claim.payload.get("subject"),
            "sms_phone_number": claim.payload.get("to") if is_sms else None,
            "email_address": claim.payload.get("to") if claim.channel is Channel.MAIL else None,
            "created_at": now,
        }
        with self._writing(connection):
            updated = connection.execute(statement, {**self._held(claim), **values}).rowcount
            if updated:
                connection.execute(_INSERT_RECEIPT, receipt)
        if not updated:
            logger.warning("outbox message %s: claim lost before its outcome (%s) was recorded",
                           claim.id, outcome.status.value)
            return
        DELIVERIES.labels(channel=claim.channel.value, result=_RESULTS[outcome.status]).inc()
        if outcome.status is not OutboxStatus.SENT:
            logger.warning("outbox message %s (%s, attempt %d): %s", claim.id, claim.channel.value,
                           claim.attempts, logs.technical(outcome.error or ""))


# The `result` label of rdv_app.metrics.DELIVERIES for each recorded outcome.
_RESULTS = {OutboxStatus.SENT: "sent", OutboxStatus.PENDING: "retry", OutboxStatus.FAILED: "failed",
            OutboxStatus.CANCELLED: "cancelled"}


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
    worker = Worker(url)
    try:
        return worker.run_once(now=now, limit=limit)
    finally:
        worker.retire()


def run_forever(stop_event: threading.Event, url: str | None = None) -> None:
    Worker(url, stop_event=stop_event).run_forever()


def deliver_now(outbox_ids: Iterable[int], url: str | None = None) -> int:
    """Sends these messages at once (call it right after the commit that queued them).

    Blocking; from async code (a Reflex event handler) use `deliver_now_async`. Messages another worker
    already holds, or not yet due, are left to the worker loop.
    """
    worker = Worker(url)
    try:
        return worker.deliver(outbox_ids)
    finally:
        worker.retire()


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


def serve(url: str | None = None) -> int:
    """The worker as its own process, until SIGTERM or SIGINT (it then stops after the message in flight):
    everything a process entry point has to call."""
    if not logs.configure_logging():  # the demo keeps its readable log
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    stop_event = threading.Event()

    def stop(signum: int, _frame: object) -> None:
        logger.info("outbox worker: %s received, stopping after the message in flight",
                    signal.Signals(signum).name)
        stop_event.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    init_error_tracking(app_settings.environment_name)
    freeze_startup_objects()
    run_forever(stop_event, url)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    return serve(argv[0] if argv else None)

