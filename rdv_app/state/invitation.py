"""The invitation page: an invited agent (or the instance's first super admin) sets name and password."""

from __future__ import annotations

import reflex as rx

from rdv_app.blocking import within
from rdv_app.db.uow import UnitOfWork
from rdv_app.services.agents import invitations
from rdv_app.services.errors import DomainError
from rdv_app.state.login import LoginState
from rdv_app.state.typed_event import event


class InvitationState(rx.State):
    loaded: rx.Field[bool] = rx.field(False)
    problem: rx.Field[str] = rx.field("")
    email: rx.Field[str] = rx.field("")
    expires: rx.Field[str] = rx.field("")
    error: rx.Field[str] = rx.field("")
    error_field: rx.Field[str] = rx.field("")
    submitting: rx.Field[bool] = rx.field(False)

    _token: str = ""

    @event
    async def load(self):
        self.loaded = False
        self.problem = self.error = self.error_field = ""
        self.submitting = False
        self._token = token = self.router.url.query_parameters.get("jeton", "")
        invitation = await within(UnitOfWork(read_only=True), lambda uow: invitations.invitation_for(uow, token))
        self.problem = invitation.problem
        self.email = invitation.email
        self.expires = invitation.expires_label
        self.loaded = True

    @event
    async def submit(self, form: dict):
        if not self.loaded or self.problem or self.submitting:
            return
        self.error = self.error_field = ""
        self.submitting = True
        yield
        token = self._token
        values = {name: str(form.get(name, "")) for name in ("first_name", "last_name", "password", "confirmation")}
        try:
            # argon2 takes a good fraction of a second: on a worker thread, like the database work.
            sign_in = await within(UnitOfWork(), lambda uow: invitations.accept_invitation(uow, token, **values))
        except DomainError as exc:
            self.error, self.error_field = exc.message, exc.field or ""
            self.submitting = False
            return
        # The session, or first the second factor to set up (`LoginState`'s step, shown by the page).
        login = await self.get_state(LoginState)
        self.submitting = False
        yield await login.continue_sign_in(sign_in)
