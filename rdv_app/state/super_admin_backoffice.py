"""The super admins' back office beyond opening territories: a territory's services and SMS, moving an
agent, and the search across the instance (rules in rdv_app.services.instance.backoffice). Ids sent by the
browser are only used when the page listed them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import reflex as rx

from rdv_app.blocking import within
from rdv_app.db.uow import UnitOfWork
from rdv_app.services.errors import DomainError
from rdv_app.services.instance import accounts, backoffice
from rdv_app.services.instance.backoffice import SMS_INSTANCE, SmsChange
from rdv_app.state.agent import AgentState
from rdv_app.state.loaded import NOT_LOADED, LoadedForMixin
from rdv_app.state.typed_event import event


@dataclass
class Choice:
    id: str
    label: str


@dataclass
class ServiceState:
    id: str
    name: str
    agents: str
    enabled: bool


@dataclass
class AgentResult:
    id: str
    name: str
    email: str
    organisations: str


@dataclass
class OrganisationResult:
    id: str
    name: str
    territory: str
    agents: str


class BackofficeState(LoadedForMixin, AgentState):
    ready_backoffice: rx.Field[bool] = rx.field(False)
    territory_choices: rx.Field[list[Choice]] = rx.field(default_factory=list)
    territory_id: rx.Field[str] = rx.field("")
    territory_services: rx.Field[list[ServiceState]] = rx.field(default_factory=list)
    services_message: rx.Field[str] = rx.field("")
    services_error: rx.Field[str] = rx.field("")
    # SMS settings of the territory shown; secrets never come back, only whether they are saved.
    sms_provider: rx.Field[str] = rx.field(SMS_INSTANCE)
    sms_sender: rx.Field[str] = rx.field("")
    sms_endpoint: rx.Field[str] = rx.field("ovh-eu")
    sms_service_name: rx.Field[str] = rx.field("")
    sms_configured: rx.Field[list[str]] = rx.field(default_factory=list)
    sms_message: rx.Field[str] = rx.field("")
    sms_error: rx.Field[str] = rx.field("")
    sms_error_field: rx.Field[str] = rx.field("")
    sms_key: rx.Field[int] = rx.field(0)
    _sms_version: str = ""
    # Search across the instance.
    query: rx.Field[str] = rx.field("")
    agent_results: rx.Field[list[AgentResult]] = rx.field(default_factory=list)
    organisation_results: rx.Field[list[OrganisationResult]] = rx.field(default_factory=list)
    # Moving an agent.
    moving_id: rx.Field[str] = rx.field("")
    moving_name: rx.Field[str] = rx.field("")
    move_sources: rx.Field[list[Choice]] = rx.field(default_factory=list)
    move_targets: rx.Field[list[Choice]] = rx.field(default_factory=list)
    move_message: rx.Field[str] = rx.field("")
    move_error: rx.Field[str] = rx.field("")

    @event
    async def load_backoffice(self):
        actor = self._agent_id
        self.ready_backoffice = False
        self.services_message = self.services_error = self.sms_message = self.sms_error = ""
        self.move_message = self.move_error = self.moving_id = ""
        self.query, self.agent_results, self.organisation_results = "", [], []
        if actor is None:
            return
        try:
            rows = await within(UnitOfWork(read_only=True), lambda uow: accounts.list_territories(uow, actor))
        except DomainError:
            return  # the page says why (SuperAdminState.denied)
        self.territory_choices = [Choice(str(row.id), f"{row.departement_number} {row.name}") for row in rows]
        known = {choice.id for choice in self.territory_choices}
        if self.territory_id not in known:
            self.territory_id = self.territory_choices[0].id if self.territory_choices else ""
        await self._load_territory()
        self.ready_backoffice = True

    def _loaded_record(self) -> str:
        return self.territory_id

    async def _load_territory(self) -> None:
        """The territory's services and SMS settings; the SMS form is loaded for this territory once they are."""
        self._loading()
        actor, territory = self._agent_id, self.territory_id
        if actor is None or not territory:
            self.territory_services = []
            return
        services = await within(UnitOfWork(read_only=True),
                                lambda uow: backoffice.territory_services(uow, actor, int(territory)))
        self.territory_services = [ServiceState(str(s.service_id), s.name, str(s.agents), s.enabled)
                                   for s in services]
        sms = await within(UnitOfWork(read_only=True), lambda uow: backoffice.sms_settings(uow, actor, int(territory)))
        self.sms_provider, self.sms_sender, self.sms_endpoint = sms.provider, sms.sender, sms.endpoint
        self.sms_service_name, self.sms_configured = sms.service_name, sorted(sms.configured)
        self._sms_version = sms.version
        self.sms_key += 1
        self._mark_loaded()

    @event
    async def choose_territory(self, territory_id: str):
        if any(choice.id == territory_id for choice in self.territory_choices):
            self.territory_id = territory_id
            self.services_message = self.services_error = self.sms_message = self.sms_error = ""
            self.sms_error_field = ""
            await self._load_territory()

    @event
    async def set_service(self, service_id: str, enabled: bool):
        actor, territory = self._agent_id, self.territory_id
        if actor is None or not territory or not any(s.id == service_id for s in self.territory_services):
            return
        self.services_message = self.services_error = ""
        try:
            self.services_message = await within(UnitOfWork(), lambda uow: backoffice.set_territory_service(
                uow, actor, int(territory), int(service_id), enabled))
            await self._load_territory()
        except DomainError as exc:
            self.services_error = exc.message

    @event
    def choose_sms_provider(self, provider: str):
        self.sms_provider = provider

    @event
    async def save_sms(self, form: dict[str, Any]):
        actor, territory = self._agent_id, self.territory_id
        if actor is None or not territory:
            return
        self.sms_message = self.sms_error = self.sms_error_field = ""
        if not self._is_loaded(form):
            self.sms_error = NOT_LOADED
            return
        version = self._sms_version
        fields = ("sender", "endpoint", "service_name", "application_key", "application_secret", "consumer_key")
        change = SmsChange(provider=str(form.get("provider", self.sms_provider)),
                           **{name: str(form.get(name, "")) for name in fields if name in form})
        try:
            self.sms_message = await within(UnitOfWork(), lambda uow: backoffice.save_sms_settings(
                uow, actor, int(territory), change, version))
            await self._load_territory()
        except DomainError as exc:
            self.sms_error, self.sms_error_field = exc.message, exc.field or ""

    @event
    async def search(self, value: str):
        self.query = value[:100]
        await self._search()

    async def _search(self) -> None:
        actor = self._agent_id
        if actor is None:
            return
        query = self.query
        try:
            found = await within(UnitOfWork(read_only=True), lambda uow: backoffice.search(uow, actor, query))
        except DomainError:
            return
        self.agent_results = [AgentResult(str(a.agent_id), a.name, a.email or "—", a.organisations)
                              for a in found.agents]
        self.organisation_results = [OrganisationResult(str(o.organisation_id), o.name, o.territory, str(o.agents))
                                     for o in found.organisations]

    @event
    async def start_move(self, agent_id: str):
        actor = self._agent_id
        if actor is None or not any(a.id == agent_id for a in self.agent_results):
            return
        self.move_message = self.move_error = ""
        try:
            choices = await within(UnitOfWork(read_only=True),
                                   lambda uow: backoffice.move_choices(uow, actor, int(agent_id)))
        except DomainError as exc:
            self.move_error = exc.message
            return
        self.moving_id, self.moving_name = agent_id, choices.agent_name
        self.move_sources = [Choice(str(c.id), c.label) for c in choices.sources]
        self.move_targets = [Choice(str(c.id), c.label) for c in choices.targets]

    @event
    def cancel_move(self):
        self.moving_id = self.move_error = ""

    @event
    async def move(self, form: dict[str, Any]):
        actor, agent_id = self._agent_id, self.moving_id
        source, target = str(form.get("from_organisation", "")), str(form.get("to_organisation", ""))
        if (actor is None or not agent_id or not any(c.id == source for c in self.move_sources)
                or not any(c.id == target for c in self.move_targets)):
            self.move_error = "Choisissez l'organisation de départ et celle d'arrivée."
            return
        self.move_message = self.move_error = ""
        try:
            self.move_message = await within(UnitOfWork(), lambda uow: backoffice.move_agent(
                uow, actor, int(agent_id), int(source), int(target)))
        except DomainError as exc:
            self.move_error = exc.message
            return
        self.moving_id = ""
        await self._search()
