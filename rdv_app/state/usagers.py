""""Vos usagers": the search as the agent types, the referent filter and the pages; every rule lives in
services.usagers.usager_list. The referent sent by the browser is used only when the page listed it, and
the service checks it again."""

from __future__ import annotations

from dataclasses import dataclass

import reflex as rx

from rdv_app import routes
from rdv_app.blocking import within
from rdv_app.choices import Option
from rdv_app.db.uow import UnitOfWork
from rdv_app.domain.usager_search import MAX_QUERY_LENGTH
from rdv_app.services.errors import DomainError
from rdv_app.services.usagers import usager_list
from rdv_app.state.agent import AgentState
from rdv_app.state.organisation import OrganisationPageState
from rdv_app.state.typed_event import event

SEARCH_FIELD_ID = "recherche-usagers"


@dataclass
class UsagerRow:
    href: str
    name: str
    relative: bool
    birth_date: str
    phone_number: str
    email: str


class UsagersState(OrganisationPageState, AgentState):
    query: rx.Field[str] = rx.field("")
    query_key: rx.Field[int] = rx.field(0)  # a new key shows a query set by the page (a link's)
    referent_id: rx.Field[str] = rx.field("")
    referents: rx.Field[list[Option]] = rx.field(default_factory=list)
    page: rx.Field[int] = rx.field(1)
    page_count: rx.Field[int] = rx.field(0)
    total: rx.Field[int] = rx.field(0)
    rows: rx.Field[list[UsagerRow]] = rx.field(default_factory=list)
    searched: rx.Field[bool] = rx.field(False)
    searching: rx.Field[bool] = rx.field(False)
    error: rx.Field[str] = rx.field("")

    def _before_load(self) -> None:
        self.error = ""
        self.query = self.router.url.query_parameters.get("recherche", "")[:MAX_QUERY_LENGTH]
        self.query_key += 1
        self.referent_id, self.page = "", 1

    async def _load(self, agent_id: int, organisation_id: int) -> None:
        agents = await within(UnitOfWork(read_only=True),
                              lambda uow: usager_list.organisation_agents(uow, agent_id, organisation_id))
        self.referents = [Option(str(a.id), a.name) for a in agents]
        await self._search()

    async def _search(self) -> None:
        agent_id, organisation = self._agent_id, self.current_org_id
        if agent_id is None or not organisation:
            return
        referent = int(self.referent_id) if self.referent_id in {o.value for o in self.referents} else None
        query, page = self.query, self.page
        self.error = ""
        try:
            found = await within(UnitOfWork(read_only=True), lambda uow: usager_list.list_usagers(
                uow, agent_id, int(organisation), query=query, referent_agent_id=referent, page=page))
        except DomainError as exc:
            self.error, self.rows, self.searched = exc.message, [], False
            return
        self.searched, self.total, self.page, self.page_count = (found.searched, found.total, found.page,
                                                                 found.page_count)
        self.rows = [UsagerRow(routes.usager_page(line.id), line.name, line.relative, line.birth_date or "—",
                               line.phone_number or "—", line.email or "—") for line in found.lines]

    @event(busy="searching")
    async def search(self, value: str):
        self.query, self.page = value[:MAX_QUERY_LENGTH], 1
        self.searching = True
        yield
        await self._search()

    @event(busy="searching")
    async def choose_referent(self, value: str):
        self.referent_id = value if value in {o.value for o in self.referents} else ""
        self.page = 1
        self.searching = True
        yield
        await self._search()

    @event(busy="searching")
    async def previous_page(self):
        self.page = max(1, self.page - 1)
        self.searching = True
        yield
        await self._search()

    @event(busy="searching")
    async def next_page(self):
        self.page = min(self.page + 1, max(1, self.page_count))
        self.searching = True
        yield
        await self._search()
