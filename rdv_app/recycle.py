"""Giving the memory of a rush back (issue 23): a fresh serving process once no tab is connected.

CPython keeps what it took at the peak of a load. Its small-object arenas go back to the system only when
wholly empty, and the objects that outlive a rush (caches, pooled connections, the threads of
rdv_app.blocking) stay spread over them: after 200 usagers a serving process kept about 40 MiB more than at
its start for as long as it lived, while Python's live objects were back within 2 MB of theirs (`make
load`; glibc's `malloc_trim` and jemalloc gave nothing back). Only a new process starts small again.

With Redis (several app processes) the pages' states live in Redis, not in the process, so a fresh worker
loses nothing. When no tab has been connected to this process for `RDV_RECYCLE_IDLE_SECONDS`, no long job
is under way, and its memory is more than `RDV_RECYCLE_GROWTH_PERCENT` above its start, the worker asks
the server for a fresh one with SIGHUP: Granian's master starts the new worker, which takes the new
connections, then stops this one as on any SIGTERM (rdv_app.shutdown; Reflex writes the states it holds
back to Redis). Only where that is safe: the Redis state manager, and a server of one worker started by
`rdv_app.serve_built` (a SIGHUP restarts every worker of the master). The embedded set-up keeps its
process: its states are in memory (rdv_app.state_expiry).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import psutil
from reflex.istate.manager.redis import StateManagerRedis

from rdv_app.background import running
from rdv_app.config import number_setting
from rdv_app.notify import long_jobs
from rdv_app.serve_built import MASTER_SETTING

logger = logging.getLogger(__name__)

IDLE_SETTING, GROWTH_SETTING = "RDV_RECYCLE_IDLE_SECONDS", "RDV_RECYCLE_GROWTH_PERCENT"
CHECK_SECONDS = 5.0


def idle_seconds() -> float:
    return number_setting(IDLE_SETTING, 60, 1, 86_400, "une durée en secondes")


def growth_percent() -> float:
    return number_setting(GROWTH_SETTING, 5, 0, 1_000, "un pourcentage")


@dataclass
class IdleWatch:
    """Decides, one reading after another, when the process should be replaced by a fresh one."""

    start_rss: int
    idle_seconds: float
    growth_percent: float
    idle_since: float | None = None

    def due(self, now: float, tabs: int, busy: bool, rss: int) -> bool:
        if tabs or busy:
            self.idle_since = None
            return False
        if self.idle_since is None:
            self.idle_since = now
        return (now - self.idle_since >= self.idle_seconds
                and rss > self.start_rss * (1 + self.growth_percent / 100))


def server_master() -> int | None:
    """The pid of the Granian master that serves this process as its only worker, if it is one."""
    raw = os.environ.get(MASTER_SETTING, "")
    if not raw.isdigit() or int(raw) != os.getppid() or os.environ.get("GRANIAN_WORKERS") != "1":
        return None
    return int(raw)


async def watch(watcher: IdleWatch, tabs: Callable[[], int], master: int) -> None:
    process = psutil.Process()
    while True:
        await asyncio.sleep(CHECK_SECONDS)
        rss = process.memory_info().rss
        if watcher.due(time.monotonic(), tabs(), long_jobs.busy(), rss):
            logger.info("no tab connected for %.0f s and %.0f MiB resident (%.0f at start): a fresh worker "
                        "takes over", watcher.idle_seconds, rss / 2**20, watcher.start_rss / 2**20)
            os.kill(master, signal.SIGHUP)
            return


@contextlib.asynccontextmanager
async def recycle_when_idle(app: Any) -> AsyncIterator[None]:
    """A lifespan task of the app: see the module's docstring."""
    master, namespace = server_master(), app.event_namespace
    if master is None or namespace is None or not isinstance(app.state_manager, StateManagerRedis):
        yield
        return
    watcher = IdleWatch(psutil.Process().memory_info().rss, idle_seconds(), growth_percent())
    # The tabs whose websocket is connected to this process (Reflex's token manager also caches other
    # processes' tabs).
    async with running(watch(watcher, lambda: len(namespace._token_manager.sid_to_token), master),
                       "rdv_app|recycle when idle"):
        yield
