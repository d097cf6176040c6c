"""The agents' second factor, escalating lockout and security event log, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pyotp
import pytest
from sqlmodel import col, select

from rdv_app.auth import rate_limit, sealed
from rdv_app.auth.passwords import hash_password
from rdv_app.db.models import (
    Agent,
    AgentRecoveryCode,
    AgentRole,
    AgentTerritorialRole,
    Organisation,
    OutboxMessage,
    SecurityEvent,
    Territory,
)
from rdv_app.db.uow import UnitOfWork
from rdv_app.domain.enums import SecurityEventKind, SignInStep
from rdv_app.services import security_log
from rdv_app.services.agents import agent_auth, agent_mfa
from rdv_app.services.errors import DomainError, PermissionDenied

PASSWORD = "Cerisier-Bleu-42"
WRONG = "Mauvais-Mot-2!"


@pytest.fixture(autouse=True)
def _fresh_rate_limits() -> Iterator[None]:
    rate_limit.reset_all()
    yield
    rate_limit.reset_all()


@dataclass(frozen=True)
class World:
    arras: int  # organisation of the Pas-de-Calais
    lille: int  # organisation of the Nord
    lea: int  # admin of Arras
    paul: int  # basic agent of Arras
    tina: int  # territorial admin of the Pas-de-Calais
    bob: int  # territorial admin of the Nord, admin of Lille


@pytest.fixture
def world(db_url: str) -> World:
    with UnitOfWork(db_url) as uow:
        s = uow.session
        pas_de_calais = Territory(departement_number="62", name="Pas-de-Calais")
        nord = Territory(departement_number="59", name="Nord")
        s.add_all([pas_de_calais, nord])
        s.flush()
        arras = Organisation(territory_id=pas_de_calais.id, name="PMI Arras", slug="pmi-arras")
        lille = Organisation(territory_id=nord.id, name="PMI Lille", slug="pmi-lille")
        agents = [Agent(email=f"{name.lower()}@demo.test", first_name=name, last_name="Durand",
                        password_hash=hash_password(PASSWORD)) for name in ("Lea", "Paul", "Tina", "Bob")]
        s.add_all([arras, lille, *agents])
        s.flush()
        lea, paul, tina, bob = agents
        s.add_all([AgentRole(agent_id=lea.id, organisation_id=arras.id, access_level="admin"),
                   AgentRole(agent_id=paul.id, organisation_id=arras.id, access_level="basic"),
                   AgentRole(agent_id=tina.id, organisation_id=arras.id, access_level="basic"),
                   AgentRole(agent_id=bob.id, organisation_id=lille.id, access_level="admin"),
                   AgentTerritorialRole(agent_id=tina.id, territory_id=pas_de_calais.id),
                   AgentTerritorialRole(agent_id=bob.id, territory_id=nord.id)])
        uow.commit()
        return World(arras=arras.id, lille=lille.id, lea=lea.id, paul=paul.id, tina=tina.id, bob=bob.id)


def _enable(db_url: str, agent_id: int, now: datetime) -> tuple[str, list[str]]:
    with UnitOfWork(db_url) as uow:
        enrolment = agent_mfa.new_enrolment(uow, agent_id)
    with UnitOfWork(db_url) as uow:
        codes = agent_mfa.confirm_enrolment(uow, agent_id, enrolment.secret, pyotp.TOTP(enrolment.secret).at(now),
                                            ip="10.1.1.1", now=now)
    return enrolment.secret, codes


def _password_step(db_url: str, email: str, ip: str, now: datetime, password: str = PASSWORD) -> agent_auth.SignIn:
    with UnitOfWork(db_url) as uow:
        return agent_auth.authenticate(uow, email, password, ip, next_path="/agenda", now=now)


def _events(db_url: str) -> list[tuple[str, int | None]]:
    with UnitOfWork(db_url) as uow:
        return [tuple(row) for row in uow.session.exec(  # type: ignore[misc]
            select(SecurityEvent.kind, SecurityEvent.agent_id).order_by(col(SecurityEvent.id))).all()]


def _lock_emails(db_url: str, email: str) -> list[dict]:
    with UnitOfWork(db_url) as uow:
        rows = uow.session.exec(select(OutboxMessage.payload).order_by(col(OutboxMessage.id))).all()
    return [payload for payload in rows if payload.get("to") == email]


# --------------------------------------------------------------------------- setting up


def test_setting_up_stores_the_secret_sealed_and_the_recovery_codes_hashed(db_url: str, world: World) -> None:
    now = datetime.now(UTC)
    with UnitOfWork(db_url) as uow:
        enrolment = agent_mfa.new_enrolment(uow, world.paul)
    assert enrolment.qr_code.startswith("data:image/svg+xml;base64,")
    assert enrolment.secret_text.replace(" ", "") == enrolment.secret
    wrong = f"{(int(pyotp.TOTP(enrolment.secret).at(now)) + 1) % 1_000_000:06d}"
    with UnitOfWork(db_url) as uow, pytest.raises(DomainError, match="n'est pas valide") as caught:
        agent_mfa.confirm_enrolment(uow, world.paul, enrolment.secret, wrong, now=now)
    assert caught.value.field == "code"
    with UnitOfWork(db_url) as uow:
        assert not agent_mfa.status(uow, world.paul).enabled
    with UnitOfWork(db_url) as uow:
        codes = agent_mfa.confirm_enrolment(uow, world.paul, enrolment.secret,
                                            pyotp.TOTP(enrolment.secret).at(now), now=now)
    assert len(codes) == 10
    with UnitOfWork(db_url) as uow:
        sealed_secret = uow.session.exec(select(Agent.totp_secret_sealed).where(Agent.id == world.paul)).one()
        stored = uow.session.exec(select(AgentRecoveryCode.code_hash)).all()
        status = agent_mfa.status(uow, world.paul)
    assert sealed_secret is not None and enrolment.secret not in sealed_secret
    assert sealed.unseal(sealed_secret) == enrolment.secret
    assert len(stored) == 10 and not set(codes) & set(stored)
    assert status.enabled and status.recovery_codes_left == 10 and not status.required
    assert ("mfa_enabled", world.paul) in _events(db_url)


def test_sign_in_asks_the_code_and_each_code_works_once(db_url: str, world: World) -> None:
    now = datetime.now(UTC)
    secret, _codes = _enable(db_url, world.paul, now)
    sign_in = _password_step(db_url, "paul@demo.test", "10.0.0.1", now)
    assert sign_in.pending_step is SignInStep.CODE
    with UnitOfWork(db_url) as uow:
        assert agent_auth.open_session(uow, sign_in.ticket, now=now) is None  # no session before the code
    # The code typed to set it up does not sign in (replay).
    with UnitOfWork(db_url) as uow, pytest.raises(DomainError, match="déjà été utilisé"):
        agent_auth.verify_second_factor(uow, sign_in.ticket, pyotp.TOTP(secret).at(now), "10.0.0.1", now=now)
    next_code = pyotp.TOTP(secret).at(now + timedelta(seconds=30))
    with UnitOfWork(db_url) as uow:
        plain = agent_auth.verify_second_factor(uow, sign_in.ticket, next_code, "10.0.0.1", now=now)
    with UnitOfWork(db_url) as uow:
        opened = agent_auth.open_session(uow, plain, now=now)
    assert opened is not None and opened.next_path == "/agenda"
    # The pending ticket is spent, and the same code does not open a second sign-in.
    with UnitOfWork(db_url) as uow, pytest.raises(agent_auth.SignInStopped):
        agent_auth.verify_second_factor(uow, sign_in.ticket, next_code, "10.0.0.1", now=now)
    again = _password_step(db_url, "paul@demo.test", "10.0.0.2", now)
    with UnitOfWork(db_url) as uow, pytest.raises(DomainError, match="déjà été utilisé"):
        agent_auth.verify_second_factor(uow, again.ticket, next_code, "10.0.0.2", now=now)


def test_a_recovery_code_signs_in_once_and_is_logged(db_url: str, world: World) -> None:
    now = datetime.now(UTC)
    _secret, codes = _enable(db_url, world.paul, now)
    sign_in = _password_step(db_url, "paul@demo.test", "10.0.0.1", now)
    with UnitOfWork(db_url) as uow:
        plain = agent_auth.verify_second_factor(uow, sign_in.ticket, codes[3].lower(), "10.0.0.1", now=now)
    with UnitOfWork(db_url) as uow:
        assert agent_auth.open_session(uow, plain, now=now) is not None
        assert agent_mfa.status(uow, world.paul).recovery_codes_left == 9
    again = _password_step(db_url, "paul@demo.test", "10.0.0.2", now)
    with UnitOfWork(db_url) as uow, pytest.raises(DomainError, match="n'est pas valide"):
        agent_auth.verify_second_factor(uow, again.ticket, codes[3], "10.0.0.2", now=now)
    assert ("recovery_code_used", world.paul) in _events(db_url)


def test_the_second_step_expires(db_url: str, world: World) -> None:
    now = datetime.now(UTC)
    secret, _codes = _enable(db_url, world.paul, now)
    sign_in = _password_step(db_url, "paul@demo.test", "10.0.0.1", now)
    later = now + timedelta(minutes=16)
    with UnitOfWork(db_url) as uow, pytest.raises(agent_auth.SignInStopped, match="a expiré"):
        agent_auth.verify_second_factor(uow, sign_in.ticket, pyotp.TOTP(secret).at(later), "10.0.0.1", now=later)


def test_disabling_needs_a_code_or_the_password(db_url: str, world: World) -> None:
    now = datetime.now(UTC)
    secret, _codes = _enable(db_url, world.paul, now)
    with UnitOfWork(db_url) as uow, pytest.raises(DomainError, match="n'est pas valide"):
        agent_mfa.disable(uow, world.paul, "Pas-Le-Bon-Mot-1", now=now)
    with UnitOfWork(db_url) as uow, pytest.raises(DomainError, match="n'est pas valide"):
        agent_mfa.disable(uow, world.paul, pyotp.TOTP(secret).at(now), now=now)  # already used to set it up
    with UnitOfWork(db_url) as uow:
        assert agent_mfa.status(uow, world.paul).enabled
    with UnitOfWork(db_url) as uow:
        agent_mfa.disable(uow, world.paul, pyotp.TOTP(secret).at(now + timedelta(seconds=30)), now=now)
    with UnitOfWork(db_url) as uow:
        assert not agent_mfa.status(uow, world.paul).enabled
        assert uow.session.exec(select(AgentRecoveryCode)).all() == []
    assert _password_step(db_url, "paul@demo.test", "10.0.0.1", now).pending_step is None
    _enable(db_url, world.paul, now + timedelta(minutes=1))
    with UnitOfWork(db_url) as uow:
        agent_mfa.disable(uow, world.paul, PASSWORD, now=now)
    assert [kind for kind, _ in _events(db_url)].count("mfa_disabled") == 2


# --------------------------------------------------------------------------- required for admins


def test_required_for_admins_who_set_it_up_before_any_session(db_url: str, world: World,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    now = datetime.now(UTC)
    assert _password_step(db_url, "lea@demo.test", "10.0.0.1", now).pending_step is None  # not required yet
    monkeypatch.setenv("RDV_MFA_REQUIRED", "1")
    assert _password_step(db_url, "paul@demo.test", "10.0.0.2", now).pending_step is None  # basic agent
    for email, agent_id in (("lea@demo.test", world.lea), ("tina@demo.test", world.tina)):
        sign_in = _password_step(db_url, email, "10.0.0.3", now)
        assert sign_in.pending_step is SignInStep.ENROLMENT
        with UnitOfWork(db_url) as uow:
            assert agent_auth.open_session(uow, sign_in.ticket, now=now) is None
        with UnitOfWork(db_url) as uow:
            assert agent_auth.second_step_agent(uow, sign_in.ticket, now=now) == agent_id
        with UnitOfWork(db_url) as uow, pytest.raises(DomainError, match="Activez d'abord"):
            agent_auth.finish_enrolment(uow, sign_in.ticket, now=now)
        _enable(db_url, agent_id, now)
        with UnitOfWork(db_url) as uow:
            plain = agent_auth.finish_enrolment(uow, sign_in.ticket, now=now)
        with UnitOfWork(db_url) as uow:
            assert agent_auth.open_session(uow, plain, now=now) is not None
            assert agent_mfa.status(uow, agent_id).required
    with UnitOfWork(db_url) as uow, pytest.raises(DomainError, match="obligatoire"):
        agent_mfa.disable(uow, world.lea, PASSWORD, now=now)
    assert _password_step(db_url, "lea@demo.test", "10.0.0.4", now).pending_step is SignInStep.CODE


# --------------------------------------------------------------------------- lockout


def test_the_lockout_escalates_emails_the_owner_and_is_logged(db_url: str, world: World) -> None:
    start = datetime.now(UTC)
    now = start
    for round_, minutes in enumerate((1, 5, 15, 60, 60)):
        for attempt in range(5):
            with UnitOfWork(db_url) as uow, pytest.raises(DomainError) as caught:
                agent_auth.authenticate(uow, "paul@demo.test", WRONG, f"10.{round_}.0.{attempt}", now=now)
            assert caught.value.message == agent_auth.INVALID_CREDENTIALS
        with UnitOfWork(db_url) as uow:
            locked_until = uow.session.exec(select(Agent.locked_until).where(Agent.id == world.paul)).one()
        assert locked_until == now + timedelta(minutes=minutes)
        # Locked: the right password gets the same answer, and does not count.
        with UnitOfWork(db_url) as uow, pytest.raises(DomainError) as caught:
            agent_auth.authenticate(uow, "paul@demo.test", PASSWORD, f"10.{round_}.1.1",
                                    now=now + timedelta(minutes=minutes) - timedelta(seconds=1))
        assert caught.value.message == agent_auth.INVALID_CREDENTIALS
        now += timedelta(minutes=minutes, seconds=1)
    emails = _lock_emails(db_url, "paul@demo.test")
    assert len(emails) == 5
    assert emails[0]["subject"] == "Votre compte a été bloqué temporairement"
    assert "après plusieurs tentatives de connexion échouées" in emails[0]["text"]
    assert "débloqué automatiquement dans 1 minute" in emails[0]["text"]
    assert "dans 5 minutes" in emails[1]["text"] and "dans 1 heure" in emails[3]["text"]
    assert "changez votre mot de passe" in emails[0]["text"]
    kinds = [kind for kind, agent_id in _events(db_url) if agent_id == world.paul]
    # Each attempt is logged, the one made while locked too.
    assert kinds == (["sign_in_failed"] * 5 + ["account_locked", "sign_in_failed"]) * 5
    # After the lock, a sign-in starts the scale over.
    assert _password_step(db_url, "paul@demo.test", "10.9.0.1", now).pending_step is None
    with UnitOfWork(db_url) as uow:
        scale = uow.session.exec(select(Agent.lockouts, Agent.failed_sign_ins, Agent.locked_until)
                                 .where(Agent.id == world.paul)).one()
    assert tuple(scale) == (0, 0, None)
    # The lockout is per account: another agent signs in meanwhile, unknown addresses lock nothing.
    for attempt in range(5):
        with UnitOfWork(db_url) as uow, pytest.raises(DomainError):
            agent_auth.authenticate(uow, "personne@demo.test", WRONG, f"10.8.0.{attempt}", now=now)
    assert _password_step(db_url, "lea@demo.test", "10.8.1.1", now).pending_step is None


def test_wrong_codes_count_toward_the_lockout(db_url: str, world: World) -> None:
    now = datetime.now(UTC)
    secret, _codes = _enable(db_url, world.paul, now)
    sign_in = _password_step(db_url, "paul@demo.test", "10.0.0.1", now)
    wrong = f"{(int(pyotp.TOTP(secret).at(now + timedelta(seconds=30))) + 1) % 1_000_000:06d}"
    for _ in range(4):
        with UnitOfWork(db_url) as uow, pytest.raises(DomainError, match="n'est pas valide"):
            agent_auth.verify_second_factor(uow, sign_in.ticket, wrong, "10.0.0.1", now=now)
    with UnitOfWork(db_url) as uow, pytest.raises(agent_auth.SignInStopped, match="bloqué"):
        agent_auth.verify_second_factor(uow, sign_in.ticket, wrong, "10.0.0.1", now=now)
    with UnitOfWork(db_url) as uow, pytest.raises(agent_auth.SignInStopped, match="bloqué"):
        agent_auth.verify_second_factor(uow, sign_in.ticket, pyotp.TOTP(secret).at(now + timedelta(seconds=30)),
                                        "10.0.0.1", now=now)
    assert len(_lock_emails(db_url, "paul@demo.test")) == 1
    kinds = [kind for kind, _ in _events(db_url)]
    assert kinds.count("second_factor_failed") == 5 and kinds.count("account_locked") == 1


def test_a_password_change_is_logged(db_url: str, world: World) -> None:
    with UnitOfWork(db_url) as uow:
        agent_auth.change_password(uow, world.paul, PASSWORD, "Nouveau-Secret-99", "Nouveau-Secret-99",
                                   ip="10.3.3.3")
    with UnitOfWork(db_url) as uow:
        event = uow.session.exec(select(SecurityEvent.kind, SecurityEvent.agent_id, SecurityEvent.ip)).one()
    assert tuple(event) == ("password_changed", world.paul, "10.3.3.3")


# --------------------------------------------------------------------------- the log and its rights


def test_territorial_admins_read_the_log_of_their_territory_only(db_url: str, world: World) -> None:
    now = datetime.now(UTC)
    with UnitOfWork(db_url) as uow, pytest.raises(DomainError):
        agent_auth.authenticate(uow, "paul@demo.test", WRONG, "10.0.0.1", now=now)
    with UnitOfWork(db_url) as uow, pytest.raises(DomainError):
        agent_auth.authenticate(uow, "bob@demo.test", WRONG, "10.0.0.2", now=now + timedelta(seconds=1))
    with UnitOfWork(db_url) as uow:
        log = security_log.territory_log(uow, world.tina, world.arras)
    assert log.territory_name == "Pas-de-Calais"
    assert [(row.event, row.agent, row.ip) for row in log.rows] == [
        ("Échec de connexion (mot de passe)", "Paul Durand", "10.0.0.1")]
    assert log.rows[0].when.count("/") == 2 and not log.has_more
    # A basic agent, an organisation admin, a territorial admin of another territory: refused.
    for actor in (world.paul, world.lea, world.bob):
        with UnitOfWork(db_url) as uow, pytest.raises(PermissionDenied):
            security_log.territory_log(uow, actor, world.arras)
    with UnitOfWork(db_url) as uow:
        nord = security_log.territory_log(uow, world.bob, world.lille)
    assert [row.agent for row in nord.rows] == ["Bob Durand"]


def test_the_log_is_paginated_newest_first(db_url: str, world: World) -> None:
    start = datetime(2026, 12, 7, 8, 0, tzinfo=UTC)
    with UnitOfWork(db_url) as uow:
        for minute in range(security_log.PAGE_SIZE + 3):
            security_log.record(uow.session, SecurityEventKind.PASSWORD_CHANGED, agent_id=world.paul,
                                ip=f"10.0.0.{minute}", now=start + timedelta(minutes=minute))
        uow.commit()
    with UnitOfWork(db_url) as uow:
        first = security_log.territory_log(uow, world.tina, world.arras)
        second = security_log.territory_log(uow, world.tina, world.arras, 2)
    assert first.has_more and not second.has_more
    assert len(first.rows) == security_log.PAGE_SIZE and len(second.rows) == 3
    assert first.rows[0].when == "07/12/2026 09:52:00"  # Paris time
    assert second.rows[-1].ip == "10.0.0.0"


def test_under_another_secret_key_recovery_codes_still_sign_in(db_url: str, world: World) -> None:
    now = datetime.now(UTC)
    secret, codes = _enable(db_url, world.paul, now)
    with UnitOfWork(db_url) as uow:
        agent = uow.session.get(Agent, world.paul)
        assert agent is not None
        agent.totp_secret_sealed = sealed.seal(secret, key="une-autre-cle-de-l-application-0123456789")
        uow.session.add(agent)
        uow.commit()
    sign_in = _password_step(db_url, "paul@demo.test", "10.0.0.1", now)
    with UnitOfWork(db_url) as uow, pytest.raises(DomainError, match="n'est pas valide"):
        agent_auth.verify_second_factor(uow, sign_in.ticket, pyotp.TOTP(secret).at(now + timedelta(seconds=30)),
                                        "10.0.0.1", now=now)
    with UnitOfWork(db_url) as uow:
        assert agent_auth.verify_second_factor(uow, sign_in.ticket, codes[0], "10.0.0.1", now=now)
