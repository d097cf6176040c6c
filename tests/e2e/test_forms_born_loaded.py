"""Forms are born loaded (issue 25): on a slow connection, an agent who saves "Mon compte" as soon as it opens
changes the one preference they clicked, never the others the page had not received yet."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect
from sqlmodel import select

from rdv_app.db.models import Agent
from rdv_app.db.uow import UnitOfWork
from rdv_app.services.agents import agent_account
from rdv_app.services.agents.agent_account import Preferences

JULIEN = "julien.petit@demo.test"
# Every box ticked: a form saved with the boxes it shows before its values arrive would untick them.
EVERYTHING_ON = Preferences(rdv_notifications_level="others", plage_ouverture_notification_level="all",
                            absence_notification_level="all", display_saturdays=True, display_cancelled_rdv=True)
# A slow connection: what the server sends reaches the page `window.slowSocketMs` later (in order).
SLOW_SOCKET = """(() => {
  const Native = window.WebSocket;
  const later = (handler) => (message) => setTimeout(() => handler(message), window.slowSocketMs || 0);
  window.WebSocket = class extends Native {
    set onmessage(handler) { super.onmessage = handler && later(handler); }
    get onmessage() { return super.onmessage; }
    addEventListener(type, handler, options) {
      return super.addEventListener(type, type === "message" ? later(handler) : handler, options);
    }
  };
})();"""


@pytest.fixture
def julien_with_everything_on(app_database_url: str, app_url: str) -> Iterator[int]:
    """Julien's preferences all on; his demo preferences come back afterwards (other tests sign in as him)."""
    with UnitOfWork(app_database_url) as uow:
        agent_id = uow.session.exec(select(Agent.id).where(Agent.email == JULIEN)).one()
        before = agent_account.get_preferences(uow, agent_id)
        agent_account.update_preferences(uow, agent_id, **dataclasses.asdict(EVERYTHING_ON))
    yield agent_id
    with UnitOfWork(app_database_url) as uow:
        agent_account.update_preferences(uow, agent_id, **dataclasses.asdict(before))


def test_saving_my_account_as_soon_as_it_opens_changes_only_what_i_clicked(
        page: Page, login_as, assert_accessible, app_database_url: str, julien_with_everything_on: int) -> None:
    page.add_init_script(SLOW_SOCKET)
    login_as(JULIEN)
    page.evaluate("window.slowSocketMs = 1500")

    page.get_by_role("link", name="Mon compte : Julien Petit").click()
    cancelled = page.get_by_label("Afficher les rendez-vous annulés")
    # No wait: the person clicks what they see and saves at once.
    cancelled.click()
    page.get_by_role("button", name="Enregistrer mes préférences").click()

    expect(page.get_by_role("status").filter(has_text="Vos préférences ont été enregistrées.")).to_be_visible()
    with UnitOfWork(app_database_url) as uow:
        saved = agent_account.get_preferences(uow, julien_with_everything_on)
    assert saved == dataclasses.replace(EVERYTHING_ON, display_cancelled_rdv=False)
    page.evaluate("window.slowSocketMs = 0")
    assert_accessible(page)

    page.reload()
    expect(page.get_by_label("Afficher les samedis")).to_be_checked()
    expect(cancelled).not_to_be_checked()
    expect(page.get_by_label("Recevoir un email quand une de mes plages d'ouverture est créée, modifiée ou "
                             "supprimée")).to_be_checked()
