"""An agent changes their preferences on "Mon compte"; they are still there after a reload."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect
from sqlmodel import select

from rdv_app.db.models import Agent
from rdv_app.db.uow import UnitOfWork
from rdv_app.services.agents import agent_account

JULIEN = "julien.petit@demo.test"


@pytest.fixture
def julien_without_saturdays(app_database_url: str, app_url: str) -> Iterator[None]:
    """Julien starts with the recommended level and no Saturdays (the demo data shows him Saturdays);
    other browser tests sign in as Julien too, so his demo preferences come back afterwards."""
    with UnitOfWork(app_database_url) as uow:
        agent_id = uow.session.exec(select(Agent.id).where(Agent.email == JULIEN)).one()
        before = agent_account.get_preferences(uow, agent_id)
        agent_account.update_preferences(uow, agent_id, **{**dataclasses.asdict(before), "display_saturdays": False,
                                                           "rdv_notifications_level": "others"})
    yield
    with UnitOfWork(app_database_url) as uow:
        agent_account.update_preferences(uow, agent_id, **dataclasses.asdict(before))


def test_preferences_are_saved_and_kept_after_a_reload(page: Page, login_as, assert_accessible,
                                                       julien_without_saturdays) -> None:
    login_as(JULIEN)
    page.get_by_role("link", name="Mon compte : Julien Petit").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Mon compte")
    levels = page.get_by_role("group", name="Rendez-vous pour lesquels vous recevez une notification")
    expect(levels.get_by_label("Ceux créés par d'autres (recommandé)")).to_be_checked()
    saturdays = page.get_by_label("Afficher les samedis")
    expect(saturdays).not_to_be_checked()
    assert_accessible(page)

    levels.get_by_label("Aucun", exact=True).check()
    saturdays.check()
    page.get_by_role("button", name="Enregistrer mes préférences").click()
    expect(page.get_by_role("status").filter(has_text="Vos préférences ont été enregistrées.")).to_be_visible()
    assert_accessible(page)

    page.reload()
    expect(page.get_by_role("heading", level=1)).to_have_text("Mon compte")
    expect(levels.get_by_label("Aucun", exact=True)).to_be_checked()
    expect(levels.get_by_label("Ceux créés par d'autres (recommandé)")).not_to_be_checked()
    expect(saturdays).to_be_checked()
    expect(page.get_by_label("Afficher les rendez-vous annulés")).to_be_checked()
    expect(page.get_by_label("Recevoir un email quand une de mes plages d'ouverture est créée, modifiée ou "
                             "supprimée")).to_be_checked()
