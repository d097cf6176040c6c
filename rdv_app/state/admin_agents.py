"""Agents of the organisation shown (its admins): invite, resend, level, removal; rules in
services.agents.organisation_agents. Ids sent by the browser are only used when the page listed them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import reflex as rx

from rdv_app.blocking import within
from rdv_app.db.uow import UnitOfWork
from rdv_app.domain.enums import AccessLevel
from rdv_app.domain.labels import ACCESS_LEVEL_LABELS
from rdv_app.services.agents import intervenants, organisation_agents
from rdv_app.services.agents.organisation_agents import AgentLine
from rdv_app.services.errors import DomainError
from rdv_app.state.agent import AgentState
from rdv_app.state.checked_services import chosen_services
from rdv_app.state.loaded import NOT_LOADED
from rdv_app.state.organisation import OrganisationPageState
from rdv_app.state.typed_event import event


@dataclass
class AgentRow:
    id: str
    name: str
    email: str
    services: str
    level: str
    is_admin: bool
    pending: bool
    inactive: bool
    is_self: bool
    is_intervenant: bool
    may_become_intervenant: bool
    first_name: str
    last_name: str


@dataclass
class ServiceOption:
    id: str
    name: str


def _row(line: AgentLine) -> AgentRow:
    return AgentRow(id=str(line.agent_id), name=line.name, email=line.email, services=line.services or "—",
                    level=ACCESS_LEVEL_LABELS[AccessLevel(line.access_level)],
                    is_admin=line.access_level == AccessLevel.ADMIN, pending=line.pending, inactive=line.inactive,
                    is_self=line.is_self, is_intervenant=line.is_intervenant,
                    may_become_intervenant=not (line.is_self or line.is_intervenant or line.several_organisations
                                                or line.pending),
                    first_name=line.first_name, last_name=line.last_name)


class AdminAgentsState(OrganisationPageState, AgentState):
    organisation_name: rx.Field[str] = rx.field("")
    rows: rx.Field[list[AgentRow]] = rx.field(default_factory=list)
    services: rx.Field[list[ServiceOption]] = rx.field(default_factory=list)
    query: rx.Field[str] = rx.field("")
    message: rx.Field[str] = rx.field("")
    error: rx.Field[str] = rx.field("")
    invite_error: rx.Field[str] = rx.field("")
    invite_error_field: rx.Field[str] = rx.field("")
    inviting: rx.Field[bool] = rx.field(False)
    invite_key: rx.Field[int] = rx.field(0)
    removing_id: rx.Field[str] = rx.field("")
    removal_text: rx.Field[str] = rx.field("")
    # "Ajouter un intervenant"
    intervenant_error: rx.Field[str] = rx.field("")
    intervenant_error_field: rx.Field[str] = rx.field("")
    intervenant_key: rx.Field[int] = rx.field(0)
    # The intervenant or agent being edited: "rename", "convert" (to an agent) or "intervenant" (confirm).
    editing_id: rx.Field[str] = rx.field("")
    editing_mode: rx.Field[str] = rx.field("")
    editing_name: rx.Field[str] = rx.field("")
    editing_first_name: rx.Field[str] = rx.field("")
    editing_last_name: rx.Field[str] = rx.field("")
    edit_error: rx.Field[str] = rx.field("")
    edit_error_field: rx.Field[str] = rx.field("")
    # The version of each listed agent's names, and of those the editing panel shows (rdv_app.services.versions).
    _versions: dict[str, str] = {}
    _editing_version: str = ""

    def _loaded_record(self) -> str:
        """The page's forms are loaded (rdv_app.state.loaded) for the agent and panel being edited, if any."""
        return f"{self.current_org_id}|{self.editing_id}|{self.editing_mode}"

    def _refuses_unloaded(self, form: dict[str, Any] | None = None) -> bool:
        """A panel's form (or button) sent before its values reached it, or for another agent: ignored, with
        the reason in the panel."""
        if self._is_loaded(form):
            return False
        self.edit_error, self.edit_error_field = NOT_LOADED, ""
        return True

    def _before_load(self) -> None:
        self.message = self.error = self.invite_error = self.invite_error_field = ""
        self.removing_id = self.removal_text = ""
        self.intervenant_error = self.intervenant_error_field = ""
        self._stop_editing()

    def _stop_editing(self) -> None:
        self.editing_id = self.editing_mode = self.editing_name = ""
        self.editing_first_name = self.editing_last_name = self.edit_error = self.edit_error_field = ""

    async def _load(self, agent_id: int, organisation_id: int) -> None:
        query = self.query
        listed = await within(UnitOfWork(read_only=True),
                              lambda uow: organisation_agents.list_agents(uow, agent_id, organisation_id, query))
        self.organisation_name = listed.organisation_name
        self.rows = [_row(line) for line in listed.agents]
        self._versions = {str(line.agent_id): line.names_version for line in listed.agents}
        self.services = [ServiceOption(id=str(s.id), name=s.name) for s in listed.services]

    def _listed(self, agent_id: str) -> int | None:
        return int(agent_id) if any(row.id == agent_id for row in self.rows) else None

    async def _act(self, call: Callable[[UnitOfWork, int, int], str]) -> None:
        """Runs a change for the signed-in admin in the organisation shown, then lists again."""
        actor, organisation = self._agent_id, self.current_org_id
        if actor is None or not organisation:
            return
        self.message = self.error = ""
        try:
            self.message = await within(UnitOfWork(), lambda uow: call(uow, actor, int(organisation)))
            await self._load(actor, int(organisation))
        except DomainError as exc:
            self.error = exc.message

    @event
    async def search(self, form: dict):
        self.query = str(form.get("query", ""))[:100]
        if self._agent_id is not None and self.current_org_id:
            await self._load(self._agent_id, int(self.current_org_id))

    @event(busy="inviting")
    async def invite(self, form: dict[str, Any]):
        actor, organisation = self._agent_id, self.current_org_id
        if actor is None or not organisation or self.loading or self.inviting:
            return
        self.invite_error = self.invite_error_field = self.message = self.error = ""
        if not self._is_loaded(form):
            self.invite_error = NOT_LOADED
            return
        self.inviting = True
        yield
        offered = {option.id for option in self.services}
        service_ids = chosen_services(form, offered)
        email, level = str(form.get("email", "")), str(form.get("access_level", ""))
        try:
            self.message = await within(UnitOfWork(), lambda uow: organisation_agents.invite_agent(
                uow, actor, int(organisation), email, level, service_ids))
            await self._load(actor, int(organisation))
            self.invite_key += 1
        except DomainError as exc:
            self.invite_error, self.invite_error_field = exc.message, exc.field or ""

    @event
    async def resend(self, agent_id: str):
        if (target := self._listed(agent_id)) is not None:
            await self._act(lambda uow, actor, org: organisation_agents.resend_invitation(uow, actor, org, target))

    @event
    async def set_level(self, agent_id: str, level: str):
        if (target := self._listed(agent_id)) is not None:
            await self._act(lambda uow, actor, org: organisation_agents.change_level(uow, actor, org, target, level))

    @event
    async def ask_removal(self, agent_id: str):
        actor, organisation, target = self._agent_id, self.current_org_id, self._listed(agent_id)
        if actor is None or not organisation or target is None:
            return
        self.message = self.error = ""
        try:
            removal = await within(UnitOfWork(read_only=True), lambda uow: organisation_agents.removal_preview(
                uow, actor, int(organisation), target))
        except DomainError as exc:
            self.error = exc.message
            return
        self.removing_id, self.removal_text = agent_id, removal.message

    @event
    def cancel_removal(self):
        self.removing_id = self.removal_text = ""

    @event
    async def confirm_removal(self):
        target = self._listed(self.removing_id)
        self.removing_id = self.removal_text = ""
        if target is not None:
            await self._act(lambda uow, actor, org: organisation_agents.remove_agent(uow, actor, org, target))

    def _chosen_services(self, form: dict[str, Any]) -> tuple[int, ...]:
        return chosen_services(form, {option.id for option in self.services})

    @event
    async def add_intervenant(self, form: dict[str, Any]):
        actor, organisation = self._agent_id, self.current_org_id
        if actor is None or not organisation or self.loading:
            return
        self.intervenant_error = self.intervenant_error_field = self.message = self.error = ""
        if not self._is_loaded(form):
            self.intervenant_error = NOT_LOADED
            return
        service_ids = self._chosen_services(form)
        last, first = str(form.get("last_name", "")), str(form.get("first_name", ""))
        try:
            self.message = await within(UnitOfWork(), lambda uow: intervenants.add_intervenant(
                uow, actor, int(organisation), last, first, service_ids))
            await self._load(actor, int(organisation))
            self.intervenant_key += 1
        except DomainError as exc:
            self.intervenant_error, self.intervenant_error_field = exc.message, exc.field or ""

    @event
    def start_editing(self, agent_id: str, mode: str):
        row = next((row for row in self.rows if row.id == agent_id), None)
        if row is None or mode not in ("rename", "convert", "intervenant"):
            return
        self._stop_editing()
        self.message = self.error = ""
        self.editing_id, self.editing_mode = agent_id, mode
        self.editing_name = row.name if row.name != "—" else row.email
        self.editing_first_name, self.editing_last_name = row.first_name, row.last_name
        self._editing_version = self._versions.get(agent_id, "")
        self._mark_loaded()

    @event
    def cancel_editing(self):
        self._stop_editing()
        self._mark_loaded()

    async def _edit(self, call: Callable[[UnitOfWork, int, int, int], str], form: dict[str, Any] | None = None) -> None:
        actor, organisation, target = self._agent_id, self.current_org_id, self._listed(self.editing_id)
        if actor is None or not organisation or target is None:
            return
        self.edit_error = self.edit_error_field = self.message = self.error = ""
        if self._refuses_unloaded(form):
            return
        try:
            self.message = await within(UnitOfWork(), lambda uow: call(uow, actor, int(organisation), target))
        except DomainError as exc:
            self.edit_error, self.edit_error_field = exc.message, exc.field or ""
            return
        self._stop_editing()
        await self._load(actor, int(organisation))
        self._mark_loaded()

    @event
    async def rename(self, form: dict[str, Any]):
        last, first, version = str(form.get("last_name", "")), str(form.get("first_name", "")), self._editing_version
        await self._edit(lambda uow, actor, org, target: intervenants.rename_intervenant(
            uow, actor, org, target, last, first, expected_version=version), form)

    @event
    async def convert_to_agent(self, form: dict[str, Any]):
        email, level = str(form.get("email", "")), str(form.get("access_level", ""))
        last, first, version = str(form.get("last_name", "")), str(form.get("first_name", "")), self._editing_version
        await self._edit(lambda uow, actor, org, target: intervenants.convert_to_agent(
            uow, actor, org, target, email, first, last, level, expected_version=version), form)

    @event
    async def convert_to_intervenant(self):
        await self._edit(lambda uow, actor, org, target: intervenants.convert_to_intervenant(uow, actor, org, target))
