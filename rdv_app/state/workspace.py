"""Workspace home and "Mon compte"."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import reflex as rx

from rdv_app import routes
from rdv_app.blocking import within
from rdv_app.components.forms import FieldErrorLink, field_error_links
from rdv_app.db.uow import UnitOfWork
from rdv_app.domain.enums import NoticeLevel
from rdv_app.services.agents import agent_account, agent_auth, agent_mfa, workspace
from rdv_app.services.agents.agent_account import Preferences
from rdv_app.services.errors import DomainError, FieldErrors
from rdv_app.services.organisation import admin_organisation
from rdv_app.state.agent import AgentState, session_token_from
from rdv_app.state.loaded import NOT_LOADED, LoadedForMixin
from rdv_app.state.mfa import MfaEnrolmentMixin
from rdv_app.state.organisation import OrganisationPageState
from rdv_app.state.session_guard import note_revocation, revocations
from rdv_app.state.typed_event import event


@dataclass
class StepLine:
    label: str
    route: str
    done: bool


class WorkspaceState(OrganisationPageState, AgentState):
    upcoming: rx.Field[list[dict[str, str]]] = rx.field(default_factory=list)
    # An admin's first steps in the organisation, shown until each is done.
    setup: rx.Field[list[StepLine]] = rx.field(default_factory=list)

    async def _load(self, agent_id: int, organisation_id: int) -> None:
        rows = await within(UnitOfWork(read_only=True),
                            lambda uow: workspace.upcoming_rdvs(uow, agent_id, organisation_id))
        self.upcoming = [{**{k: str(v) for k, v in dataclasses.asdict(r).items()}, "href": routes.rdv_page(r.rdv_id)}
                         for r in rows]
        steps = (await within(UnitOfWork(read_only=True), lambda uow: admin_organisation.setup_steps(
            uow, agent_id, organisation_id))) if self.is_admin_here else []
        self.setup = ([StepLine(s.label, s.route, s.done) for s in steps]
                      if not all(s.done for s in steps) else [])


OTHER_COLOUR = "autre"  # the radio of "Mon compte" that takes the colour typed next to it
VERSION_FIELD = "version"  # the hidden input of the preferences form: the version of what it shows


def _notice_level(form: dict, name: str) -> str:
    """A ticked checkbox is submitted, an unticked one is not."""
    return (NoticeLevel.ALL if form.get(name) else NoticeLevel.NONE).value


class AccountState(MfaEnrolmentMixin, LoadedForMixin, AgentState):
    """"Mon compte". The preferences and colour forms are loaded for the signed-in agent
    (`rdv_app.state.loaded`); the preferences form carries the version it shows to the save."""

    # A plain dict to mypy, for `.get` in the page (see PublicBookingState.field_errors).
    password_errors: dict[str, str] = {}
    password_error_links: rx.Field[list[FieldErrorLink]] = rx.field(default_factory=list)
    password_saved: rx.Field[bool] = rx.field(False)

    rdv_notifications_level: rx.Field[str] = rx.field("")
    plage_notices: rx.Field[bool] = rx.field(False)
    absence_notices: rx.Field[bool] = rx.field(False)
    display_saturdays: rx.Field[bool] = rx.field(False)
    display_cancelled_rdv: rx.Field[bool] = rx.field(False)
    # The preference inputs are uncontrolled: a new key mounts them again with the loaded values.
    preferences_key: rx.Field[int] = rx.field(0)
    preferences_version: rx.Field[str] = rx.field("")
    preferences_saving: rx.Field[bool] = rx.field(False)
    preferences_saved: rx.Field[bool] = rx.field(False)
    preferences_error: rx.Field[str] = rx.field("")
    preferences_field: rx.Field[str] = rx.field("")

    # The colour of the agent's events in a team agenda: one of the palette (radio) or their own.
    agenda_colour: rx.Field[str] = rx.field("")
    colour_key: rx.Field[int] = rx.field(0)
    colour_saving: rx.Field[bool] = rx.field(False)
    colour_saved: rx.Field[bool] = rx.field(False)
    colour_error: rx.Field[str] = rx.field("")

    mfa_enabled: rx.Field[bool] = rx.field(False)
    mfa_required: rx.Field[bool] = rx.field(False)
    recovery_codes_left: rx.Field[int] = rx.field(0)
    mfa_error: rx.Field[str] = rx.field("")
    mfa_message: rx.Field[str] = rx.field("")

    def _loaded_record(self) -> str:
        return str(self._agent_id)

    def _show_preferences(self, preferences: Preferences) -> None:
        self.rdv_notifications_level = preferences.rdv_notifications_level
        self.plage_notices = preferences.plage_ouverture_notification_level == NoticeLevel.ALL
        self.absence_notices = preferences.absence_notification_level == NoticeLevel.ALL
        self.display_saturdays = preferences.display_saturdays
        self.display_cancelled_rdv = preferences.display_cancelled_rdv
        self.preferences_version = agent_account.preferences_version(preferences)

    @event
    async def load(self):
        self._loading()
        self.preferences_saved = False
        self.preferences_error = self.preferences_field = ""
        agent_id = self._agent_id
        if agent_id is None:
            return
        self._show_preferences(await within(UnitOfWork(read_only=True),
                                            lambda uow: agent_account.get_preferences(uow, agent_id)))
        self.preferences_key += 1
        self.colour_saved, self.colour_error = False, ""
        self.agenda_colour = await within(UnitOfWork(read_only=True),
                                          lambda uow: agent_account.get_agenda_colour(uow, agent_id))
        self.colour_key += 1
        self._clear_enrolment()
        self.mfa_message = self.mfa_error = ""
        await self._show_mfa(agent_id)
        self._mark_loaded()

    async def _show_mfa(self, agent_id: int) -> None:
        status = await within(UnitOfWork(read_only=True), lambda uow: agent_mfa.status(uow, agent_id))
        self.mfa_enabled, self.mfa_required = status.enabled, status.required
        self.recovery_codes_left = status.recovery_codes_left

    async def _enrolment_agent_id(self) -> int | None:
        self.mfa_message = self.mfa_error = ""
        return self._agent_id

    async def _after_enrolment(self) -> None:
        if self._agent_id is not None:
            await self._show_mfa(self._agent_id)

    @event
    async def disable_mfa(self, form: dict):
        self.mfa_message = self.mfa_error = ""
        agent_id = self._agent_id
        if agent_id is None:
            return
        value = str(form.get("code_or_password", ""))
        ip = self.router.session.client_ip or None
        try:
            await within(UnitOfWork(), lambda uow: agent_mfa.disable(uow, agent_id, value, ip=ip))
        except DomainError as exc:
            self.mfa_error = exc.message
            return
        self._clear_enrolment()
        await self._show_mfa(agent_id)
        self.mfa_message = "La double authentification est désactivée."

    @event
    async def save_preferences(self, form: dict):
        self.preferences_saved = False
        self.preferences_error = self.preferences_field = ""
        agent_id = self._agent_id
        if agent_id is None:
            return
        if not self._is_loaded(form):
            self.preferences_error = NOT_LOADED
            return
        self.preferences_saving = True
        yield
        values: dict[str, Any] = dict(rdv_notifications_level=str(form.get("rdv_notifications_level", "")),
                      plage_ouverture_notification_level=_notice_level(form, "plage_notices"),
                      absence_notification_level=_notice_level(form, "absence_notices"),
                      display_saturdays=bool(form.get("display_saturdays")),
                      display_cancelled_rdv=bool(form.get("display_cancelled_rdv")),
                      expected_version=str(form.get(VERSION_FIELD, "")))
        try:
            saved = await within(UnitOfWork(),
                                 lambda uow: agent_account.update_preferences(uow, agent_id, **values))
        except DomainError as exc:
            self.preferences_error = exc.message
            self.preferences_field = exc.field or ""
        else:
            self._show_preferences(saved)
            self.preferences_saved = True
        finally:
            self.preferences_saving = False

    @event(busy="colour_saving")
    async def save_agenda_colour(self, form: dict):
        self.colour_saved, self.colour_error = False, ""
        agent_id = self._agent_id
        if agent_id is None:
            return
        if not self._is_loaded(form):
            self.colour_error = NOT_LOADED
            return
        choice = str(form.get("agenda_colour", ""))
        colour = str(form.get("agenda_colour_other", "")) if choice == OTHER_COLOUR else choice
        self.colour_saving = True
        yield
        try:
            self.agenda_colour = await within(UnitOfWork(),
                                              lambda uow: agent_account.update_agenda_colour(uow, agent_id, colour))
        except DomainError as exc:
            self.colour_error = exc.message
        else:
            self.colour_key += 1
            self.colour_saved = True

    def _password_errors(self, errors: dict[str, str]) -> None:
        self.password_errors = errors
        self.password_error_links = field_error_links(errors)

    @event
    async def change_password(self, form: dict):
        self._password_errors({})
        self.password_saved = False
        agent_id = self._agent_id
        if agent_id is None:
            return None
        current, new, confirmation = (str(form.get(name, "")) for name in ("current", "new", "confirmation"))
        token = session_token_from(self.router.headers.cookie)
        ip = self.router.session.client_ip or None
        try:
            # argon2, twice: on a worker thread. Every other session of the agent ends; this one stays.
            await within(UnitOfWork(), lambda uow: agent_auth.change_password(uow, agent_id, current, new,
                                                                             confirmation, session_token=token, ip=ip))
        except FieldErrors as exc:
            self._password_errors(exc.errors)
            return None
        except DomainError as exc:
            self._password_errors({exc.field or "current": exc.message})
            return None
        note_revocation()
        # This tab's own session stays: no need to check it again.
        self._revocations_seen = revocations()
        self.password_saved = True
        return rx.set_value("champ-current", "")
