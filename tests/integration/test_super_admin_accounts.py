"""A super admin opens a territory (issue 17): the territory, its first organisation and its first admin,
invited by email through the outbox, in one transaction; anyone else, or a wrong field, changes nothing."""

from __future__ import annotations

import re

import factories as make
import pytest
from db_snapshot import refused
from sqlmodel import select

from rdv_app.auth.passwords import hash_password
from rdv_app.db.models import (
    AgentRole,
    AgentService,
    AgentTerritorialAccessRight,
    AgentTerritorialRole,
    AuditLog,
    Organisation,
    OutboxMessage,
    Territory,
    TerritoryService,
)
from rdv_app.db.uow import UnitOfWork
from rdv_app.domain.enums import AccessLevel, SignInStep
from rdv_app.services.agents import agent_auth
from rdv_app.services.agents.invitations import (
    InvitationState,
    accept_invitation,
    bootstrap_super_admin,
    invitation_for,
)
from rdv_app.services.instance.accounts import (
    NewAccount,
    invite_super_admin,
    list_super_admins,
    list_territories,
    open_account,
)
from rdv_app.services.instance.catalogue import add_service, list_services

PASSWORD = "Premier-Admin-2026"

def account(service_ids: tuple[int, ...], **changes: str) -> NewAccount:
    values = {"departement_number": " 62 ", "territory_name": "Pas-de-Calais", "timezone": "Europe/Paris",
              "organisation_name": "PMI Arras", "admin_email": "Camille.Martin@exemple.fr", **changes}
    return NewAccount(**values, service_ids=service_ids)


def super_admin(uow: UnitOfWork, email: str = "admin@exemple.fr") -> tuple[int, tuple[int, ...]]:
    """A super admin (bootstrapped, signed in) and the catalogue they filled: PMI and Secrétariat."""
    token = bootstrap_super_admin(uow, email)
    sign_in = accept_invitation(uow, token, first_name="Aline", last_name="Roche", password=PASSWORD,
                                confirmation=PASSWORD)
    agent_id = agent_auth.second_step_agent(uow, sign_in.ticket)
    pmi = add_service(uow, agent_id, "Protection Maternelle Infantile", "PMI", False)
    secretariat = add_service(uow, agent_id, "Secrétariat", "Secrétariat", True)
    return agent_id, (pmi, secretariat)


def invitation_link(uow: UnitOfWork, email: str) -> str:
    [payload] = [m.payload for m in uow.session.exec(select(OutboxMessage)) if m.payload.get("to") == email]
    assert payload["subject"] == "Invitation à rejoindre RDV Services Publics"
    assert "Aline Roche vous invite à rejoindre l'organisation PMI Arras (territoire 62 Pas-de-Calais)" in payload["text"]
    found = re.search(r"/invitation\?jeton=([\w-]+)", payload["text"])
    assert found and found.group(0) in payload["html"]
    return found.group(1)


def test_a_super_admin_opens_a_territory_whose_admin_accepts_the_emailed_invitation(uow: UnitOfWork) -> None:
    actor, (pmi, _secretariat) = super_admin(uow)
    opened = open_account(uow, actor, account((pmi,)))
    assert opened.invited
    territory = uow.session.get(Territory, opened.territory_id)
    organisation = uow.session.get(Organisation, opened.organisation_id)
    assert territory is not None and organisation is not None
    assert (territory.departement_number, territory.name, territory.timezone) == ("62", "Pas-de-Calais",
                                                                                   "Europe/Paris")
    assert (organisation.name, organisation.slug, organisation.territory_id) == ("PMI Arras", "pmi-arras",
                                                                                 territory.id)
    [role] = uow.session.exec(select(AgentRole).where(AgentRole.agent_id == opened.admin_agent_id)).all()
    assert (role.organisation_id, role.access_level) == (organisation.id, AccessLevel.ADMIN.value)
    assert uow.session.exec(select(AgentTerritorialRole.territory_id)
                            .where(AgentTerritorialRole.agent_id == opened.admin_agent_id)).all() == [territory.id]
    rights = uow.session.exec(select(AgentTerritorialAccessRight)
                              .where(AgentTerritorialAccessRight.agent_id == opened.admin_agent_id)).one()
    assert rights.allow_to_invite_agents and rights.allow_to_manage_access_rights and rights.allow_to_manage_teams
    assert uow.session.exec(select(AgentService.service_id)
                            .where(AgentService.agent_id == opened.admin_agent_id)).all() == [pmi]
    assert uow.session.exec(select(TerritoryService.service_id)
                            .where(TerritoryService.territory_id == territory.id)).all() == [pmi]
    assert "open_account" in {row.action for row in uow.session.exec(select(AuditLog))}
    [line] = list_territories(uow, actor)
    assert (line.departement_number, line.name, line.organisations, line.admins) == (
        "62", "Pas-de-Calais", 1, "camille.martin@exemple.fr")

    token = invitation_link(uow, "camille.martin@exemple.fr")
    assert invitation_for(uow, token).state is InvitationState.VALID
    sign_in = accept_invitation(uow, token, first_name="Camille", last_name="Martin", password=PASSWORD,
                                confirmation=PASSWORD)
    assert sign_in.pending_step is None  # an organisation admin, without RDV_MFA_REQUIRED
    session = agent_auth.open_session(uow, sign_in.ticket)
    assert session is not None
    identity = agent_auth.resolve_session(uow, session.token)
    assert identity is not None and not identity.super_admin
    assert [(r.name, r.access_level) for r in identity.roles] == [("PMI Arras", AccessLevel.ADMIN.value)]
    assert identity.territorial_admin_of == (territory.id,)


def test_an_existing_account_gets_the_roles_without_a_new_invitation(uow: UnitOfWork) -> None:
    actor, services = super_admin(uow)
    make.agent(uow.session, "camille.martin@exemple.fr", "Camille", "Martin", password_hash=hash_password(PASSWORD))
    uow.commit()
    opened = open_account(uow, actor, account(services))
    assert not opened.invited
    assert [m for m in uow.session.exec(select(OutboxMessage)) if m.payload.get("to") == "camille.martin@exemple.fr"] == []


@pytest.mark.parametrize(("change", "field", "message"), [
    ({"departement_number": ""}, "departement_number", "Indiquez le numéro du département"),
    ({"departement_number": "6-2"}, "departement_number", "1 à 3 chiffres ou lettres"),
    ({"territory_name": "  "}, "territory_name", "Indiquez le nom du territoire"),
    ({"timezone": "Europe/Arras"}, "timezone", "Ce fuseau horaire n'existe pas"),
    ({"organisation_name": ""}, "organisation_name", "Indiquez le nom de la première organisation"),
    ({"admin_email": "camille"}, "admin_email", "L'adresse email n'est pas valide"),
    ({"service_ids": ()}, "service_ids", "Choisissez au moins un service"),
    ({"service_ids": (999_999,)}, "service_ids", "Choisissez au moins un service"),
])
def test_a_wrong_field_is_named_and_changes_nothing(db_url: str, change: dict, field: str, message: str) -> None:
    with UnitOfWork(db_url) as uow:
        actor, services = super_admin(uow)
    wrong = NewAccount(**{**account(services).__dict__, **change})
    error = refused(db_url, lambda uow: open_account(uow, actor, wrong), message)
    assert error.field == field


def test_a_territory_number_is_opened_once(db_url: str) -> None:
    with UnitOfWork(db_url) as uow:
        actor, services = super_admin(uow)
        open_account(uow, actor, account(services))
    again = account(services, organisation_name="MDS Lens", admin_email="autre@exemple.fr")
    refused(db_url, lambda uow: open_account(uow, actor, again), "Le territoire 62 existe déjà")


def test_only_super_admins_open_territories_or_list_them(db_url: str) -> None:
    with UnitOfWork(db_url) as uow:
        territory = make.territory(uow.session)
        organisation = make.organisation(uow.session, territory)
        admin = make.agent(uow.session, "nathalie@exemple.fr", "Nathalie", "Lefebvre", organisation=organisation,
                           role=AccessLevel.ADMIN.value)
        uow.session.add(AgentTerritorialRole(agent_id=admin.id, territory_id=territory.id))
        uow.commit()
        admin_id = admin.id
    assert admin_id is not None
    with UnitOfWork(db_url) as uow:
        service_id = make.service(uow.session).id
        uow.commit()
    assert service_id is not None
    other = account((service_id,), departement_number="59", territory_name="Nord")
    for call in (lambda uow: open_account(uow, admin_id, other), lambda uow: list_territories(uow, admin_id),
                 lambda uow: add_service(uow, admin_id, "Mairie", "Mairie", False),
                 lambda uow: list_services(uow, admin_id)):
        refused(db_url, call, "réservée aux super administrateurs")


def test_the_catalogue_names_a_service_once(db_url: str) -> None:
    with UnitOfWork(db_url) as uow:
        actor, _services = super_admin(uow)
        assert [(s.short_name, s.is_secretariat) for s in list_services(uow, actor)] == [
            ("PMI", False), ("Secrétariat", True)]
    error = refused(db_url, lambda uow: add_service(uow, actor, " protection maternelle infantile ", "PMI 2", False),
                    "Le service « protection maternelle infantile » existe déjà")
    assert error.field == "name"
    assert refused(db_url, lambda uow: add_service(uow, actor, "Mairie", "", False), "nom court").field == "short_name"


def test_a_super_admin_invites_another_who_must_set_up_a_second_factor(uow: UnitOfWork) -> None:
    actor, _services = super_admin(uow)
    message = invite_super_admin(uow, actor, " Bruno.Leroy@Exemple.fr ")
    assert message == "Une invitation a été envoyée à bruno.leroy@exemple.fr."
    [payload] = [m.payload for m in uow.session.exec(select(OutboxMessage)) if m.payload.get("to") == "bruno.leroy@exemple.fr"]
    assert "Aline Roche vous invite à rejoindre la super administration de l'instance" in payload["text"]
    token = re.search(r"/invitation\?jeton=([\w-]+)", payload["text"])
    assert token
    assert [(row.email, row.name, row.pending) for row in list_super_admins(uow, actor)] == [
        ("admin@exemple.fr", "Aline Roche", False), ("bruno.leroy@exemple.fr", "", True)]
    sign_in = accept_invitation(uow, token.group(1), first_name="Bruno", last_name="Leroy", password=PASSWORD,
                                confirmation=PASSWORD)
    assert sign_in.pending_step == SignInStep.ENROLMENT  # a super admin always sets up the second factor
    audit = uow.session.exec(select(AuditLog).where(AuditLog.action == "grant_super_admin")).one()
    assert (audit.actor_agent_id, audit.changes) == (actor, {"super_admin": [False, True]})


def test_an_agent_made_super_admin_is_signed_out_everywhere_to_sign_in_with_a_second_factor(uow: UnitOfWork) -> None:
    actor, _services = super_admin(uow)
    agent = make.agent(uow.session, "camille.martin@exemple.fr", "Camille", "Martin",
                       password_hash=hash_password(PASSWORD),
                       organisation=make.organisation(uow.session, make.territory(uow.session)))
    uow.commit()
    opened = agent_auth.open_session(uow, agent_auth.authenticate(uow, agent.email or "", PASSWORD, "10.0.0.1").ticket)
    assert opened is not None and agent_auth.resolve_session(uow, opened.token) is not None
    assert invite_super_admin(uow, actor, "camille.martin@exemple.fr").startswith(
        "camille.martin@exemple.fr est maintenant super administrateur")
    assert agent_auth.resolve_session(uow, opened.token) is None
    assert [m for m in uow.session.exec(select(OutboxMessage)) if m.payload.get("to") == "camille.martin@exemple.fr"] == []
    assert agent_auth.authenticate(uow, "camille.martin@exemple.fr", PASSWORD, "10.0.0.1").pending_step \
        == SignInStep.ENROLMENT


@pytest.mark.parametrize(("email", "message"), [
    ("", "Indiquez l'adresse email de la personne à inviter."),
    ("bruno", "L'adresse email n'est pas valide"),
    ("Admin@exemple.fr", "admin@exemple.fr est déjà super administrateur de l'instance."),
])
def test_a_wrong_super_admin_invitation_changes_nothing(db_url: str, email: str, message: str) -> None:
    with UnitOfWork(db_url) as uow:
        actor, _services = super_admin(uow)
    error = refused(db_url, lambda uow: invite_super_admin(uow, actor, email), message)
    assert error.field == "email"


def test_only_a_super_admin_invites_super_admins(db_url: str) -> None:
    with UnitOfWork(db_url) as uow:
        territory = make.territory(uow.session)
        admin = make.agent(uow.session, "nathalie@exemple.fr", "Nathalie", "Lefebvre",
                           organisation=make.organisation(uow.session, territory), role=AccessLevel.ADMIN.value)
        uow.session.add(AgentTerritorialRole(agent_id=admin.id, territory_id=territory.id))
        uow.commit()
        admin_id = admin.id
    assert admin_id is not None
    for call in (lambda uow: invite_super_admin(uow, admin_id, "nathalie@exemple.fr"),
                 lambda uow: list_super_admins(uow, admin_id)):
        refused(db_url, call, "réservée aux super administrateurs")
