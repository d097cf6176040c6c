"""`/metrics` for Prometheus (issue 27), off unless RDV_METRICS_TOKEN is set, then only for a scraper that
sends that token (`Authorization: Bearer ...`, compared in constant time).

A scrape answers two kinds of metrics:
- what happened in the processes (rdv_app.metrics: deliveries, provider latency, bookings, slot searches,
  websocket connections, event handlers), from this process, or from every process sharing
  PROMETHEUS_MULTIPROC_DIR;
- what the database says now (`DatabaseCollector`, cheap queries of rdv_app.db.operations): the outbox's
  depth by channel and state, the age of its oldest undelivered message, workers alive and their last
  heartbeat, each daily job's last success, webhook endpoints failing or disabled. Read at the scrape,
  they are the same whichever process answers.
"""

from __future__ import annotations

import hmac
import os
from collections.abc import Iterator

import sqlalchemy as sa
from prometheus_client import REGISTRY, CollectorRegistry, generate_latest, multiprocess
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from rdv_app.blocking import in_thread
from rdv_app.config import settings
from rdv_app.db import operations
from rdv_app.domain import clock
from rdv_app.notify import daily_jobs
from rdv_app.notify.worker import HEARTBEAT_TIMEOUT

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
MULTIPROC_SETTING = "PROMETHEUS_MULTIPROC_DIR"


class DatabaseCollector(Collector):
    """The gauges read from the database at each scrape (on the configured database unless told)."""

    def __init__(self, url: str | None = None) -> None:
        self.url = url

    def collect(self) -> Iterator[Metric]:
        now = clock.now()
        up = GaugeMetricFamily("rdv_database_up", "1 si la base de données a répondu à cette collecte.")
        try:
            read = operations.snapshot(now, self.url)
        except sa.exc.SQLAlchemyError:
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        queues, beats, jobs, endpoints, size = read.queues, read.workers, read.jobs, read.endpoints, read.size
        depth = GaugeMetricFamily("rdv_outbox_messages", "Messages de l'outbox par canal et état "
                                  "(pending : en attente, sending : en cours, failed : échec définitif).",
                                  labels=["channel", "status"])
        oldest = GaugeMetricFamily("rdv_outbox_oldest_undelivered_age_seconds",
                                   "Depuis combien de secondes le plus ancien message non livré (et dû) attend, "
                                   "par canal ; 0 quand rien n'attend.", labels=["channel"])
        for queue in queues:
            for status, count in queue.depth.items():
                depth.add_metric([queue.channel, status], count)
            oldest.add_metric([queue.channel], queue.oldest_age(now))
        yield depth
        yield oldest
        alive = GaugeMetricFamily("rdv_outbox_workers_alive", "Workers de notification dont le battement de "
                                  f"cœur a moins de {int(HEARTBEAT_TIMEOUT.total_seconds())} s.")
        alive.add_metric([], sum(1 for beat in beats if now - beat.heartbeat_at < HEARTBEAT_TIMEOUT))
        yield alive
        age = GaugeMetricFamily("rdv_outbox_worker_heartbeat_age_seconds",
                                "Secondes depuis le dernier battement de cœur de chaque worker.", labels=["worker"])
        for beat in beats:
            age.add_metric([beat.name], max(0.0, (now - beat.heartbeat_at).total_seconds()))
        yield age
        last = GaugeMetricFamily("rdv_daily_job_last_success_timestamp_seconds",
                                 "Dernière exécution réussie de chaque tâche quotidienne (secondes Unix ; 0 : "
                                 "jamais).", labels=["job"])
        for job in sorted(set(daily_jobs.DAILY_JOBS) | set(jobs)):
            last.add_metric([job], jobs[job].timestamp() if job in jobs else 0.0)
        yield last
        hooks = GaugeMetricFamily("rdv_webhook_endpoints", "Points de terminaison de webhooks en échec "
                                  "(failing : encore actifs) ou désactivés (disabled).", labels=["state"])
        hooks.add_metric(["failing"], endpoints.failing)
        hooks.add_metric(["disabled"], endpoints.disabled)
        yield hooks
        if size is not None:
            yield GaugeMetricFamily("rdv_database_size_bytes", "Taille de la base de données.", value=size)


_database = CollectorRegistry()
_database.register(DatabaseCollector())


def process_registry() -> CollectorRegistry:
    """This process's metrics, or every process's when they share PROMETHEUS_MULTIPROC_DIR."""
    if not os.environ.get(MULTIPROC_SETTING):
        return REGISTRY
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)
    return registry


def scrape() -> bytes:
    return generate_latest(process_registry()) + generate_latest(_database)


def authorised(request: Request, token: str) -> bool:
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), token.encode())


async def metrics(request: Request) -> Response:
    token = settings.metrics_token
    if not token:
        return PlainTextResponse("Not Found", status_code=404)
    if not authorised(request, token):
        return PlainTextResponse("Unauthorized", status_code=401, headers={"WWW-Authenticate": "Bearer"})
    body = await in_thread(scrape)
    return Response(body, media_type=CONTENT_TYPE, headers={"Cache-Control": "no-store"})
