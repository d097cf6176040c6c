"""The embedded set-up's memory of the pages' states: a tab still connected keeps its state however long
it stays idle; a closed tab's state leaves the process once the expiry has passed."""

from __future__ import annotations

import asyncio
import gc
import weakref
from dataclasses import dataclass

from reflex.istate.manager.memory import StateManagerMemory
from reflex.istate.manager.token import StateToken

from rdv_app.state_expiry import keep_connected_states, return_freed_memory


@dataclass
class Page:
    week: str = ""


def test_a_connected_tab_keeps_its_state_past_the_expiry_and_a_closed_tab_loses_it():
    async def scenario() -> None:
        manager = StateManagerMemory(token_expiration=1)
        open_tab, closed_tab = StateToken(ident="onglet-ouvert", cls=Page), StateToken(ident="onglet-ferme", cls=Page)
        reading = await manager.get_state(open_tab)
        reading.week = "2026-12-07"
        await manager.get_state(closed_tab)
        for _ in range(6):  # three times the expiry, the open tab idle all along
            await asyncio.sleep(0.5)
            keep_connected_states(manager, {"onglet-ouvert"})
        try:
            assert closed_tab.cache_key not in manager.states
            assert manager.states[open_tab.cache_key] is reading
            assert reading.week == "2026-12-07"
        finally:
            await manager.close()

    asyncio.run(scenario())


class Tree:
    """A page's state tree in small: each state refers to its parent and the parent to its substates."""

    def __init__(self, parent: Tree | None = None) -> None:
        self.parent, self.substates = parent, [Tree(self) for _ in range(3)] if parent is None else []


def test_the_memory_of_expired_states_is_freed_though_they_refer_to_themselves():
    gc.disable()  # as in an idle process: no allocation, so no collection comes by itself
    try:
        expired = Tree()
        freed = weakref.ref(expired.substates[0])
        del expired
        assert freed() is not None
        return_freed_memory()
        assert freed() is None
    finally:
        gc.enable()
