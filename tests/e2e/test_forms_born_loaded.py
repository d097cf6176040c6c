"""Forms are born loaded (issue 25): on a slow connection, an agent who saves "Mon compte" as soon as it opens
changes the one preference they clicked, never the others the page had not received yet; a plage edited by
a colleague since the form showed it is not overwritten."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import date, time, timedelta

import holidays
import pytest
from playwright.sync_api import Page, expect
from sqlmodel import select

from rdv_app.db.models import Agent, AgentRole, Lieu, Motif, PlageOuverture
from rdv_app.db.uow import UnitOfWork
from rdv_app.services.agents import agent_account
from rdv_app.services.agents.agent_account import Preferences
from rdv_app.services.availability import plages

JULIEN = "julien.petit@demo.test"
PLAGE = "Permanence du lundi (issue 25)"
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


@pytest.fixture
def julien_plage(app_database_url: str, app_url: str) -> Iterator[int]:
    """A one-off plage of Julien's, three weeks ahead on a working Monday after his demo plages of the day
    (no overlap to confirm), deleted afterwards."""
    day = date.today() + timedelta(weeks=3)
    day -= timedelta(days=day.weekday())
    off = holidays.France(years=range(day.year, day.year + 2))
    while day in off:
        day += timedelta(weeks=1)
    with UnitOfWork(app_database_url) as uow:
        julien = uow.session.exec(select(Agent).where(Agent.email == JULIEN)).one()
        organisation_id = uow.session.exec(select(AgentRole.organisation_id).where(
            AgentRole.agent_id == julien.id).order_by(AgentRole.organisation_id)).first()
        motif_id = uow.session.exec(select(Motif.id).where(Motif.organisation_id == organisation_id,
                                                           Motif.name == "Consultation pédiatrique")).one()
        lieu_id = uow.session.exec(select(Lieu.id).where(Lieu.organisation_id == organisation_id,
                                                         Lieu.name == "Antenne PMI Saint-Michel")).one()
        plage_id = plages.create_plage(uow, julien.id, organisation_id, title=PLAGE, agent_id=julien.id,
                                       lieu_id=lieu_id, motif_ids=[motif_id], first_day=day, start_time=time(17, 30),
                                       end_time=time(19, 30), recurrence=None, confirm_warnings=True)
    yield plage_id
    with UnitOfWork(app_database_url) as uow:
        plages.delete_plage(uow, julien.id, organisation_id, plage_id)


def _stored_plage(database_url: str, plage_id: int) -> PlageOuverture:
    with UnitOfWork(database_url) as uow:
        plage = uow.session.get(PlageOuverture, plage_id)
        assert plage is not None
        uow.session.expunge(plage)
        return plage


def test_a_plage_edited_meanwhile_by_a_colleague_is_not_overwritten(
        page: Page, login_as, assert_accessible, app_database_url: str, julien_plage: int) -> None:
    login_as(JULIEN)
    page.get_by_role("navigation", name="Navigation principale").get_by_role(
        "link", name="Plages d'ouverture", exact=True).click()
    page.get_by_role("button", name=f"Modifier la plage « {PLAGE} »").click()
    form = page.get_by_role("form", name=f"Modifier la plage « {PLAGE} »")
    expect(form.get_by_label("Heure de fin", exact=True)).to_have_value("19:30")

    # A colleague renames the plage while Julien's form shows it.
    renamed = f"{PLAGE} (salle 2)"
    with UnitOfWork(app_database_url) as uow:
        stored = _stored_plage(app_database_url, julien_plage)
        view = plages.get_plage(uow, stored.agent_id, stored.organisation_id, julien_plage)
        plages.update_plage(uow, stored.agent_id, stored.organisation_id, julien_plage, title=renamed,
                            agent_id=view.agent_id, lieu_id=view.lieu_id, motif_ids=view.motif_ids,
                            first_day=view.first_day, start_time=view.start_time, end_time=view.end_time,
                            recurrence=view.recurrence, confirm_warnings=True)

    form.get_by_label("Heure de fin", exact=True).fill("19:00")
    form.get_by_role("button", name="Enregistrer les modifications").click()
    expect(form.get_by_role("alert")).to_have_text(
        "Ces informations ont été modifiées entre-temps. Rechargez la page.")
    stored = _stored_plage(app_database_url, julien_plage)
    assert (stored.title, stored.end_time) == (renamed, time(19, 30))
    assert_accessible(page)

    page.reload()
    page.get_by_role("button", name=f"Modifier la plage « {renamed} »").click()
    form = page.get_by_role("form", name=f"Modifier la plage « {renamed} »")
    form.get_by_label("Heure de fin", exact=True).fill("19:00")
    form.get_by_role("button", name="Enregistrer les modifications").click()
    expect(page.get_by_role("status").filter(has_text=f"« {renamed} » a été modifiée")).to_be_visible()
    stored = _stored_plage(app_database_url, julien_plage)
    assert (stored.title, stored.end_time) == (renamed, time(19))


EVENING = "Permanence du soir (issue 25)"


@pytest.fixture
def julien_evening_plage(app_database_url: str, julien_plage: int) -> Iterator[int]:
    """A second plage of Julien's, the evening after `julien_plage`'s, deleted afterwards."""
    first = _stored_plage(app_database_url, julien_plage)
    with UnitOfWork(app_database_url) as uow:
        motif_ids = plages.get_plage(uow, first.agent_id, first.organisation_id, julien_plage).motif_ids
        plage_id = plages.create_plage(uow, first.agent_id, first.organisation_id, title=EVENING,
                                       agent_id=first.agent_id, lieu_id=first.lieu_id, motif_ids=motif_ids,
                                       first_day=first.first_day, start_time=time(20), end_time=time(21),
                                       recurrence=None, confirm_warnings=True)
    yield plage_id
    with UnitOfWork(app_database_url) as uow:
        plages.delete_plage(uow, first.agent_id, first.organisation_id, plage_id)


def test_going_from_one_plage_to_another_disables_the_first_ones_form_at_the_click(
        page: Page, login_as, assert_accessible, app_database_url: str, julien_plage: int,
        julien_evening_plage: int) -> None:
    """On a slow connection, the form still shows the first plage while the second loads: it is disabled
    from the click on the second's "Modifier", so that nothing typed in it goes to the second plage unseen;
    the second plage's form then saves what it shows."""
    page.add_init_script(SLOW_SOCKET)
    login_as(JULIEN)
    page.get_by_role("navigation", name="Navigation principale").get_by_role(
        "link", name="Plages d'ouverture", exact=True).click()
    page.get_by_role("button", name=f"Modifier la plage « {PLAGE} »").click()
    first = page.get_by_role("form", name=f"Modifier la plage « {PLAGE} »")
    expect(first.get_by_label("Heure de fin", exact=True)).to_have_value("19:30")
    expect(first.get_by_label("Heure de fin", exact=True)).to_be_enabled()

    page.evaluate("window.slowSocketMs = 4000")
    page.get_by_role("button", name=f"Modifier la plage « {EVENING} »").click()
    # Before the server's answer arrives (4 s later), the first plage's values are shown, disabled.
    expect(first.get_by_label("Heure de fin", exact=True)).to_be_disabled(timeout=2000)
    expect(first.get_by_role("button", name="Enregistrer les modifications")).to_be_disabled(timeout=0)
    expect(first.get_by_label("Heure de fin", exact=True)).to_have_value("19:30", timeout=0)

    second = page.get_by_role("form", name=f"Modifier la plage « {EVENING} »")
    expect(second.get_by_label("Heure de fin", exact=True)).to_have_value("21:00", timeout=15_000)
    page.evaluate("window.slowSocketMs = 0")
    second.get_by_label("Heure de fin", exact=True).fill("20:45")
    second.get_by_role("button", name="Enregistrer les modifications").click()
    expect(page.get_by_role("status").filter(has_text=f"« {EVENING} » a été modifiée")).to_be_visible()
    evening = _stored_plage(app_database_url, julien_evening_plage)
    monday = _stored_plage(app_database_url, julien_plage)
    assert (evening.title, evening.start_time, evening.end_time) == (EVENING, time(20), time(20, 45))
    assert (monday.title, monday.start_time, monday.end_time) == (PLAGE, time(17, 30), time(19, 30))
    assert_accessible(page)
