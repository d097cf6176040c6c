"""The Espace Admin of a territory in the browser (issue 17), desktop: La Réunion's territorial admin opens
"Agents du territoire", searches as she types, assigns a service in the agent's dialog, then creates a team.
Every page and dialog passes axe. What the test changes goes away after it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from playwright.sync_api import Page, expect
from sqlmodel import col, select

from rdv_app.db.models import Agent, AgentService, AgentTeam, Service, Team, Territory
from rdv_app.db.uow import UnitOfWork

REUNION_ADMIN = "marie.payet@demo.test"  # admin of PMI Saint-Denis, territorial admin of La Réunion (alone there)
TEAM = "Équipe Saint-Denis"


def _open(page: Page, link: str, heading: str) -> None:
    page.get_by_role("navigation", name="Navigation principale").get_by_role("link", name=link, exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(heading)


@pytest.fixture
def marie_restored(app_database_url: str, app_url: str) -> Iterator[None]:
    """Marie's services and La Réunion's teams as the demo has them, again after the test."""
    with UnitOfWork(app_database_url) as uow:
        agent_id = uow.session.exec(select(Agent.id).where(Agent.email == REUNION_ADMIN)).one()
        services = set(uow.session.exec(select(AgentService.service_id).where(AgentService.agent_id == agent_id)))
    yield
    with UnitOfWork(app_database_url) as uow:
        uow.session.exec(sa.delete(AgentService).where(col(AgentService.agent_id) == agent_id))
        uow.session.add_all([AgentService(agent_id=agent_id, service_id=service_id) for service_id in services])
        territory_id = uow.session.exec(select(Territory.id).where(Territory.departement_number == "974")).one()
        team_ids = uow.session.exec(select(Team.id).where(Team.territory_id == territory_id)).all()
        uow.session.exec(sa.delete(AgentTeam).where(col(AgentTeam.team_id).in_(team_ids)))
        uow.session.exec(sa.delete(Team).where(col(Team.id).in_(team_ids)))
        uow.commit()


def test_a_territorial_admin_searches_assigns_a_service_and_creates_a_team(
        page: Page, login_as, assert_accessible, app_database_url: str, marie_restored: None) -> None:
    login_as(REUNION_ADMIN)
    _open(page, "Agents du territoire", "Agents du territoire")
    table = page.locator("#agents-territoire")
    expect(table.get_by_role("row", name="Marie Payet")).to_be_visible()
    expect(table.get_by_text("Admin de territoire")).to_be_visible()
    assert_accessible(page)

    search = page.get_by_label("Rechercher un agent")
    search.fill("zzz")
    expect(page.get_by_text("Aucun agent ne correspond à cette recherche.")).to_be_visible()
    search.fill("PAYÉT")  # case and accents ignored
    expect(table.get_by_role("row", name="Marie Payet")).to_be_visible()

    page.get_by_role("button", name="Gérer Marie Payet").click()
    dialog = page.get_by_role("dialog", name="Marie Payet")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_role("heading", name="Attribuer des services")).to_be_visible()
    expect(dialog.get_by_role("heading", name="Admin de territoire")).to_be_visible()
    assert_accessible(page)
    dialog.get_by_label("Service social").check()
    dialog.get_by_role("button", name="Enregistrer les services").click()
    expect(dialog.get_by_text("Les services de Marie Payet ont été modifiés.")).to_be_visible()
    # The last territorial admin of La Réunion cannot step down.
    dialog.get_by_role("button", name="Retirer le rôle d'admin de territoire").click()
    expect(dialog.get_by_role("alert")).to_contain_text("Le territoire doit toujours garder au moins un "
                                                        "administrateur de territoire")
    assert_accessible(page)
    dialog.get_by_role("button", name="Fermer").click()
    expect(dialog).to_have_count(0)
    expect(table.get_by_role("row", name="Marie Payet")).to_contain_text("Service social")
    with UnitOfWork(app_database_url, read_only=True) as uow:
        names = uow.session.exec(select(Service.name).join(AgentService, col(AgentService.service_id) == Service.id)
                                 .join(Agent, col(Agent.id) == AgentService.agent_id)
                                 .where(Agent.email == REUNION_ADMIN)).all()
        assert "Service social" in names

    _open(page, "Équipes", "Équipes du territoire")
    expect(page.get_by_text("Ce territoire n'a encore aucune équipe.")).to_be_visible()
    assert_accessible(page)
    page.get_by_label("Nom de l'équipe").fill(TEAM)
    page.get_by_role("group", name="Agents membres").get_by_label("Marie Payet").check()
    page.get_by_role("button", name="Créer l'équipe").click()
    expect(page.get_by_role("status").filter(has_text=f"L'équipe « {TEAM} » a été créée.")).to_be_visible()
    expect(page.get_by_role("row", name=TEAM)).to_contain_text("Marie Payet")
    assert_accessible(page)
    with UnitOfWork(app_database_url, read_only=True) as uow:
        assert uow.session.exec(select(Team.name).where(Team.name == TEAM)).one() == TEAM
