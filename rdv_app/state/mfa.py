"""Setting up the second factor, as a step any page can show (`rdv_app.components.mfa.enrolment_step`):
"Mon compte", the sign-in when the agent's role requires it, or the end of an invitation.

A state that uses it names the agent (`_enrolment_agent_id`) and says what follows (`_after_enrolment`);
the secret drawn stays in a backend variable, never in the browser's state beyond what the page shows.
"""

from __future__ import annotations

import reflex as rx

from rdv_app.blocking import within
from rdv_app.db.uow import UnitOfWork
from rdv_app.services.agents import agent_mfa
from rdv_app.services.errors import DomainError
from rdv_app.state.typed_event import event


class MfaEnrolmentMixin(rx.State, mixin=True):
    enrolment_open: rx.Field[bool] = rx.field(False)
    enrolment_qr_code: rx.Field[str] = rx.field("")
    enrolment_secret_text: rx.Field[str] = rx.field("")
    enrolment_error: rx.Field[str] = rx.field("")
    enrolment_saving: rx.Field[bool] = rx.field(False)
    recovery_codes: rx.Field[list[str]] = rx.field(default_factory=list)

    _enrolment_secret: str = ""

    async def _enrolment_agent_id(self) -> int | None:
        raise TypeError(f"{type(self).__name__} names the agent who sets up the second factor")

    async def _after_enrolment(self) -> None:
        """What the state does once the recovery codes are shown."""

    def _clear_enrolment(self) -> None:
        self.enrolment_open = False
        self.enrolment_qr_code = self.enrolment_secret_text = self.enrolment_error = ""
        self.recovery_codes = []
        self._enrolment_secret = ""

    @event
    async def start_enrolment(self):
        self._clear_enrolment()
        agent_id = await self._enrolment_agent_id()
        if agent_id is None:
            return
        try:
            enrolment = await within(UnitOfWork(read_only=True),
                                     lambda uow: agent_mfa.new_enrolment(uow, agent_id))
        except DomainError as exc:
            self.enrolment_error = exc.message
            return
        self._enrolment_secret = enrolment.secret
        self.enrolment_qr_code, self.enrolment_secret_text = enrolment.qr_code, enrolment.secret_text
        self.enrolment_open = True

    @event
    async def confirm_enrolment(self, form: dict):
        self.enrolment_error = ""
        agent_id = await self._enrolment_agent_id()
        secret = self._enrolment_secret
        if agent_id is None or not secret:
            return
        code = str(form.get("enrolment_code", ""))
        ip = self.router.session.client_ip or None
        self.enrolment_saving = True
        yield
        try:
            codes = await within(UnitOfWork(), lambda uow: agent_mfa.confirm_enrolment(
                uow, agent_id, secret, code, ip=ip))
        except DomainError as exc:
            self.enrolment_error = exc.message
        else:
            self._enrolment_secret = ""
            self.enrolment_open = False
            self.enrolment_qr_code = self.enrolment_secret_text = ""
            self.recovery_codes = codes
            await self._after_enrolment()
        finally:
            self.enrolment_saving = False
