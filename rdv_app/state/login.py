"""The agents' sign-in form, then the second factor: its code, or setting it up when the role requires it."""

from __future__ import annotations

from typing import Any

import reflex as rx

from rdv_app.blocking import within
from rdv_app.config import demo_mode
from rdv_app.db.uow import UnitOfWork
from rdv_app.domain.enums import SignInStep
from rdv_app.services import deployment
from rdv_app.services.agents import agent_auth
from rdv_app.services.agents.agent_auth import SignIn, SignInStopped
from rdv_app.services.errors import DomainError, FieldErrors
from rdv_app.state.agent import open_session_events
from rdv_app.state.mfa import MfaEnrolmentMixin
from rdv_app.state.typed_event import event


class LoginState(MfaEnrolmentMixin, rx.State):
    error: rx.Field[str] = rx.field("")
    field_errors: dict[str, str] = {}  # the email or password left empty, under its field
    submitting: rx.Field[bool] = rx.field(False)
    # "" (the password), "code" or "enrolment" (rdv_app.domain.enums.SignInStep).
    step: rx.Field[str] = rx.field("")
    code_error: rx.Field[str] = rx.field("")
    # A real instance without any account yet: the page says how to create the first super admin.
    awaiting_first_account: rx.Field[bool] = rx.field(False)

    # The ticket of the password, waiting for its second step (never sent to the browser).
    _ticket: str = ""

    @event
    async def reset_form(self):
        """on_load: clears messages, and keeps a second step under way (a reload keeps it; its ticket expires
        after 15 minutes). Every way out of the flow clears the rest (`_reset`): the state outlives pages, and
        a quick click may be handled before this."""
        self.error = self.code_error = ""
        self.field_errors = {}
        self.submitting = False
        self.awaiting_first_account = not demo_mode() and await within(UnitOfWork(read_only=True),
                                                                        deployment.needs_bootstrap)

    def _reset(self) -> None:
        self.error = self.code_error = ""
        self.field_errors = {}
        self.submitting = False
        self.step = ""
        self._ticket = ""
        self._clear_enrolment()

    @event
    async def submit(self, form: dict):
        self.error, self.field_errors = "", {}
        self.submitting = True
        yield
        email, password = str(form.get("email", "")), str(form.get("password", ""))
        ip = self.router.session.client_ip or "inconnue"
        next_path = self.router.url.query_parameters.get("suivant")
        try:
            # argon2 takes a good fraction of a second: on a worker thread, like the database work.
            sign_in: SignIn = await within(UnitOfWork(), lambda uow: agent_auth.authenticate(
                uow, email, password, ip=ip, next_path=next_path))
        except FieldErrors as exc:
            self.field_errors = exc.errors
            self.submitting = False
            return
        except DomainError as exc:
            self.error = exc.message
            self.submitting = False
            return
        self.submitting = False
        yield await self.continue_sign_in(sign_in)

    async def continue_sign_in(self, sign_in: SignIn) -> Any:
        """What follows a checked password, or any flow that checked the agent otherwise (an invitation that
        sets a password calls `agent_auth.begin_sign_in`, then this on `await self.get_state(LoginState)`, and
        shows `rdv_app.pages.public.second_step()`): the session, or the code or enrolment step."""
        if sign_in.pending_step is None:
            self._reset()
            return await open_session_events(self, sign_in.ticket)
        self._ticket = sign_in.ticket
        self.step = sign_in.pending_step.value
        return LoginState.start_enrolment if sign_in.pending_step is SignInStep.ENROLMENT else None

    @event
    async def submit_code(self, form: dict):
        self.code_error = ""
        ticket = self._ticket
        if self.step != SignInStep.CODE or not ticket:
            return
        code = str(form.get("code", ""))
        ip = self.router.session.client_ip or "inconnue"
        self.submitting = True
        yield
        try:
            plain = await within(UnitOfWork(), lambda uow: agent_auth.verify_second_factor(uow, ticket, code, ip))
        except SignInStopped as exc:
            self._reset()
            self.error = exc.message
            return
        except DomainError as exc:
            self.code_error = exc.message
            self.submitting = False
            return
        self._reset()
        yield await open_session_events(self, plain)

    async def _enrolment_agent_id(self) -> int | None:
        ticket = self._ticket
        if self.step != SignInStep.ENROLMENT or not ticket:
            return None
        try:
            return await within(UnitOfWork(read_only=True), lambda uow: agent_auth.second_step_agent(uow, ticket))
        except SignInStopped as exc:
            self._reset()
            self.error = exc.message
            return None

    @event
    async def finish_enrolment(self):
        ticket = self._ticket
        if self.step != SignInStep.ENROLMENT or not ticket:
            return None
        try:
            plain = await within(UnitOfWork(), lambda uow: agent_auth.finish_enrolment(uow, ticket))
        except DomainError as exc:
            self._reset()
            self.error = exc.message
            return None
        self._reset()
        return await open_session_events(self, plain)

    @event
    def start_over(self):
        self._reset()
