"""Mon compte, "Synchronisation de l'agenda": the agent's webcal feed address (rdv_app.services.webcal),
and their Microsoft 365 (Outlook) connection (rdv_app.services.agents.outlook)."""

from __future__ import annotations

import asyncio

import reflex as rx

from rdv_app import routes
from rdv_app.blocking import within
from rdv_app.config import settings
from rdv_app.db.uow import UnitOfWork
from rdv_app.services.agents import outlook, webcal
from rdv_app.services.errors import DomainError
from rdv_app.state.agent import AgentState, full_navigation
from rdv_app.state.notifications import deliver_after_commit
from rdv_app.state.typed_event import event

FOLLOW_PAUSE = 1.0  # seconds between two readings of a disconnection's progress
FOLLOW_LIMIT = 600  # readings; the page, loaded again later, shows where it stands


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


class OutlookState(AgentState):
    """"Synchronisation d'agenda" with Microsoft 365 (rdv_app.services.agents.outlook). The agent is always
    the session's; the page's buttons carry no id."""

    outlook_loaded: rx.Field[bool] = rx.field(False)
    outlook_available: rx.Field[bool] = rx.field(False)
    outlook_connected: rx.Field[bool] = rx.field(False)
    outlook_broken: rx.Field[bool] = rx.field(False)
    outlook_disconnecting: rx.Field[bool] = rx.field(False)
    outlook_removed: rx.Field[int] = rx.field(0)
    outlook_to_remove: rx.Field[int] = rx.field(0)
    outlook_renew_before: rx.Field[str] = rx.field("")
    outlook_confirming: rx.Field[bool] = rx.field(False)
    outlook_message: rx.Field[str] = rx.field("")
    outlook_error: rx.Field[str] = rx.field("")

    def _show_outlook(self, status: outlook.OutlookStatus) -> None:
        self.outlook_available, self.outlook_connected = status.available, status.connected
        self.outlook_broken, self.outlook_disconnecting = status.broken, status.disconnecting
        self.outlook_removed, self.outlook_to_remove = status.removed, status.to_remove
        self.outlook_renew_before = status.renew_before_day
        self.outlook_loaded = True

    @event
    async def load_outlook(self):
        self.outlook_confirming = False
        self.outlook_message = self.outlook_error = ""
        agent_id = self._agent_id
        if agent_id is None:
            return None
        try:
            status = await within(UnitOfWork(read_only=True), lambda uow: outlook.outlook_status(uow, agent_id))
        except DomainError as exc:
            self.outlook_error = exc.message
            return None
        self._show_outlook(status)
        if status.connected and not status.broken and self.router.url.query_parameters.get("outlook") == "connecte":
            self.outlook_message = ("Votre compte Outlook a bien été connecté : vos rendez-vous y sont envoyés "
                                    "(ceux d'il y a un mois et plus récents).")
        if status.disconnecting:
            return OutlookState.follow_disconnection
        return None

    @event
    def connect(self):
        """Off to Microsoft through the plain HTTP route, which knows the agent by their session cookie."""
        if self._agent_id is None or not self.outlook_available:
            return None
        return full_navigation(settings.api_path(routes.OUTLOOK_START))

    @event
    def ask_disconnect(self):
        self.outlook_message = self.outlook_error = ""
        self.outlook_confirming = True

    @event
    def cancel_disconnect(self):
        self.outlook_confirming = False

    @event
    async def disconnect(self):
        agent_id = self._agent_id
        if agent_id is None or not self.outlook_loaded:
            return
        self.outlook_confirming = False
        uow = UnitOfWork()
        try:
            status = await within(uow, lambda uow: outlook.disconnect_outlook(uow, agent_id))
        except DomainError as exc:
            self.outlook_error = exc.message
            return
        self._show_outlook(status)
        yield deliver_after_commit(uow)
        yield OutlookState.follow_disconnection

    @event(background=True)
    async def follow_disconnection(self):
        """Shows the removal's progress until the tokens are gone (the worker does the work)."""
        for _ in range(FOLLOW_LIMIT):
            await asyncio.sleep(FOLLOW_PAUSE)
            async with self:
                agent_id = self._agent_id
            if agent_id is None:
                return
            try:
                status = await within(UnitOfWork(read_only=True),
                                      lambda uow, agent=agent_id: outlook.outlook_status(uow, agent))
            except DomainError:
                return
            async with self:
                self._show_outlook(status)
                if not status.disconnecting:
                    self.outlook_message = ("Votre compte Outlook a été déconnecté : vos rendez-vous ont été "
                                            "retirés de votre agenda Outlook.")
                    return
