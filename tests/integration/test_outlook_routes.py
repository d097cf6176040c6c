"""The plain HTTP routes of "S'identifier avec Microsoft" (rdv_app/api/outlook_http.py), served by uvicorn
on loopback against the loopback Microsoft: only a signed-in agent starts; the callback must come back to
the browser and the agent that started, with the state, and the PKCE verifier Microsoft checks; a refusal
changes nothing. On SQLite and PostgreSQL."""

from __future__ import annotations

import os
import re
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from html import unescape
from urllib.parse import parse_qs, urlparse

import factories as make
import httpx
import pytest
import uvicorn
from db_snapshot import snapshot
from fakes.microsoft_graph import FakeMicrosoft
from pg import free_port
from reflex.config import reload_config
from sqlmodel import select

from rdv_app import routes
from rdv_app.api.http import http_routes
from rdv_app.auth import rate_limit
from rdv_app.auth.passwords import hash_password
from rdv_app.config import settings
from rdv_app.db.models import OutboxMessage, OutlookConnection
from rdv_app.db.uow import UnitOfWork
from rdv_app.domain import clock
from rdv_app.domain.enums import Channel
from rdv_app.services.agents import agent_auth

PASSWORD = "Agent-Arras-2026!"
CALLBACK = f"{settings.public_url}{routes.OUTLOOK_CALLBACK}"
SESSION_ACTIVITY = {"agent_session": {"last_seen_at"}}  # every request of a signed-in agent notes it


@pytest.fixture
def server(db_url: str) -> Iterator[str]:
    previous = os.environ.get("REFLEX_DB_URL")
    os.environ["REFLEX_DB_URL"] = db_url
    reload_config()
    rate_limit.reset_all()
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
    rate_limit.reset_all()
    if previous is None:
        os.environ.pop("REFLEX_DB_URL", None)
    else:
        os.environ["REFLEX_DB_URL"] = previous
    reload_config()


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeMicrosoft]:
    with FakeMicrosoft(redirect_uris=(CALLBACK,)) as provider:
        for name, value in provider.environment().items():
            monkeypatch.setenv(name, value)
        yield provider


@pytest.fixture
def agents(db_url: str) -> dict[str, int]:
    with UnitOfWork(db_url) as uow:
        s = uow.session
        territory = make.territory(s)
        pmi = make.service(s)
        org = make.organisation(s, territory)
        julien = make.agent(s, "julien@arras.test", "Julien", "Petit", organisation=org, services=[pmi],
                            password_hash=hash_password(PASSWORD))
        lea = make.agent(s, "lea@arras.test", "Léa", "Durand", organisation=org, services=[pmi],
                         password_hash=hash_password(PASSWORD))
        motif = make.motif(s, org, pmi)
        tomorrow = clock.now().astimezone(make.PARIS).date() + timedelta(days=1)
        make.rdv(s, org, motif, make.at_paris(tomorrow, 10), agents=[julien])
        uow.commit()
        return {"julien": julien.id, "lea": lea.id}  # type: ignore[dict-item]


def _browser(server: str, db_url: str, email: str) -> httpx.Client:
    with UnitOfWork(db_url) as uow:
        ticket = agent_auth.authenticate(uow, email, PASSWORD, "10.0.0.1").ticket
    with UnitOfWork(db_url) as uow:
        opened = agent_auth.open_session(uow, ticket)
    assert opened is not None
    client = httpx.Client(base_url=server, follow_redirects=False, timeout=30)
    client.cookies.set(routes.AGENT_SESSION_COOKIE, opened.token)
    return client


def _to_microsoft(client: httpx.Client) -> httpx.Response:
    started = client.get(routes.OUTLOOK_START)
    assert started.status_code == 303
    return started


def _consent(started: httpx.Response) -> dict[str, str]:
    """The agent accepts on Microsoft's page: the callback's query."""
    page = httpx.get(started.headers["location"])
    assert page.status_code == 200, page.text
    target = unescape(re.search(r'href="([^"]+)"', page.text).group(1))  # type: ignore[union-attr]
    return {key: values[0] for key, values in parse_qs(urlparse(target).query).items()}


def test_start_needs_a_signed_in_agent(server: str, fake: FakeMicrosoft, agents: dict[str, int]) -> None:
    with httpx.Client(base_url=server, follow_redirects=False) as anonymous:
        answer = anonymous.get(routes.OUTLOOK_START)
    assert answer.status_code == 303 and answer.headers["location"].startswith(routes.LOGIN)
    assert fake.authorize_requests == []


def test_an_agent_connects_with_pkce_and_their_rdvs_are_queued(server: str, db_url: str, fake: FakeMicrosoft,
                                                               agents: dict[str, int]) -> None:
    with _browser(server, db_url, "julien@arras.test") as client:
        started = _to_microsoft(client)
        asked = {k: v[0] for k, v in parse_qs(urlparse(started.headers["location"]).query).items()}
        assert asked["login_hint"] == "julien@arras.test"
        assert asked["code_challenge_method"] == "S256"
        assert set(asked["scope"].split()) == {"offline_access", "openid", "email", "profile", "User.Read",
                                               "Calendars.ReadWrite"}
        flow_cookie = started.headers["set-cookie"]
        assert "httponly" in flow_cookie.lower() and asked["state"] not in flow_cookie  # sealed
        back = client.get(routes.OUTLOOK_CALLBACK, params=_consent(started))
    assert back.status_code == 303 and back.headers["location"].endswith(f"{routes.ACCOUNT}?outlook=connecte")
    code_exchange = [r for r in fake.token_requests if r.get("grant_type") == "authorization_code"]
    assert len(code_exchange) == 1 and code_exchange[0]["code_verifier"]
    with UnitOfWork(db_url) as uow:
        connection = uow.session.get(OutlookConnection, agents["julien"])
        queued = uow.session.exec(select(OutboxMessage).where(OutboxMessage.channel == Channel.OUTLOOK.value)).all()
        assert connection is not None and fake.refresh_token not in (connection.refresh_token_sealed or "")
        assert [m.agent_id for m in queued] == [agents["julien"]]


def test_a_flow_started_by_another_agent_in_the_browser_is_refused(server: str, db_url: str, fake: FakeMicrosoft,
                                                                    agents: dict[str, int]) -> None:
    with _browser(server, db_url, "julien@arras.test") as client:
        started = _to_microsoft(client)
        query = _consent(started)
        lea = _browser(server, db_url, "lea@arras.test")
        client.cookies.set(routes.AGENT_SESSION_COOKIE, lea.cookies[routes.AGENT_SESSION_COOKIE])
        lea.close()
        before = snapshot(db_url, SESSION_ACTIVITY)
        refused = client.get(routes.OUTLOOK_CALLBACK, params=query)
    assert refused.status_code == 400
    assert "La connexion à Microsoft a expiré" in refused.text
    assert snapshot(db_url, SESSION_ACTIVITY) == before
    assert [r for r in fake.token_requests if r.get("grant_type") == "authorization_code"] == []


def test_a_refusal_at_microsoft_changes_nothing(server: str, db_url: str, fake: FakeMicrosoft,
                                                agents: dict[str, int]) -> None:
    fake.deny = True
    with _browser(server, db_url, "julien@arras.test") as client:
        started = _to_microsoft(client)
        before = snapshot(db_url, SESSION_ACTIVITY)
        refused = client.get(routes.OUTLOOK_CALLBACK, params=_consent(started))
    assert refused.status_code == 400 and "annulée" in refused.text
    assert snapshot(db_url, SESSION_ACTIVITY) == before


def test_without_an_azure_application_the_routes_do_not_exist(server: str, db_url: str,
                                                              agents: dict[str, int]) -> None:
    with _browser(server, db_url, "julien@arras.test") as client:
        answer = client.get(routes.OUTLOOK_START)
    assert answer.status_code == 404
    assert "pas proposée" in answer.text
