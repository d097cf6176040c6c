"""The base of the states of pages about the organisation the header shows (agenda, planning, admin...)."""

from __future__ import annotations

from typing import Any

import reflex as rx

from rdv_app.services.errors import DomainError
from rdv_app.state.agent import AgentState
from rdv_app.state.loaded import LoadedForMixin
from rdv_app.state.typed_event import event

NO_ORGANISATION = "Vous n'êtes membre d'aucune organisation pour l'instant : cette page n'a rien à afficher."


class OrganisationPageState(LoadedForMixin, AgentState, mixin=True):
    """`load`, the page's on_load after the sign-in guard (`rdv_app.pages.template.agent_page`), does what
    every such page does first: nothing without a signed-in agent and an organisation; `loading` while the
    page reads; the page's own `_load`; and a refusal of the services (another role, an organisation the
    agent left) shown in `denied` instead of the page. Its forms are loaded (`loaded_for`, see
    `rdv_app.state.loaded`) for this page and organisation once `_load` is done, not before.

    A mixin, so that each page's state gets its own `loading`, `denied` and `load`: a page's state names
    `AgentState` after it (`class AgendaState(OrganisationPageState, AgentState)`), since Reflex makes a
    class whose state bases are all mixins a mixin too.
    """

    loading: rx.Field[bool] = rx.field(True)
    denied: rx.Field[str] = rx.field("")

    @event
    async def load(self):
        if self._agent_id is None:
            return
        if not self.current_org_id:
            self.loading, self.denied = False, NO_ORGANISATION
            self._loading()
            return
        self.loading = True
        self.denied = ""
        self._loading()
        self._before_load()
        yield
        try:
            events = await self._load(self._agent_id, int(self.current_org_id))
        except DomainError as exc:
            self.denied, events = exc.message, None
        self.loading = False
        if not self.denied:
            self._mark_loaded()
        if events:
            yield events

    def _loaded_record(self) -> str:
        return self.current_org_id

    def _before_load(self) -> None:
        """What the page clears as soon as it opens (before it shows `loading`)."""

    async def _load(self, agent_id: int, organisation_id: int) -> Any:
        """Reads the page's data off the event loop (`rdv_app.blocking.within`) and shows it; may return
        events to run next."""
        raise TypeError(f"{type(self).__name__} loads its page")
