"""The agents' session routes on SQLite and PostgreSQL, over real HTTP: signing in and out are POSTs that
carry a proof only this browser's page can make; a GET, or a POST forged by another site, changes
nothing."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator

import httpx
import pytest
import uvicorn
from pg import free_port
from reflex.config import reload_config
from sqlmodel import select

from rdv_app import routes
from rdv_app.api.http import http_routes
from rdv_app.auth import rate_limit, session_forms
from rdv_app.auth.passwords import hash_password
from rdv_app.db.models import Agent, AgentLoginTicket, AgentRole, AgentSession, Organisation, Territory
from rdv_app.db.uow import UnitOfWork
from rdv_app.services.agents import agent_auth

PASSWORD = "Cerisier-Bleu-42"
VICTIM, ATTACKER = "lea.durand@demo.test", "intrus@demo.test"


@pytest.fixture
def app_db(db_url: str) -> Iterator[str]:
    """The HTTP routes open their own units of work on the configured database: point it at this one."""
    previous = os.environ.get("REFLEX_DB_URL")
    os.environ["REFLEX_DB_URL"] = db_url
    reload_config()
    rate_limit.reset_all()
    with UnitOfWork(db_url) as uow:
        territory = Territory(departement_number="62", name="Pas-de-Calais")
        uow.session.add(territory)
        uow.session.flush()
        org = Organisation(territory_id=territory.id, name="PMI Arras", slug="pmi-arras")
        agents = [Agent(email=email, last_name=email.split("@")[0], password_hash=hash_password(PASSWORD))
                  for email in (VICTIM, ATTACKER)]
        uow.session.add_all([org, *agents])
        uow.session.flush()
        uow.session.add_all([AgentRole(agent_id=a.id, organisation_id=org.id, access_level="basic") for a in agents])
        uow.commit()
    yield db_url
    rate_limit.reset_all()
    if previous is None:
        os.environ.pop("REFLEX_DB_URL", None)
    else:
        os.environ["REFLEX_DB_URL"] = previous
    reload_config()


@pytest.fixture
def server(app_db: str) -> Iterator[str]:
    port = free_port()
    served = uvicorn.Server(uvicorn.Config(http_routes, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=served.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not served.started and time.monotonic() < deadline:
        time.sleep(0.01)
    yield f"http://127.0.0.1:{port}"
    served.should_exit = True
    thread.join(timeout=10)


@pytest.fixture
def browser(server: str) -> Iterator[Callable[..., httpx.Client]]:
    opened: list[httpx.Client] = []

    def new(origin: str = server) -> httpx.Client:
        opened.append(httpx.Client(base_url=server, follow_redirects=False, headers={"Origin": origin}, timeout=30))
        return opened[-1]

    yield new
    for one in opened:
        one.close()


def _ticket(db_url: str, email: str) -> str:
    with UnitOfWork(db_url) as uow:
        return agent_auth.authenticate(uow, email, PASSWORD, "10.0.0.1", next_path="/agenda").ticket


def _sign_in(client: httpx.Client, ticket: str, binding: str = "valeur-du-navigateur") -> httpx.Response:
    """What the sign-in page does: its cookie, then the POST with the proof."""
    client.cookies.set(routes.AGENT_SIGN_IN_BINDING_COOKIE, binding)
    return client.post(routes.AUTH_OPEN_SESSION,
                       data={"ticket": ticket, "preuve": session_forms.sign_in_proof(ticket, binding)})


def _revocations(db_url: str) -> list[object]:
    """When each session ended (None: still open)."""
    with UnitOfWork(db_url) as uow:
        return list(uow.session.exec(select(AgentSession.revoked_at)).all())


def test_the_sign_in_page_posts_the_ticket_and_gets_a_cookie_that_lives_12_hours(
        app_db: str, browser: Callable[..., httpx.Client]) -> None:
    client = browser()
    signed_in = _sign_in(client, _ticket(app_db, VICTIM))
    assert signed_in.status_code == 303 and signed_in.headers["location"] == "/agenda"
    cookie = next(c for c in signed_in.headers.get_list("set-cookie") if c.startswith(routes.AGENT_SESSION_COOKIE))
    assert "HttpOnly" in cookie and f"Max-Age={12 * 3600};" in cookie
    with UnitOfWork(app_db) as uow:
        assert agent_auth.resolve_session(uow, client.cookies.get(routes.AGENT_SESSION_COOKIE)) is not None


def test_a_get_on_the_session_routes_changes_nothing(app_db: str, browser: Callable[..., httpx.Client]) -> None:
    client = browser()
    ticket = _ticket(app_db, ATTACKER)
    forged = client.get(routes.AUTH_OPEN_SESSION, params={"ticket": ticket})
    assert forged.status_code == 405 and "set-cookie" not in forged.headers
    assert "passez par la page de connexion" in forged.text
    with UnitOfWork(app_db) as uow:
        assert uow.session.exec(select(AgentLoginTicket.used_at)).one() is None  # the ticket was not used
    assert _revocations(app_db) == []

    _sign_in(client, _ticket(app_db, VICTIM))
    logout = client.get(routes.AUTH_CLEAR_SESSION)
    assert logout.status_code == 405 and "set-cookie" not in logout.headers
    assert _revocations(app_db) == [None]


def test_another_site_cannot_sign_a_person_into_its_own_account(app_db: str,
                                                                 browser: Callable[..., httpx.Client]) -> None:
    # The attacker gets a ticket for their own account, with the proof their own browser would send.
    ticket, attacker_binding = _ticket(app_db, ATTACKER), "valeur-de-l-intrus"
    proof = session_forms.sign_in_proof(ticket, attacker_binding)
    # From their site: the Origin gives it away.
    cross_site = browser("https://attaquant.example").post(routes.AUTH_OPEN_SESSION,
                                                           data={"ticket": ticket, "preuve": proof})
    assert cross_site.status_code == 403 and "set-cookie" not in cross_site.headers
    # Even where the browser sends no Origin: the victim's browser has no (or another) binding cookie.
    victim = browser()
    del victim.headers["Origin"]
    assert victim.post(routes.AUTH_OPEN_SESSION, data={"ticket": ticket, "preuve": proof}).status_code == 403
    victim.cookies.set(routes.AGENT_SIGN_IN_BINDING_COOKIE, "valeur-de-la-victime")
    refused = victim.post(routes.AUTH_OPEN_SESSION, data={"ticket": ticket, "preuve": proof})
    assert refused.status_code == 403 and routes.AGENT_SESSION_COOKIE not in victim.cookies
    assert "Demande refusée" in refused.text
    assert _revocations(app_db) == []


def test_signing_out_is_a_post_with_a_proof_made_from_the_session_cookie(
        app_db: str, browser: Callable[..., httpx.Client]) -> None:
    client = browser()
    _sign_in(client, _ticket(app_db, VICTIM))
    token = client.cookies.get(routes.AGENT_SESSION_COOKIE)
    assert token
    # Another site's form cannot make the proof: nothing ends.
    assert browser("https://attaquant.example").post(routes.AUTH_CLEAR_SESSION, cookies={
        routes.AGENT_SESSION_COOKIE: token}, data={"preuve": "devine"}).status_code == 403
    assert client.post(routes.AUTH_CLEAR_SESSION, data={"preuve": "devine"}).status_code == 403
    assert _revocations(app_db) == [None]

    signed_out = client.post(routes.AUTH_CLEAR_SESSION, data={"preuve": session_forms.sign_out_proof(token)})
    assert signed_out.status_code == 303 and signed_out.headers["location"] == routes.LOGIN
    assert routes.AGENT_SESSION_COOKIE not in client.cookies
    [revoked_at] = _revocations(app_db)
    assert revoked_at is not None
