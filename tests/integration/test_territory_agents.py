"""The Espace Admin of a territory (issue 17): "Agents du territoire" (search, invitation into several
organisations, services, access rights, territorial admin), "Équipes" and their filter in "Trouver un RDV".
Rights as rdv_app.services.rights says; refusals change nothing. On SQLite and PostgreSQL."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time

import factories as make
import pytest
from db_snapshot import refused
from sqlmodel import col, select

from rdv_app.auth.passwords import hash_password
from rdv_app.db.models import (
    AgentRole,
    AgentService,
    AgentTeam,
    AgentTerritorialAccessRight,
    AgentTerritorialRole,
    AuditLog,
    OutboxMessage,
    Team,
    TerritoryService,
)
from rdv_app.db.uow import UnitOfWork
from rdv_app.domain.enums import AccessLevel
from rdv_app.services.agents import teams, territory_agents
from rdv_app.services.agents.territory_agents import AccessRights, Placement
from rdv_app.services.availability import creneaux

BASIC, ADMIN = AccessLevel.BASIC.value, AccessLevel.ADMIN.value
MONDAY = date(2026, 12, 7)
NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)


@dataclass(frozen=True)
class World:
    arras: int
    lens: int
    reunion_org: int
    chief: int  # territorial admin of the 62, admin of PMI Arras
    helene: int  # basic agent of PMI Arras, no territory right
    eloise: int  # basic agent of MDS Lens, with an accent in her name
    karim: int  # basic agent of Arras and Lens, social service
    reunion_admin: int  # territorial admin of the 974
    pmi: int
    social: int
    secretariat: int
    lieu: int
    motif_pmi: int
    motif_social: int


@pytest.fixture
def world(uow: UnitOfWork) -> World:
    s = uow.session
    territory = make.territory(s)
    reunion = make.territory(s, "974", "La Réunion")
    pmi, social, secretariat = make.pmi_social_secretariat(s)
    s.add_all([TerritoryService(territory_id=t.id, service_id=service.id)
               for t in (territory, reunion) for service in (pmi, social, secretariat)])
    arras = make.organisation(s, territory)
    lens = make.organisation(s, territory, "MDS Lens", "mds-lens")
    reunion_org = make.organisation(s, reunion, "PMI Saint-Denis", "pmi-saint-denis")
    password = hash_password("Agent-Arras-2026!")
    chief = make.agent(s, "camille@exemple.fr", "Camille", "Martin", organisation=arras, role=ADMIN, services=[pmi],
                       password_hash=password)
    helene = make.agent(s, "helene@exemple.fr", "Hélène", "Roussel", organisation=arras, services=[pmi],
                        password_hash=password)
    eloise = make.agent(s, "eloise@exemple.fr", "Éloïse", "Lefèbvre", organisation=lens, services=[social],
                        password_hash=password)
    karim = make.agent(s, "karim@exemple.fr", "Karim", "Haddad", organisation=arras, services=[social],
                       password_hash=password)
    s.add(AgentRole(agent_id=karim.id, organisation_id=lens.id))
    reunion_admin = make.agent(s, "marie@exemple.fr", "Marie", "Payet", organisation=reunion_org, role=ADMIN,
                               services=[pmi], password_hash=password)
    s.add_all([AgentTerritorialRole(agent_id=chief.id, territory_id=territory.id),
               AgentTerritorialRole(agent_id=reunion_admin.id, territory_id=reunion.id)])
    s.add_all([AgentTerritorialAccessRight(agent_id=a.id, territory_id=territory.id) for a in (chief, helene, eloise, karim)])
    s.add(AgentTerritorialAccessRight(agent_id=reunion_admin.id, territory_id=reunion.id))
    lieu = make.lieu(s, arras)
    motif_pmi = make.motif(s, arras, pmi, default_duration_in_min=30)
    motif_social = make.motif(s, arras, social, "Entretien social", default_duration_in_min=30)
    uow.commit()
    return World(arras.id, lens.id, reunion_org.id, chief.id, helene.id, eloise.id, karim.id, reunion_admin.id,  # type: ignore[arg-type]
                 pmi.id, social.id, secretariat.id, lieu.id, motif_pmi.id, motif_social.id)  # type: ignore[arg-type]


def _grant(db_url: str, agent_id: int, **rights: bool) -> None:
    with UnitOfWork(db_url) as uow:
        row = uow.session.exec(select(AgentTerritorialAccessRight).where(
            AgentTerritorialAccessRight.agent_id == agent_id)).first()
        assert row is not None
        for right, value in rights.items():
            setattr(row, right, value)
        uow.session.add(row)
        uow.commit()


def test_the_list_covers_the_territory_and_searches_ignoring_accents(uow: UnitOfWork, world: World) -> None:
    listed = territory_agents.list_territory_agents(uow, world.chief, world.lens)
    assert listed.territory_name == "Pas-de-Calais"
    assert [line.name for line in listed.agents] == ["Karim Haddad", "Éloïse Lefèbvre", "Camille Martin",
                                                     "Hélène Roussel"]
    by_name = {line.name: line for line in listed.agents}
    assert by_name["Camille Martin"].territorial_admin and not by_name["Karim Haddad"].territorial_admin
    assert [(m.organisation, m.level) for m in by_name["Karim Haddad"].memberships] == [("MDS Lens", "Agent"),
                                                                                        ("PMI Arras", "Agent")]
    assert [o.name for o in listed.organisations] == ["MDS Lens", "PMI Arras"]
    assert [line.name for line in listed.agents if territory_agents.matches(line, "eloise LEFEB")] == [
        "Éloïse Lefèbvre"]
    assert [line.name for line in listed.agents if territory_agents.matches(line, "helene@")] == ["Hélène Roussel"]
    # La Réunion's admin is not an agent of the 62 and sees only the 974.
    assert [line.name for line in territory_agents.list_territory_agents(uow, world.reunion_admin,
                                                                         world.reunion_org).agents] == ["Marie Payet"]


def test_agents_without_a_territory_right_are_refused_and_an_access_right_opens_only_its_actions(
        db_url: str, world: World) -> None:
    refused(db_url, lambda uow: territory_agents.list_territory_agents(uow, world.helene, world.arras),
            "réservée aux administrateurs du territoire")
    refused(db_url, lambda uow: territory_agents.set_agent_services(uow, world.helene, world.arras, world.karim,
                                                                    (world.pmi,)), "gérer les droits d'accès")
    refused(db_url, lambda uow: teams.create_team(uow, world.helene, world.arras, "Équipe A"), "équipes")
    refused(db_url, lambda uow: territory_agents.invite_to_territory(
        uow, world.helene, world.arras, "new@exemple.fr", (Placement(world.arras, BASIC),), (world.pmi,)), "inviter")
    # Another territory's admin, naming an organisation of the 62 or an agent of the 62 from the 974.
    refused(db_url, lambda uow: territory_agents.set_territorial_admin(uow, world.reunion_admin, world.arras,
                                                                       world.karim, True), "réservée")
    refused(db_url, lambda uow: territory_agents.set_territorial_admin(uow, world.reunion_admin, world.reunion_org,
                                                                       world.karim, True), "ne fait pas partie")
    refused(db_url, lambda uow: territory_agents.set_agent_services(uow, world.reunion_admin, world.reunion_org,
                                                                    world.karim, (world.pmi,)), "ne fait pas partie")

    _grant(db_url, world.helene, allow_to_manage_access_rights=True)
    with UnitOfWork(db_url) as uow:
        listed = territory_agents.list_territory_agents(uow, world.helene, world.arras)
        assert listed.rights.allow_to_manage_access_rights and not listed.rights.allow_to_invite_agents
        assert listed.organisations == ()
        assert territory_agents.set_agent_services(uow, world.helene, world.arras, world.karim,
                                                   (world.social, world.secretariat)) == (
            "Les services de Karim Haddad ont été modifiés.")
        assert territory_agents.set_access_rights(
            uow, world.helene, world.arras, world.eloise, AccessRights(True, False, False)) == (
            "Droits d'accès de Éloïse Lefèbvre mis à jour.")
    # Never their own rights, never the territorial admin flag, never teams or invitations.
    refused(db_url, lambda uow: territory_agents.set_access_rights(uow, world.helene, world.arras, world.helene,
                                                                   AccessRights(True, True, True)), "propres droits")
    refused(db_url, lambda uow: territory_agents.set_territorial_admin(uow, world.helene, world.arras, world.helene,
                                                                       True), "Seuls les administrateurs du territoire")
    refused(db_url, lambda uow: teams.create_team(uow, world.helene, world.arras, "Équipe A"), "équipes")
    with UnitOfWork(db_url) as uow:
        assert set(uow.session.exec(select(AgentService.service_id).where(AgentService.agent_id == world.karim))) == {
            world.social, world.secretariat}
        assert uow.session.exec(select(AgentTerritorialAccessRight.allow_to_manage_teams).where(
            AgentTerritorialAccessRight.agent_id == world.eloise)).one()
        actions = uow.session.exec(select(AuditLog.action).where(AuditLog.entity_type == "territory_agent")
                                   .order_by(col(AuditLog.id))).all()
        assert actions == ["change_services", "change_access_rights"]


def test_a_territory_always_keeps_a_territorial_admin(db_url: str, world: World) -> None:
    refused(db_url, lambda uow: territory_agents.set_territorial_admin(uow, world.chief, world.arras, world.chief,
                                                                       False),
            "Le territoire doit toujours garder au moins un administrateur de territoire")
    with UnitOfWork(db_url) as uow:
        assert territory_agents.set_territorial_admin(uow, world.chief, world.lens, world.eloise, True) == (
            "Éloïse Lefèbvre est maintenant administrateur du territoire.")
        assert territory_agents.set_territorial_admin(uow, world.chief, world.arras, world.chief, False) == (
            "Camille Martin n'est plus administrateur du territoire.")
        admins = set(uow.session.exec(select(AgentTerritorialRole.agent_id)))
        assert admins == {world.reunion_admin, world.eloise}
    refused(db_url, lambda uow: territory_agents.set_territorial_admin(uow, world.eloise, world.lens, world.eloise,
                                                                       False), "au moins un administrateur")
    # Camille is no longer territorial admin: the page is closed to her (no access right either).
    refused(db_url, lambda uow: territory_agents.list_territory_agents(uow, world.chief, world.arras), "réservée")


def test_a_service_stays_while_a_plage_offers_its_motifs_and_an_agent_keeps_one(db_url: str, world: World) -> None:
    with UnitOfWork(db_url) as uow:
        make.plage(uow.session, world.karim, world.arras, world.lieu, [world.motif_social],
                   title="Permanence sociale du lundi", first_day=date(2025, 1, 6), start_time=time(9),
                   end_time=time(12))
        uow.commit()
    refused(db_url, lambda uow: territory_agents.set_agent_services(uow, world.chief, world.arras, world.karim,
                                                                    (world.pmi,)),
            "Le retrait du service n'a pu aboutir car l'agent a toujours des plages d'ouverture actives sur le "
            "service : SOCIAL \\(plage « Permanence sociale du lundi », PMI Arras\\)")
    refused(db_url, lambda uow: territory_agents.set_agent_services(uow, world.chief, world.arras, world.karim, ()),
            "Un agent doit avoir au moins un service")
    with UnitOfWork(db_url) as uow:
        # Adding one is fine, and the social service stays.
        territory_agents.set_agent_services(uow, world.chief, world.arras, world.karim, (world.social, world.pmi))
        assert set(uow.session.exec(select(AgentService.service_id).where(AgentService.agent_id == world.karim))) == {
            world.social, world.pmi}
        assert territory_agents.set_agent_services(uow, world.chief, world.arras, world.karim,
                                                   (world.social, world.pmi)) == "Aucun changement."


def test_an_invitation_into_two_organisations_sends_one_email(uow: UnitOfWork, world: World) -> None:
    notice = territory_agents.invite_to_territory(
        uow, world.chief, world.arras, " Nouvel.Agent@Exemple.fr ",
        (Placement(world.arras, BASIC), Placement(world.lens, ADMIN)), (world.social,))
    assert notice == "L'agent nouvel.agent@exemple.fr a été invité à rejoindre PMI Arras, MDS Lens."
    listed = territory_agents.list_territory_agents(uow, world.chief, world.arras)
    new = next(line for line in listed.agents if line.email == "nouvel.agent@exemple.fr")
    assert new.pending and new.services == "SOCIAL"
    assert sorted((m.organisation, m.level) for m in new.memberships) == [("MDS Lens", "Administrateur"),
                                                                          ("PMI Arras", "Agent")]
    mails = [m.payload for m in uow.session.exec(select(OutboxMessage)) if m.payload.get("to") == new.email]
    assert len(mails) == 1 and "les organisations PMI Arras, MDS Lens en tant qu'agent du service SOCIAL" in \
        mails[0]["text"]
    assert uow.session.exec(select(AgentTerritorialAccessRight).where(
        AgentTerritorialAccessRight.agent_id == new.agent_id)).one()
    assert len(uow.session.exec(select(AuditLog).where(AuditLog.action == "invite")).all()) == 2


def test_an_existing_account_gains_roles_and_keeps_its_services(db_url: str, world: World) -> None:
    with UnitOfWork(db_url) as uow:
        notice = territory_agents.invite_to_territory(uow, world.chief, world.arras, "ELOISE@exemple.fr",
                                                      (Placement(world.arras, BASIC),), (world.pmi,))
        assert notice == ("L'agent eloise@exemple.fr est déjà présent sur RDV Services Publics et a rejoint PMI "
                          "Arras. Attention : les services demandés ne correspondent pas à ceux déjà connus de cet "
                          "agent (Service social) ; seuls les administrateurs de territoire les modifient.")
        assert set(uow.session.exec(select(AgentRole.organisation_id).where(AgentRole.agent_id == world.eloise))) == {
            world.arras, world.lens}
        assert not [m for m in uow.session.exec(select(OutboxMessage)) if m.payload.get("to") == "eloise@exemple.fr"]
    refused(db_url, lambda uow: territory_agents.invite_to_territory(
        uow, world.chief, world.arras, "eloise@exemple.fr", (Placement(world.lens, BASIC),), (world.social,)),
        "L'agent eloise@exemple.fr fait déjà partie de MDS Lens")
    # Another territory's organisation, or no organisation: refused.
    refused(db_url, lambda uow: territory_agents.invite_to_territory(
        uow, world.chief, world.arras, "x@exemple.fr", (Placement(world.reunion_org, BASIC),), (world.pmi,)),
        "Vous ne pouvez pas inviter d'agent dans cette organisation")
    refused(db_url, lambda uow: territory_agents.invite_to_territory(
        uow, world.chief, world.arras, "x@exemple.fr", (), (world.pmi,)), "au moins une organisation")


def test_an_agent_allowed_to_invite_invites_where_they_work_and_admins_only_where_they_administer(
        db_url: str, world: World) -> None:
    _grant(db_url, world.karim, allow_to_invite_agents=True)
    with UnitOfWork(db_url) as uow:
        offered = territory_agents.list_territory_agents(uow, world.karim, world.arras).organisations
        assert [(o.name, o.may_grant_admin) for o in offered] == [("MDS Lens", False), ("PMI Arras", False)]
    refused(db_url, lambda uow: territory_agents.invite_to_territory(
        uow, world.karim, world.arras, "x@exemple.fr", (Placement(world.arras, ADMIN),), (world.pmi,)),
        "Seuls les administrateurs du territoire ou de PMI Arras")
    with UnitOfWork(db_url) as uow:
        assert territory_agents.invite_to_territory(uow, world.karim, world.arras, "x@exemple.fr",
                                                    (Placement(world.lens, BASIC),), (world.pmi,)).startswith(
            "L'agent x@exemple.fr a été invité")


def test_teams_are_created_renamed_filled_and_deleted_within_the_territory(db_url: str, world: World) -> None:
    with UnitOfWork(db_url) as uow:
        team_id = teams.create_team(uow, world.chief, world.arras, " Équipe  PMI ", (world.helene, world.chief))
        listed = teams.list_teams(uow, world.chief, world.lens)
        assert [(t.name, t.members) for t in listed.teams] == [("Équipe PMI", "Camille Martin, Hélène Roussel")]
        assert [a.name for a in listed.agents] == ["Karim Haddad", "Éloïse Lefèbvre", "Camille Martin",
                                                   "Hélène Roussel"]
        assert teams.rename_team(uow, world.chief, world.arras, team_id, "Équipe Arras") == (
            "L'équipe « Équipe Arras » a été modifiée.")
        teams.set_team_members(uow, world.chief, world.arras, team_id, (world.karim,))
        assert set(uow.session.exec(select(AgentTeam.agent_id).where(AgentTeam.team_id == team_id))) == {world.karim}
        other = teams.create_team(uow, world.chief, world.arras, "Social")
    refused(db_url, lambda uow: teams.create_team(uow, world.chief, world.arras, "equipe arras"), "existe déjà")
    refused(db_url, lambda uow: teams.rename_team(uow, world.chief, world.arras, other, "ÉQUIPE ARRAS"), "existe déjà")
    refused(db_url, lambda uow: teams.create_team(uow, world.chief, world.arras, "  "), "nom de l'équipe")
    refused(db_url, lambda uow: teams.set_team_members(uow, world.chief, world.arras, team_id, (world.reunion_admin,)),
            "agents du territoire")
    # La Réunion's admin cannot see, change or delete the 62's teams.
    with UnitOfWork(db_url) as uow:
        assert teams.list_teams(uow, world.reunion_admin, world.reunion_org).teams == ()
    refused(db_url, lambda uow: teams.delete_team(uow, world.reunion_admin, world.reunion_org, team_id),
            "Cette équipe n'existe pas dans ce territoire")
    refused(db_url, lambda uow: teams.update_team(uow, world.reunion_admin, world.reunion_org, team_id, "X", ()),
            "Cette équipe n'existe pas dans ce territoire")
    # An agent allowed to manage teams, not territorial admin.
    _grant(db_url, world.eloise, allow_to_manage_teams=True)
    with UnitOfWork(db_url) as uow:
        assert teams.delete_team(uow, world.eloise, world.lens, team_id) == "L'équipe « Équipe Arras » a été supprimée."
        assert uow.session.exec(select(Team.name)).all() == ["Social"]
        assert uow.session.exec(select(AgentTeam)).all() == []
        assert uow.session.exec(select(AuditLog.action).where(AuditLog.entity_type == "team")
                                .order_by(col(AuditLog.id))).all() == [
            "create", "update", "update", "create", "delete"]


def test_trouver_un_rdv_offers_the_teams_and_a_team_restricts_the_agents(db_url: str, world: World) -> None:
    weekly = {"every": "week", "on": ["monday", "tuesday", "wednesday", "thursday", "friday"]}
    with UnitOfWork(db_url) as uow:
        for agent in (world.chief, world.helene):
            make.plage(uow.session, agent, world.arras, world.lieu, [world.motif_pmi], title="Consultations",
                       first_day=MONDAY, start_time=time(9), end_time=time(10), recurrence=weekly)
        uow.commit()
        team_id = teams.create_team(uow, world.chief, world.arras, "Équipe Hélène", (world.helene,))
        teams.create_team(uow, world.chief, world.arras, "Équipe vide")
        options = creneaux.search_options(uow, world.chief, world.arras, now=NOW)
        assert [t.label for t in options.teams] == ["Équipe Hélène"]  # a team nobody visible is in: not offered
        assert options.team_members == {team_id: frozenset({world.helene})}
        everyone = creneaux.find_week(uow, world.chief, world.arras, world.motif_pmi, MONDAY, now=NOW)
        assert {s.agent.id for d in everyone.days for s in d.slots} == {world.chief, world.helene}
        team_week = creneaux.find_week(uow, world.chief, world.arras, world.motif_pmi, MONDAY, team_id=team_id,
                                       now=NOW)
        assert {s.agent.id for d in team_week.days for s in d.slots} == {world.helene}
        # A team and ticked agents: those of them in the team.
        none = creneaux.find_week(uow, world.chief, world.arras, world.motif_pmi, MONDAY, team_id=team_id,
                                  agent_ids=[world.chief], now=NOW)
        assert none.is_empty
    with UnitOfWork(db_url) as uow:
        reunion_team = teams.create_team(uow, world.reunion_admin, world.reunion_org, "Équipe 974",
                                         (world.reunion_admin,))
    with UnitOfWork(db_url) as uow, pytest.raises(Exception, match="Cette équipe n'existe pas"):
        creneaux.find_week(uow, world.chief, world.arras, world.motif_pmi, MONDAY, team_id=reunion_team, now=NOW)


STALE = "Ces informations ont été modifiées entre-temps. Rechargez la page."


def test_a_team_changed_since_the_form_loaded_it_is_not_overwritten(db_url: str, world: World) -> None:
    """Issue 25: of two admins editing the same loaded team, the second save is refused instead of undoing
    the first."""
    with UnitOfWork(db_url) as uow:
        team_id = teams.create_team(uow, world.chief, world.arras, "Équipe PMI", (world.helene,))
        loaded = teams.list_teams(uow, world.chief, world.arras).teams[0].version
        teams.update_team(uow, world.chief, world.arras, team_id, "Équipe PMI", (world.helene, world.karim),
                          expected_version=loaded)

    refused(db_url, lambda uow: teams.update_team(uow, world.chief, world.arras, team_id, "PMI", (world.helene,),
                                                  expected_version=loaded), STALE)

    with UnitOfWork(db_url) as uow:
        line = teams.list_teams(uow, world.chief, world.arras).teams[0]
        assert (line.name, line.members) == ("Équipe PMI", "Karim Haddad, Hélène Roussel")
        assert teams.update_team(uow, world.chief, world.arras, team_id, "PMI", (world.helene,),
                                 expected_version=line.version) == "L'équipe « PMI » a été modifiée."


def test_services_and_access_rights_changed_since_the_dialog_loaded_them_are_not_overwritten(
        db_url: str, world: World) -> None:
    """Issue 25: the agent's dialog gives back the versions it showed; a save over values another admin
    changed since is refused and changes nothing."""
    with UnitOfWork(db_url) as uow:
        karim = next(line for line in territory_agents.list_territory_agents(uow, world.chief, world.arras).agents
                     if line.agent_id == world.karim)
        territory_agents.set_agent_services(uow, world.chief, world.arras, world.karim, (world.social, world.pmi),
                                            expected_version=karim.services_version)
        territory_agents.set_access_rights(uow, world.chief, world.arras, world.karim, AccessRights(True, False, False),
                                           expected_version=karim.rights_version)

    refused(db_url, lambda uow: territory_agents.set_agent_services(
        uow, world.chief, world.arras, world.karim, (world.social,), expected_version=karim.services_version), STALE)
    refused(db_url, lambda uow: territory_agents.set_access_rights(
        uow, world.chief, world.arras, world.karim, AccessRights(False, False, True),
        expected_version=karim.rights_version), STALE)

    with UnitOfWork(db_url) as uow:
        assert set(uow.session.exec(select(AgentService.service_id).where(AgentService.agent_id == world.karim))) == {
            world.social, world.pmi}
        row = uow.session.exec(select(AgentTerritorialAccessRight).where(
            AgentTerritorialAccessRight.agent_id == world.karim)).one()
        assert (row.allow_to_manage_teams, row.allow_to_invite_agents) == (True, False)
