"""The session guard (rdv_app.state.session_guard) on SQLite and PostgreSQL: Reflex's own state tree and
event names, the app's middleware, a real database. What a tab may still do once its session ended."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from datetime import timedelta

import pytest
import time_machine
from reflex.config import reload_config
from reflex.state import BaseState, State, StateUpdate
from reflex_base.event import Event
from reflex_base.utils.format import format_event_handler
from sqlmodel import select

import rdv_app.rdv_app  # noqa: F401  (every page's state, as the app registers them)
from rdv_app import routes
from rdv_app.auth import rate_limit
from rdv_app.auth.passwords import hash_password
from rdv_app.auth.tokens import hash_token
from rdv_app.db.models import Agent, AgentRole, Organisation, Territory, Usager, UsagerSession
from rdv_app.db.uow import UnitOfWork
from rdv_app.domain import clock
from rdv_app.services.agents import agent_auth
from rdv_app.services.usagers import usager_auth
from rdv_app.state.agenda import AgendaState
from rdv_app.state.agent import AgentState
from rdv_app.state.session_guard import (
    SESSION_ENDED,
    USAGER_SESSION_ENDED,
    SessionEndedNotice,
    SessionGuard,
    note_revocation,
)
from rdv_app.state.usager_rdvs import UsagerRdvsState
from rdv_app.state.workspace import AccountState

PASSWORD = "Cerisier-Bleu-42"
EMAIL = "lea.durand@demo.test"
AGENDA = "/agenda?jour=2026-12-07"
ASKED_TO_SIGN_IN = "/connexion?suivant=%2Fagenda%3Fjour%3D2026-12-07"
SENT_TO_SIGN_IN = f"{ASKED_TO_SIGN_IN}&session=terminee"  # saying that the session ended


@pytest.fixture
def app_db(db_url: str) -> Iterator[str]:
    """The states open their own units of work on the configured database: point it at this one."""
    previous = os.environ.get("REFLEX_DB_URL")
    os.environ["REFLEX_DB_URL"] = db_url
    reload_config()
    rate_limit.reset_all()
    with UnitOfWork(db_url) as uow:
        territory = Territory(departement_number="62", name="Pas-de-Calais")
        uow.session.add(territory)
        uow.session.flush()
        org = Organisation(territory_id=territory.id, name="PMI Arras", slug="pmi-arras")
        agent = Agent(email=EMAIL, first_name="Léa", last_name="Durand", password_hash=hash_password(PASSWORD))
        uow.session.add_all([org, agent])
        uow.session.flush()
        uow.session.add(AgentRole(agent_id=agent.id, organisation_id=org.id, access_level="admin"))
        uow.commit()
    yield db_url
    rate_limit.reset_all()
    if previous is None:
        os.environ.pop("REFLEX_DB_URL", None)
    else:
        os.environ["REFLEX_DB_URL"] = previous
    reload_config()


def _signed_in(db_url: str) -> str:
    with UnitOfWork(db_url) as uow:
        ticket = agent_auth.authenticate(uow, EMAIL, PASSWORD, "10.0.0.1").ticket
    with UnitOfWork(db_url) as uow:
        opened = agent_auth.open_session(uow, ticket)
    assert opened is not None
    return opened.token


async def _tab(cookie: str = "") -> State:
    """A browser tab on the agenda, as Reflex holds it; its page's on_load checked the session."""
    root = State(_reflex_internal_init=True)
    data = {"headers": {"cookie": cookie, "origin": "http://localhost:3000"}, "pathname": "/agenda",
            "asPath": AGENDA, "query": {}}
    root.router_data = root._update_router_vars(data, {})
    agent = await root.get_state(AgentState)
    await AgentState.event_handlers["require_agent"].fn(agent)
    return root


async def _send(root: State, state_class: type[BaseState], handler: str) -> StateUpdate | None:
    """What the app's middleware answers before the handler runs: None lets it run."""
    name = format_event_handler(state_class.event_handlers[handler])
    return await SessionGuard().preprocess(None, root, Event(name=name, payload={}))  # type: ignore[arg-type]


def _sent_to(update: StateUpdate | None) -> str:
    assert update is not None, "the event was let through"
    [redirect] = update.events
    return redirect.payload["path"]


def test_a_tab_without_a_session_can_start_neither_the_agenda_feed_nor_any_agent_action(app_db: str) -> None:
    async def scenario() -> None:
        root = await _tab()
        assert _sent_to(await _send(root, AgendaState, "watch")) == ASKED_TO_SIGN_IN
        assert _sent_to(await _send(root, AccountState, "change_password")) == ASKED_TO_SIGN_IN
        forged = await _tab("rdv_agent_session=invente")
        assert _sent_to(await _send(forged, AgendaState, "watch")) == ASKED_TO_SIGN_IN
        # The page's own session check, and pages without a session, are not its business.
        assert await _send(root, AgentState, "require_agent") is None
        assert await _send(root, UsagerRdvsState, "ask_cancel") is None

    asyncio.run(scenario())


def test_a_revoked_session_is_refused_within_30_seconds_and_at_once_after_a_sign_out_here(app_db: str) -> None:
    async def scenario() -> None:
        token = _signed_in(app_db)
        root = await _tab(f"rdv_agent_session={token}")
        assert await _send(root, AgendaState, "watch") is None
        # Signed out from another process: this one learns it at the next check, 30 seconds at most.
        with UnitOfWork(app_db) as uow:
            agent_auth.revoke_session(uow, token)
        assert await _send(root, AgendaState, "toggle_agent") is None
        with time_machine.travel(clock.now() + timedelta(seconds=30), tick=False):
            assert _sent_to(await _send(root, AgendaState, "toggle_agent")) == SENT_TO_SIGN_IN
        agent = await root.get_state(AgentState)
        assert agent._agent_id is None and not agent.ready and agent.organisations == []
        # Signed out in this process: the next event already knows.
        other = await _tab(f"rdv_agent_session={_signed_in(app_db)}")
        with UnitOfWork(app_db) as uow:
            agent_auth.revoke_session(uow, _cookie_token(other))
        note_revocation()
        assert _sent_to(await _send(other, AgendaState, "ask_new_rdv_anytime")) == SENT_TO_SIGN_IN

    asyncio.run(scenario())


def _cookie_token(root: State) -> str:
    return root.router.headers.cookie.split("=", 1)[1]


def test_a_password_changed_elsewhere_refuses_this_tab_but_not_the_one_that_changed_it(app_db: str) -> None:
    async def scenario() -> None:
        here, there = _signed_in(app_db), _signed_in(app_db)
        stale, current = await _tab(f"rdv_agent_session={here}"), await _tab(f"rdv_agent_session={there}")
        with UnitOfWork(app_db) as uow:
            agent_id = uow.session.exec(select(Agent.id).where(Agent.email == EMAIL)).one()
            agent_auth.change_password(uow, agent_id, PASSWORD, "Nouveau-Secret-99", "Nouveau-Secret-99",
                                       session_token=there)
        note_revocation()
        assert _sent_to(await _send(stale, AccountState, "save_preferences")) == SENT_TO_SIGN_IN
        assert await _send(current, AccountState, "save_preferences") is None

    asyncio.run(scenario())


def test_a_tab_is_refused_12_hours_after_its_sign_in(app_db: str) -> None:
    async def scenario() -> None:
        root = await _tab(f"rdv_agent_session={_signed_in(app_db)}")
        with time_machine.travel(clock.now() + timedelta(hours=11, minutes=59), tick=False):
            assert await _send(root, AgendaState, "watch") is None
        with time_machine.travel(clock.now() + timedelta(hours=12, seconds=1), tick=False):
            assert _sent_to(await _send(root, AgendaState, "watch")) == SENT_TO_SIGN_IN

    asyncio.run(scenario())


def test_the_sign_in_page_says_why_the_tab_was_sent_there(app_db: str) -> None:
    async def scenario() -> None:
        root = State(_reflex_internal_init=True)
        root.router_data = root._update_router_vars({"pathname": "/connexion", "asPath": SENT_TO_SIGN_IN,
                                                     "query": {}, "headers": {}}, {})
        notice = await root.get_state(SessionEndedNotice)
        SessionEndedNotice.event_handlers["read"].fn(notice)
        assert notice.message == SESSION_ENDED
        assert routes.LOGIN in SENT_TO_SIGN_IN

    asyncio.run(scenario())


async def _usager_tab(cookie: str, path: str = routes.USAGER_RDVS) -> State:
    """A tab on "Mes rendez-vous", loaded as its page does."""
    root = State(_reflex_internal_init=True)
    root.router_data = root._update_router_vars({"headers": {"cookie": cookie}, "pathname": path.split("?")[0],
                                                 "asPath": path, "query": {}}, {})
    page = await root.get_state(UsagerRdvsState)
    async for _ in UsagerRdvsState.event_handlers["load"].fn(page):
        pass
    return root


def test_a_usager_tab_signed_out_elsewhere_is_refused_and_told_why(app_db: str) -> None:
    with UnitOfWork(app_db) as uow:
        usager = Usager(first_name="Jeanne", last_name="Dupont", email="jeanne@exemple.fr",
                        created_through="user_sign_up")
        uow.session.add(usager)
        uow.session.flush()
        uow.session.add(UsagerSession(usager_id=usager.id, token_hash=hash_token("jeton-de-jeanne")))
        uow.commit()
    cookie = f"{routes.USAGER_SESSION_COOKIE}=jeton-de-jeanne"

    async def scenario() -> None:
        root = await _usager_tab(cookie)
        assert (await root.get_state(UsagerRdvsState)).signed_in
        assert await _send(root, UsagerRdvsState, "confirm_cancel") is None
        with UnitOfWork(app_db) as uow:
            usager_auth.revoke_session(uow, "jeton-de-jeanne")
        note_revocation()
        assert _sent_to(await _send(root, UsagerRdvsState, "confirm_cancel")) == "/mes-rdv?session=terminee"
        assert (await root.get_state(UsagerRdvsState))._usager_id is None
        landed = await _usager_tab(cookie, "/mes-rdv?session=terminee")
        page = await landed.get_state(UsagerRdvsState)
        assert not page.signed_in and page.page_error == USAGER_SESSION_ENDED

    asyncio.run(scenario())
