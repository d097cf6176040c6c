"""The instance's back office: its territories, and a new territory opened with its first admin."""

from __future__ import annotations

from dataclasses import dataclass

import reflex as rx

from rdv_app.blocking import within
from rdv_app.db.uow import UnitOfWork
from rdv_app.services.errors import DomainError
from rdv_app.services.instance import accounts, catalogue, mairie_accounts
from rdv_app.services.instance.accounts import NewAccount, TerritoryRow
from rdv_app.services.instance.catalogue import ServiceRow
from rdv_app.services.instance.mairie_accounts import NewMairie
from rdv_app.state.agent import AgentState
from rdv_app.state.checked_services import chosen_services
from rdv_app.state.loaded import NOT_LOADED, LoadedForMixin
from rdv_app.state.typed_event import event

FIELDS = ("departement_number", "territory_name", "timezone", "organisation_name", "admin_email")


@dataclass
class TerritoryLine:
    number: str
    name: str
    timezone: str
    organisations: str
    admins: str


@dataclass
class ServiceLine:
    id: str
    name: str
    short_name: str
    secretariat: str


@dataclass
class SuperAdminLine:
    email: str
    name: str
    status: str


def _service(row: ServiceRow) -> ServiceLine:
    return ServiceLine(id=str(row.id), name=row.name, short_name=row.short_name,
                       secretariat="Oui" if row.is_secretariat else "Non")


def _line(row: TerritoryRow) -> TerritoryLine:
    return TerritoryLine(number=row.departement_number, name=row.name, timezone=row.timezone,
                         organisations=str(row.organisations), admins=row.admins or "—")


class SuperAdminState(LoadedForMixin, AgentState):
    loading: rx.Field[bool] = rx.field(True)
    denied: rx.Field[str] = rx.field("")
    territories: rx.Field[list[TerritoryLine]] = rx.field(default_factory=list)
    services: rx.Field[list[ServiceLine]] = rx.field(default_factory=list)
    service_error: rx.Field[str] = rx.field("")
    service_error_field: rx.Field[str] = rx.field("")
    service_message: rx.Field[str] = rx.field("")
    service_form_key: rx.Field[int] = rx.field(0)
    error: rx.Field[str] = rx.field("")
    error_field: rx.Field[str] = rx.field("")
    message: rx.Field[str] = rx.field("")
    submitting: rx.Field[bool] = rx.field(False)
    # The form's inputs are uncontrolled: a new key empties them after a territory is opened.
    form_key: rx.Field[int] = rx.field(0)
    super_admins: rx.Field[list[SuperAdminLine]] = rx.field(default_factory=list)
    super_admin_error: rx.Field[str] = rx.field("")
    super_admin_message: rx.Field[str] = rx.field("")
    super_admin_form_key: rx.Field[int] = rx.field(0)
    # "Ouvrir le compte d'une mairie" (ANTS, admin-domain.md 12).
    mairie_error: rx.Field[str] = rx.field("")
    mairie_error_field: rx.Field[str] = rx.field("")
    mairie_message: rx.Field[str] = rx.field("")
    mairie_submitting: rx.Field[bool] = rx.field(False)
    mairie_form_key: rx.Field[int] = rx.field(0)
    inviting: rx.Field[bool] = rx.field(False)

    async def _territories(self, agent_id: int) -> list[TerritoryLine]:
        rows = await within(UnitOfWork(read_only=True), lambda uow: accounts.list_territories(uow, agent_id))
        return [_line(row) for row in rows]

    async def _super_admins(self, agent_id: int) -> list[SuperAdminLine]:
        rows = await within(UnitOfWork(read_only=True), lambda uow: accounts.list_super_admins(uow, agent_id))
        return [SuperAdminLine(row.email, row.name or row.email, "Invitation en attente" if row.pending else "Actif")
                for row in rows]

    async def _services(self, agent_id: int) -> list[ServiceLine]:
        rows = await within(UnitOfWork(read_only=True), lambda uow: catalogue.list_services(uow, agent_id))
        return [_service(row) for row in rows]

    @event
    async def load(self):
        agent_id = self._agent_id
        if agent_id is None:
            return
        self.loading, self.denied, self.message = True, "", ""
        self.error = self.error_field = ""
        self._loading()
        yield
        try:
            self.territories = await self._territories(agent_id)
            self.services = await self._services(agent_id)
            self.super_admins = await self._super_admins(agent_id)
        except DomainError as exc:
            self.denied = exc.message
        else:
            # The forms (the services offered to a new territory's admin among them) are loaded.
            self._mark_loaded()
        self.loading = False

    @event
    async def add_service(self, form: dict):
        agent_id = self._agent_id
        if agent_id is None or self.loading or self.denied:
            return
        self.service_error = self.service_error_field = self.service_message = ""
        if not self._is_loaded(form):
            self.service_error = NOT_LOADED
            return
        name, short_name = str(form.get("name", "")), str(form.get("short_name", ""))
        secretariat = bool(form.get("is_secretariat"))
        try:
            await within(UnitOfWork(), lambda uow: catalogue.add_service(uow, agent_id, name, short_name, secretariat))
            self.services = await self._services(agent_id)
        except DomainError as exc:
            self.service_error, self.service_error_field = exc.message, exc.field or ""
            return
        self.service_message = f"Service « {name.strip()} » ajouté au catalogue."
        self.service_form_key += 1

    @event
    async def open_account(self, form: dict):
        agent_id = self._agent_id
        if agent_id is None or self.loading or self.denied or self.submitting:
            return
        self.error = self.error_field = self.message = ""
        if not self._is_loaded(form):
            self.error = NOT_LOADED
            return
        self.submitting = True
        yield
        texts = {name: str(form.get(name, "")) for name in FIELDS}
        # Only the ids of the services this page listed: anything else sent by the browser is ignored.
        offered = {line.id for line in self.services}
        chosen = chosen_services(form, offered)
        account = NewAccount(**texts, service_ids=chosen)
        try:
            opened = await within(UnitOfWork(), lambda uow: accounts.open_account(uow, agent_id, account))
            self.territories = await self._territories(agent_id)
        except DomainError as exc:
            self.error, self.error_field = exc.message, exc.field or ""
            self.submitting = False
            return
        opened_line = next(t for t in self.territories if t.number == account.departement_number.strip().upper())
        invited = ("une invitation a été envoyée à " if opened.invited else "compte existant, rôles ajoutés pour ")
        self.message = f"Territoire {opened_line.number} {opened_line.name} ouvert : {invited}{opened_line.admins}."
        self.form_key += 1
        self.submitting = False

    @event
    async def open_mairie_account(self, form: dict):
        agent_id = self._agent_id
        if agent_id is None or self.loading or self.denied or self.mairie_submitting:
            return
        self.mairie_error = self.mairie_error_field = self.mairie_message = ""
        if not self._is_loaded(form):
            self.mairie_error = NOT_LOADED
            return
        self.mairie_submitting = True
        yield
        mairie = NewMairie(organisation_name=str(form.get("mairie_name", "")),
                           address=str(form.get("mairie_address", "")),
                           admin_email=str(form.get("mairie_admin_email", "")))
        try:
            opened = await within(UnitOfWork(), lambda uow: mairie_accounts.open_mairie_account(uow, agent_id, mairie))
            self.territories = await self._territories(agent_id)
        except DomainError as exc:
            self.mairie_error, self.mairie_error_field = exc.message, exc.field or ""
            self.mairie_submitting = False
            return
        invited = "une invitation a été envoyée" if opened.invited else "compte existant, rôle ajouté"
        located = "" if opened.geocoded else " L'adresse n'a pas pu être localisée : corrigez-la dans « Lieux »."
        self.mairie_message = (f"Mairie « {mairie.organisation_name.strip()} » ouverte avec ses trois motifs ANTS : "
                               f"{invited}.{located}")
        self.mairie_form_key += 1
        self.mairie_submitting = False

    @event
    async def invite_super_admin(self, form: dict):
        agent_id = self._agent_id
        if agent_id is None or self.loading or self.denied or self.inviting:
            return
        self.super_admin_error = self.super_admin_message = ""
        if not self._is_loaded(form):
            self.super_admin_error = NOT_LOADED
            return
        self.inviting = True
        yield
        email = str(form.get("email", ""))
        try:
            message = await within(UnitOfWork(), lambda uow: accounts.invite_super_admin(uow, agent_id, email))
            self.super_admins = await self._super_admins(agent_id)
        except DomainError as exc:
            self.super_admin_error = exc.message
            self.inviting = False
            return
        self.super_admin_message = message
        self.super_admin_form_key += 1
        self.inviting = False
