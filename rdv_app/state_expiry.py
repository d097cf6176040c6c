"""How long the pages' states stay in the memory of the one process (the embedded set-up, `make run`,
Reflex's memory state manager).

Reflex keeps each tab's state (the whole tree of the app's states) for an hour after its last event, tab
closed or not: after a load of 200 usagers the process held their 200 trees long after they had left.
Here a state stays as long as its tab's websocket is connected, however long the person reads or types,
and `DISCONNECTED_STATE_SECONDS` after it disconnects (a reload or a brief network loss finds it again).
A tab that comes back later gets its page rebuilt from its address, as Reflex does for any reconnection
(`hydrate` and the page's on_load). The Redis state manager (several processes) keeps Reflex's own
expiry: its states are in Redis, not in the process.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import ctypes.util
import gc
from collections.abc import AsyncIterator, Collection
from typing import Any

from reflex.istate.manager.memory import StateManagerMemory

from rdv_app.background import running

DISCONNECTED_STATE_SECONDS = 120
# How often the deadlines of the connected tabs' states are pushed back (well within the expiry).
KEEP_ALIVE_SECONDS = 30


def keep_connected_states(manager: StateManagerMemory, connected_tokens: Collection[str]) -> None:
    """Pushes back the expiry of the states whose tab is connected; the others keep their deadline."""
    for _key, (_expires_at, token) in list(manager._token_expires_at.items()):
        if token.ident in connected_tokens:
            manager._track_token(token)


def return_freed_memory() -> None:
    """Frees the expired states and hands their memory back to the system. A page's state tree refers to
    itself (each state to its parent and its substates), so only a full collection of the garbage collector
    frees it, which an idle process never triggers; then glibc's allocator keeps freed blocks for later
    reuse, and the process's resident memory would stay at its peak after a rush. Elsewhere than glibc (no
    `malloc_trim`), the collection only."""
    gc.collect()
    library = ctypes.util.find_library("c")
    if library is None:
        return
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(library).malloc_trim(0)


@contextlib.asynccontextmanager
async def expire_disconnected_states(app: Any) -> AsyncIterator[None]:
    """A lifespan task of the app: with the memory state manager, a state expires
    `DISCONNECTED_STATE_SECONDS` after its tab disconnected."""
    manager, namespace = app.state_manager, app.event_namespace
    if not isinstance(manager, StateManagerMemory) or namespace is None:
        yield
        return
    manager.token_expiration = DISCONNECTED_STATE_SECONDS

    async def keep_alive() -> None:
        held = len(manager.states)
        while True:
            await asyncio.sleep(KEEP_ALIVE_SECONDS)
            keep_connected_states(manager, namespace._token_manager.token_to_socket)
            if len(manager.states) < held:  # some expired since the last round
                return_freed_memory()
            held = len(manager.states)

    async with running(keep_alive(), "rdv_app|keep connected states"):
        yield
