"""Équipes of the territory (territorial admins and agents allowed to manage teams): create, rename, set
members, delete. Rules and rights in services.agents.teams; ids sent by the browser are only used when the
page listed them, and the service checks them again."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import reflex as rx

from rdv_app.blocking import within
from rdv_app.db.uow import UnitOfWork
from rdv_app.services.agents import teams
from rdv_app.services.errors import DomainError
from rdv_app.state.agent import AgentState
from rdv_app.state.loaded import NOT_LOADED
from rdv_app.state.organisation import OrganisationPageState
from rdv_app.state.typed_event import event

MEMBER_PREFIX = "membre-"


@dataclass
class TeamRow:
    id: str
    name: str
    members: str
    member_ids: list[str]


@dataclass
class MemberOption:
    id: str
    name: str
    checked: bool


class TerritoryTeamsState(OrganisationPageState, AgentState):
    rows: rx.Field[list[TeamRow]] = rx.field(default_factory=list)
    agents: rx.Field[list[MemberOption]] = rx.field(default_factory=list)
    message: rx.Field[str] = rx.field("")
    error: rx.Field[str] = rx.field("")
    form_error: rx.Field[str] = rx.field("")
    form_error_field: rx.Field[str] = rx.field("")
    editing_id: rx.Field[str] = rx.field("")  # "" : a new team
    form_name: rx.Field[str] = rx.field("")
    form_key: rx.Field[int] = rx.field(0)
    saving: rx.Field[bool] = rx.field(False)
    deleting_id: rx.Field[str] = rx.field("")
    deleting_name: rx.Field[str] = rx.field("")

    def _before_load(self) -> None:
        self.message = self.error = self.form_error = self.form_error_field = ""
        self.deleting_id = ""

    async def _load(self, agent_id: int, organisation_id: int) -> None:
        listed = await within(UnitOfWork(read_only=True),
                              lambda uow: teams.list_teams(uow, agent_id, organisation_id))
        self.rows = [TeamRow(str(t.team_id), t.name, t.members or "—", [str(a) for a in t.member_ids])
                     for t in listed.teams]
        self._all_agents = [(str(a.id), a.name) for a in listed.agents]
        self._versions = {str(t.team_id): t.version for t in listed.teams}
        self._fill_form(self.editing_id if any(r.id == self.editing_id for r in self.rows) else "")

    _all_agents: list[tuple[str, str]] = []
    # The version of each team listed, and of the team the form shows (rdv_app.services.versions).
    _versions: dict[str, str] = {}
    _editing_version: str = ""

    def _loaded_record(self) -> str:
        """The form is loaded (rdv_app.state.loaded) for the team it edits, or for a new one."""
        return f"{self.current_org_id}|{self.editing_id or 'nouvelle'}"

    def _fill_form(self, team_id: str) -> None:
        row = next((r for r in self.rows if r.id == team_id), None)
        self.editing_id = row.id if row else ""
        self.form_name = row.name if row else ""
        members = set(row.member_ids) if row else set()
        self.agents = [MemberOption(agent_id, name, agent_id in members) for agent_id, name in self._all_agents]
        self.form_key += 1
        self._editing_version = self._versions.get(self.editing_id, "")
        self._mark_loaded()

    @event
    def edit(self, team_id: str):
        self.message = self.form_error = self.form_error_field = ""
        self._fill_form(team_id)

    @event
    def cancel_edit(self):
        self.form_error = self.form_error_field = ""
        self._fill_form("")

    @event(busy="saving")
    async def save(self, form: dict[str, Any]):
        actor, organisation = self._agent_id, self.current_org_id
        if actor is None or not organisation or self.saving:
            return
        self.message = self.error = self.form_error = self.form_error_field = ""
        if not self._is_loaded(form):
            self.form_error = NOT_LOADED
            return
        known = {agent_id for agent_id, _name in self._all_agents}
        agent_ids = tuple(sorted(int(key.removeprefix(MEMBER_PREFIX)) for key, value in form.items()
                                 if key.startswith(MEMBER_PREFIX) and key.removeprefix(MEMBER_PREFIX) in known
                                 and value))
        name = str(form.get("name", ""))[:200]
        team_id = int(self.editing_id) if any(r.id == self.editing_id for r in self.rows) else None
        version = self._editing_version
        self.saving = True
        yield
        try:
            if team_id is None:
                await within(UnitOfWork(), lambda uow: teams.create_team(uow, actor, int(organisation), name,
                                                                          agent_ids))
                self.message = f"L'équipe « {' '.join(name.split())} » a été créée."
            else:
                self.message = await within(UnitOfWork(), lambda uow: teams.update_team(
                    uow, actor, int(organisation), team_id, name, agent_ids, expected_version=version))
            self.editing_id = ""
            await self._load(actor, int(organisation))
        except DomainError as exc:
            self.form_error, self.form_error_field = exc.message, exc.field or ""

    @event
    def ask_delete(self, team_id: str):
        row = next((r for r in self.rows if r.id == team_id), None)
        if row is not None:
            self.deleting_id, self.deleting_name = row.id, row.name

    @event
    def delete_open_change(self, is_open: bool):
        if not is_open:
            self.deleting_id = ""

    @event
    async def confirm_delete(self):
        actor, organisation = self._agent_id, self.current_org_id
        target = next((int(r.id) for r in self.rows if r.id == self.deleting_id), None)
        self.deleting_id = ""
        if actor is None or not organisation or target is None:
            return
        self.message = self.error = ""
        try:
            self.message = await within(UnitOfWork(), lambda uow: teams.delete_team(uow, actor, int(organisation),
                                                                                    target))
            if self.editing_id == str(target):
                self.editing_id = ""
            await self._load(actor, int(organisation))
        except DomainError as exc:
            self.error = exc.message
