"""Stopping the app server without dropping work (issue 27): what SIGTERM lets finish.

`cli serve` passes SIGTERM on to the server (Granian), which stops accepting connections and then runs the
app's lifespan shutdown, in this order (last registered, first stopped):
1. the in-app notification worker (rdv_app.notify.worker.lifespan) stops after the message in flight: its
   outcome and receipt are recorded, nothing else is claimed; what is left waits in the outbox for the next
   start (or another process);
2. Reflex's event processor stops: with `drain_event_handlers` it first waits up to RDV_SHUTDOWN_GRACE
   seconds (default 20) for the event handlers under way and the events already queued, instead of
   cancelling them at once (Reflex's default);
3. the process ends; the threads of rdv_app.blocking, where every transaction runs, are joined first, so a
   transaction that has begun commits or rolls back whole, even if its handler was cancelled after the grace.
A booking is therefore in the database entirely or not at all; a handler still running after the grace
is cancelled before it answers the person, who sees the RDV on their next visit if its transaction had
committed. Only a SIGKILL (or a supervisor that does not wait: give it more than the grace) ends a process
mid-transaction, and the database then rolls that transaction back.
"""

from __future__ import annotations

from typing import Any

from rdv_app.config import number_setting

GRACE_SETTING = "RDV_SHUTDOWN_GRACE"
DEFAULT_GRACE = 20.0


def grace_seconds() -> float:
    return number_setting(GRACE_SETTING, DEFAULT_GRACE, 0, 600, "une durée en secondes")


def drain_event_handlers(app: Any) -> None:
    """A lifespan task, registered after Reflex's own: gives its event processor a grace at shutdown."""
    app.event_processor.graceful_shutdown_timeout = grace_seconds()
