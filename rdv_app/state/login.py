"""The agents' sign-in form."""

from __future__ import annotations

import reflex as rx

from rdv_app.blocking import within
from rdv_app.config import demo_mode
from rdv_app.db.uow import UnitOfWork
from rdv_app.services import deployment
from rdv_app.services.agents import agent_auth
from rdv_app.services.errors import DomainError
from rdv_app.state.agent import open_session_events
from rdv_app.state.typed_event import event


class LoginState(rx.State):
    error: rx.Field[str] = rx.field("")
    submitting: rx.Field[bool] = rx.field(False)
    # A real instance without any account yet: the page says how to create the first super admin.
    awaiting_first_account: rx.Field[bool] = rx.field(False)

    @event
    async def reset_form(self):
        self.error = ""
        self.submitting = False
        self.awaiting_first_account = not demo_mode() and await within(UnitOfWork(read_only=True),
                                                                        deployment.needs_bootstrap)

    @event
    async def submit(self, form: dict):
        self.error = ""
        self.submitting = True
        yield
        email, password = str(form.get("email", "")), str(form.get("password", ""))
        ip = self.router.session.client_ip or "inconnue"
        next_path = self.router.url.query_parameters.get("suivant")
        try:
            # argon2 takes a good fraction of a second: on a worker thread, like the database work.
            ticket = await within(UnitOfWork(), lambda uow: agent_auth.authenticate(
                uow, email, password, ip=ip, next_path=next_path))
        except DomainError as exc:
            self.error = exc.message
            self.submitting = False
            return
        yield await open_session_events(self, ticket)
