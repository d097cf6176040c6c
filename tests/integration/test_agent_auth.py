"""Agent sign-in against a real database (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from rdv_app.auth import rate_limit
from rdv_app.auth.passwords import hash_password
from rdv_app.db.models import Agent, AgentRole, AgentSession, Organisation, Territory
from rdv_app.db.uow import UnitOfWork
from rdv_app.services.agents import agent_auth
from rdv_app.services.errors import DomainError, FieldErrors

PASSWORD = "Cerisier-Bleu-42"


@pytest.fixture(autouse=True)
def _fresh_rate_limits() -> Iterator[None]:
    rate_limit.reset_all()
    yield
    rate_limit.reset_all()


@pytest.fixture
def agent_email(db_url: str) -> str:
    with UnitOfWork(db_url) as uow:
        territory = Territory(departement_number="62", name="Pas-de-Calais")
        uow.session.add(territory)
        uow.session.flush()
        org = Organisation(territory_id=territory.id, name="PMI Arras", slug="pmi-arras")
        agent = Agent(email="lea.durand@demo.test", first_name="Léa", last_name="Durand",
                      password_hash=hash_password(PASSWORD))
        intervenant = Agent(email="intervenant@demo.test", last_name="Roux", password_hash=hash_password(PASSWORD))
        uow.session.add_all([org, agent, intervenant])
        uow.session.flush()
        uow.session.add_all([AgentRole(agent_id=agent.id, organisation_id=org.id, access_level="admin"),
                             AgentRole(agent_id=intervenant.id, organisation_id=org.id, access_level="intervenant")])
        uow.commit()
    return "lea.durand@demo.test"


def _sign_in(db_url: str, email: str, password: str = PASSWORD, ip: str = "10.0.0.1") -> str:
    with UnitOfWork(db_url) as uow:
        sign_in = agent_auth.authenticate(uow, email, password, ip, next_path="/mon-compte")
    assert sign_in.pending_step is None
    with UnitOfWork(db_url) as uow:
        opened = agent_auth.open_session(uow, sign_in.ticket)
    assert opened is not None and opened.next_path == "/mon-compte"
    return opened.token


def test_sign_in_opens_a_session_that_resolves_to_the_agent(db_url: str, agent_email: str) -> None:
    token = _sign_in(db_url, "  LEA.DURAND@demo.test ")
    with UnitOfWork(db_url) as uow:
        identity = agent_auth.resolve_session(uow, token)
        stored = uow.session.exec(select(AgentSession.token_hash)).all()
    assert identity is not None
    assert identity.display_name == "Léa Durand"
    assert [r.name for r in identity.roles] == ["PMI Arras"]
    assert token not in stored  # only the hash is kept


def test_ticket_works_once(db_url: str, agent_email: str) -> None:
    with UnitOfWork(db_url) as uow:
        ticket = agent_auth.authenticate(uow, agent_email, PASSWORD, "10.0.0.1").ticket
    with UnitOfWork(db_url) as uow:
        assert agent_auth.open_session(uow, ticket) is not None
    with UnitOfWork(db_url) as uow:
        assert agent_auth.open_session(uow, ticket) is None


def test_expired_ticket_is_refused(db_url: str, agent_email: str) -> None:
    past = datetime.now(UTC) - timedelta(minutes=10)
    with UnitOfWork(db_url) as uow:
        ticket = agent_auth.authenticate(uow, agent_email, PASSWORD, "10.0.0.1", now=past).ticket
    with UnitOfWork(db_url) as uow:
        assert agent_auth.open_session(uow, ticket) is None


def test_wrong_password_and_unknown_email_get_the_same_message(db_url: str, agent_email: str) -> None:
    messages = set()
    for email, password in ((agent_email, "Mauvais-Mot-2!"), ("inconnu@demo.test", PASSWORD)):
        with UnitOfWork(db_url) as uow, pytest.raises(DomainError) as caught:
            agent_auth.authenticate(uow, email, password, f"10.0.0.{len(messages) + 2}")
        messages.add(caught.value.message)
    assert messages == {"Adresse email ou mot de passe incorrect."}



def test_an_empty_sign_in_names_each_missing_field_and_counts_no_failure(db_url: str, agent_email: str) -> None:
    with UnitOfWork(db_url) as uow, pytest.raises(FieldErrors) as caught:
        agent_auth.authenticate(uow, " ", "", "10.0.0.9")
    assert caught.value.errors == {"email": "Saisissez votre adresse email.",
                                   "password": "Saisissez votre mot de passe."}
    with UnitOfWork(db_url) as uow, pytest.raises(FieldErrors) as caught:
        agent_auth.authenticate(uow, agent_email, "", "10.0.0.9")
    assert caught.value.errors == {"password": "Saisissez votre mot de passe."}
    with UnitOfWork(db_url) as uow:
        agent = uow.session.exec(select(Agent).where(Agent.email == agent_email)).one()
        assert (agent.failed_sign_ins, agent.locked_until) == (0, None)

def test_intervenant_cannot_sign_in(db_url: str, agent_email: str) -> None:
    with UnitOfWork(db_url) as uow, pytest.raises(DomainError, match="incorrect"):
        agent_auth.authenticate(uow, "intervenant@demo.test", PASSWORD, "10.0.0.1")


def test_five_failures_for_an_email_lock_the_account_with_the_same_message(db_url: str, agent_email: str) -> None:
    for attempt in range(5):
        with UnitOfWork(db_url) as uow, pytest.raises(DomainError, match="incorrect"):
            agent_auth.authenticate(uow, agent_email, "Mauvais-Mot-2!", f"10.0.1.{attempt}")
    with UnitOfWork(db_url) as uow, pytest.raises(DomainError) as caught:
        agent_auth.authenticate(uow, agent_email, PASSWORD, "10.0.2.1")  # even the right password waits
    # Nothing tells a locked account from a wrong password or an unknown address.
    assert caught.value.message == agent_auth.INVALID_CREDENTIALS


def test_five_failures_from_one_ip_block_that_ip(db_url: str, agent_email: str) -> None:
    for attempt in range(5):
        with UnitOfWork(db_url) as uow, pytest.raises(DomainError):
            agent_auth.authenticate(uow, f"inconnu{attempt}@demo.test", PASSWORD, "10.9.9.9")
    with UnitOfWork(db_url) as uow, pytest.raises(agent_auth.TooManyAttempts):
        agent_auth.authenticate(uow, agent_email, PASSWORD, "10.9.9.9")
    _sign_in(db_url, agent_email, ip="10.9.9.10")  # another IP is not affected


def test_session_ends_12_hours_after_sign_in_whatever_the_activity_and_on_sign_out(db_url: str,
                                                                                  agent_email: str) -> None:
    token = _sign_in(db_url, agent_email)
    now = datetime.now(UTC)
    for hours in (1, 6, 11):  # a busy day: activity does not move the end
        with UnitOfWork(db_url) as uow:
            assert agent_auth.resolve_session(uow, token, now=now + timedelta(hours=hours)) is not None
    with UnitOfWork(db_url) as uow:
        assert agent_auth.resolve_session(uow, token, now=now + timedelta(hours=12, seconds=1)) is None
    fresh = _sign_in(db_url, agent_email)
    with UnitOfWork(db_url) as uow:
        agent_auth.revoke_session(uow, fresh)
    with UnitOfWork(db_url) as uow:
        assert agent_auth.resolve_session(uow, fresh) is None


def test_password_change_enforces_the_policy(db_url: str, agent_email: str) -> None:
    with UnitOfWork(db_url) as uow:
        agent_id = uow.session.exec(select(Agent.id).where(Agent.email == agent_email)).one()
    with UnitOfWork(db_url) as uow, pytest.raises(DomainError, match="au moins 12 caractères") as caught:
        agent_auth.change_password(uow, agent_id, PASSWORD, "Court-1!", "Court-1!")
    assert caught.value.field == "new"
    # Every field left empty: each one's error at once, in the form's order.
    with UnitOfWork(db_url) as uow, pytest.raises(FieldErrors) as every:
        agent_auth.change_password(uow, agent_id, "", "", "")
    assert every.value.errors == {"current": "Saisissez votre mot de passe actuel.",
                                  "new": "Saisissez un nouveau mot de passe.",
                                  "confirmation": "Saisissez à nouveau le nouveau mot de passe."}
    with UnitOfWork(db_url) as uow, pytest.raises(DomainError, match="actuel est incorrect"):
        agent_auth.change_password(uow, agent_id, "Faux-Mot-De-Passe-1", "Nouveau-Secret-99", "Nouveau-Secret-99")
    with UnitOfWork(db_url) as uow:
        agent_auth.change_password(uow, agent_id, PASSWORD, "Nouveau-Secret-99", "Nouveau-Secret-99")
    _sign_in(db_url, agent_email, password="Nouveau-Secret-99")


def test_password_change_ends_every_other_session_of_the_agent(db_url: str, agent_email: str) -> None:
    current, other_browser, forgotten_tab = (_sign_in(db_url, agent_email) for _ in range(3))
    with UnitOfWork(db_url) as uow:
        agent_id = uow.session.exec(select(Agent.id).where(Agent.email == agent_email)).one()
        colleague = Agent(email="colleague@demo.test", last_name="Roux", password_hash=hash_password(PASSWORD))
        uow.session.add(colleague)
        uow.session.flush()
        uow.session.add(AgentSession(agent_id=colleague.id, token_hash="autre-agent"))
        uow.commit()
    with UnitOfWork(db_url) as uow:
        agent_auth.change_password(uow, agent_id, PASSWORD, "Nouveau-Secret-99", "Nouveau-Secret-99",
                                   session_token=current)
    with UnitOfWork(db_url) as uow:
        assert agent_auth.resolve_session(uow, current) is not None
        assert agent_auth.resolve_session(uow, other_browser) is None
        assert agent_auth.resolve_session(uow, forgotten_tab) is None
        colleagues = uow.session.exec(select(AgentSession.revoked_at)
                                      .where(AgentSession.token_hash == "autre-agent")).one()
    assert colleagues is None
