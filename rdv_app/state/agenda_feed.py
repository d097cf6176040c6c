"""The open agendas' live refresh: one change feed per process, whatever the number of agendas open.

While at least one agenda watches, one task asks the database every `POLL_SECONDS` what changed
(`rdv_app.services.availability.agenda.recent_changes`, two cheap queries on a worker thread): the
organisations with new audit rows, and the display preferences of the watching agents. It then wakes only
the agendas concerned, each of which reads its own week again. A quiet process costs one small query a
second; an agenda is read again only when something may have changed on it.

An agenda joins with `async with agenda_feed.watch(...)`, which returns once the feed has had its first
look; it then reads its week once more, so that nothing committed while it joined goes unseen.

Audit ids are handed out when a row is written, not when its transaction commits: on PostgreSQL a row
with a lower id can appear after a higher one. The feed therefore reads back `LOOKBACK` ids behind the
highest one seen and remembers which of those it has already reported.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Collection
from contextlib import asynccontextmanager

from rdv_app.blocking import within
from rdv_app.db.uow import UnitOfWork
from rdv_app.services.availability import agenda

logger = logging.getLogger(__name__)

# Another agent's change reaches an open agenda within about this delay (the issue asks for 2 seconds).
POLL_SECONDS = 1.0
LOOKBACK = 200


class Watch:
    """One open agenda's subscription: `await wait(timeout)` is True once something it shows may have
    changed since the last wait, False after `timeout` seconds without news."""

    def __init__(self, feed: AgendaFeed, organisation_ids: frozenset[int], agent_id: int) -> None:
        self.organisation_ids, self.agent_id = organisation_ids, agent_id
        self._feed = feed
        self._changed = asyncio.Event()

    async def __aenter__(self) -> Watch:
        await self._feed.join(self)
        return self

    async def __aexit__(self, *_exc: object) -> None:
        self._feed.leave(self)

    def notify(self) -> None:
        self._changed.set()

    async def wait(self, timeout: float) -> bool:
        if not self._changed.is_set():
            try:
                await asyncio.wait_for(self._changed.wait(), timeout)
            except TimeoutError:
                return False
        self._changed.clear()
        return True


class AgendaFeed:
    def __init__(self, url: str | None = None, pause: float = POLL_SECONDS) -> None:
        """`url`: the app's database unless told otherwise."""
        self._url, self._pause = url, pause
        self._watches: set[Watch] = set()
        self._task: asyncio.Task[None] | None = None
        self._looked = asyncio.Event()
        self._forget()

    def _forget(self) -> None:
        """Back to a first look: what happened while nobody watched is nobody's news."""
        self._after: int | None = None
        self._seen: set[int] = set()
        self._preferences: dict[int, tuple[bool, bool]] = {}
        self._looked.clear()

    def watch(self, organisation_ids: Collection[int], agent_id: int) -> Watch:
        """Changes to these organisations' agendas, and to this agent's display preferences; use with
        `async with`."""
        return Watch(self, frozenset(organisation_ids), agent_id)

    async def join(self, watch: Watch) -> None:
        self._watches.add(watch)
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run(), name="agenda-feed")
        await self._looked.wait()

    def leave(self, watch: Watch) -> None:
        self._watches.discard(watch)

    async def _run(self) -> None:
        while self._watches:
            try:
                await self.poll()
            except Exception:  # the database may be restarting: the next tick tries again
                logger.exception("the agendas' change feed could not read the changes")
            await asyncio.sleep(self._pause)
        self._forget()

    async def poll(self) -> None:
        """One look at the database; wakes the watches concerned."""
        first_look = self._after is None
        after, agent_ids = self._after, {w.agent_id for w in self._watches}
        changes = await within(UnitOfWork(self._url, read_only=True),
                               lambda uow: agenda.recent_changes(uow, after, agent_ids, lookback=LOOKBACK))
        fresh = {organisation for row_id, organisation in changes.rows if row_id not in self._seen}
        ids = {row_id for row_id, _ in changes.rows}
        self._after = max(changes.after, max(ids, default=0) - LOOKBACK)
        self._seen = {row_id for row_id in ids if row_id > self._after}
        moved = {agent for agent, shown in changes.preferences.items() if self._preferences.get(agent, shown) != shown}
        self._preferences = changes.preferences
        if first_look:
            self._looked.set()
            return
        for watch in list(self._watches):
            # An audit row without an organisation (an agent's own settings) may concern anyone.
            if None in fresh or fresh & watch.organisation_ids or watch.agent_id in moved:
                watch.notify()


# The process's feed: every open agenda of this process watches through it.
agenda_feed = AgendaFeed()


# The running live refresh of each tab (by Reflex client token), in this process.
_loops_of_tabs: dict[str, asyncio.Task] = {}


@asynccontextmanager
async def only_loop_of_tab(client_token: str) -> AsyncIterator[None]:
    """The current task becomes the tab's only live refresh: an earlier one of the same tab (the agenda
    loaded again, or a client sending the event again and again) is cancelled at once."""
    current = asyncio.current_task()
    assert current is not None, "only inside a task"
    previous = _loops_of_tabs.get(client_token)
    if previous is not None and previous is not current:
        previous.cancel()
    _loops_of_tabs[client_token] = current
    try:
        yield
    finally:
        if _loops_of_tabs.get(client_token) is current:
            del _loops_of_tabs[client_token]
