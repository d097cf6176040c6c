"""Mon compte, "Synchronisation de l'agenda": the agent's webcal feed address (rdv_app.services.webcal)."""

from __future__ import annotations

import reflex as rx

from rdv_app.blocking import within
from rdv_app.db.uow import UnitOfWork
from rdv_app.services.agents import webcal
from rdv_app.services.errors import DomainError
from rdv_app.state.agent import AgentState
from rdv_app.state.typed_event import event


class WebcalState(AgentState):
    https_url: rx.Field[str] = rx.field("")
    webcal_url: rx.Field[str] = rx.field("")
    confirming_reset: rx.Field[bool] = rx.field(False)
    resetting: rx.Field[bool] = rx.field(False)
    webcal_message: rx.Field[str] = rx.field("")
    webcal_error: rx.Field[str] = rx.field("")

    def _show(self, links: webcal.FeedLinks) -> None:
        self.https_url, self.webcal_url = links.https_url, links.webcal_url

    @event
    async def load_webcal(self):
        self.confirming_reset = False
        self.webcal_message = self.webcal_error = ""
        agent_id = self._agent_id
        if agent_id is None:
            return
        # A write the first time: the agent's feed address is drawn then.
        try:
            self._show(await within(UnitOfWork(), lambda uow: webcal.feed_links(uow, agent_id)))
        except DomainError as exc:
            self.https_url = self.webcal_url = ""
            self.webcal_error = exc.message

    @event
    def copied(self, which: str):
        self.webcal_message = f"Le lien {which} a été copié."

    @event
    def ask_reset(self):
        self.webcal_message = self.webcal_error = ""
        self.confirming_reset = True

    @event
    def cancel_reset(self):
        self.confirming_reset = False

    @event
    async def reset_link(self):
        agent_id = self._agent_id
        if agent_id is None:
            return
        self.resetting = True
        yield
        try:
            self._show(await within(UnitOfWork(), lambda uow: webcal.reset_feed(uow, agent_id)))
        except DomainError as exc:
            self.webcal_error = exc.message
        else:
            self.webcal_message = ("Nouveau lien créé : l'ancien ne fonctionne plus. Abonnez votre agenda "
                                   "à ce nouveau lien.")
        finally:
            self.resetting = False
            self.confirming_reset = False
