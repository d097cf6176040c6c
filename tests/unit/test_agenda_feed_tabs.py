"""One live agenda refresh per tab (rdv_app.state.agenda_feed.only_loop_of_tab): a client that sends the
`watch` event again and again keeps one loop, not one per event."""

from __future__ import annotations

import asyncio

from rdv_app.state.agenda_feed import only_loop_of_tab


def test_a_new_loop_of_a_tab_ends_the_previous_one_and_leaves_other_tabs_alone() -> None:
    async def scenario() -> None:
        running: set[str] = set()

        async def loop(tab: str, name: str) -> None:
            async with only_loop_of_tab(tab):
                running.add(name)
                try:
                    await asyncio.Event().wait()
                finally:
                    running.discard(name)

        first = asyncio.create_task(loop("onglet-1", "first"))
        other_tab = asyncio.create_task(loop("onglet-2", "other tab"))
        await asyncio.sleep(0)
        assert running == {"first", "other tab"}
        floods = [asyncio.create_task(loop("onglet-1", f"again {n}")) for n in range(20)]
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        assert running == {"again 19", "other tab"}
        assert first.cancelled() and all(task.cancelled() for task in floods[:-1])
        for task in (floods[-1], other_tab):
            task.cancel()
        await asyncio.gather(floods[-1], other_tab, return_exceptions=True)

    asyncio.run(scenario())
