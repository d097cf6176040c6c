"""Forms are born loaded (issue 25), an admin form in the browser: on a slow connection, a territorial admin
who clicks "Modifier" on a team and saves at once what the form shows does not write the empty new-team form
over the team (its members would all be gone); once the team's values are there, the same save renames it
and keeps its members."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from playwright.sync_api import Page, expect
from sqlmodel import col, select
from test_forms_born_loaded import SLOW_SOCKET

from rdv_app.db.models import AgentTeam, Team
from rdv_app.db.uow import UnitOfWork

CAMILLE = "camille.martin@demo.test"  # territorial admin of the Pas-de-Calais
TEAM = "Équipe PMI Arras"
RENAMED = "Équipe PMI Arras centre"


def _team(database_url: str, team_id: int) -> tuple[str, set[int]]:
    with UnitOfWork(database_url, read_only=True) as uow:
        team = uow.session.get(Team, team_id)
        assert team is not None
        return team.name, set(uow.session.exec(select(AgentTeam.agent_id).where(AgentTeam.team_id == team_id)))


@pytest.fixture
def pmi_team(app_database_url: str, app_url: str) -> Iterator[int]:
    """The demo's team, with its name and members as the demo has them again afterwards."""
    with UnitOfWork(app_database_url, read_only=True) as uow:
        team_id = uow.session.exec(select(Team.id).where(Team.name == TEAM)).one()
    name, members = _team(app_database_url, team_id)
    yield team_id
    with UnitOfWork(app_database_url) as uow:
        team = uow.session.get(Team, team_id)
        assert team is not None
        team.name = name
        uow.session.add(team)
        uow.session.exec(sa.delete(AgentTeam).where(col(AgentTeam.team_id) == team_id))
        uow.session.add_all([AgentTeam(agent_id=agent_id, team_id=team_id) for agent_id in members])
        uow.commit()


def test_a_team_saved_as_soon_as_its_edit_is_asked_keeps_its_members(
        page: Page, login_as, assert_accessible, app_database_url: str, pmi_team: int) -> None:
    _name, members = _team(app_database_url, pmi_team)
    assert len(members) == 3
    page.add_init_script(SLOW_SOCKET)
    login_as(CAMILLE)
    page.get_by_role("navigation", name="Navigation principale").get_by_role(
        "link", name="Équipes", exact=True).click()
    edit = page.get_by_role("button", name=f"Modifier l'équipe {TEAM}")
    expect(edit).to_be_visible()
    page.evaluate("window.slowSocketMs = 1500")

    # No wait: the person asks for the edit, types the new name in the form they see and saves.
    edit.click()
    page.get_by_label("Nom de l'équipe").fill(RENAMED)
    page.get_by_role("button", name=re.compile("^(Créer|Enregistrer) l'équipe$")).click()

    form = page.get_by_role("form", name=re.compile("l'équipe$"))
    expect(form.get_by_role("alert")).to_have_text(re.compile("^Le formulaire n'était pas encore chargé"))
    assert _team(app_database_url, pmi_team) == (TEAM, members)
    page.evaluate("window.slowSocketMs = 0")
    expect(form.get_by_label("Nom de l'équipe")).to_have_value(TEAM)
    expect(form.get_by_role("group", name="Agents membres").get_by_role("checkbox", checked=True)).to_have_count(3)
    assert_accessible(page)

    form.get_by_label("Nom de l'équipe").fill(RENAMED)
    form.get_by_role("button", name="Enregistrer l'équipe").click()
    expect(page.get_by_role("status").filter(has_text=f"L'équipe « {RENAMED} » a été modifiée.")).to_be_visible()
    assert _team(app_database_url, pmi_team) == (RENAMED, members)
