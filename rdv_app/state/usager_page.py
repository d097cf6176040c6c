"""An usager's page for agents: what services.usagers.usager_page shows, and its actions (referents,
invitation, removal). Ids sent by the browser are used only when the page listed them; the services check
them again."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import reflex as rx

from rdv_app import routes
from rdv_app.blocking import within
from rdv_app.choices import Option
from rdv_app.db.uow import UnitOfWork
from rdv_app.services.errors import DomainError, NotFound
from rdv_app.services.usagers import usager_page
from rdv_app.state.agent import AgentState
from rdv_app.state.notifications import deliver_after_commit
from rdv_app.state.organisation import OrganisationPageState
from rdv_app.state.typed_event import event

DELETE_BUTTON_ID = "supprimer-usager"


@dataclass
class DetailRow:
    label: str
    value: str


@dataclass
class NotificationRow:
    label: str
    enabled: bool
    text: str


@dataclass
class PersonRow:
    href: str
    name: str
    age: str


@dataclass
class ReferentRow:
    id: str
    name: str
    services: str
    removable: bool


@dataclass
class RdvRow:
    href: str
    when: str
    motif: str
    status: str
    agents: str


@dataclass
class CounterRow:
    label: str
    count: str
    href: str  # "Liste des RDV" of the usager with this status


@dataclass
class HistoryRow:
    when: str
    author: str
    action: str
    details: list[str]


def _rdv(line: usager_page.RdvLine) -> RdvRow:
    return RdvRow(routes.rdv_page(line.id), line.when, line.motif, line.status, line.agents or "—")


class UsagerPageState(OrganisationPageState, AgentState):
    full_name: rx.Field[str] = rx.field("")
    relative: rx.Field[bool] = rx.field(False)
    details: rx.Field[list[DetailRow]] = rx.field(default_factory=list)
    notifications: rx.Field[list[NotificationRow]] = rx.field(default_factory=list)
    phone_search_href: rx.Field[str] = rx.field("")
    not_registered: rx.Field[bool] = rx.field(False)
    invitable: rx.Field[bool] = rx.field(False)
    invitation_sent: rx.Field[str] = rx.field("")
    franceconnect: rx.Field[bool] = rx.field(False)
    referents: rx.Field[list[ReferentRow]] = rx.field(default_factory=list)
    referent_choices: rx.Field[list[Option]] = rx.field(default_factory=list)
    chosen_referent: rx.Field[str] = rx.field("")
    relatives: rx.Field[list[PersonRow]] = rx.field(default_factory=list)
    responsible: rx.Field[list[PersonRow]] = rx.field(default_factory=list)  # one, for a relative
    responsible_details: rx.Field[list[DetailRow]] = rx.field(default_factory=list)
    responsible_referents: rx.Field[list[str]] = rx.field(default_factory=list)
    current_rdvs: rx.Field[list[RdvRow]] = rx.field(default_factory=list)
    next_rdvs: rx.Field[list[RdvRow]] = rx.field(default_factory=list)
    counters_title: rx.Field[str] = rx.field("")
    counters: rx.Field[list[CounterRow]] = rx.field(default_factory=list)
    shows_history: rx.Field[bool] = rx.field(False)
    history: rx.Field[list[HistoryRow]] = rx.field(default_factory=list)
    find_rdv_href: rx.Field[str] = rx.field(routes.CRENEAUX)
    all_rdvs_href: rx.Field[str] = rx.field(routes.RDV_LIST)

    message: rx.Field[str] = rx.field("")
    error: rx.Field[str] = rx.field("")
    busy: rx.Field[bool] = rx.field(False)
    delete_open: rx.Field[bool] = rx.field(False)
    delete_error: rx.Field[str] = rx.field("")
    removed: rx.Field[str] = rx.field("")  # the removal's message: the page shows only it

    _usager_id: int | None = None

    def _before_load(self) -> None:
        self.message = self.error = self.delete_error = self.removed = ""
        self.delete_open = False
        self._usager_id = None

    async def _load(self, agent_id: int, organisation_id: int) -> None:
        # The route's argument: a var Reflex adds to the states for the dynamic route (routes.USAGER_PAGE).
        raw = str(getattr(self, "usager_page_id", ""))
        if not raw.isdigit():
            raise NotFound("Cet usager n'existe pas ou n'est pas suivi par cette organisation.")
        self._usager_id = int(raw)
        await self._refresh()

    async def _refresh(self) -> None:
        agent_id, organisation, usager_id = self._agent_id, self.current_org_id, self._usager_id
        if agent_id is None or not organisation or usager_id is None:
            return
        page = await within(UnitOfWork(read_only=True),
                            lambda uow: usager_page.usager_page(uow, agent_id, int(organisation), usager_id))
        self.full_name, self.relative = page.full_name, page.relative
        self.details = [DetailRow(d.label, d.value) for d in page.details]
        self.notifications = [NotificationRow(n.label, n.enabled, n.text) for n in page.notifications]
        self.phone_search_href = routes.usagers(page.phone_search) if page.phone_search else ""
        self.not_registered, self.invitable, self.franceconnect = (page.not_registered, page.invitable,
                                                                   page.franceconnect)
        self.invitation_sent = page.invitation_sent or ""
        self.referents = [ReferentRow(str(r.id), r.name, r.services or "—", r.removable) for r in page.referents]
        self.referent_choices = [Option(str(a.id), a.name) for a in page.referent_choices]
        if self.chosen_referent not in {o.value for o in self.referent_choices}:
            self.chosen_referent = ""
        self.relatives = [PersonRow(routes.usager_page(r.id), r.name, r.age or "") for r in page.relatives]
        self.responsible = [] if page.responsible is None else [PersonRow(
            routes.usager_page(page.responsible.id), page.responsible.name, page.responsible.age or "")]
        self.responsible_details = [DetailRow(d.label, d.value) for d in page.responsible_details]
        self.responsible_referents = list(page.responsible_referents)
        self.current_rdvs = [_rdv(line) for line in page.current_rdvs]
        self.next_rdvs = [_rdv(line) for line in page.next_rdvs]
        self.counters_title = f"Statuts sur {page.rdv_count} RDV"
        self.counters = [CounterRow(c.label, str(c.count), routes.rdv_list(usager_id=usager_id, status=c.key))
                         for c in page.counters]
        self.all_rdvs_href = routes.rdv_list(usager_id=usager_id)
        self.shows_history = page.history is not None
        self.history = [HistoryRow(h.when, h.author, h.action, list(h.details)) for h in page.history or ()]
        self.find_rdv_href = routes.creneaux(usager_id)

    async def _act(self, call: Callable[[UnitOfWork, int, int, int], str]) -> UnitOfWork | None:
        """Runs a change on the page's usager, then shows the page again; the unit of work, when it worked."""
        agent_id, organisation, usager_id = self._agent_id, self.current_org_id, self._usager_id
        if agent_id is None or not organisation or usager_id is None or self.busy:
            return None
        self.message = self.error = ""
        self.busy = True
        uow = UnitOfWork()
        try:
            self.message = await within(uow, lambda u: call(u, agent_id, int(organisation), usager_id))
            await self._refresh()
            return uow
        except DomainError as exc:
            self.error = exc.message
            return None
        finally:
            self.busy = False

    @event
    def choose_referent(self, value: str):
        self.chosen_referent = value if value in {o.value for o in self.referent_choices} else ""

    @event
    async def add_referent(self):
        if not self.chosen_referent:
            self.error = "Choisissez l'agent à ajouter comme référent."
            return
        agent_id = int(self.chosen_referent)
        await self._act(lambda uow, actor, org, usager: usager_page.add_referent(uow, actor, org, usager, agent_id))

    @event
    async def remove_referent(self, referent_id: str):
        listed = {r.id for r in self.referents if r.removable}
        if referent_id not in listed:
            return
        await self._act(lambda uow, actor, org, usager: usager_page.remove_referent(
            uow, actor, org, usager, int(referent_id)))

    @event
    async def invite(self):
        uow = await self._act(usager_page.invite)
        if uow is not None:
            yield deliver_after_commit(uow)

    @event
    def set_delete_open(self, is_open: bool):
        if not self.busy:
            self.delete_open, self.delete_error = is_open, ""

    @event
    async def delete(self):
        agent_id, organisation, usager_id = self._agent_id, self.current_org_id, self._usager_id
        if agent_id is None or not organisation or usager_id is None or self.busy:
            return
        self.busy, self.delete_error = True, ""
        yield
        try:
            removal = await within(UnitOfWork(), lambda uow: usager_page.remove_from_organisation(
                uow, agent_id, int(organisation), usager_id))
        except DomainError as exc:
            self.delete_error = exc.message
        else:
            self.delete_open, self.removed, self._usager_id = False, removal.message, None
        finally:
            self.busy = False
