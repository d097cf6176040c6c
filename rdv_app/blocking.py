"""Blocking work off the event loop: database transactions, argon2 hashing, calls to other servers.

Reflex runs every event handler of every connected person on one asyncio loop, and Starlette runs the
HTTP routes on it too: a handler that waits there for SQLite's write lock (up to its 30 s busy timeout),
hashes a password or waits for a server freezes every page at once. Event handlers and HTTP routes are
`async` and hand such work to `within`, which runs a use case in its unit of work on a worker thread:

    uow = UnitOfWork()
    saved = await within(uow, lambda uow: plages.create_plage(uow, agent_id, organisation_id, **fields))
    yield deliver_after_commit(uow)

The function runs on another thread while the handler waits: give it plain values read beforehand, never
the state itself.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import ParamSpec, TypeVar

from rdv_app.db.engine import POOL_SIZE
from rdv_app.db.uow import UnitOfWork

T = TypeVar("T")
P = ParamSpec("P")

# As many threads as the engine's pool keeps connections (`POOL_SIZE`): writers waiting for SQLite's lock
# each hold one, and must not leave reads queued behind them.
WORKERS = POOL_SIZE
_executor = ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="rdv-blocking")


async def in_thread(fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
    """`fn(*args, **kwargs)` on a worker thread while the loop serves everyone else; like
    `asyncio.to_thread`, with the caller's context variables, but on the pool above."""
    call = functools.partial(contextvars.copy_context().run, fn, *args, **kwargs)
    return await asyncio.get_running_loop().run_in_executor(_executor, call)


async def within(uow: UnitOfWork, work: Callable[[UnitOfWork], T]) -> T:
    """`with uow: return work(uow)` on a worker thread. The unit of work stays readable afterwards (what it
    committed to the outbox: `rdv_app.state.notifications.deliver_after_commit(uow)`)."""

    def run() -> T:
        with uow:
            return work(uow)

    return await in_thread(run)
