"""Forged events of the agent pages (issue 17, "A rights matrix test"): an admin of organisation A, signed
in, sends the pages' event handlers ids of organisation B (an RDV, an agent, a plage, an absence, a motif,
a lieu, a webhook), or switches the page to B. Nothing of B reaches the browser state, and the database
is unchanged. On SQLite and PostgreSQL.

In process: the venv holds python-socketio's AsyncClient but neither aiohttp nor websocket-client, which
its transports need, so no socket.io client can reach a running server. Each event goes the way the
server's event processor takes it after the socket: the app's middleware (`SessionGuard.preprocess`, as
tests/integration/test_session_guard.py drives it), then Reflex's own `process_event` on the page's state
in the app's state tree, whose deltas (what the socket would emit) and chained events are collected
through an `EventContext`.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, time, timedelta
from typing import Any

import factories as make
import pytest
from db_snapshot import snapshot
from factories import at_paris
from reflex.config import reload_config
from reflex.state import BaseState, State
from reflex_base.event import Event
from reflex_base.event.context import EventContext
from reflex_base.event.processor.base_state_processor import process_event
from reflex_base.utils.format import format_event_handler
from sqlmodel import select

import rdv_app.rdv_app  # noqa: F401  (every page's state, as the app registers them)
from rdv_app import routes
from rdv_app.auth import rate_limit
from rdv_app.auth.passwords import hash_password
from rdv_app.db.models import Usager
from rdv_app.db.uow import UnitOfWork
from rdv_app.domain.enums import AccessLevel
from rdv_app.services.agents import agent_auth
from rdv_app.services.errors import DomainError
from rdv_app.services.rdv import queries
from rdv_app.state.absences import AbsencesState
from rdv_app.state.admin_agents import AdminAgentsState
from rdv_app.state.admin_lieux import AdminLieuxState
from rdv_app.state.admin_motifs import AdminMotifsState
from rdv_app.state.admin_webhooks import AdminWebhooksState
from rdv_app.state.agenda import AgendaState
from rdv_app.state.agent import AgentState
from rdv_app.state.plages import PlagesState
from rdv_app.state.prescription import PrescriptionState
from rdv_app.state.rdv_list import RdvListState
from rdv_app.state.rdv_page import RdvPageState
from rdv_app.state.session_guard import SessionGuard
from rdv_app.state.usager_form import UsagerFormState
from rdv_app.state.usager_merge import UsagerMergeState

PASSWORD = "Agent-Arras-2026!"
ADMIN_EMAIL = "camille@arras.test"
# Everything of organisation B a page could show: none of it may reach A's admin.
B_TRACES = ("MDS Lens", "4 rue D", "Lensoise", "agent_b@lens.test", "Blanc", "admin_b@lens.test",
            "Consultation Lens", "Morel", "lena@lens.test", "Plage de Lens", "Congés Lens", "lens.exemple.fr",
            "06 98 76 54 32")


def _day() -> date:
    return make.quiet_monday(2)


@pytest.fixture
def world(db_url: str) -> Iterator[dict[str, int]]:
    """Organisations A and B of one territory; the states open their units of work on this database."""
    previous = os.environ.get("REFLEX_DB_URL")
    os.environ["REFLEX_DB_URL"] = db_url
    reload_config()
    rate_limit.reset_all()
    with UnitOfWork(db_url) as uow:
        s = uow.session
        territory = make.territory(s)
        pmi, _social, _sec = make.pmi_social_secretariat(s)
        org, org_b = make.organisation(s, territory), make.organisation(s, territory, "MDS Lens", "mds-lens")
        admin = make.agent(s, ADMIN_EMAIL, "Camille", "Martin", organisation=org, role=AccessLevel.ADMIN,
                           services=[pmi], password_hash=hash_password(PASSWORD))
        colleague = make.agent(s, "ines@arras.test", "Inès", "Roux", organisation=org, services=[pmi])
        admin_b = make.agent(s, "admin_b@lens.test", "Marc", "Blanc", organisation=org_b, role=AccessLevel.ADMIN,
                             services=[pmi])
        agent_b = make.agent(s, "agent_b@lens.test", "Lina", "Lensoise", organisation=org_b, services=[pmi])
        lieu, lieu_b = make.lieu(s, org), make.lieu(s, org_b, "MDS Lens", "4 rue D, 62300 Lens",
                                                    phone_number="06 98 76 54 32")
        motif, motif_b = make.motif(s, org, pmi), make.motif(s, org_b, pmi, "Consultation Lens")
        marie = make.usager(s, "Marie", "Lefort", organisations=[org])
        lena = make.usager(s, "Léna", "Morel", email="lena@lens.test", organisations=[org_b])
        rdv = make.rdv(s, org, motif, at_paris(_day(), 10), agents=[colleague], usagers=[marie], lieu=lieu)
        rdv_b = make.rdv(s, org_b, motif_b, at_paris(_day(), 10), agents=[agent_b], usagers=[lena], lieu=lieu_b)
        hours = dict(first_day=_day() + timedelta(days=1), start_time=time(9), end_time=time(12))
        plage_b = make.plage(s, agent_b, org_b, lieu_b, [motif_b], title="Plage de Lens", **hours)
        absence_b = make.absence(s, agent_b, _day() + timedelta(days=2), title="Congés Lens")
        webhook_b = make.webhook(s, org_b, "https://lens.exemple.fr/rdv")
        uow.commit()
        ids = {"org": org.id, "org_b": org_b.id, "admin": admin.id, "colleague": colleague.id,
               "admin_b": admin_b.id, "agent_b": agent_b.id, "lieu_b": lieu_b.id, "motif_b": motif_b.id,
               "rdv": rdv.id, "rdv_b": rdv_b.id, "lena": lena.id, "plage_b": plage_b.id,
               "absence_b": absence_b.id, "webhook_b": webhook_b.id}
    yield ids  # type: ignore[misc]
    rate_limit.reset_all()
    if previous is None:
        os.environ.pop("REFLEX_DB_URL", None)
    else:
        os.environ["REFLEX_DB_URL"] = previous
    reload_config()


def _signed_in(db_url: str) -> str:
    with UnitOfWork(db_url) as uow:
        ticket = agent_auth.authenticate(uow, ADMIN_EMAIL, PASSWORD, "10.0.0.1").ticket
    with UnitOfWork(db_url) as uow:
        opened = agent_auth.open_session(uow, ticket)
    assert opened is not None
    return opened.token


@dataclass
class Tab:
    """A browser tab as the server holds it: Reflex's state tree, and what was sent to the browser."""

    root: State
    deltas: list[Any] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    raised: list[DomainError] = field(default_factory=list)  # what the app's exception handler would get

    async def send(self, state_class: type[BaseState], handler: str, **payload: Any) -> None:
        """The event as the client names it, through the app's middleware then Reflex's processing."""
        event_handler = state_class.event_handlers[handler]
        event = Event(name=format_event_handler(event_handler), payload=payload)
        assert await SessionGuard().preprocess(None, self.root, event) is None, "the session guard refused it"  # type: ignore[arg-type]

        async def emit_delta(_token: str, delta: Any) -> None:
            self.deltas.append(delta)

        async def enqueue(_token: str, *events: Event) -> None:
            self.events.extend(events)

        state = await self.root.get_state(state_class)
        with EventContext(token="onglet-a", state_manager=None, enqueue_impl=enqueue,  # type: ignore[arg-type]
                          emit_delta_impl=emit_delta, emit_event_impl=enqueue):
            try:
                await process_event(event_handler, payload, state, self.root)
            except DomainError as exc:  # the handler let the services' refusal through
                self.raised.append(exc)

    def sent(self) -> str:
        """Everything sent to the browser since the last `forget`: deltas, then the events it must run."""
        return json.dumps([self.deltas, [(e.name, e.payload) for e in self.events]], default=str,
                          ensure_ascii=False)

    def forget(self) -> None:
        self.deltas.clear()
        self.events.clear()
        self.raised.clear()

    def state(self) -> str:
        """The whole state tree the browser may hold (public vars), as the app would serialise it."""
        return json.dumps(self.root.dict(), default=str, ensure_ascii=False)


async def _open(db_url: str, path: str, page: type[BaseState] | None, query: dict[str, str] | None = None) -> Tab:
    """A tab of A's admin on `path`, its on_load run (the session check, then the page's load)."""
    root = State(_reflex_internal_init=True)
    root.router_data = root._update_router_vars(
        {"headers": {"cookie": f"rdv_agent_session={_signed_in(db_url)}", "origin": "http://localhost:3000"},
         "pathname": path, "asPath": path, "query": query or {}}, {})
    tab = Tab(root)
    await tab.send(AgentState, "require_agent")
    if page is not None:
        await tab.send(page, "load")
    tab.forget()
    return tab


def _assert_nothing_of_b(tab: Tab) -> None:
    sent, state = tab.sent().casefold(), tab.state().casefold()  # names are shown as "Lina LENSOISE"
    for trace in B_TRACES:
        assert trace.casefold() not in sent, f"{trace!r} was sent to the browser"
        assert trace.casefold() not in state, f"{trace!r} is in the browser state"


# (page path, page state, handler, its forged arguments from the world's ids)
FORGED: dict[str, tuple[str, type[BaseState] | None, str, Any]] = {
    "RDV page: open B's RDV": (routes.RDV_PAGE, None, "load", lambda w: {}),
    "RDV page: B's usager's status on A's RDV": (routes.RDV_PAGE, None, "set_participant_status",
                                                 lambda w: {"usager_id": str(w["lena"]), "value": "excused"}),
    "agenda: show B's agent": ("/agenda", AgendaState, "toggle_agent",
                               lambda w: {"agent_id": str(w["agent_b"]), "checked": True}),
    "plages: edit B's plage": ("/plages", PlagesState, "start_edit", lambda w: {"plage_id": str(w["plage_b"])}),
    "absences: edit B's absence": ("/indisponibilites", AbsencesState, "start_edit",
                                   lambda w: {"absence_id": str(w["absence_b"])}),
    "motifs: edit B's motif": ("/admin/motifs", AdminMotifsState, "start_edit",
                               lambda w: {"motif_id": str(w["motif_b"])}),
    "motifs: duplicate B's motif": ("/admin/motifs", AdminMotifsState, "duplicate",
                                    lambda w: {"motif_id": str(w["motif_b"])}),
    "lieux: edit B's lieu": ("/admin/lieux", AdminLieuxState, "start_edit", lambda w: {"lieu_id": str(w["lieu_b"])}),
    "lieux: disable B's lieu": ("/admin/lieux", AdminLieuxState, "set_enabled",
                                lambda w: {"lieu_id": str(w["lieu_b"]), "enabled": False, "confirm": True}),
    "webhooks: edit B's webhook": ("/admin/webhooks", AdminWebhooksState, "open_edit",
                                   lambda w: {"endpoint_id": str(w["webhook_b"])}),
    "webhooks: B's delivery log": ("/admin/webhooks", AdminWebhooksState, "show_log",
                                   lambda w: {"endpoint_id": str(w["webhook_b"]), "url": "https://x.test"}),
    "agents: make B's agent admin": ("/admin/agents", AdminAgentsState, "set_level",
                                     lambda w: {"agent_id": str(w["agent_b"]), "level": "admin"}),
    "agents: remove B's agent": ("/admin/agents", AdminAgentsState, "ask_removal",
                                 lambda w: {"agent_id": str(w["agent_b"])}),
    "merge: pick B's usager": (routes.USAGERS_MERGE, UsagerMergeState, "pick",
                               lambda w: {"side": "a", "usager_id": str(w["lena"])}),
    "switch the page to B": ("/agenda", AgendaState, "switch_organisation", lambda w: {"organisation_id": str(w["org_b"])}),
    "usager form: open B's usager": (routes.USAGER_EDIT, None, "load", lambda w: {}),
    "usager form: B's usager as a responsible": (routes.USAGER_NEW, UsagerFormState, "search_responsible",
                                                 lambda w: {"value": "lén"}),  # Léna Morel, of B
    # Prescription: B's motif is for B's agents only, never offered to A's.
    "prescription: B's motif closed to prescription": (routes.PRESCRIPTION, PrescriptionState, "set_motif",
                                                       lambda w: {"value": "public_office:Consultation Lens"}),
    "prescription: a slot of B's motif": (routes.PRESCRIPTION, PrescriptionState, "choose_place",
                                          lambda w: {"motif_id": str(w["motif_b"]), "lieu_id": str(w["lieu_b"])}),
    "prescription: a time the page never showed": (routes.PRESCRIPTION, PrescriptionState, "choose_time",
                                     lambda w: {"starts_at": at_paris(_day(), 9).isoformat()}),
    "RDV list: B's agent": (routes.RDV_LIST, RdvListState, "set_agent", lambda w: {"value": str(w["agent_b"])}),
    "RDV list: B's organisation": (routes.RDV_LIST, RdvListState, "toggle_organisation",
                                   lambda w: {"organisation_id": str(w["org_b"]), "checked": True}),
    "RDV list: B's lieu": (routes.RDV_LIST, RdvListState, "toggle_lieu",
                           lambda w: {"lieu_id": str(w["lieu_b"]), "checked": True}),
    "RDV list: B's motif": (routes.RDV_LIST, RdvListState, "toggle_motif",
                            lambda w: {"motif_id": str(w["motif_b"]), "checked": True}),
}


@pytest.mark.parametrize("case", list(FORGED))
def test_a_forged_id_of_another_organisation_leaks_nothing(db_url: str, world: dict[str, int], case: str) -> None:
    path, page, handler, arguments = FORGED[case]

    async def scenario() -> None:
        if path == routes.RDV_PAGE:  # the route's argument is the RDV: B's, or A's own for the status
            rdv = world["rdv_b"] if handler == "load" else world["rdv"]
            concrete = path.replace("[rdv_page_id]", str(rdv))
            tab = await _open(db_url, concrete, RdvPageState if handler != "load" else None,
                              {"rdv_page_id": str(rdv)})
            state_class: type[BaseState] = RdvPageState
        elif path == routes.USAGER_EDIT:  # the route's argument is B's usager
            tab = await _open(db_url, routes.usager_edit(world["lena"]), None, {"usager_edit_id": str(world["lena"])})
            state_class = UsagerFormState
        else:
            tab = await _open(db_url, path, page)
            state_class = AgentState if handler == "switch_organisation" else page  # type: ignore[assignment]
        assert page is None or (await tab.root.get_state(page)).denied == ""  # type: ignore[attr-defined]
        before = snapshot(db_url, {"agent_session": {"last_seen_at"}})
        await tab.send(state_class, handler, **arguments(world))
        assert tab.raised == []  # every refusal is shown in the page, none reaches Reflex's generic error
        _assert_nothing_of_b(tab)
        assert snapshot(db_url, {"agent_session": {"last_seen_at"}}) == before
        agent = await tab.root.get_state(AgentState)
        assert agent.current_org_id == str(world["org"])  # type: ignore[attr-defined]
        if path == routes.USAGER_EDIT:
            form = await tab.root.get_state(UsagerFormState)
            assert form.denied and form.loaded_for == ""  # type: ignore[attr-defined]
        if handler == "show_log":
            webhooks_page = await tab.root.get_state(AdminWebhooksState)
            assert (webhooks_page.log_loading, webhooks_page.log_endpoint_id) == (False, "")  # type: ignore[attr-defined]
            assert webhooks_page.message  # type: ignore[attr-defined]

    asyncio.run(scenario())


def test_a_merge_of_bs_usager_forged_in_the_address_is_refused_and_leaks_nothing(db_url: str,
                                                                                 world: dict[str, int]) -> None:
    """"Fusionner deux usagers" with B's usager in its address: the page says it cannot, and confirming
    anyway changes nothing."""

    async def scenario() -> None:
        with UnitOfWork(db_url, read_only=True) as uow:
            marie = uow.session.exec(select(Usager.id).where(Usager.last_name == "Lefort")).one()
        query = {"a": str(marie), "b": str(world["lena"])}
        tab = await _open(db_url, routes.usagers_merge(marie, world["lena"]), None, query)
        before = snapshot(db_url, {"agent_session": {"last_seen_at"}})
        await tab.send(UsagerMergeState, "load")
        page = await tab.root.get_state(UsagerMergeState)
        assert "n'est pas suivi par votre organisation" in page.message  # type: ignore[attr-defined]
        assert page.rows == []  # type: ignore[attr-defined]
        await tab.send(UsagerMergeState, "ask_confirmation", form={"email": "2", "first_name": "2"})
        await tab.send(UsagerMergeState, "confirm")
        assert "n'est pas suivi par votre organisation" in page.error  # type: ignore[attr-defined]
        assert tab.raised == []
        _assert_nothing_of_b(tab)
        assert snapshot(db_url, {"agent_session": {"last_seen_at"}}) == before

    asyncio.run(scenario())


def test_a_forged_organisation_cookie_shows_a_refusal_not_the_organisation(db_url: str, world: dict[str, int]) -> None:
    """The organisation shown comes from a cookie the browser could change: a page loaded for B with it,
    before the session is checked again, shows the services' refusal and nothing of B."""

    async def scenario() -> None:
        tab = await _open(db_url, "/plages", PlagesState)
        agent = await tab.root.get_state(AgentState)
        agent.current_org_id = str(world["org_b"])  # type: ignore[attr-defined]
        before = snapshot(db_url, {"agent_session": {"last_seen_at"}})
        for state_class in (PlagesState, AdminAgentsState, AdminLieuxState, AdminWebhooksState, AgendaState):
            await tab.send(state_class, "load")
            assert (await tab.root.get_state(state_class)).denied  # type: ignore[attr-defined]
        _assert_nothing_of_b(tab)
        assert snapshot(db_url, {"agent_session": {"last_seen_at"}}) == before

    asyncio.run(scenario())


def test_the_same_handlers_do_show_ones_own_organisation(db_url: str, world: dict[str, int]) -> None:
    """The other side of the check: A's admin opening A's RDV sees it (the collection above is not blind)."""

    async def scenario() -> None:
        rdv = str(world["rdv"])
        tab = await _open(db_url, routes.RDV_PAGE.replace("[rdv_page_id]", rdv), None, {"rdv_page_id": rdv})
        await tab.send(RdvPageState, "load")
        assert "lefort" in tab.sent().casefold() and "centre arras" in tab.state().casefold()

    asyncio.run(scenario())


def test_the_traces_looked_for_are_bs(db_url: str, world: dict[str, int]) -> None:
    """B's own admin reading B's RDV gets the very names and addresses looked for above."""
    with UnitOfWork(db_url) as uow:
        details = json.dumps(queries.get_rdv(uow, world["admin_b"], world["org_b"], world["rdv_b"]).__dict__,
                             default=str, ensure_ascii=False).casefold()
    assert all(trace.casefold() in details for trace in ("MDS Lens", "4 rue D", "Lensoise", "Consultation Lens", "Morel"))


def test_the_usager_form_sends_nothing_before_its_record_is_loaded(db_url: str, world: dict[str, int]) -> None:
    """A submit that reaches the server before the form's load (the defaults rendered first), or for another
    record than the tab's address names, saves nothing; once loaded, the same submit saves."""

    async def scenario() -> None:
        tab = await _open(db_url, routes.USAGER_NEW, None)
        await tab.send(UsagerFormState, "set_value", field="first_name", value="Anouk")
        await tab.send(UsagerFormState, "set_value", field="last_name", value="Avance")
        before = snapshot(db_url, {"agent_session": {"last_seen_at"}})
        await tab.send(UsagerFormState, "save", confirm=False)
        assert snapshot(db_url, {"agent_session": {"last_seen_at"}}) == before
        await tab.send(UsagerFormState, "load")
        form = await tab.root.get_state(UsagerFormState)
        assert (form.loaded_for, form.values["first_name"]) == ("nouveau", "")  # type: ignore[attr-defined]
        await tab.send(UsagerFormState, "set_value", field="first_name", value="Anouk")
        await tab.send(UsagerFormState, "set_value", field="last_name", value="Avance")
        await tab.send(UsagerFormState, "save", confirm=False)
        with UnitOfWork(db_url, read_only=True) as uow:
            assert uow.session.exec(select(Usager.first_name).where(Usager.last_name == "Avance")).all() == ["Anouk"]

    asyncio.run(scenario())


def test_an_rdv_list_address_naming_bs_usager_lists_and_exports_nothing(db_url: str, world: dict[str, int]) -> None:
    """"Liste des RDV" opened with B's usager, lieu and organisation in its address (a forged shared link):
    the page says the usager is not followed, lists nothing of B, and its export is refused, nothing written."""

    async def scenario() -> None:
        query = {"usager": str(world["lena"]), "lieux": str(world["lieu_b"]), "organisations": str(world["org_b"])}
        tab = await _open(db_url, routes.rdv_list(usager_id=world["lena"], lieu_ids=[world["lieu_b"]],
                                                  organisation_ids=[world["org_b"]]), None, query)
        before = snapshot(db_url, {"agent_session": {"last_seen_at"}})
        await tab.send(RdvListState, "load")
        page = await tab.root.get_state(RdvListState)
        assert "n'est pas suivi par votre organisation" in page.error  # type: ignore[attr-defined]
        assert page.rows == [] and page.organisation_ids == []  # type: ignore[attr-defined]
        await tab.send(RdvListState, "export", export_type="rdv_export")
        assert "n'est pas suivi par votre organisation" in page.export_error  # type: ignore[attr-defined]
        assert tab.raised == []
        _assert_nothing_of_b(tab)
        assert snapshot(db_url, {"agent_session": {"last_seen_at"}}) == before

    asyncio.run(scenario())
