"""Admin page "Webhooks" of the organisation shown (rdv_app.services.webhooks)."""

from __future__ import annotations

import reflex as rx

from rdv_app.blocking import within
from rdv_app.db.uow import UnitOfWork
from rdv_app.domain import datefmt
from rdv_app.domain.enums import OutboxStatus
from rdv_app.notify.worker import deliver_now_async
from rdv_app.services.errors import DomainError
from rdv_app.services.integrations import webhooks
from rdv_app.services.organisation import local_time
from rdv_app.state.agent import AgentState
from rdv_app.state.loaded import NOT_LOADED
from rdv_app.state.organisation import OrganisationPageState
from rdv_app.state.typed_event import event

SUBSCRIPTION_FIELD_PREFIX = "abonnement_"
_EVENT_LABELS = {"created": "création", "updated": "modification", "destroyed": "suppression"}


def _endpoint_row(view: webhooks.EndpointView) -> dict[str, str]:
    return {"id": str(view.id), "url": view.target_url, "secret": view.masked_secret,
            "subscriptions": view.subscription_labels, "state": view.state,
            "enabled": "1" if view.enabled else ""}


def _delivery_row(view: webhooks.DeliveryView, time_zone: str) -> dict[str, str]:
    result = f"Reçu (HTTP {view.status_code})" if view.succeeded else f"Échec : {view.error}"
    resendable = view.outbox_message_id is not None and view.message_status not in ("", OutboxStatus.SENDING.value)
    return {"id": str(view.id), "message_id": str(view.outbox_message_id or ""),
            "when": datefmt.long_datetime(view.at, time_zone),
            "what": f"{view.model} ({_EVENT_LABELS.get(view.event, view.event)})",
            "attempt": str(view.attempt), "result": result, "succeeded": "1" if view.succeeded else "",
            "latency": f"{view.latency_ms} ms" if view.latency_ms is not None else "—",
            "response": view.response_excerpt[:200], "resendable": "1" if resendable else ""}


class AdminWebhooksState(OrganisationPageState, AgentState):
    action_error: rx.Field[str] = rx.field("")
    endpoints: rx.Field[list[dict[str, str]]] = rx.field(default_factory=list)
    message: rx.Field[str] = rx.field("")

    # the form: "" (closed), "new" or the id of the endpoint edited
    editing: rx.Field[str] = rx.field("")
    form_key: rx.Field[int] = rx.field(0)
    form_url: rx.Field[str] = rx.field("")
    form_subscriptions: rx.Field[list[str]] = rx.field(default_factory=list)
    form_enabled: rx.Field[bool] = rx.field(True)
    form_error: rx.Field[str] = rx.field("")
    form_field: rx.Field[str] = rx.field("")
    saving: rx.Field[bool] = rx.field(False)
    # The secret of the endpoint just created, shown once.
    new_secret: rx.Field[str] = rx.field("")

    deleting_id: rx.Field[str] = rx.field("")
    deleting_url: rx.Field[str] = rx.field("")
    deleting: rx.Field[bool] = rx.field(False)

    log_endpoint_id: rx.Field[str] = rx.field("")
    log_url: rx.Field[str] = rx.field("")
    log: rx.Field[list[dict[str, str]]] = rx.field(default_factory=list)
    log_loading: rx.Field[bool] = rx.field(False)
    resending_id: rx.Field[str] = rx.field("")
    # The version of the endpoint edited, as loaded (rdv_app.services.versions).
    _editing_version: str = ""

    def _who(self) -> tuple[int, int] | None:
        """The signed-in agent and the organisation shown, or None before the page has loaded."""
        if self._agent_id is None or not self.current_org_id:
            return None
        return self._agent_id, int(self.current_org_id)

    def _loaded_record(self) -> str:
        """The form is loaded (rdv_app.state.loaded) for the endpoint it edits, or for a new one."""
        return f"{self.current_org_id}|{self.editing}"

    def _before_load(self) -> None:
        self.editing = self.new_secret = self.message = self.action_error = ""
        self.log_endpoint_id, self.log = "", []

    async def _load(self, agent_id: int, organisation_id: int) -> None:
        views = await within(UnitOfWork(read_only=True),
                             lambda uow: webhooks.list_endpoints(uow, agent_id, organisation_id))
        self.endpoints = [_endpoint_row(v) for v in views]

    # ------------------------------------------------------------------ form

    @event
    def open_new(self):
        self._open("new", "", ["rdv"], True, version="")

    @event
    async def open_edit(self, endpoint_id: str):
        row = next((e for e in self.endpoints if e["id"] == endpoint_id), None)
        who = self._who()
        if row is None or who is None:
            return
        view = await within(UnitOfWork(read_only=True),
                            lambda uow: webhooks.get_endpoint(uow, *who, int(row["id"])))
        self._open(endpoint_id, view.target_url, list(view.subscriptions), view.enabled, version=view.version)

    def _open(self, editing: str, url: str, subscriptions: list[str], enabled: bool, *, version: str) -> None:
        """The form shows these values: loaded for this endpoint (or a new one), at this version."""
        self.editing, self.form_url, self.form_subscriptions, self.form_enabled = editing, url, subscriptions, enabled
        self.form_error = self.form_field = self.message = self.new_secret = ""
        self.form_key += 1
        self._editing_version = version
        self._mark_loaded()

    @event
    def close_form(self):
        self.editing = self.form_error = self.form_field = ""

    @event
    async def save(self, form: dict):
        self.form_error = self.form_field = self.message = ""
        who = self._who()
        if who is None or not (self.editing == "new" or self.editing.isdigit()):
            return
        if not self._is_loaded(form):
            self.form_error = NOT_LOADED
            return
        url = str(form.get("target_url", ""))
        chosen = [key.removeprefix(SUBSCRIPTION_FIELD_PREFIX) for key, value in form.items()
                  if key.startswith(SUBSCRIPTION_FIELD_PREFIX) and value]
        editing, enabled, version = self.editing, bool(form.get("enabled")), self._editing_version
        self.saving = True
        yield

        def save(uow: UnitOfWork) -> tuple[str, list[webhooks.EndpointView]]:
            secret = ""
            if editing == "new":
                secret = webhooks.create_endpoint(uow, *who, target_url=url, subscriptions=chosen).secret
            else:
                webhooks.update_endpoint(uow, *who, int(editing), target_url=url, subscriptions=chosen,
                                         enabled=enabled, expected_version=version)
            return secret, webhooks.list_endpoints(uow, *who)

        try:
            secret, views = await within(UnitOfWork(), save)
        except DomainError as exc:
            self.form_error, self.form_field = exc.message, exc.field or ""
            self.form_url, self.form_subscriptions = url, chosen
            self.form_key += 1
        else:
            self.endpoints = [_endpoint_row(v) for v in views]
            if editing == "new":
                self.new_secret = secret
                self.message = "Webhook ajouté. Copiez son secret maintenant : il ne sera plus affiché."
            else:
                self.message = "Webhook enregistré."
            self.editing = ""
        finally:
            self.saving = False

    @event
    def secret_copied(self):
        self.message = "Secret copié."

    @event
    def hide_secret(self):
        self.new_secret = ""
        self.message = ""

    # ------------------------------------------------------------------ deletion

    @event
    def ask_delete(self, endpoint_id: str, url: str):
        self.deleting_id, self.deleting_url, self.message = endpoint_id, url, ""

    @event
    def delete_dialog_changed(self, is_open: bool):
        if not is_open:
            self.deleting_id = ""

    @event
    async def confirm_delete(self):
        who = self._who()
        if who is None or not self.deleting_id.isdigit():
            return
        self.deleting = True
        self.action_error = ""
        yield
        endpoint_id = int(self.deleting_id)
        agent_id, organisation_id = who

        def delete(uow: UnitOfWork) -> list[webhooks.EndpointView]:
            webhooks.delete_endpoint(uow, agent_id, organisation_id, endpoint_id)
            return webhooks.list_endpoints(uow, agent_id, organisation_id)

        try:
            self.endpoints = [_endpoint_row(v) for v in await within(UnitOfWork(), delete)]
        except DomainError as exc:
            self.action_error = exc.message
        else:
            if self.log_endpoint_id == self.deleting_id:
                self.log_endpoint_id, self.log = "", []
            self.message = "Webhook supprimé."
        finally:
            self.deleting = False
            self.deleting_id = ""

    # ------------------------------------------------------------------ delivery log

    @event(busy="log_loading")
    async def show_log(self, endpoint_id: str, url: str):
        self.log_endpoint_id, self.log_url, self.message = endpoint_id, url, ""
        self.log_loading = True
        yield
        await self._load_log()

    async def _load_log(self) -> None:
        who = self._who()
        if who is None or not self.log_endpoint_id.isdigit():
            return
        endpoint_id = int(self.log_endpoint_id)

        def read(uow: UnitOfWork) -> tuple[list[webhooks.DeliveryView], str]:
            return (webhooks.list_deliveries(uow, *who, endpoint_id),
                    local_time.time_zone(uow, who[1]))

        try:
            views, time_zone = await within(UnitOfWork(read_only=True), read)
        except DomainError as exc:
            self.log_endpoint_id, self.log, self.message = "", [], exc.message
            return
        self.log = [_delivery_row(v, time_zone) for v in views]

    @event
    def close_log(self):
        self.log_endpoint_id, self.log = "", []

    @event
    async def resend(self, message_id: str):
        """Puts the message back in the outbox and sends it at once; the log then shows the new attempt."""
        who = self._who()
        if who is None or not message_id.isdigit():
            return
        self.message = ""
        try:
            outbox_id = await within(UnitOfWork(), lambda uow: webhooks.resend(uow, *who, int(message_id)))
        except DomainError as exc:
            self.message = exc.message
            return
        self.resending_id = message_id
        yield
        await deliver_now_async([outbox_id])
        await self._load_log()
        self.resending_id = ""
        self.message = "Message renvoyé : le résultat de l'envoi apparaît en tête du journal."
