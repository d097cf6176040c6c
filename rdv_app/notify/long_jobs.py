"""Long background jobs of the worker (the RDV list's exports): they run on a thread of their own beside
the deliveries, so that a file of 100,000 RDVs never delays an SMS.

A job is registered by the composition root (rdv_app.wiring) as `job(url, stopping) -> bool`: it does one
unit of work (one export) and says whether there was one; `stopping()` turns true when the worker stops,
and the job then hands its work back for the next worker. The loop asks every job in turn and waits
POLL_INTERVAL when none had work.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

logger = logging.getLogger(__name__)

POLL_INTERVAL = 2.0
Job = Callable[[str, Callable[[], bool]], bool]
LONG_JOBS: dict[str, Job] = {}
# Set while the jobs are asked for work (rdv_app.recycle does not replace a process in the middle of one).
_asking = threading.Event()


def register(name: str, job: Job) -> None:
    LONG_JOBS[name] = job


def run_once(url: str, stop_event: threading.Event) -> bool:
    """Each job once; whether any had work. A job that fails is logged and tried again at the next turn."""
    worked = False
    _asking.set()
    try:
        for name, job in LONG_JOBS.items():
            if stop_event.is_set():
                break
            try:
                worked = job(url, stop_event.is_set) or worked
            except Exception:
                logger.exception("long job %s failed; it will be tried again", name)
    finally:
        _asking.clear()
    return worked


def busy() -> bool:
    """Whether a job of this process is under way (or being asked for work) at this moment."""
    return _asking.is_set()


def run_forever(url: str, stop_event: threading.Event) -> None:
    while not stop_event.is_set():
        if not run_once(url, stop_event):
            stop_event.wait(POLL_INTERVAL)


def start(url: str, stop_event: threading.Event) -> threading.Thread | None:
    """The jobs' thread, started when any job is registered."""
    if not LONG_JOBS:
        return None
    thread = threading.Thread(target=run_forever, args=(url, stop_event), name="long-jobs", daemon=True)
    thread.start()
    return thread
