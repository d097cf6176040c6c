""""Santé du service" (issue 27), for the instance's super admins: what an operator needs to see a stuck
queue before usagers miss their reminders, read from the database (rdv_app.db.operations, the same
reads as `/metrics`):
- the outbox per channel: messages waiting, being sent, given up ("dead letters"), and how long the
  oldest undelivered one has been due;
- the last delivery errors: channel, time, event and the error's kind only (no address, number or text);
- the notification workers and their heartbeats; the daily jobs and their last success;
- the webhook endpoints disabled after failing; the database's size and the disk space left here.

"Relancer" puts a channel's dead letters back in the queue, with their retry budget renewed, audited.
Every use case refuses anyone but a super admin (rights.require_super_admin).
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlmodel import col, select

from rdv_app.db import operations
from rdv_app.db.models import Organisation, OutboxMessage, WebhookEndpoint
from rdv_app.db.rows import table_of
from rdv_app.db.uow import UnitOfWork
from rdv_app.domain import clock
from rdv_app.domain.enums import Channel, OutboxStatus
from rdv_app.notify import daily_jobs
from rdv_app.notify.worker import HEARTBEAT_TIMEOUT
from rdv_app.services import audit
from rdv_app.services.boundary import boundary
from rdv_app.services.errors import DomainError
from rdv_app.services.rights import require_super_admin

# A daily job is late once its last success is older than a day and a margin (the worker tries every minute).
JOB_LATE_AFTER = timedelta(hours=26)
CHANNEL_LABELS = {Channel.SMS.value: "SMS", Channel.MAIL.value: "Email", Channel.WEBHOOK.value: "Webhook",
                  Channel.ANTS.value: "ANTS (déclarations des RDV)"}
OUTBOX = table_of(OutboxMessage)


@dataclass(frozen=True)
class QueueLine:
    channel: str
    pending: int
    sending: int
    failed: int  # dead letters: "Relancer" puts them back
    oldest_age_seconds: float  # 0 when nothing undelivered is due


@dataclass(frozen=True)
class WorkerLine:
    name: str
    started_at: datetime
    heartbeat_at: datetime
    alive: bool


@dataclass(frozen=True)
class JobLine:
    job: str
    last_success: datetime | None
    late: bool


@dataclass(frozen=True)
class DisabledEndpoint:
    organisation: str
    host: str  # the address's host only: its path may carry the receiver's own key
    disabled_at: datetime | None


@dataclass(frozen=True)
class ServiceHealth:
    at: datetime
    queues: list[QueueLine]
    errors: list[operations.DeliveryError]
    workers: list[WorkerLine]
    jobs: list[JobLine]
    failing_endpoints: int
    disabled_endpoints: list[DisabledEndpoint]
    database_bytes: int | None
    disk_free_bytes: int | None
    disk_total_bytes: int | None


def _data_directory(url: str) -> Path:
    """Where this machine keeps the data: the SQLite file's folder, else the app's `data/` (backups)."""
    if url.startswith("sqlite"):
        database = make_url(url).database
        if database and database != ":memory:":
            return Path(database).resolve().parent
    return Path("data") if Path("data").is_dir() else Path(".")


@boundary
def service_health(uow: UnitOfWork, actor_agent_id: int) -> ServiceHealth:
    require_super_admin(uow, actor_agent_id)
    now = clock.now()
    connection = uow.session.connection()
    queues = [QueueLine(queue.channel, queue.depth.get(OutboxStatus.PENDING.value, 0),
                        queue.depth.get(OutboxStatus.SENDING.value, 0), queue.depth.get(OutboxStatus.FAILED.value, 0),
                        round(queue.oldest_age(now), 1))
              for queue in operations.outbox_queues(connection, now)]
    workers = [WorkerLine(beat.name, beat.started_at, beat.heartbeat_at, now - beat.heartbeat_at < HEARTBEAT_TIMEOUT)
               for beat in operations.workers(connection)]
    last = operations.daily_jobs_last_run(connection)
    jobs = [JobLine(job, last.get(job), job not in last or now - last[job] > JOB_LATE_AFTER)
            for job in sorted(set(daily_jobs.DAILY_JOBS) | set(last))]
    disabled = uow.session.exec(
        select(Organisation.name, WebhookEndpoint.target_url, WebhookEndpoint.disabled_at)
        .join(Organisation, col(Organisation.id) == WebhookEndpoint.organisation_id)
        .where(col(WebhookEndpoint.enabled).is_(False))
        .order_by(col(WebhookEndpoint.disabled_at).desc(), col(WebhookEndpoint.id))).all()
    try:
        disk = shutil.disk_usage(_data_directory(uow.url))
    except OSError:
        disk = None
    return ServiceHealth(
        at=now, queues=queues, errors=operations.last_delivery_errors(connection), workers=workers, jobs=jobs,
        failing_endpoints=operations.webhook_endpoints(connection).failing,
        disabled_endpoints=[DisabledEndpoint(name, urlsplit(url).hostname or "", at) for name, url, at in disabled],
        database_bytes=operations.database_size(connection),
        disk_free_bytes=disk.free if disk else None, disk_total_bytes=disk.total if disk else None)


@boundary
def requeue_dead_letters(uow: UnitOfWork, actor_agent_id: int, channel: str) -> int:
    """Puts the channel's given-up messages back in the queue, due now, with a new retry budget; how many.
    Only dead letters (`failed`): a message waiting, being sent, sent or cancelled is left as it is."""
    require_super_admin(uow, actor_agent_id)
    if channel not in CHANNEL_LABELS:
        raise DomainError("Ce canal n'existe pas.", "channel")
    c = OUTBOX.c
    requeued = uow.session.execute(
        sa.update(OUTBOX).where(c.status == OutboxStatus.FAILED.value, c.channel == channel)
        .values(status=OutboxStatus.PENDING.value, attempts=0, next_attempt_at=clock.now(), locked_until=None,
                claimed_by=None, in_flight_tag=None, in_flight_attempt=None, in_flight_at=None)
        .returning(c.id)).scalars().all()
    if requeued:
        audit.record(uow.session, action="requeue_dead_letters", entity_type="outbox_message",
                     entity_id=channel, changes={"count": len(requeued), "ids": sorted(requeued)},
                     actor_agent_id=actor_agent_id)
    uow.commit()
    return len(requeued)
