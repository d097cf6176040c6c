"""Admin > Journal de sécurité (territorial admins): the latest security events of the territory of the
organisation shown; rights and reading in services.security_log."""

from __future__ import annotations

import reflex as rx

from rdv_app.blocking import within
from rdv_app.db.uow import UnitOfWork
from rdv_app.services import security_log
from rdv_app.services.security_log import EventRow
from rdv_app.state.agent import AgentState
from rdv_app.state.organisation import OrganisationPageState
from rdv_app.state.typed_event import event


class SecurityLogState(OrganisationPageState, AgentState):
    territory_name: rx.Field[str] = rx.field("")
    events: rx.Field[list[EventRow]] = rx.field(default_factory=list)
    page: rx.Field[int] = rx.field(1)
    has_more: rx.Field[bool] = rx.field(False)

    def _before_load(self) -> None:
        self.events = []
        self.page = 1

    async def _load(self, agent_id: int, organisation_id: int) -> None:
        page = self.page
        log = await within(UnitOfWork(read_only=True),
                           lambda uow: security_log.territory_log(uow, agent_id, organisation_id, page))
        self.territory_name, self.events, self.has_more = log.territory_name, log.rows, log.has_more

    @event
    async def show_page(self, page: int):
        if self._agent_id is None or not self.current_org_id or page < 1:
            return
        agent_id, organisation_id = self._agent_id, int(self.current_org_id)
        log = await within(UnitOfWork(read_only=True),
                           lambda uow: security_log.territory_log(uow, agent_id, organisation_id, page))
        self.page, self.events, self.has_more = page, log.rows, log.has_more

    @event
    async def next_page(self):
        return SecurityLogState.show_page(self.page + 1)

    @event
    async def previous_page(self):
        return SecurityLogState.show_page(self.page - 1)
