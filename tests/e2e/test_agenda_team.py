"""A secrétariat's agenda at 1280×720: several agents shown side by side, each RDV attributable to its agent
by text (initials in its title, as in the legend), not by colour alone; the whole description reachable by
keyboard; a 20-minute RDV readable in the day view; the home page's RDVs open their page."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from conftest import sign_in_agent
from playwright.sync_api import Browser, Page, expect
from sqlmodel import select

from rdv_app.db.models import Agent, Lieu, Motif, Organisation, Usager, UsagerProfile
from rdv_app.db.uow import UnitOfWork
from rdv_app.services.availability import agenda
from rdv_app.services.rdv import lifecycle

PARIS = ZoneInfo("Europe/Paris")
DESKTOP = {"viewport": {"width": 1280, "height": 720}, "locale": "fr-FR", "timezone_id": "Europe/Paris"}


def _plan_three_agents(database_url: str, day: datetime) -> list[tuple[str, str, str]]:
    """Camille (admin) plans a 20-minute RDV for three agents of PMI Arras at staggered times of `day`;
    returns (agent name, usager last name, local start) for each."""
    planned = []
    with UnitOfWork(database_url) as uow:
        s = uow.session
        org = s.exec(select(Organisation).where(Organisation.name == "PMI Arras")).one()
        camille = s.exec(select(Agent).where(Agent.email == "camille.martin@demo.test")).one()
        motif = s.exec(select(Motif).where(Motif.organisation_id == org.id,
                                           Motif.name == "Consultation pédiatrique")).one()
        lieu = s.exec(select(Lieu.id).where(Lieu.organisation_id == org.id, Lieu.availability == "enabled")
                      .order_by(Lieu.id)).first()
        usagers = s.exec(select(Usager).join(UsagerProfile, UsagerProfile.usager_id == Usager.id)
                         .where(UsagerProfile.organisation_id == org.id, Usager.responsible_id.is_(None))
                         .order_by(Usager.last_name)).all()[:3]
        team = agenda.visible_agents(uow, camille.id, org.id)[:3]
        for n, (agent, usager) in enumerate(zip(team, usagers, strict=True)):
            starts_at = datetime.combine(day.date(), time(18, 0), PARIS) + timedelta(minutes=10 * n)
            lifecycle.plan_rdv(uow, camille.id, org.id, motif_id=motif.id, starts_at=starts_at, duration_in_min=20,
                               agent_ids=[agent.id], lieu_id=lieu, usager_ids=[usager.id], confirm_warnings=True)
            planned.append((agent.name, usager.last_name.upper(), f"{starts_at:%H:%M}"))
    return planned


def _event(page: Page, usager: str, start: str):
    return page.locator(f'a.agenda-rdv[data-description^="{start}–"]', has_text=usager)


@pytest.fixture
def desktop(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(**DESKTOP)
    yield context.new_page()
    context.close()


def test_three_agents_are_told_apart_by_initials_with_the_description_reachable_by_keyboard(
        desktop: Page, app_url: str, app_database_url: str, assert_accessible) -> None:
    page = desktop
    today = datetime.now(PARIS)
    day = today + timedelta(days=7 - today.weekday() + 1)  # next week's Tuesday
    planned = _plan_three_agents(app_database_url, day)
    sign_in_agent(page, app_url, "camille.martin@demo.test")
    page.goto(f"{app_url}/agenda?jour={day:%Y-%m-%d}")
    legend = page.get_by_role("group", name="Agendas affichés")
    initials = {}
    for name, _usager, _start in planned:
        box = legend.get_by_label(name)
        expect(box).to_be_enabled()
        if not box.is_checked():
            box.click()  # the page's state answers: the box shows checked once it has
        expect(box).to_be_checked()
        initials[name] = legend.locator("label", has_text=name).locator(".agent-chip").inner_text().strip()
    assert len(set(initials.values())) == 3 and all(initials.values())
    page.get_by_role("button", name="Jour", exact=True).click()
    for name, usager, start in planned:
        event = _event(page, usager, start)
        expect(event).to_contain_text(f"{initials[name]} ·")  # the agent, in text
        expect(event).to_contain_text(start)
        # A 20-minute RDV shows its whole title in the day view: nothing cut off at the bottom.
        main = event.locator(".fc-event-main")
        assert main.evaluate("el => el.scrollHeight <= el.clientHeight + 1"), f"clipped: {usager}"
    assert_accessible(page)

    # The keyboard reaches each RDV, and its whole description shows while it has the focus.
    first_name, first_usager, first_start = planned[0]
    event = _event(page, first_usager, first_start)
    event.focus()
    expect(event).to_be_focused()
    shown = event.evaluate("el => getComputedStyle(el, '::after').content")
    assert first_name in shown and first_usager in shown and first_start in shown
    assert_accessible(page)


def test_the_home_pages_next_rdvs_open_their_page(desktop: Page, app_url: str, app_database_url: str) -> None:
    page = desktop
    sign_in_agent(page, app_url, "julien.petit@demo.test")
    table = page.locator("table", has=page.get_by_role("columnheader", name="Motif"))
    first = table.locator("tbody tr").first.get_by_role("link")
    day = first.inner_text()
    first.click()
    page.wait_for_url(re.compile(r"/agenda/rdv/\d+$"))
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    expect(page.locator("main")).to_contain_text(day.split()[1])  # the RDV's page tells the same date


def test_an_agents_colour_and_a_folded_menu_leave_the_agenda_above_the_fold(
        desktop: Page, app_url: str, app_database_url: str, assert_accessible) -> None:
    """"Mon compte": a colour too light is refused in French, a palette colour is saved and colours the
    agent's initials in the agenda's legend. At 1280×720 the navigation is one "Menu" button that the
    keyboard opens (aria-expanded), and the agenda shows the morning and the afternoon above the fold."""
    page = desktop
    sign_in_agent(page, app_url, "camille.martin@demo.test")
    menu = page.get_by_role("navigation", name="Navigation principale").get_by_role("button", name="Menu")
    expect(menu).to_have_attribute("aria-expanded", "false")
    expect(page.get_by_role("link", name="Motifs du territoire")).to_be_hidden()
    menu.focus()
    page.keyboard.press("Enter")
    expect(menu).to_have_attribute("aria-expanded", "true")
    account = page.get_by_role("navigation", name="Navigation principale").get_by_role("link", name="Mon compte")
    expect(account).to_be_visible()
    assert_accessible(page)
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Accueil")).to_be_focused()  # the links follow the button
    account.click()
    expect(page.get_by_role("heading", name="Mon compte", level=1)).to_be_visible()
    expect(menu).to_have_attribute("aria-expanded", "false")  # the page opened closes the menu

    form = page.get_by_role("form", name="Couleur dans l'agenda")
    expect(form.locator("input[type=radio]:checked")).to_have_count(1)  # the colour is loaded
    form.get_by_label("Une autre couleur").check()
    form.get_by_label("Autre couleur, au format #RRGGBB").fill("#ffd700")
    form.get_by_role("button", name="Enregistrer ma couleur").click()
    expect(form.locator(".field-error")).to_have_text(
        "Cette couleur est trop claire : un texte blanc n'y atteint qu'un contraste de 1,4:1, il faut 4,5:1 au "
        "moins. Choisissez une couleur plus foncée.")
    expect(form.get_by_role("button", name="Enregistrer ma couleur")).to_be_enabled()  # not left loading
    assert_accessible(page)
    form.get_by_label("Brun").check()
    form.get_by_role("button", name="Enregistrer ma couleur").click()
    expect(form.get_by_role("status")).to_have_text("Votre couleur a été enregistrée.")

    today = datetime.now(PARIS)
    tuesday = today + timedelta(days=7 - today.weekday() + 1)
    page.goto(f"{app_url}/agenda?jour={tuesday:%Y-%m-%d}")
    legend = page.get_by_role("group", name="Agendas affichés")
    chip = legend.locator("label", has_text="Camille").locator(".agent-chip")
    expect(chip).to_have_css("background-color", "rgb(93, 64, 55)")  # #5d4037, "Brun"
    # Above the fold: the morning from 08 h, and the afternoon's first hour (its plages start at 13 h 30).
    for hour in ("08 h", "09 h", "12 h", "13 h"):
        expect(page.locator(".fc-timegrid-slot-label", has_text=hour).first).to_be_in_viewport(ratio=0.9)
    calendar = page.locator(".agenda-calendar").bounding_box()
    assert calendar is not None and calendar["y"] + calendar["height"] <= 720  # no page scroll to reach it
    assert_accessible(page)

    # The "Liste" view: the same events as a table, by day and time, each RDV a link to its page.
    show_list = page.get_by_role("button", name="Liste", exact=True)
    show_list.click()
    expect(show_list).to_have_attribute("aria-expanded", "true")
    listed = page.get_by_role("region", name="Liste des événements affichés").get_by_role("table")
    expect(listed.locator("tbody tr").first).to_be_visible()
    expect(listed.get_by_role("link").first).to_have_attribute("href", re.compile(r"/agenda/rdv/\d+$"))
    assert_accessible(page)
