"""Workspace home and "Mon compte"."""

from __future__ import annotations

import dataclasses

import reflex as rx

from rdv_app.db.uow import UnitOfWork
from rdv_app.services import agent_auth, workspace
from rdv_app.services.errors import DomainError
from rdv_app.state.agent import AgentState


class WorkspaceState(AgentState):
    loading: bool = True
    upcoming: list[dict[str, str]] = []

    @rx.event
    def load(self):
        if self._agent_id is None or not self.current_org_id:
            return
        self.loading = True
        yield
        with UnitOfWork() as uow:
            rows = workspace.upcoming_rdvs(uow, self._agent_id, int(self.current_org_id))
        self.upcoming = [{k: str(v) for k, v in dataclasses.asdict(r).items()} for r in rows]
        self.loading = False


class AccountState(AgentState):
    password_error: str = ""
    password_field: str = ""
    password_saved: bool = False

    @rx.event
    def change_password(self, form: dict):
        self.password_error = self.password_field = ""
        self.password_saved = False
        if self._agent_id is None:
            return None
        try:
            with UnitOfWork() as uow:
                agent_auth.change_password(uow, self._agent_id, str(form.get("current", "")),
                                           str(form.get("new", "")), str(form.get("confirmation", "")))
        except DomainError as exc:
            self.password_error = exc.message
            self.password_field = exc.field or ""
            return None
        self.password_saved = True
        return rx.set_value("champ-current", "")
