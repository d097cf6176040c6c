"""What an operator watches, read from the database (issue 27): the outbox by channel and state, the oldest
message still to leave, the workers' heartbeats, the daily jobs, the webhook endpoints, the database's
size. Cheap queries (grouped counts on the outbox's (status, next_attempt_at) index, a few small tables):
`/metrics` runs them at each scrape (rdv_app.api.metrics) and the "Santé du service" page on load
(rdv_app.services.instance.health, which adds the rights).

Nothing here names a person: counts, channels, instants, job names, error kinds.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import make_url

from rdv_app.db.engine import database_url, get_engine
from rdv_app.db.models import DailyJobRun, OutboxMessage, OutboxWorker, Receipt, WebhookEndpoint
from rdv_app.db.rows import table_of
from rdv_app.domain.enums import Channel, OutboxStatus

OUTBOX = table_of(OutboxMessage)
WORKERS = table_of(OutboxWorker)
JOBS = table_of(DailyJobRun)
ENDPOINTS = table_of(WebhookEndpoint)
RECEIPTS = table_of(Receipt)

# The states an operator counts: waiting, being sent, given up ("dead letters"). Sent and cancelled
# messages only pile up (retention purges them) and say nothing about the queue's health.
WATCHED_STATES = (OutboxStatus.PENDING, OutboxStatus.SENDING, OutboxStatus.FAILED)
UNDELIVERED = (OutboxStatus.PENDING.value, OutboxStatus.SENDING.value)
# A worker silent this long is shown as silent (it beats every couple of seconds while alive, idle or not).
SILENT_AFTER = timedelta(minutes=2)


@dataclass(frozen=True)
class ChannelQueue:
    channel: str
    depth: dict[str, int]  # state -> messages, for WATCHED_STATES
    oldest_due_at: datetime | None  # the oldest undelivered message that should have left, since when

    def oldest_age(self, now: datetime) -> float:
        return max(0.0, (now - self.oldest_due_at).total_seconds()) if self.oldest_due_at else 0.0


@dataclass(frozen=True)
class WorkerBeat:
    id: int
    name: str
    started_at: datetime
    heartbeat_at: datetime


@dataclass(frozen=True)
class DeliveryError:
    at: datetime
    channel: str
    event: str
    kind: str  # the error's kind, without what the provider quoted


@dataclass(frozen=True)
class EndpointCounts:
    failing: int  # enabled, but failing since some time
    disabled: int


def outbox_queues(connection: sa.Connection, now: datetime) -> list[ChannelQueue]:
    """Per channel: messages by watched state, and since when the oldest undelivered one is due.

    A message is due from its first scheduled time: `next_attempt_at` until its first attempt (a reminder
    is not late before its time), its queuing time once it has been tried (retries move `next_attempt_at`)."""
    c = OUTBOX.c
    counts = connection.execute(
        sa.select(c.channel, c.status, sa.func.count())
        .where(c.status.in_([state.value for state in WATCHED_STATES]))
        .group_by(c.channel, c.status)).all()
    due_since = sa.case((c.attempts == 0, c.next_attempt_at), else_=c.created_at)
    oldest = connection.execute(
        sa.select(c.channel, sa.func.min(sa.type_coerce(due_since, c.next_attempt_at.type)))
        .where(c.status.in_(UNDELIVERED), sa.or_(c.attempts > 0, c.next_attempt_at <= now))
        .group_by(c.channel)).all()
    depth = {channel.value: dict.fromkeys((state.value for state in WATCHED_STATES), 0) for channel in Channel}
    for channel, status, count in counts:
        depth.setdefault(channel, {})[status] = count
    oldest_by_channel = {channel: _instant(value) for channel, value in oldest}
    return [ChannelQueue(channel, states, oldest_by_channel.get(channel)) for channel, states in depth.items()]


def _instant(value: datetime | str | None) -> datetime | None:
    """An aggregate over an instant column, read back as an aware instant (SQLite returns the text)."""
    if value is None or isinstance(value, datetime):
        return value if value is None or value.tzinfo else value.replace(tzinfo=UTC)
    parsed = datetime.fromisoformat(value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def workers(connection: sa.Connection) -> list[WorkerBeat]:
    w = WORKERS.c
    return [WorkerBeat(row.id, row.name, row.started_at, row.heartbeat_at) for row in connection.execute(
        sa.select(w.id, w.name, w.started_at, w.heartbeat_at).order_by(w.id))]


def daily_jobs_last_run(connection: sa.Connection) -> dict[str, datetime]:
    """job -> when it last ran to the end (a failed run rolls its row back, so every row is a success)."""
    j = JOBS.c
    rows = connection.execute(sa.select(j.job, sa.func.max(sa.type_coerce(j.ran_at, j.ran_at.type))).group_by(j.job))
    return {job: instant for job, ran_at in rows if (instant := _instant(ran_at)) is not None}


def webhook_endpoints(connection: sa.Connection) -> EndpointCounts:
    e = ENDPOINTS.c
    failing, disabled = connection.execute(sa.select(
        sa.func.count().filter(e.enabled.is_(True), e.failing_since.is_not(None)),
        sa.func.count().filter(e.enabled.is_(False)))).one()
    return EndpointCounts(failing or 0, disabled or 0)


# What providers quote back (addresses, numbers, their own text) stays out of an error's kind.
_QUOTED = re.compile(r"\s*[:(\[<«\"'].*$", re.DOTALL)


def error_kind(error: str | None) -> str:
    """The kind of a delivery error: its first words, before anything the provider quoted.
    "Échec temporaire, nouvel essai prévu : OVH : HTTP 500" -> "Échec temporaire, nouvel essai prévu"."""
    return _QUOTED.sub("", (error or "").strip())[:120] or "Erreur"


def last_delivery_errors(connection: sa.Connection, limit: int = 20) -> list[DeliveryError]:
    r = RECEIPTS.c
    rows = connection.execute(
        sa.select(r.created_at, r.channel, r.event, r.error_message)
        .where(r.result == "failure", r.error_message.is_not(None))
        .order_by(r.id.desc()).limit(limit)).all()
    return [DeliveryError(row.created_at, row.channel, row.event, error_kind(row.error_message)) for row in rows]


def database_size(connection: sa.Connection) -> int | None:
    """Bytes the database takes: PostgreSQL's own count; SQLite's file (and its write-ahead log)."""
    if connection.dialect.name == "postgresql":
        return int(connection.execute(sa.text("SELECT pg_database_size(current_database())")).scalar_one())
    path = make_url(str(connection.engine.url)).database
    if not path or path == ":memory:":
        return None
    return sum(os.path.getsize(file) for file in (path, f"{path}-wal") if os.path.exists(file))


@dataclass(frozen=True)
class Snapshot:
    """Everything `/metrics` reads from the database, at one instant."""

    at: datetime
    queues: list[ChannelQueue]
    workers: list[WorkerBeat]
    jobs: dict[str, datetime]
    endpoints: EndpointCounts
    size: int | None


def snapshot(now: datetime, url: str | None = None) -> Snapshot:
    """Reads it on one connection (blocking: run it off the event loop)."""
    with get_engine(url or database_url()).connect() as connection:
        return Snapshot(now, outbox_queues(connection, now), workers(connection), daily_jobs_last_run(connection),
                        webhook_endpoints(connection), database_size(connection))
