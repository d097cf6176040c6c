"""Workspace home and "Mon compte"."""

from __future__ import annotations

import dataclasses

import reflex as rx

from rdv_app.db.uow import UnitOfWork
from rdv_app.domain.enums import NoticeLevel
from rdv_app.services.agents import agent_account, agent_auth, workspace
from rdv_app.services.agents.agent_account import Preferences
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


def _notice_level(form: dict, name: str) -> str:
    """A ticked checkbox is submitted, an unticked one is not."""
    return (NoticeLevel.ALL if form.get(name) else NoticeLevel.NONE).value


class AccountState(AgentState):
    password_error: str = ""
    password_field: str = ""
    password_saved: bool = False

    rdv_notifications_level: str = ""
    plage_notices: bool = False
    absence_notices: bool = False
    display_saturdays: bool = False
    display_cancelled_rdv: bool = False
    # The preference inputs are uncontrolled: a new key mounts them again with the loaded values.
    preferences_key: int = 0
    preferences_saving: bool = False
    preferences_saved: bool = False
    preferences_error: str = ""
    preferences_field: str = ""

    def _show_preferences(self, preferences: Preferences) -> None:
        self.rdv_notifications_level = preferences.rdv_notifications_level
        self.plage_notices = preferences.plage_ouverture_notification_level == NoticeLevel.ALL
        self.absence_notices = preferences.absence_notification_level == NoticeLevel.ALL
        self.display_saturdays = preferences.display_saturdays
        self.display_cancelled_rdv = preferences.display_cancelled_rdv

    @rx.event
    def load(self):
        self.preferences_saved = False
        self.preferences_error = self.preferences_field = ""
        if self._agent_id is None:
            return
        with UnitOfWork() as uow:
            self._show_preferences(agent_account.get_preferences(uow, self._agent_id))
        self.preferences_key += 1

    @rx.event
    def save_preferences(self, form: dict):
        self.preferences_saved = False
        self.preferences_error = self.preferences_field = ""
        if self._agent_id is None:
            return
        self.preferences_saving = True
        yield
        try:
            with UnitOfWork() as uow:
                saved = agent_account.update_preferences(
                    uow, self._agent_id,
                    rdv_notifications_level=str(form.get("rdv_notifications_level", "")),
                    plage_ouverture_notification_level=_notice_level(form, "plage_notices"),
                    absence_notification_level=_notice_level(form, "absence_notices"),
                    display_saturdays=bool(form.get("display_saturdays")),
                    display_cancelled_rdv=bool(form.get("display_cancelled_rdv")),
                )
        except DomainError as exc:
            self.preferences_error = exc.message
            self.preferences_field = exc.field or ""
        else:
            self._show_preferences(saved)
            self.preferences_saved = True
        finally:
            self.preferences_saving = False

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
