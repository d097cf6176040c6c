"""A real instance is not the demo (issue 15): started without RDV_DEMO=1 it seeds nothing, refuses a database
that holds the demo's accounts, says how to create its first super admin, and `bootstrap` invites that super
admin through a one-time link that sets a password, on SQLite and PostgreSQL."""

from __future__ import annotations

import re
import subprocess
import sys
import threading
from datetime import timedelta
from pathlib import Path

import pyotp
import pytest
import time_machine
from processes import python_env
from sqlalchemy import func
from sqlmodel import select

from rdv_app.db.models import Agent, AgentInvitation, AuditLog, Territory
from rdv_app.db.uow import UnitOfWork
from rdv_app.demo.seed import _AGENTS, seed_demo
from rdv_app.domain import clock
from rdv_app.domain.deployment import DEMO_EMAIL_DOMAIN
from rdv_app.domain.enums import SignInStep
from rdv_app.services import deployment
from rdv_app.services.agents import agent_auth, agent_mfa
from rdv_app.services.agents.invitations import (
    INVITATION_LIFETIME,
    BootstrapRefused,
    InvitationState,
    accept_invitation,
    bootstrap_super_admin,
    invitation_for,
)
from rdv_app.services.errors import DomainError

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "Premier-Admin-2026"
BASE = "https://rdv.exemple.fr"


def python(database_url: str, *arguments: str, demo: bool = False) -> subprocess.CompletedProcess[str]:
    env = python_env(REFLEX_DB_URL=database_url, RDV_PUBLIC_URL=BASE)
    env.pop("RDV_DEMO", None)
    if demo:
        env["RDV_DEMO"] = "1"
    return subprocess.run([sys.executable, *arguments], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=300, check=False)


def cli(database_url: str, *arguments: str, demo: bool = False) -> subprocess.CompletedProcess[str]:
    return python(database_url, "-m", "rdv_app.cli", *arguments, demo=demo)


# What the app runs as it starts (a lifespan task), however the server is started.
START = """
import asyncio
from rdv_app.api.http import deployment_guard

async def start():
    async with deployment_guard():
        print("servie")

asyncio.run(start())
"""


def count(url: str, model: type) -> int:
    with UnitOfWork(url, read_only=True) as uow:
        return uow.session.exec(select(func.count()).select_from(model)).one()


def enrol(uow: UnitOfWork, sign_in: agent_auth.SignIn) -> str:
    """The second factor set up as the page does it (a code of the secret shown); the plain ticket."""
    agent_id = agent_auth.second_step_agent(uow, sign_in.ticket)
    enrolment = agent_mfa.new_enrolment(uow, agent_id)
    agent_mfa.confirm_enrolment(uow, agent_id, enrolment.secret, pyotp.TOTP(enrolment.secret).now())
    return agent_auth.finish_enrolment(uow, sign_in.ticket)


def link_token(output: str) -> str:
    match = re.search(re.escape(BASE) + r"/invitation\?jeton=([\w-]+)", output)
    assert match, output
    return match.group(1)


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_a_real_instance_on_an_empty_database_seeds_nothing_and_says_how_to_create_its_first_account(
        database: str, fresh_url: str) -> None:
    prepared = cli(fresh_url, "prepare")
    assert prepared.returncode == 0, prepared.stderr
    assert deployment.BOOTSTRAP_COMMAND in prepared.stdout
    assert "démo" not in prepared.stdout.casefold() and "RdvDemo" not in prepared.stdout
    assert count(fresh_url, Territory) == count(fresh_url, Agent) == 0
    # `make seed` wipes the database: a real instance refuses.
    seeded = cli(fresh_url, "seed")
    assert seeded.returncode == 2 and "RDV_DEMO=1" in seeded.stderr
    assert count(fresh_url, Territory) == 0


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_a_real_instance_refuses_to_serve_a_database_holding_the_demo(database: str, fresh_url: str) -> None:
    assert cli(fresh_url, "prepare", demo=True).returncode == 0
    assert count(fresh_url, Territory) > 0
    refused = cli(fresh_url, "prepare")
    assert refused.returncode == 2
    assert "comptes de la démonstration" in refused.stderr and "camille.martin@demo.test" in refused.stderr
    served = cli(fresh_url, "serve", "--port", "1")  # stops before starting any server
    assert served.returncode == 2 and "comptes de la démonstration" in served.stderr
    started = python(fresh_url, "-c", START)
    assert started.returncode == 1 and "DemoDatabaseRefused" in started.stderr and "servie" not in started.stdout
    assert python(fresh_url, "-c", START, demo=True).stdout.strip() == "servie"


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_a_real_instance_starts_on_an_empty_or_unmigrated_database(database: str, fresh_url: str) -> None:
    assert python(fresh_url, "-c", START).stdout.strip() == "servie"
    assert cli(fresh_url, "prepare").returncode == 0
    assert python(fresh_url, "-c", START).stdout.strip() == "servie"


def test_every_account_of_the_demo_is_recognised_as_such() -> None:
    assert all(spec.email.endswith(f"@{DEMO_EMAIL_DOMAIN}") for spec in _AGENTS if spec.email)


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_bootstrap_invites_the_first_super_admin_who_sets_a_password_once(database: str, fresh_url: str) -> None:
    assert cli(fresh_url, "prepare").returncode == 0
    invited = cli(fresh_url, "bootstrap", "--email", " Admin@Exemple.fr ")
    assert invited.returncode == 0, invited.stderr
    token = link_token(invited.stdout)
    with UnitOfWork(fresh_url) as uow:
        [agent] = uow.session.exec(select(Agent)).all()
        assert (agent.email, agent.super_admin, agent.password_hash) == ("admin@exemple.fr", True, None)
        assert token not in str(uow.session.exec(select(AgentInvitation.token_hash)).all())
        assert deployment.needs_bootstrap(uow)
        shown = invitation_for(uow, token)
        assert (shown.state, shown.email) == (InvitationState.VALID, "admin@exemple.fr")
        assert shown.expires_at == uow.session.exec(select(AgentInvitation.expires_at)).one()

        # A weak password changes nothing: the link still works.
        with pytest.raises(DomainError) as weak:
            accept_invitation(uow, token, first_name="Aline", last_name="Roche", password="court",
                              confirmation="court")
        assert weak.value.field == "password"
        assert invitation_for(uow, token).state is InvitationState.VALID

        sign_in = accept_invitation(uow, token, first_name=" Aline ", last_name="Roche", password=PASSWORD,
                                    confirmation=PASSWORD)
        # A super admin always has a second factor: no session before it is set up.
        assert sign_in.pending_step is SignInStep.ENROLMENT
        assert agent_auth.open_session(uow, sign_in.ticket) is None
        opened = agent_auth.open_session(uow, enrol(uow, sign_in))
        assert opened is not None
        identity = agent_auth.resolve_session(uow, opened.token)
        assert identity is not None and identity.super_admin and identity.display_name == "Aline Roche"
        assert identity.roles == () and not deployment.needs_bootstrap(uow)
        # A super admin of no organisation signs in with the chosen password, then a code.
        assert agent_auth.authenticate(uow, "admin@exemple.fr", PASSWORD,
                                       ip="203.0.113.9").pending_step is SignInStep.CODE

        assert invitation_for(uow, token).state is InvitationState.USED
        with pytest.raises(DomainError, match="déjà servi"):
            accept_invitation(uow, token, first_name="Autre", last_name="Personne", password=PASSWORD,
                              confirmation=PASSWORD)
        assert {row.action for row in uow.session.exec(select(AuditLog))} >= {"bootstrap_super_admin",
                                                                                "accept_invitation"}
    again = cli(fresh_url, "bootstrap", "--email", "autre@exemple.fr")
    assert again.returncode == 1 and "existe déjà (admin@exemple.fr)" in again.stderr
    assert count(fresh_url, Agent) == 1


def test_a_new_bootstrap_link_replaces_the_previous_one_and_a_link_expires(uow: UnitOfWork) -> None:
    first = bootstrap_super_admin(uow, "admin@exemple.fr")
    second = bootstrap_super_admin(uow, "admin@exemple.fr")
    assert invitation_for(uow, first).state is InvitationState.EXPIRED
    assert invitation_for(uow, second).state is InvitationState.VALID
    assert len(uow.session.exec(select(Agent)).all()) == 1
    with time_machine.travel(clock.now() + INVITATION_LIFETIME + timedelta(seconds=1)):
        assert invitation_for(uow, second).state is InvitationState.EXPIRED
        with pytest.raises(DomainError, match="expiré"):
            accept_invitation(uow, second, first_name="Aline", last_name="Roche", password=PASSWORD,
                              confirmation=PASSWORD)
    assert invitation_for(uow, "pas-un-jeton").state is InvitationState.UNKNOWN
    with pytest.raises(BootstrapRefused, match="adresse email"):
        bootstrap_super_admin(uow, "pas une adresse")


def test_two_tabs_opening_the_same_link_set_one_password(db_url: str) -> None:
    with UnitOfWork(db_url) as uow:
        token = bootstrap_super_admin(uow, "admin@exemple.fr")
    outcomes: list[str] = []
    start = threading.Barrier(2)

    def accept(password: str) -> None:
        start.wait()
        try:
            with UnitOfWork(db_url) as uow:
                accept_invitation(uow, token, first_name="Aline", last_name="Roche", password=password,
                                  confirmation=password)
            outcomes.append(password)
        except DomainError:
            outcomes.append("refusé")

    threads = [threading.Thread(target=accept, args=(p,)) for p in (PASSWORD, PASSWORD + "x")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcomes.count("refusé") == 1 and len(outcomes) == 2
    with UnitOfWork(db_url) as uow:
        assert agent_auth.authenticate(uow, "admin@exemple.fr", next(o for o in outcomes if o != "refusé"),
                                       ip="203.0.113.9").ticket


def test_the_demo_database_is_not_a_first_start(uow: UnitOfWork) -> None:
    seed_demo(uow)
    assert deployment.demo_accounts(uow)
    assert not deployment.needs_bootstrap(uow)
