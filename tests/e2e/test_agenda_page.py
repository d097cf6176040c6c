"""The agenda shows the week and follows other agents' changes without a reload."""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from conftest import DEMO_PASSWORD
from playwright.sync_api import Page, expect
from sqlmodel import select

from rdv_app.db.models import Agent, Lieu, Motif, Organisation, Usager, UsagerProfile
from rdv_app.db.uow import UnitOfWork
from rdv_app.services.rdv import lifecycle


def _plan_as_camille(database_url: str, starts_at: datetime) -> str:
    """Camille (admin) books Julien from another browser: straight through the service."""
    with UnitOfWork(database_url) as uow:
        s = uow.session
        org = s.exec(select(Organisation).where(Organisation.name == "PMI Arras")).one()
        camille = s.exec(select(Agent).where(Agent.email == "camille.martin@demo.test")).one()
        julien = s.exec(select(Agent).where(Agent.email == "julien.petit@demo.test")).one()
        motif = s.exec(select(Motif).where(Motif.organisation_id == org.id,
                                           Motif.name == "Consultation pédiatrique")).one()
        usager = s.exec(select(Usager).join(UsagerProfile, UsagerProfile.usager_id == Usager.id)
                        .where(UsagerProfile.organisation_id == org.id, Usager.responsible_id.is_(None))
                        .order_by(Usager.last_name)).first()
        lifecycle.plan_rdv(uow, camille.id, org.id, motif_id=motif.id, starts_at=starts_at, duration_in_min=30,
                      agent_ids=[julien.id], lieu_id=_first_lieu(uow, org.id), usager_ids=[usager.id],
                      confirm_warnings=True)
        return usager.last_name.upper()


def _first_lieu(uow: UnitOfWork, organisation_id: int) -> int:
    return uow.session.exec(select(Lieu.id).where(Lieu.organisation_id == organisation_id,
                                                  Lieu.availability == "enabled").order_by(Lieu.id)).first()


def test_agenda_is_accessible_and_shows_another_agents_new_rdv_without_reload(
        page: Page, app_database_url: str, login_as, assert_accessible) -> None:
    login_as("julien.petit@demo.test")
    page.get_by_role("link", name="Agenda").click()
    page.wait_for_url(re.compile(r"/agenda"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Agenda")
    expect(page.get_by_role("group", name="Agendas affichés").get_by_label("Julien Petit")).to_be_checked()
    expect(page.locator(".fc-timegrid")).to_be_visible()
    assert_accessible(page)

    page.get_by_role("button", name=re.compile("suivant", re.IGNORECASE)).click()
    title = page.locator(".fc-toolbar-title")
    expect(title).to_be_visible()
    paris = ZoneInfo("Europe/Paris")
    today = datetime.now(paris).date()
    # The agenda opened on this week, or on a Sunday (never drawn) on the week to come.
    opening = today + timedelta(days=1) if today.weekday() == 6 else today
    next_monday = opening + timedelta(days=7 - opening.weekday())
    starts_at = datetime.combine(next_monday, time(18, 30), paris)  # after hours: nothing else there
    name = _plan_as_camille(app_database_url, starts_at)
    # The usager's family may have another RDV that week: the new one is the one at 18:30.
    event = page.locator(".agenda-rdv", has_text=name).filter(has_text="18:30")
    expect(event).to_be_visible(timeout=4000)  # refreshed within seconds, without reload


def test_on_a_phone_the_agenda_toolbar_wraps_without_horizontal_scrolling(
        phone: Page, app_url: str, assert_accessible) -> None:
    page = phone
    page.goto(f"{app_url}/connexion")
    page.get_by_label("Adresse email").fill("julien.petit@demo.test")
    page.get_by_label("Mot de passe").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url(f"{app_url}/espace**")
    page.goto(f"{app_url}/agenda")
    expect(page.locator(".fc-timegrid")).to_be_visible()
    for view in ("Jour", "Semaine", "Mois"):
        page.get_by_role("button", name=view, exact=True).click()
        expect(page.get_by_role("button", name=view, exact=True)).to_have_attribute("aria-pressed", "true")
        widths = page.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
        assert widths[0] <= widths[1], f"{view}: the page is {widths[0]} px wide on a {widths[1]} px screen"
        toolbar = page.locator(".fc-header-toolbar").bounding_box()
        assert toolbar is not None and toolbar["x"] >= 0 and toolbar["x"] + toolbar["width"] <= widths[1]
    page.get_by_role("button", name=re.compile("suivant", re.IGNORECASE)).click()
    expect(page.locator(".fc-toolbar-title")).to_be_visible()
    assert_accessible(page)
