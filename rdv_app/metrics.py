"""The instruments of the Prometheus metrics (issue 27): counters and histograms moved where things happen.

What describes the database (the outbox's depth and age, workers alive, daily jobs, webhook endpoints) is
not here: it is read at each scrape by `rdv_app.api.metrics`, so that it is right whichever process
serves the scrape. What happens in a process (a delivery, a booking, a slot search, an event handler) is
counted here, in that process.

Several processes (the server's workers, `cli worker`): PROMETHEUS_MULTIPROC_DIR names a directory they
share, read before the first metric is built (`prometheus_client` decides then); `/metrics` then adds up
every process's files. `cli serve` sets it up when metrics are on (rdv_app.cli).

Nothing personal in a label: channels, results, handler names, kinds of search; never an id of a person.
This module imports nothing of ours, so that the notification worker and the services may use it.
"""

from __future__ import annotations

import contextlib
import functools
import os
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager
from typing import Any, ParamSpec, TypeVar

from prometheus_client import Counter, Gauge, Histogram, disable_created_metrics, multiprocess

# The `_created` series (when each counter was born) only double the scrape: off.
disable_created_metrics()

P = ParamSpec("P")
T = TypeVar("T")

# Seconds: provider calls last from a few milliseconds (the console) to OVH's 15 s timeout.
_LATENCY_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 15.0, 30.0, 60.0)

DELIVERIES = Counter(
    "rdv_deliveries", "Tentatives de livraison de l'outbox, par canal et résultat "
    "(sent, retry : échec temporaire reprogrammé, failed : échec définitif, cancelled : retiré ou échu).",
    ["channel", "result"])
PROVIDER_LATENCY = Histogram(
    "rdv_provider_latency_seconds", "Durée d'un appel au fournisseur (OVH, SMTP, webhook), réussi ou non.",
    ["channel", "provider"], buckets=_LATENCY_BUCKETS)
BOOKINGS = Counter(
    "rdv_bookings", "Réservations en ligne par résultat (booked, slot_taken, refused : saisie à corriger, error).",
    ["result"])
SLOT_SEARCH = Histogram(
    "rdv_slot_search_seconds", "Durée d'une recherche de créneaux (public : prise de RDV en ligne, "
    "agent : « Trouver un RDV »).", ["kind"])
WEBSOCKET_CONNECTIONS = Gauge(
    "rdv_websocket_connections", "Onglets connectés par websocket (somme des processus vivants).",
    multiprocess_mode="livesum")
EVENT_HANDLER = Histogram(
    "rdv_event_handler_seconds", "Durée des gestionnaires d'événements Reflex, par gestionnaire.", ["handler"])

BOOKED, SLOT_TAKEN, REFUSED, ERROR = "booked", "slot_taken", "refused", "error"


@contextmanager
def timing(histogram: Histogram, **labels: str) -> Iterator[None]:
    """Observes how long the block took, whether it raised or not."""
    start = time.perf_counter()
    try:
        yield
    finally:
        histogram.labels(**labels).observe(time.perf_counter() - start)


def timed(histogram: Histogram, **labels: str) -> Callable[[Callable[P, T]], Callable[P, T]]:
    def decorate(function: Callable[P, T]) -> Callable[P, T]:
        @functools.wraps(function)
        def wrapped(*args: P.args, **kwargs: P.kwargs) -> T:
            with timing(histogram, **labels):
                return function(*args, **kwargs)

        return wrapped

    return decorate


@contextlib.asynccontextmanager
async def count_websocket_connections(app: Any) -> AsyncIterator[None]:
    """A lifespan task of the app: counts the websocket connections of this process, around Reflex's own
    connect and disconnect handlers (python-socketio calls the namespace's `on_<event>` attributes). When
    the process stops, its live gauges leave the shared directory of a multi-process server."""
    namespace = app.event_namespace
    if namespace is not None:
        connect, disconnect = namespace.on_connect, namespace.on_disconnect

        async def on_connect(sid: str, environ: dict, auth: Any = None) -> Any:
            accepted = await connect(sid, environ, auth)
            if accepted is not False:
                WEBSOCKET_CONNECTIONS.inc()
            return accepted

        def on_disconnect(sid: str, *_reason: Any) -> Any:
            WEBSOCKET_CONNECTIONS.dec()
            return disconnect(sid)

        namespace.on_connect, namespace.on_disconnect = on_connect, on_disconnect
    try:
        yield
    finally:
        if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            multiprocess.mark_process_dead(os.getpid())
