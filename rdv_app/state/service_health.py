""""Santé du service" (super admins): the figures of rdv_app.services.instance.health, as text for the page,
and "Relancer" for a channel's dead letters."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import reflex as rx

from rdv_app.blocking import within
from rdv_app.db.uow import UnitOfWork
from rdv_app.domain import datefmt
from rdv_app.services.errors import DomainError
from rdv_app.services.instance import health
from rdv_app.services.instance.health import CHANNEL_LABELS
from rdv_app.state.agent import AgentState
from rdv_app.state.typed_event import event

# The instance's operators read its times in metropolitan France's time.
ZONE = "Europe/Paris"


@dataclass
class QueueRow:
    channel: str
    label: str
    pending: str
    sending: str
    failed: str
    oldest: str
    can_requeue: bool


@dataclass
class ErrorRow:
    at: str
    channel: str
    event: str
    kind: str


@dataclass
class WorkerRow:
    name: str
    started: str
    heartbeat: str
    status: str


@dataclass
class JobRow:
    job: str
    last_success: str
    status: str


@dataclass
class EndpointRow:
    organisation: str
    host: str
    disabled_at: str


def duration(seconds: float) -> str:
    """12 s, 4 min 05 s, 3 h 20 min, 2 j 4 h."""
    whole = int(seconds)
    if whole < 60:
        return f"{whole} s"
    if whole < 3600:
        return f"{whole // 60} min {whole % 60:02d} s"
    if whole < 86400:
        return f"{whole // 3600} h {whole % 3600 // 60:02d} min"
    return f"{whole // 86400} j {whole % 86400 // 3600} h"


def size(count: int | None) -> str:
    if count is None:
        return "inconnue"
    value = float(count)
    for unit in ("o", "Ko", "Mo", "Go"):
        if value < 1024:
            return f"{value:.0f} {unit}" if unit == "o" else f"{value:.1f} {unit}".replace(".", ",")
        value /= 1024
    return f"{value:.1f} To".replace(".", ",")


def _when(instant: datetime | None) -> str:
    return datefmt.long_datetime(instant, ZONE) if instant else "jamais"


class ServiceHealthState(AgentState):
    health_loading: rx.Field[bool] = rx.field(True)
    health_denied: rx.Field[str] = rx.field("")
    checked_at: rx.Field[str] = rx.field("")
    queues: rx.Field[list[QueueRow]] = rx.field(default_factory=list)
    errors: rx.Field[list[ErrorRow]] = rx.field(default_factory=list)
    workers: rx.Field[list[WorkerRow]] = rx.field(default_factory=list)
    workers_alive: rx.Field[int] = rx.field(0)
    jobs: rx.Field[list[JobRow]] = rx.field(default_factory=list)
    failing_endpoints: rx.Field[int] = rx.field(0)
    disabled_endpoints: rx.Field[list[EndpointRow]] = rx.field(default_factory=list)
    database_size: rx.Field[str] = rx.field("")
    disk_free: rx.Field[str] = rx.field("")
    health_message: rx.Field[str] = rx.field("")
    health_error: rx.Field[str] = rx.field("")
    requeuing: rx.Field[str] = rx.field("")

    @event
    async def load_health(self):
        self.health_loading, self.health_denied = True, ""
        self.health_message = self.health_error = ""
        yield
        await self._read()
        self.health_loading = False

    async def _read(self) -> None:
        actor = self._agent_id
        if actor is None:
            return
        try:
            shown = await within(UnitOfWork(read_only=True), lambda uow: health.service_health(uow, actor))
        except DomainError as refusal:
            self.health_denied = refusal.message
            return
        self.checked_at = _when(shown.at)
        self.queues = [QueueRow(q.channel, CHANNEL_LABELS.get(q.channel, q.channel), str(q.pending), str(q.sending),
                                str(q.failed), duration(q.oldest_age_seconds) if q.oldest_age_seconds else "—",
                                q.failed > 0) for q in shown.queues]
        self.errors = [ErrorRow(_when(e.at), CHANNEL_LABELS.get(e.channel, e.channel), e.event, e.kind)
                       for e in shown.errors]
        self.workers = [WorkerRow(w.name, _when(w.started_at), _when(w.heartbeat_at),
                                  "En vie" if w.alive else "Silencieux") for w in shown.workers]
        self.workers_alive = sum(1 for w in shown.workers if w.alive)
        self.jobs = [JobRow(j.job, _when(j.last_success), "En retard" if j.late else "À jour") for j in shown.jobs]
        self.failing_endpoints = shown.failing_endpoints
        self.disabled_endpoints = [EndpointRow(e.organisation, e.host, _when(e.disabled_at))
                                   for e in shown.disabled_endpoints]
        self.database_size = size(shown.database_bytes)
        self.disk_free = (f"{size(shown.disk_free_bytes)} sur {size(shown.disk_total_bytes)}"
                          if shown.disk_free_bytes is not None else "inconnu")

    @event
    async def refresh(self):
        self.health_message = self.health_error = ""
        await self._read()

    @event
    async def requeue(self, channel: str):
        actor = self._agent_id
        if actor is None or self.requeuing or not any(q.channel == channel and q.can_requeue for q in self.queues):
            return
        self.requeuing, self.health_message, self.health_error = channel, "", ""
        yield
        try:
            count = await within(UnitOfWork(), lambda uow: health.requeue_dead_letters(uow, actor, channel))
            label = CHANNEL_LABELS.get(channel, channel)
            self.health_message = (f"{count} message{'s' if count > 1 else ''} ({label}) remis dans la file "
                                   "d'envoi." if count else "Aucun message en échec définitif à relancer.")
            await self._read()
        except DomainError as refusal:
            self.health_error = refusal.message
        finally:
            self.requeuing = ""
