"""Forged events through a real websocket (issue 17, "A rights matrix test"): tests/integration/
test_rights_forged_events.py sends them through Reflex's processing in process; here a socket.io client
(python-socketio with websocket-client) speaks to the production server of the demo as the browser's
.web/utils/state.js does. An admin of the Mairie de Béthune, signed in through the sign-in page, opens
agent pages on their own socket and sends their handlers ids of PMI Arras (an RDV, an agent, a lieu, a
webhook endpoint, the organisation itself, the organisation cookie). Nothing of PMI Arras comes back on the
socket, and its rows are unchanged; the same socket does bring the admin's own RDV.

The protocol, from reflex/app.py (`EventNamespace`) and state.js: the socket.io path and namespace are
`/_event`, the tab's token rides in the query, the cookies in the handshake's headers, and the CONNECT
packet carries the boot event (`hydrate_and_load`, with the browser's cookie-backed vars). Each `event`
message names the handler by its state's full name, with its payload and the page's router data; the
server answers with `event` messages (`delta`, `events`). Reflex no longer says when an event is done
(`StateUpdate.final` is deprecated), but it processes the events of a tab one after the other: an event
whose answer is known (`set_is_hydrated(True)`), sent after the others, is answered after them.
"""

from __future__ import annotations

import json
import queue
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import socketio
import sqlalchemy as sa
from db_snapshot import snapshot
from playwright.sync_api import Page
from reflex.state import OnLoadInternalState, State
from sqlmodel import SQLModel, col, select

from rdv_app import routes
from rdv_app.db.models import (
    Agent,
    AgentRole,
    Lieu,
    Organisation,
    Participation,
    Rdv,
    Usager,
    UsagerProfile,
    WebhookEndpoint,
)
from rdv_app.db.uow import UnitOfWork
from rdv_app.domain.enums import AccessLevel
from rdv_app.state.admin_agents import AdminAgentsState
from rdv_app.state.admin_lieux import AdminLieuxState
from rdv_app.state.admin_webhooks import AdminWebhooksState
from rdv_app.state.agenda import AgendaState
from rdv_app.state.agent import AgentState

ADMIN = "thomas.dubois@demo.test"  # admin of the Mairie de Béthune only; no other test on `app_url` signs in as him
OWN, OTHER = "mairie-bethune", "pmi-arras"
OTHER_WEBHOOK = "https://sih.pmi-arras.exemple.fr/rdv"
NAMESPACE = "/_event"
ANSWER_SECONDS = 30
HYDRATED = "is_hydrated_rx_state_"
# The rows the forged events aim at.
CONCERNED = {"organisation", "agent", "agent_role", "lieu", "rdv", "participation", "webhook_endpoint"}


def _handler(state: type[State], name: str) -> str:
    return f"{state.get_full_name()}.{name}"


MARKER = {"name": _handler(OnLoadInternalState, "set_is_hydrated"), "payload": {"value": True}}


class Tab:
    """One browser tab on one page: its socket, and every update the server sent it, in order."""

    def __init__(self, base_url: str, session: str, path: str, query: dict[str, str] | None = None,
                 cookie_vars: dict[str, str] | None = None) -> None:
        self.updates: list[dict[str, Any]] = []
        self._inbox: queue.Queue[dict[str, Any]] = queue.Queue()
        self.router_data = {"pathname": path, "asPath": path, "query": query or {}}
        self.client = socketio.Client(reconnection=False, websocket_extra_options={"origin": base_url})
        self.client.on("event", self._inbox.put, namespace=NAMESPACE)
        boot = {"name": _handler(State, "hydrate_and_load"), "payload": {"vars": cookie_vars or {}},
                "router_data": self.router_data}
        self.client.connect(f"{base_url}?token={uuid.uuid4()}",
                            headers={"Cookie": f"{routes.AGENT_SESSION_COOKIE}={session}"},
                            auth={"event": boot}, transports=["websocket"], namespaces=[NAMESPACE],
                            socketio_path=NAMESPACE, wait_timeout=ANSWER_SECONDS)
        self._receive_until_marked()  # the page's on_load ends with `set_is_hydrated(True)`
        self.settle()

    def _receive_until_marked(self) -> list[dict[str, Any]]:
        received = []
        while True:
            try:
                update = self._inbox.get(timeout=ANSWER_SECONDS)
            except queue.Empty:
                raise AssertionError(f"no answer in {ANSWER_SECONDS} s after {received}") from None
            received.append(update)
            if update.get("delta", {}).get(State.get_full_name(), {}).get(HYDRATED) is True:
                self.updates += received
                return received

    def settle(self) -> None:
        """Sends the marker until a second one in a row comes back alone: every event sent before, and those
        they chained on the server, have been answered."""
        rounds = 0
        while True:
            self.client.emit("event", {**MARKER, "router_data": self.router_data}, namespace=NAMESPACE)
            alone = len(self._receive_until_marked()) == 1
            rounds += 1
            if alone and rounds >= 2:
                return

    def send(self, state: type[State], name: str, **payload: Any) -> None:
        self.client.emit("event", {"name": _handler(state, name), "payload": payload,
                                   "router_data": self.router_data}, namespace=NAMESPACE)
        self.settle()

    def received(self) -> str:
        return json.dumps(self.updates, ensure_ascii=False).casefold()

    def close(self) -> None:
        self.client.disconnect()


def _session(page: Page, login_as: Any) -> str:
    """Signs in through the sign-in page; the session cookie the browser got (HttpOnly: read from the context)."""
    login_as(ADMIN)
    return next(c["value"] for c in page.context.cookies() if c["name"] == routes.AGENT_SESSION_COOKIE)


def _ids(database_url: str, slug: str) -> dict[str, int]:
    with UnitOfWork(database_url, read_only=True) as uow:
        s = uow.session
        organisation = s.exec(select(Organisation.id).where(Organisation.slug == slug)).one()
        return {
            "organisation": organisation,
            "rdv": s.exec(select(Rdv.id).where(Rdv.organisation_id == organisation).order_by(col(Rdv.id))).first(),
            "agent": s.exec(select(AgentRole.agent_id).where(AgentRole.organisation_id == organisation,
                                                             AgentRole.access_level == AccessLevel.BASIC.value)
                            .order_by(col(AgentRole.agent_id))).first(),
            "lieu": s.exec(select(Lieu.id).where(Lieu.organisation_id == organisation).order_by(col(Lieu.id))).first(),
        }  # type: ignore[return-value]


def _names(s: Any, organisation: int) -> set[str]:
    """What of an organisation a page could show: its name and email, its lieux, its agents (email, name),
    its usagers' names."""
    found = {*s.exec(select(Organisation.name, Organisation.email).where(Organisation.id == organisation)).one()}
    for name, address in s.exec(select(Lieu.name, Lieu.address).where(Lieu.organisation_id == organisation)):
        found |= {name, address}
    for email, first, last in s.exec(select(Agent.email, Agent.first_name, Agent.last_name).join(AgentRole)
                                     .where(AgentRole.organisation_id == organisation)):
        found |= {email, f"{first} {last}"}
    found |= {f"{first} {last}" for first, last in s.exec(
        select(Usager.first_name, Usager.last_name).join(UsagerProfile).where(UsagerProfile.organisation_id == organisation))}
    return {n.casefold() for n in found if n}


def _traces_of_other(database_url: str) -> set[str]:
    """Everything of PMI Arras a page could show and the Mairie de Béthune's pages would not: none of it may
    reach the Béthune admin."""
    with UnitOfWork(database_url, read_only=True) as uow:
        own, other = (uow.session.exec(select(Organisation.id).where(Organisation.slug == slug)).one()
                      for slug in (OWN, OTHER))
        return (_names(uow.session, other) | {OTHER_WEBHOOK.casefold()}) - _names(uow.session, own)


def _concerned_rows(database_url: str) -> dict[str, list[tuple[str, ...]]]:
    return snapshot(database_url, {t.name: {"*"} for t in SQLModel.metadata.sorted_tables if t.name not in CONCERNED})


@pytest.fixture
def other_webhook(app_database_url: str, app_url: str) -> Iterator[int]:
    """A webhook endpoint of PMI Arras (the demo has none); other browser tests share the database: it goes
    away after the test."""
    with UnitOfWork(app_database_url) as uow:
        organisation = uow.session.exec(select(Organisation.id).where(Organisation.slug == OTHER)).one()
        endpoint = WebhookEndpoint(organisation_id=organisation, target_url=OTHER_WEBHOOK, secret="whsec_autre")
        uow.session.add(endpoint)
        uow.commit()
        endpoint_id = endpoint.id
    yield endpoint_id  # type: ignore[misc]
    with UnitOfWork(app_database_url) as uow:
        uow.session.exec(sa.delete(WebhookEndpoint).where(col(WebhookEndpoint.id) == endpoint_id))
        uow.commit()


def _assert_nothing_of(tab: Tab, traces: set[str]) -> None:
    received = tab.received()
    leaked = sorted(t for t in traces if t in received)
    assert leaked == [], f"sent to the Béthune admin's socket: {leaked}"


def test_forged_ids_of_another_organisation_bring_nothing_back_on_the_socket(
        page: Page, login_as: Any, app_url: str, app_database_url: str, other_webhook: int) -> None:
    session = _session(page, login_as)
    other, traces = _ids(app_database_url, OTHER), _traces_of_other(app_database_url)
    own_organisation = str(_ids(app_database_url, OWN)["organisation"])
    assert len(traces) > 20, traces
    before = _concerned_rows(app_database_url)
    rdv = str(other["rdv"])
    forged_cookie = {f"{AgentState.get_full_name()}.current_org_id_rx_state_": str(other["organisation"])}
    cases: list[tuple[Tab, list[tuple[type[State], str, dict[str, Any]]]]] = [
        # A link to PMI Arras's RDV page, then the organisation cookie set to PMI Arras.
        (Tab(app_url, session, routes.rdv_page(int(rdv)), {"rdv_page_id": rdv}), []),
        (Tab(app_url, session, routes.ADMIN_LIEUX, cookie_vars=forged_cookie), []),
        (Tab(app_url, session, routes.AGENDA), [
            (AgendaState, "toggle_agent", {"agent_id": str(other["agent"]), "checked": True}),
            (AgentState, "switch_organisation", {"organisation_id": str(other["organisation"])}),
        ]),
        (Tab(app_url, session, routes.ADMIN_AGENTS), [
            (AdminAgentsState, "set_level", {"agent_id": str(other["agent"]), "level": "admin"}),
            (AdminAgentsState, "ask_removal", {"agent_id": str(other["agent"])}),
        ]),
        (Tab(app_url, session, routes.ADMIN_LIEUX), [
            (AdminLieuxState, "start_edit", {"lieu_id": str(other["lieu"])}),
            (AdminLieuxState, "set_enabled", {"lieu_id": str(other["lieu"]), "enabled": False, "confirm": True}),
        ]),
        (Tab(app_url, session, routes.ADMIN_WEBHOOKS), [
            (AdminWebhooksState, "open_edit", {"endpoint_id": str(other_webhook)}),
            (AdminWebhooksState, "show_log", {"endpoint_id": str(other_webhook), "url": "https://x.test"}),
        ]),
    ]
    for tab, forged in cases:
        for state, name, payload in forged:
            tab.send(state, name, **payload)
        _assert_nothing_of(tab, traces)
        # The page stays on the admin's organisation (a forged cookie is echoed back first, then replaced).
        shown = [org for u in tab.updates
                 if (org := u["delta"].get(AgentState.get_full_name(), {}).get("current_org_id_rx_state_"))]
        assert shown[-1] == own_organisation, (tab.router_data, shown)
        tab.close()
    assert _concerned_rows(app_database_url) == before


def test_the_same_socket_brings_the_admins_own_rdv(page: Page, login_as: Any, app_url: str,
                                                    app_database_url: str) -> None:
    """The other side of the check: what is collected from the socket does hold the pages' data."""
    session = _session(page, login_as)
    own = _ids(app_database_url, OWN)
    with UnitOfWork(app_database_url, read_only=True) as uow:
        usagers = uow.session.exec(select(Usager.first_name, Usager.last_name).join(Participation)
                                   .where(Participation.rdv_id == own["rdv"])).all()
        lieu = uow.session.exec(select(Lieu.address).join(Rdv).where(Rdv.id == own["rdv"])).one()
    rdv = str(own["rdv"])
    tab = Tab(app_url, session, routes.rdv_page(int(rdv)), {"rdv_page_id": rdv})
    tab.close()
    received = tab.received()
    assert usagers and all(f"{first} {last}".casefold() in received for first, last in usagers)
    assert lieu.casefold() in received
