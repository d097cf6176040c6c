"""Intervenants (issue 17, admin-domain.md 4.7): an organisation's admin adds one (a name, no email, no
sign-in, no notification), renames it, turns it into an agent (invited by email) and back; the refusals
(another role, oneself, an agent of several organisations, a taken email, a missing name) change nothing.
On SQLite and PostgreSQL."""

from __future__ import annotations

import re
from dataclasses import dataclass

import factories as make
import pytest
from db_snapshot import refused
from sqlmodel import select

from rdv_app.auth.passwords import hash_password
from rdv_app.db.models import (
    Agent,
    AgentRole,
    AgentService,
    AgentSession,
    AgentTerritorialAccessRight,
    AuditLog,
    Organisation,
    OutboxMessage,
    TerritoryService,
)
from rdv_app.db.uow import UnitOfWork
from rdv_app.domain.enums import AccessLevel
from rdv_app.services.agents import agent_auth
from rdv_app.services.agents.intervenants import (
    SEVERAL_ORGANISATIONS,
    add_intervenant,
    convert_to_agent,
    convert_to_intervenant,
    rename_intervenant,
)
from rdv_app.services.agents.invitations import accept_invitation
from rdv_app.services.agents.organisation_agents import list_agents, remove_agent

PASSWORD = "Agent-Arras-2026!"
BASIC, ADMIN, INTERVENANT = AccessLevel.BASIC.value, AccessLevel.ADMIN.value, AccessLevel.INTERVENANT.value


@dataclass(frozen=True)
class World:
    org: int
    other_org: int
    admin: int
    basic: int
    pmi: int


@pytest.fixture
def world(uow: UnitOfWork) -> World:
    s = uow.session
    territory = make.territory(s)
    pmi, social, _secretariat = make.pmi_social_secretariat(s)
    s.add_all([TerritoryService(territory_id=territory.id, service_id=service.id) for service in (pmi, social)])
    org = make.organisation(s, territory)
    other = make.organisation(s, territory, "MDS Lens", "mds-lens")
    admin = make.agent(s, "camille@exemple.fr", "Camille", "Martin", organisation=org, role=ADMIN, services=[pmi],
                       password_hash=hash_password(PASSWORD))
    basic = make.agent(s, "julien@exemple.fr", "Julien", "Petit", organisation=org, services=[pmi],
                       password_hash=hash_password(PASSWORD))
    uow.commit()
    return World(org.id, other.id, admin.id, basic.id, pmi.id)  # type: ignore[arg-type]


def _line(uow: UnitOfWork, world: World, agent_id: int):  # noqa: ANN202 - an AgentLine
    return next(line for line in list_agents(uow, world.admin, world.org).agents if line.agent_id == agent_id)


def _intervenant_id(uow: UnitOfWork, last_name: str) -> int:
    agent = uow.session.exec(select(Agent).where(Agent.last_name == last_name)).one()
    assert agent.id is not None
    return agent.id


def test_an_admin_adds_an_intervenant_renames_it_turns_it_into_an_agent_and_back(uow: UnitOfWork,
                                                                                 world: World) -> None:
    assert add_intervenant(uow, world.admin, world.org, " Avocat 1 ", "", (world.pmi,)) == \
        "Intervenant Avocat 1 créé avec succès."
    intervenant = _intervenant_id(uow, "Avocat 1")
    agent = uow.session.get(Agent, intervenant)
    assert agent is not None
    assert (agent.email, agent.first_name, agent.password_hash) == (None, None, None)
    assert (agent.rdv_notifications_level, agent.plage_ouverture_notification_level,
            agent.absence_notification_level) == ("none", "none", "none")
    line = _line(uow, world, intervenant)
    assert (line.is_intervenant, line.pending, line.access_level, line.services) == (True, False, INTERVENANT, "PMI")
    assert uow.session.exec(select(OutboxMessage)).all() == []

    assert rename_intervenant(uow, world.admin, world.org, intervenant, "Avocate", "Inès") == \
        "Intervenant modifié avec succès : Inès Avocate."
    assert _line(uow, world, intervenant).name == "Inès Avocate"

    notice = convert_to_agent(uow, world.admin, world.org, intervenant, "Ines.Roux@Exemple.fr", "Inès", "Roux", BASIC)
    assert notice == "Inès Roux est maintenant agent : une invitation a été envoyée à ines.roux@exemple.fr."
    uow.session.expire_all()
    agent = uow.session.get(Agent, intervenant)
    assert agent is not None
    assert (agent.email, agent.rdv_notifications_level, agent.plage_ouverture_notification_level) == (
        "ines.roux@exemple.fr", "others", "all")
    line = _line(uow, world, intervenant)
    assert (line.is_intervenant, line.pending, line.access_level) == (False, True, BASIC)
    [mail] = [m.payload for m in uow.session.exec(select(OutboxMessage)) if m.payload.get("to") == "ines.roux@exemple.fr"]
    token = re.search(r"/invitation\?jeton=([\w-]+)", mail["text"])
    assert token
    sign_in = accept_invitation(uow, token.group(1), first_name="Inès", last_name="Roux", password=PASSWORD,
                                confirmation=PASSWORD)
    session = agent_auth.open_session(uow, sign_in.ticket)
    assert session is not None

    assert convert_to_intervenant(uow, world.admin, world.org, intervenant) == \
        "Roux est maintenant intervenant : ce compte ne peut plus se connecter."
    uow.session.expire_all()
    agent = uow.session.get(Agent, intervenant)
    assert agent is not None
    assert (agent.email, agent.password_hash, agent.first_name, agent.rdv_notifications_level) == (
        None, None, None, "none")
    assert agent_auth.resolve_session(uow, session.token) is None
    assert uow.session.exec(select(AgentSession.revoked_at).where(AgentSession.agent_id == intervenant)).one()
    assert _line(uow, world, intervenant).is_intervenant
    actions = {row.action for row in uow.session.exec(select(AuditLog))}
    assert {"add_intervenant", "rename_intervenant", "intervenant_to_agent", "agent_to_intervenant"} <= actions

    assert remove_agent(uow, world.admin, world.org, intervenant) == "L'intervenant a été supprimé."


def test_the_refusals_change_nothing(db_url: str) -> None:
    with UnitOfWork(db_url) as uow:
        s = uow.session
        territory = make.territory(s)
        pmi = make.service(s)
        s.add(TerritoryService(territory_id=territory.id, service_id=pmi.id))  # type: ignore[arg-type]
        org = make.organisation(s, territory)
        other = make.organisation(s, territory, "MDS Lens", "mds-lens")
        admin = make.agent(s, "camille@exemple.fr", "Camille", "Martin", organisation=org, role=ADMIN,
                           services=[pmi], password_hash=hash_password(PASSWORD))
        basic = make.agent(s, "julien@exemple.fr", "Julien", "Petit", organisation=org, services=[pmi],
                           password_hash=hash_password(PASSWORD))
        karim = make.agent(s, "karim@exemple.fr", "Karim", "Haddad", organisation=org, services=[pmi],
                           password_hash=hash_password(PASSWORD))
        s.add(AgentRole(agent_id=karim.id, organisation_id=other.id, access_level=BASIC))  # type: ignore[arg-type]
        uow.commit()
        org_id, other_id, admin_id, basic_id, karim_id, pmi_id = org.id, other.id, admin.id, basic.id, karim.id, pmi.id
        add_intervenant(uow, admin_id, org_id, "Avocat 1", "", (pmi_id,))  # type: ignore[arg-type]
        intervenant = _intervenant_id(uow, "Avocat 1")
    assert org_id and admin_id and basic_id and karim_id and pmi_id

    for call, match in (
        # Only the organisation's admins.
        (lambda uow: add_intervenant(uow, basic_id, org_id, "Avocat 2", "", (pmi_id,)), "réservée aux administrateurs"),
        (lambda uow: rename_intervenant(uow, basic_id, org_id, intervenant, "X"), "réservée aux administrateurs"),
        (lambda uow: convert_to_agent(uow, basic_id, org_id, intervenant, "a@exemple.fr", "A", "B", BASIC),
         "réservée aux administrateurs"),
        (lambda uow: convert_to_intervenant(uow, basic_id, org_id, admin_id), "réservée aux administrateurs"),
        # Missing or wrong fields.
        (lambda uow: add_intervenant(uow, admin_id, org_id, "  ", "Jean", (pmi_id,)), "Indiquez le nom de l'intervenant"),
        (lambda uow: add_intervenant(uow, admin_id, org_id, "Avocat 2", "", ()), "au moins un service"),
        (lambda uow: rename_intervenant(uow, admin_id, org_id, intervenant, ""), "Indiquez le nom de l'intervenant"),
        (lambda uow: rename_intervenant(uow, admin_id, org_id, basic_id, "Petit"), "Cet intervenant ne fait pas partie"),
        (lambda uow: convert_to_agent(uow, admin_id, org_id, intervenant, "julien@exemple.fr", "A", "B", BASIC),
         "déjà utilisée par un autre compte"),
        (lambda uow: convert_to_agent(uow, admin_id, org_id, intervenant, "nouveau@exemple.fr", "", "B", BASIC),
         "Indiquez le prénom de l'agent"),
        (lambda uow: convert_to_agent(uow, admin_id, org_id, intervenant, "", "A", "B", BASIC),
         "Indiquez l'adresse email"),
        (lambda uow: convert_to_agent(uow, admin_id, org_id, intervenant, "a@exemple.fr", "A", "B", INTERVENANT),
         "Choisissez le niveau"),
        # Agent to intervenant: not oneself, not an agent of several organisations.
        (lambda uow: convert_to_intervenant(uow, admin_id, org_id, admin_id), "vous-même"),
        (lambda uow: convert_to_intervenant(uow, admin_id, org_id, karim_id), re.escape(SEVERAL_ORGANISATIONS)),
    ):
        refused(db_url, call, match)
    with UnitOfWork(db_url) as uow:
        karim_line = _line(uow, World(org_id, other_id, admin_id, basic_id, pmi_id), karim_id)  # type: ignore[arg-type]
        assert karim_line.several_organisations and not karim_line.is_intervenant
        assert uow.session.exec(select(AgentService.service_id).where(AgentService.agent_id == intervenant)).all() == [
            pmi_id]


def test_an_agent_made_intervenant_loses_the_territorys_access_rights(uow: UnitOfWork, world: World) -> None:
    """Converted back to an agent, they get those rights again only from whoever may grant them."""
    organisation = uow.session.get(Organisation, world.org)
    assert organisation is not None
    make.access_right(uow.session, world.basic, organisation.territory_id, allow_to_manage_teams=True,
                      allow_to_manage_access_rights=True, allow_to_invite_agents=True)
    uow.commit()
    convert_to_intervenant(uow, world.admin, world.org, world.basic)
    assert uow.session.exec(select(AgentTerritorialAccessRight.allow_to_manage_teams,
                                   AgentTerritorialAccessRight.allow_to_manage_access_rights,
                                   AgentTerritorialAccessRight.allow_to_invite_agents)
                            .where(AgentTerritorialAccessRight.agent_id == world.basic)).all() == [(False, False, False)]


def test_an_intervenant_renamed_since_the_form_loaded_it_is_neither_renamed_nor_converted_over_it(
        db_url: str, world: World) -> None:
    """Issue 25: the rename and convert forms give back the version of the names they showed; names another
    admin changed since are not overwritten, and nothing is sent."""
    stale = "Ces informations ont été modifiées entre-temps. Rechargez la page."
    with UnitOfWork(db_url) as uow:
        add_intervenant(uow, world.admin, world.org, "Avocat 1", "", (world.pmi,))
        intervenant = _intervenant_id(uow, "Avocat 1")
        loaded = _line(uow, world, intervenant).names_version
        rename_intervenant(uow, world.admin, world.org, intervenant, "Avocate", "Inès", expected_version=loaded)

    refused(db_url, lambda uow: rename_intervenant(uow, world.admin, world.org, intervenant, "Avocat 2",
                                                   expected_version=loaded), stale)
    refused(db_url, lambda uow: convert_to_agent(uow, world.admin, world.org, intervenant, "ines@exemple.fr", "Inès",
                                                 "Avocat 1", BASIC, expected_version=loaded), stale)

    with UnitOfWork(db_url) as uow:
        line = _line(uow, world, intervenant)
        assert (line.name, line.is_intervenant) == ("Inès Avocate", True)
        assert rename_intervenant(uow, world.admin, world.org, intervenant, "Avocate", "Inès Marie",
                                  expected_version=line.names_version) == (
            "Intervenant modifié avec succès : Inès Marie Avocate.")
