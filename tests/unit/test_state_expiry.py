"""The embedded set-up's memory of the pages' states: a tab still connected keeps its state however long
it stays idle; a closed tab's state leaves the process once the expiry has passed."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from reflex.istate.manager.memory import StateManagerMemory
from reflex.istate.manager.token import StateToken

from rdv_app.state_expiry import keep_connected_states


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
