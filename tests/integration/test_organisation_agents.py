"""The agents of an organisation (issue 17): admins invite by email (or add an existing account), resend,
change levels and remove; every organisation keeps an admin; an agent with RDVs to come stays; refusals
and other roles change nothing. On SQLite and PostgreSQL."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, time, timedelta

import factories as make
import pytest
from db_snapshot import refused
from sqlmodel import select

from rdv_app.auth.passwords import hash_password
from rdv_app.db.models import (
    Absence,
    Agent,
    AgentInvitation,
    AgentRole,
    AgentService,
    AgentTerritorialAccessRight,
    OutboxMessage,
    PlageOuverture,
    Rdv,
    RdvAgent,
    TerritoryService,
)
from rdv_app.db.uow import UnitOfWork
from rdv_app.domain import clock
from rdv_app.domain.enums import AccessLevel, RdvStatus
from rdv_app.services.agents import agent_auth
from rdv_app.services.agents.invitations import InvitationState, accept_invitation, invitation_for
from rdv_app.services.agents.organisation_agents import (
    change_level,
    invite_agent,
    list_agents,
    removal_preview,
    remove_agent,
    resend_invitation,
)
from rdv_app.services.errors import DomainError

PASSWORD = "Agent-Arras-2026!"
BASIC, ADMIN = AccessLevel.BASIC.value, AccessLevel.ADMIN.value


@dataclass(frozen=True)
class World:
    org: int
    other_org: int
    admin: int
    basic: int
    pmi: int
    social: int
    elsewhere: int  # a service the territory does not offer
    lieu: int
    motif: int


@pytest.fixture
def world(uow: UnitOfWork) -> World:
    s = uow.session
    territory = make.territory(s)
    pmi, social, secretariat = make.pmi_social_secretariat(s)
    s.add_all([TerritoryService(territory_id=territory.id, service_id=service.id) for service in (pmi, social)])
    org = make.organisation(s, territory)
    other = make.organisation(s, territory, "MDS Lens", "mds-lens")
    admin = make.agent(s, "camille@exemple.fr", "Camille", "Martin", organisation=org, role=ADMIN, services=[pmi],
                       password_hash=hash_password(PASSWORD))
    basic = make.agent(s, "julien@exemple.fr", "Julien", "Petit", organisation=org, services=[pmi],
                       password_hash=hash_password(PASSWORD))
    lieu = make.lieu(s, org)
    motif = make.motif(s, org, pmi)
    uow.commit()
    return World(org.id, other.id, admin.id, basic.id, pmi.id, social.id, secretariat.id, lieu.id, motif.id)  # type: ignore[arg-type]


def emails_to(uow: UnitOfWork, address: str) -> list[dict]:
    return [m.payload for m in uow.session.exec(select(OutboxMessage).order_by(OutboxMessage.id))
            if m.payload.get("to") == address]


def link_token(payload: dict) -> str:
    found = re.search(r"/invitation\?jeton=([\w-]+)", payload["text"])
    assert found, payload["text"]
    return found.group(1)


def test_an_admin_invites_an_agent_who_accepts_and_signs_in(uow: UnitOfWork, world: World) -> None:
    notice = invite_agent(uow, world.admin, world.org, " Sophie.Bernard@Exemple.fr ", BASIC, (world.pmi, world.social))
    assert notice == "L'agent sophie.bernard@exemple.fr a été invité à rejoindre votre organisation."
    listed = list_agents(uow, world.admin, world.org)
    sophie = next(line for line in listed.agents if line.email == "sophie.bernard@exemple.fr")
    assert (sophie.pending, sophie.access_level, sophie.services) == (True, BASIC, "PMI, SOCIAL")
    assert [line.email for line in listed.agents][-1] == "sophie.bernard@exemple.fr"  # pending ones last
    assert [s.name for s in listed.services] == ["PMI", "Service social"]
    assert uow.session.exec(select(AgentTerritorialAccessRight).where(
        AgentTerritorialAccessRight.agent_id == sophie.agent_id)).one()

    [mail] = emails_to(uow, "sophie.bernard@exemple.fr")
    assert "Camille Martin vous invite à rejoindre l'organisation PMI Arras en tant qu'agent du service PMI, SOCIAL" \
        in mail["text"]
    ticket = accept_invitation(uow, link_token(mail), first_name="Sophie", last_name="Bernard", password=PASSWORD,
                               confirmation=PASSWORD)
    session = agent_auth.open_session(uow, ticket)
    assert session is not None
    identity = agent_auth.resolve_session(uow, session.token)
    assert identity is not None and [(r.name, r.access_level) for r in identity.roles] == [("PMI Arras", BASIC)]
    assert not next(line for line in list_agents(uow, world.admin, world.org).agents
                    if line.agent_id == sophie.agent_id).pending


def test_an_existing_account_joins_without_a_second_account_and_keeps_its_services(uow: UnitOfWork,
                                                                                    world: World) -> None:
    notice = invite_agent(uow, world.admin, world.org, "karim@exemple.fr", BASIC, (world.pmi,))
    assert "a été invité" in notice
    # Invited into MDS Lens by its own admin, the same address gets a second role, still one account.
    lens_admin = make.agent(uow.session, "nathalie@exemple.fr", "Nathalie", "Lefebvre", role=ADMIN,
                            organisation=uow.session.get(make.Organisation, world.other_org), services=[])
    uow.commit()
    assert lens_admin.id is not None
    notice = invite_agent(uow, lens_admin.id, world.other_org, "KARIM@exemple.fr", ADMIN, (world.social,))
    assert "a été invité à rejoindre votre organisation. Attention : les services demandés ne correspondent pas à " \
           "ceux déjà connus de cet agent (PMI)" in notice
    [karim] = uow.session.exec(select(Agent).where(Agent.email == "karim@exemple.fr")).all()
    assert len(uow.session.exec(select(AgentRole).where(AgentRole.agent_id == karim.id)).all()) == 2
    assert uow.session.exec(select(AgentService.service_id).where(AgentService.agent_id == karim.id)).all() == [
        world.pmi]

    notice = invite_agent(uow, lens_admin.id, world.other_org, "julien@exemple.fr", BASIC, (world.pmi,))
    assert notice == ("L'agent julien@exemple.fr est déjà présent sur RDV Services Publics et a rejoint votre "
                      "organisation.")
    assert emails_to(uow, "julien@exemple.fr") == []


@pytest.mark.parametrize(("email", "level", "services", "field", "message"), [
    ("julien@exemple.fr", BASIC, "pmi", "email", "L'agent julien@exemple.fr fait déjà partie de votre organisation"),
    ("", BASIC, "pmi", "email", "Indiquez l'adresse email de l'agent"),
    ("pas-une-adresse", BASIC, "pmi", "email", "L'adresse email n'est pas valide"),
    ("neuf@exemple.fr", "intervenant", "pmi", "access_level", "Choisissez le niveau"),
    ("neuf@exemple.fr", BASIC, "", "service_ids", "Choisissez au moins un service"),
    ("neuf@exemple.fr", BASIC, "elsewhere", "service_ids", "Choisissez au moins un service parmi ceux du territoire"),
])
def test_a_wrong_invitation_is_named_and_changes_nothing(db_url: str, world: World, email: str, level: str,
                                                         services: str, field: str, message: str) -> None:
    service_ids = (getattr(world, services),) if services else ()
    error = refused(db_url, lambda uow: invite_agent(uow, world.admin, world.org, email, level, service_ids), message)
    assert error.field == field


def test_a_pending_invitation_is_named_as_such_and_can_be_sent_again(uow: UnitOfWork, world: World) -> None:
    invite_agent(uow, world.admin, world.org, "sophie@exemple.fr", BASIC, (world.pmi,))
    with pytest.raises(DomainError, match="a déjà été invité à rejoindre votre organisation"):
        invite_agent(uow, world.admin, world.org, "sophie@exemple.fr", BASIC, (world.pmi,))
    sophie = uow.session.exec(select(Agent).where(Agent.email == "sophie@exemple.fr")).one()
    [first] = emails_to(uow, "sophie@exemple.fr")
    assert resend_invitation(uow, world.admin, world.org, sophie.id) == (
        "Une nouvelle invitation a été envoyée à l'agent sophie@exemple.fr.")
    [_first, second] = emails_to(uow, "sophie@exemple.fr")
    assert invitation_for(uow, link_token(first)).state is InvitationState.EXPIRED
    assert invitation_for(uow, link_token(second)).state is InvitationState.VALID
    with pytest.raises(DomainError, match="a déjà activé son compte"):
        resend_invitation(uow, world.admin, world.org, world.basic)


def test_every_organisation_keeps_an_admin(db_url: str, world: World) -> None:
    refused(db_url, lambda uow: change_level(uow, world.admin, world.org, world.admin, BASIC),
            "L'organisation doit garder au moins un administrateur")
    with UnitOfWork(db_url) as uow:
        assert change_level(uow, world.admin, world.org, world.basic, ADMIN) == (
            "Julien Petit est maintenant administrateur de l'organisation.")
        change_level(uow, world.admin, world.org, world.admin, BASIC)
        assert uow.session.exec(select(AgentRole.access_level).where(AgentRole.agent_id == world.admin)).one() == BASIC
    refused(db_url, lambda uow: remove_agent(uow, world.basic, world.org, world.basic), "vous retirer vous-même")


def _rdv(uow: UnitOfWork, world: World, agent_id: int, starts_in: timedelta, status: RdvStatus) -> None:
    starts = clock.now() + starts_in
    rdv = Rdv(organisation_id=world.org, motif_id=world.motif, lieu_id=world.lieu, starts_at=starts,
              ends_at=starts + timedelta(minutes=30), status=status.value,
              cancelled_at=clock.now() if status is RdvStatus.REVOKED else None)
    uow.session.add(rdv)
    uow.session.flush()
    uow.session.add(RdvAgent(rdv_id=rdv.id, agent_id=agent_id))  # type: ignore[arg-type]
    uow.commit()


def test_an_agent_with_rdvs_to_come_is_not_removed(db_url: str, world: World) -> None:
    with UnitOfWork(db_url) as uow:
        _rdv(uow, world, world.basic, timedelta(days=-3), RdvStatus.SEEN)
        _rdv(uow, world, world.basic, timedelta(days=2), RdvStatus.REVOKED)
        _rdv(uow, world, world.basic, timedelta(days=3), RdvStatus.UNKNOWN)
    refused(db_url, lambda uow: remove_agent(uow, world.admin, world.org, world.basic),
            "Impossible de retirer l'agent Julien Petit de PMI Arras car il a des RDV à venir dans cette organisation")


def test_removal_from_one_of_several_organisations_keeps_the_account_and_its_absences(uow: UnitOfWork,
                                                                                       world: World) -> None:
    uow.session.add(AgentRole(agent_id=world.basic, organisation_id=world.other_org, access_level=BASIC))
    here = make.plage(uow.session, world.basic, world.org, world.lieu, [world.motif], title="Ici",
                      first_day=date(2030, 1, 7), start_time=time(9), end_time=time(12))
    uow.session.add(Absence(agent_id=world.basic, title="Congés", first_day=date(2030, 2, 1), start_time=time(0),
                            end_day=date(2030, 2, 5), end_time=time(23, 59)))
    uow.commit()
    preview = removal_preview(uow, world.admin, world.org, world.basic)
    assert not preview.closes_account and "ses indisponibilités et ses autres organisations restent" in preview.message
    assert remove_agent(uow, world.admin, world.org, world.basic) == "L'agent a été retiré de l'organisation."
    assert uow.session.get(PlageOuverture, here.id) is None
    assert len(uow.session.exec(select(Absence).where(Absence.agent_id == world.basic)).all()) == 1
    assert uow.session.exec(select(AgentRole.organisation_id).where(AgentRole.agent_id == world.basic)).all() == [
        world.other_org]
    assert agent_auth.authenticate(uow, "julien@exemple.fr", PASSWORD, ip="203.0.113.9")


def test_removal_from_the_only_organisation_closes_the_account(uow: UnitOfWork, world: World) -> None:
    ticket = agent_auth.authenticate(uow, "julien@exemple.fr", PASSWORD, ip="203.0.113.9")
    session = agent_auth.open_session(uow, ticket)
    assert session is not None
    uow.session.add(Absence(agent_id=world.basic, title="Congés", first_day=date(2030, 2, 1), start_time=time(0),
                            end_day=date(2030, 2, 5), end_time=time(23, 59)))
    uow.commit()
    assert removal_preview(uow, world.admin, world.org, world.basic).closes_account
    assert remove_agent(uow, world.admin, world.org, world.basic) == "Le compte agent a été supprimé."
    assert agent_auth.resolve_session(uow, session.token) is None
    with pytest.raises(DomainError, match="Adresse email ou mot de passe incorrect"):
        agent_auth.authenticate(uow, "julien@exemple.fr", PASSWORD, ip="203.0.113.9")
    assert uow.session.exec(select(Absence).where(Absence.agent_id == world.basic)).all() == []

    invite_agent(uow, world.admin, world.org, "sophie@exemple.fr", BASIC, (world.pmi,))
    sophie = uow.session.exec(select(Agent).where(Agent.email == "sophie@exemple.fr")).one()
    [mail] = emails_to(uow, "sophie@exemple.fr")
    assert remove_agent(uow, world.admin, world.org, sophie.id) == "L'invitation a été supprimée."
    assert invitation_for(uow, link_token(mail)).state is not InvitationState.VALID
    assert uow.session.exec(select(AgentInvitation).where(AgentInvitation.agent_id == sophie.id,
                                                          AgentInvitation.expires_at > clock.now())).all() == []


def test_only_the_organisation_admins_manage_its_agents(db_url: str, world: World) -> None:
    with UnitOfWork(db_url) as uow:
        lens_admin = make.agent(uow.session, "nathalie@exemple.fr", "Nathalie", "Lefebvre", role=ADMIN,
                                organisation=uow.session.get(make.Organisation, world.other_org))
        uow.commit()
        lens_admin_id = lens_admin.id
    assert lens_admin_id is not None
    for actor in (world.basic, lens_admin_id):  # a basic agent; the admin of another organisation
        for call in (lambda uow, a=actor: list_agents(uow, a, world.org),
                     lambda uow, a=actor: invite_agent(uow, a, world.org, "x@exemple.fr", BASIC, (world.pmi,)),
                     lambda uow, a=actor: change_level(uow, a, world.org, world.basic, ADMIN),
                     lambda uow, a=actor: removal_preview(uow, a, world.org, world.basic),
                     lambda uow, a=actor: remove_agent(uow, a, world.org, world.basic)):
            refused(db_url, call, "réservée aux administrateurs|n'appartenez pas à cette organisation")
    # An admin naming an agent of another organisation: not found, nothing changed.
    refused(db_url, lambda uow: change_level(uow, lens_admin_id, world.other_org, world.basic, ADMIN),
            "ne fait pas partie de l'organisation")
