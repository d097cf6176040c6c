"""Agents du territoire (territorial admins and agents with a territory access right): search as you type,
the territory-level invitation, and per agent services, access rights and the territorial admin flag.
Rules and rights in services.agents.territory_agents; ids sent by the browser are only used when the page
listed them, and the service checks them again."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import reflex as rx

from rdv_app.blocking import within
from rdv_app.db.uow import UnitOfWork
from rdv_app.domain.enums import AccessLevel
from rdv_app.services.agents import territory_agents
from rdv_app.services.agents.territory_agents import AccessRights, Placement, TerritoryAgentLine
from rdv_app.services.errors import DomainError
from rdv_app.state.agent import AgentState
from rdv_app.state.checked_services import chosen_services
from rdv_app.state.loaded import NOT_LOADED
from rdv_app.state.organisation import OrganisationPageState
from rdv_app.state.typed_event import event

ORGANISATION_PREFIX = "organisation-"
LEVEL_PREFIX = "niveau-"
RIGHTS = (("allow_to_manage_teams", "Autorisé à créer, supprimer, modifier des équipes"),
          ("allow_to_manage_access_rights", "Autorisé à gérer les droits d'accès"),
          ("allow_to_invite_agents", "Autorisé à inviter et affecter des agents sur des organisations"))


@dataclass
class TerritoryAgentRow:
    id: str
    name: str
    email: str
    organisations: str
    services: str
    territorial_admin: bool
    pending: bool
    is_self: bool


@dataclass
class ChoiceOption:
    id: str
    name: str
    may_grant_admin: bool = False


@dataclass
class CheckOption:
    """A checkbox of the agent's dialog."""

    key: str
    label: str
    checked: bool


def _row(line: TerritoryAgentLine) -> TerritoryAgentRow:
    return TerritoryAgentRow(
        id=str(line.agent_id), name=line.name, email=line.email,
        organisations=", ".join(f"{m.organisation} ({m.level})" for m in line.memberships) or "—",
        services=line.services or "—", territorial_admin=line.territorial_admin, pending=line.pending,
        is_self=line.is_self)


class TerritoryAgentsState(OrganisationPageState, AgentState):
    territory_name: rx.Field[str] = rx.field("")
    query: rx.Field[str] = rx.field("")
    rows: rx.Field[list[TerritoryAgentRow]] = rx.field(default_factory=list)
    services: rx.Field[list[ChoiceOption]] = rx.field(default_factory=list)
    invite_organisations: rx.Field[list[ChoiceOption]] = rx.field(default_factory=list)
    may_invite: rx.Field[bool] = rx.field(False)
    may_manage_rights: rx.Field[bool] = rx.field(False)
    is_territorial_admin_here: rx.Field[bool] = rx.field(False)
    message: rx.Field[str] = rx.field("")
    error: rx.Field[str] = rx.field("")
    invite_error: rx.Field[str] = rx.field("")
    invite_error_field: rx.Field[str] = rx.field("")
    inviting: rx.Field[bool] = rx.field(False)
    invite_key: rx.Field[int] = rx.field(0)
    # The agent's dialog.
    editing_id: rx.Field[str] = rx.field("")
    editing_name: rx.Field[str] = rx.field("")
    editing_self: rx.Field[bool] = rx.field(False)
    editing_admin: rx.Field[bool] = rx.field(False)
    service_checks: rx.Field[list[CheckOption]] = rx.field(default_factory=list)
    right_checks: rx.Field[list[CheckOption]] = rx.field(default_factory=list)
    dialog_message: rx.Field[str] = rx.field("")
    dialog_error: rx.Field[str] = rx.field("")
    dialog_key: rx.Field[int] = rx.field(0)

    _lines: list[TerritoryAgentLine] = []
    # The versions of the services and access rights the dialog shows (rdv_app.services.versions).
    _services_version: str = ""
    _rights_version: str = ""

    def _loaded_record(self) -> str:
        """The page's forms are loaded (rdv_app.state.loaded) for the agent of the dialog, if one is open."""
        return f"{self.current_org_id}|{self.editing_id}"

    def _before_load(self) -> None:
        self.message = self.error = self.invite_error = self.invite_error_field = ""
        self.editing_id = ""

    async def _load(self, agent_id: int, organisation_id: int) -> None:
        listed = await within(UnitOfWork(read_only=True),
                              lambda uow: territory_agents.list_territory_agents(uow, agent_id, organisation_id))
        self.territory_name = listed.territory_name
        self._lines = list(listed.agents)
        self._filter()
        self.services = [ChoiceOption(str(s.id), s.name) for s in listed.services]
        self.invite_organisations = [ChoiceOption(str(o.id), o.name, o.may_grant_admin) for o in listed.organisations]
        self.may_invite = listed.rights.allow_to_invite_agents
        self.may_manage_rights = listed.rights.allow_to_manage_access_rights
        self.is_territorial_admin_here = listed.rights.is_territorial_admin
        if self.editing_id:
            self._fill_dialog(self.editing_id)

    def _filter(self) -> None:
        self.rows = [_row(line) for line in self._lines if territory_agents.matches(line, self.query)]

    @event
    def set_query(self, value: str):
        self.query = value[:100]
        self._filter()

    def _line(self, agent_id: str) -> TerritoryAgentLine | None:
        return next((line for line in self._lines if str(line.agent_id) == agent_id), None)

    def _fill_dialog(self, agent_id: str) -> None:
        line = self._line(agent_id)
        if line is None:
            self._close_dialog()
            return
        self.editing_id, self.editing_name = agent_id, line.name if line.name != "—" else line.email
        self.editing_self, self.editing_admin = line.is_self, line.territorial_admin
        self.service_checks = [CheckOption(s.id, s.name, int(s.id) in line.service_ids) for s in self.services]
        self.right_checks = [CheckOption(key, label, bool(getattr(line, key))) for key, label in RIGHTS]
        self.dialog_key += 1
        self._services_version, self._rights_version = line.services_version, line.rights_version
        self._mark_loaded()

    def _close_dialog(self) -> None:
        """No agent's dialog: the page's forms are those of the territory, loaded."""
        self.editing_id = ""
        self._mark_loaded()

    @event
    def open_agent(self, agent_id: str):
        self.dialog_message = self.dialog_error = self.message = ""
        self._fill_dialog(agent_id)

    @event
    def dialog_open_change(self, is_open: bool):
        if not is_open:
            self._close_dialog()

    @event
    def close_agent(self):
        self._close_dialog()

    async def _act(self, call: Callable[[UnitOfWork, int, int, int], str]) -> None:
        """Runs a change on the agent of the dialog for the signed-in agent, then lists again."""
        actor, organisation, line = self._agent_id, self.current_org_id, self._line(self.editing_id)
        if actor is None or not organisation or line is None:
            return
        target = line.agent_id
        self.dialog_message = self.dialog_error = ""
        try:
            self.dialog_message = await within(UnitOfWork(), lambda uow: call(uow, actor, int(organisation), target))
            await self._load(actor, int(organisation))
        except DomainError as exc:
            self.dialog_error = exc.message

    def _refuses_unloaded(self, form: dict[str, Any]) -> bool:
        """A dialog's form sent before the agent's values reached it, or for another agent: ignored."""
        if self._is_loaded(form):
            return False
        self.dialog_message, self.dialog_error = "", NOT_LOADED
        return True

    @event
    async def save_services(self, form: dict[str, Any]):
        if self._refuses_unloaded(form):
            return
        offered = {option.id for option in self.services}
        service_ids, version = chosen_services(form, offered), self._services_version
        await self._act(lambda uow, actor, org, target: territory_agents.set_agent_services(
            uow, actor, org, target, service_ids, expected_version=version))

    @event
    async def save_rights(self, form: dict[str, Any]):
        if self._refuses_unloaded(form):
            return
        rights, version = AccessRights(**{key: bool(form.get(key)) for key, _label in RIGHTS}), self._rights_version
        await self._act(lambda uow, actor, org, target: territory_agents.set_access_rights(
            uow, actor, org, target, rights, expected_version=version))

    @event
    async def set_territorial_admin(self, value: bool):
        await self._act(lambda uow, actor, org, target: territory_agents.set_territorial_admin(
            uow, actor, org, target, value))

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
        service_ids = chosen_services(form, {option.id for option in self.services})
        placements = tuple(
            Placement(int(option.id), str(form.get(LEVEL_PREFIX + option.id) or AccessLevel.BASIC.value))
            for option in self.invite_organisations if form.get(ORGANISATION_PREFIX + option.id))
        email = str(form.get("email", ""))
        try:
            self.message = await within(UnitOfWork(), lambda uow: territory_agents.invite_to_territory(
                uow, actor, int(organisation), email, placements, service_ids))
            await self._load(actor, int(organisation))
            self.invite_key += 1
        except DomainError as exc:
            self.invite_error, self.invite_error_field = exc.message, exc.field or ""
