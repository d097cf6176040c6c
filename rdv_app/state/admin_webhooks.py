"""Admin page "Webhooks" of the organisation shown (rdv_app.services.webhooks)."""

from __future__ import annotations

import reflex as rx

from rdv_app.db.uow import UnitOfWork
from rdv_app.domain import datefmt
from rdv_app.domain.enums import OutboxStatus
from rdv_app.notify.worker import deliver_now_async
from rdv_app.services.errors import DomainError, PermissionDenied
from rdv_app.services.integrations import webhooks
from rdv_app.services.organisation import local_time
from rdv_app.state.agent import AgentState

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


class AdminWebhooksState(AgentState):
    loading: bool = True
    allowed: bool = False
    page_error: str = ""
    endpoints: list[dict[str, str]] = []
    message: str = ""

    # the form: "" (closed), "new" or the id of the endpoint edited
    editing: str = ""
    form_key: int = 0
    form_url: str = ""
    form_subscriptions: list[str] = []
    form_enabled: bool = True
    form_error: str = ""
    form_field: str = ""
    saving: bool = False
    # The secret of the endpoint just created, shown once.
    new_secret: str = ""

    deleting_id: str = ""
    deleting_url: str = ""
    deleting: bool = False

    log_endpoint_id: str = ""
    log_url: str = ""
    log: list[dict[str, str]] = []
    log_loading: bool = False
    resending_id: str = ""

    def _organisation_id(self) -> int | None:
        return int(self.current_org_id) if self.current_org_id else None

    def _refresh(self, uow: UnitOfWork) -> None:
        self.endpoints = [_endpoint_row(v) for v in webhooks.list_endpoints(uow, self._agent_id, self._organisation_id())]  # type: ignore[arg-type]

    @rx.event
    def load(self):
        self.editing = self.new_secret = self.message = self.page_error = ""
        self.log_endpoint_id, self.log = "", []
        if self._agent_id is None or self._organisation_id() is None:
            return
        self.loading = True
        yield
        try:
            with UnitOfWork() as uow:
                self._refresh(uow)
        except PermissionDenied as exc:
            self.allowed, self.page_error = False, exc.message
        else:
            self.allowed = True
        finally:
            self.loading = False

    # ------------------------------------------------------------------ form

    @rx.event
    def open_new(self):
        self._open("new", "", ["rdv"], True)

    @rx.event
    def open_edit(self, endpoint_id: str):
        row = next((e for e in self.endpoints if e["id"] == endpoint_id), None)
        if row is None:
            return
        with UnitOfWork() as uow:
            view = webhooks.get_endpoint(uow, self._agent_id, self._organisation_id(), int(endpoint_id))  # type: ignore[arg-type]
        self._open(endpoint_id, view.target_url, list(view.subscriptions), view.enabled)

    def _open(self, editing: str, url: str, subscriptions: list[str], enabled: bool) -> None:
        self.editing, self.form_url, self.form_subscriptions, self.form_enabled = editing, url, subscriptions, enabled
        self.form_error = self.form_field = self.message = self.new_secret = ""
        self.form_key += 1

    @rx.event
    def close_form(self):
        self.editing = self.form_error = self.form_field = ""

    @rx.event
    def save(self, form: dict):
        self.form_error = self.form_field = self.message = ""
        organisation_id = self._organisation_id()
        if self._agent_id is None or organisation_id is None or not self.editing:
            return
        url = str(form.get("target_url", ""))
        chosen = [key.removeprefix(SUBSCRIPTION_FIELD_PREFIX) for key, value in form.items()
                  if key.startswith(SUBSCRIPTION_FIELD_PREFIX) and value]
        self.saving = True
        yield
        try:
            with UnitOfWork() as uow:
                if self.editing == "new":
                    created = webhooks.create_endpoint(uow, self._agent_id, organisation_id, target_url=url,
                                                       subscriptions=chosen)
                    self.new_secret = created.secret
                    self.message = "Webhook ajouté. Copiez son secret maintenant : il ne sera plus affiché."
                else:
                    webhooks.update_endpoint(uow, self._agent_id, organisation_id, int(self.editing),
                                             target_url=url, subscriptions=chosen,
                                             enabled=bool(form.get("enabled")))
                    self.message = "Webhook enregistré."
                self._refresh(uow)
        except DomainError as exc:
            self.form_error, self.form_field = exc.message, exc.field or ""
            self.form_url, self.form_subscriptions = url, chosen
            self.form_key += 1
        else:
            self.editing = ""
        finally:
            self.saving = False

    @rx.event
    def secret_copied(self):
        self.message = "Secret copié."

    @rx.event
    def hide_secret(self):
        self.new_secret = ""
        self.message = ""

    # ------------------------------------------------------------------ deletion

    @rx.event
    def ask_delete(self, endpoint_id: str, url: str):
        self.deleting_id, self.deleting_url, self.message = endpoint_id, url, ""

    @rx.event
    def delete_dialog_changed(self, is_open: bool):
        if not is_open:
            self.deleting_id = ""

    @rx.event
    def confirm_delete(self):
        organisation_id = self._organisation_id()
        if self._agent_id is None or organisation_id is None or not self.deleting_id:
            return
        self.deleting = True
        yield
        try:
            with UnitOfWork() as uow:
                webhooks.delete_endpoint(uow, self._agent_id, organisation_id, int(self.deleting_id))
                self._refresh(uow)
        except DomainError as exc:
            self.page_error = exc.message
        else:
            if self.log_endpoint_id == self.deleting_id:
                self.log_endpoint_id, self.log = "", []
            self.message = "Webhook supprimé."
        finally:
            self.deleting = False
            self.deleting_id = ""

    # ------------------------------------------------------------------ delivery log

    @rx.event
    def show_log(self, endpoint_id: str, url: str):
        self.log_endpoint_id, self.log_url, self.message = endpoint_id, url, ""
        self.log_loading = True
        yield
        self._load_log()
        self.log_loading = False

    def _load_log(self) -> None:
        organisation_id = self._organisation_id()
        if self._agent_id is None or organisation_id is None or not self.log_endpoint_id:
            return
        with UnitOfWork() as uow:
            views = webhooks.list_deliveries(uow, self._agent_id, organisation_id, int(self.log_endpoint_id))
            time_zone = local_time.time_zone(uow, organisation_id)
        self.log = [_delivery_row(v, time_zone) for v in views]

    @rx.event
    def close_log(self):
        self.log_endpoint_id, self.log = "", []

    @rx.event
    async def resend(self, message_id: str):
        """Puts the message back in the outbox and sends it at once; the log then shows the new attempt."""
        organisation_id = self._organisation_id()
        if self._agent_id is None or organisation_id is None or not message_id:
            return
        self.message = ""
        try:
            with UnitOfWork() as uow:
                outbox_id = webhooks.resend(uow, self._agent_id, organisation_id, int(message_id))
        except DomainError as exc:
            self.message = exc.message
            return
        self.resending_id = message_id
        yield
        await deliver_now_async([outbox_id])
        self._load_log()
        self.resending_id = ""
        self.message = "Message renvoyé : le résultat de l'envoi apparaît en tête du journal."
