"""Statistiques in the browser (desktop, issue 19): an admin opens "Statistiques", reads the counters and the
charts, opens a chart's data table, follows a counter to the RDV list with the right filters; the
personal page and the public page show their charts too; a period chosen stays in the address through a
reload and is what "Exporter" exports; the public page compares the agents' activity with 30 days ago and
its notifications sub-page counts each day. axe checks each page, tables open."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from playwright.sync_api import Page, expect
from sqlmodel import col, func, select

from rdv_app import routes
from rdv_app.db.models import Organisation, Rdv
from rdv_app.db.uow import UnitOfWork
from rdv_app.domain import clock

PARIS = ZoneInfo("Europe/Paris")


def _upcoming_unknown(database_url: str, first: date, last: date) -> tuple[int, int]:
    """PMI Arras's id, and how many of its RDVs of the period have no status yet and are still to come."""
    start = datetime.combine(first, time(0), PARIS)
    end = datetime.combine(last + timedelta(days=1), time(0), PARIS)
    with UnitOfWork(database_url, read_only=True) as uow:
        organisation_id = uow.session.exec(select(Organisation.id).where(Organisation.name == "PMI Arras")).one()
        count = uow.session.exec(select(func.count()).select_from(Rdv).where(
            Rdv.organisation_id == organisation_id, Rdv.status == "unknown", col(Rdv.starts_at) >= start,
            col(Rdv.starts_at) < end, col(Rdv.starts_at) >= clock.now())).one()
    assert organisation_id is not None
    return organisation_id, count


def test_an_admin_reads_the_statistics_and_follows_a_counter(page: Page, login_as, assert_accessible,
                                                             app_url: str, app_database_url: str) -> None:
    login_as("camille.martin@demo.test")
    page.get_by_role("link", name="Statistiques", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Statistiques de PMI Arras")
    first_field, last_field = page.get_by_label("Du", exact=True), page.get_by_label("Au", exact=True)
    expect(first_field).to_be_enabled()
    first, last = date.fromisoformat(first_field.input_value()), date.fromisoformat(last_field.input_value())
    assert first.weekday() == 0 and last.weekday() == 6 and last >= clock.today("Europe/Paris")

    created = page.get_by_role("region", name=re.compile(r"^RDV créés \(\d+\)$"))
    expect(created.locator(".recharts-bar-rectangle").first).to_be_visible()
    expect(created.get_by_text(re.compile(r"^RDV créés : \d+ RDV en 12 semaines"))).to_be_visible()
    expect(page.get_by_role("region", name=re.compile(r"^RDV créés par service"))).to_be_visible()
    expect(page.get_by_role("region", name=re.compile(r"^RDV par type de lieu"))).to_be_visible()
    assert_accessible(page)

    created.get_by_text("Voir les données").click()
    table = created.get_by_role("table")
    expect(table.get_by_role("columnheader")).to_have_text(
        ["Semaine", "Agent", "Usager", "File d'attente", "Prescripteur", "Total"])
    expect(table.get_by_role("rowheader").first).to_have_text(f"Semaine du {first:%d/%m/%Y}")
    expect(table.get_by_role("rowheader")).to_have_count(12)
    assert_accessible(page)

    organisation_id, upcoming = _upcoming_unknown(app_database_url, first, last)
    counters = page.get_by_role("list", name="RDV par statut")
    link = counters.get_by_role("link", name=re.compile("À venir"))
    expect(link).to_have_text(f"{upcoming}À venir")
    expected = routes.rdv_list(status="unknown_future", start=first.isoformat(), end=last.isoformat(),
                               organisation_ids=[organisation_id])
    expect(link).to_have_attribute("href", expected)
    link.click()
    page.wait_for_url(f"{app_url}{expected}")


def test_the_personal_and_public_pages_show_their_charts(page: Page, login_as, assert_accessible,
                                                         app_url: str) -> None:
    login_as("julien.petit@demo.test")
    page.goto(f"{app_url}{routes.STATS}")
    expect(page.get_by_text("Ces chiffres comptent les RDV que vous pouvez consulter")).to_be_visible()
    page.get_by_role("link", name="Voir vos statistiques personnelles").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Statistiques de Julien Petit")
    expect(page.get_by_role("list", name="RDV par statut").get_by_role("link")).to_have_count(7)
    assert_accessible(page)

    page.goto(f"{app_url}{routes.PUBLIC_STATS}")
    # The first visit of the day computes the day's figures.
    expect(page.get_by_role("heading", level=1)).to_have_text("Statistiques de RDV Services Publics", timeout=30_000)
    statuses = page.get_by_role("region", name=re.compile(r"^RDV par statut \("))
    expect(statuses).to_be_visible()
    statuses.get_by_text("Voir les données").click()
    expect(statuses.get_by_role("columnheader")).to_have_text(
        ["Semaine", "Vu(s)", "Excusé(s)", "Annulé(s) par un agent", "Non excusé(s)", "À renseigner", "Total"])
    assert_accessible(page)
    page.get_by_role("link", name="La Réunion").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Statistiques du territoire La Réunion",
                                                              timeout=30_000)
    expect(page.get_by_role("link", name="La Réunion")).to_have_attribute("aria-current", "page")
    expect(page.get_by_role("region", name=re.compile("^RDV créés par structure"))).to_have_count(0)
    assert_accessible(page)


def test_the_period_stays_in_the_address_and_is_exported(page: Page, login_as, assert_accessible, app_url: str) -> None:
    login_as("camille.martin@demo.test")
    page.goto(f"{app_url}{routes.STATS}")
    first_field = page.get_by_label("Du", exact=True)
    expect(first_field).to_be_enabled(timeout=15_000)
    last = date.fromisoformat(page.get_by_label("Au", exact=True).input_value())
    first = last - timedelta(days=13)  # this week and the one before, Monday to Sunday
    first_field.fill(first.isoformat())
    page.get_by_role("button", name="Afficher").click()
    page.wait_for_url(re.compile(rf"du={first.isoformat()}&au={last.isoformat()}$"), timeout=15_000)
    page.reload()
    expect(page.get_by_label("Du", exact=True)).to_have_value(first.isoformat(), timeout=15_000)
    created = page.get_by_role("region", name=re.compile(r"^RDV créés \(\d+\)$"))
    created.get_by_text("Voir les données").click()
    expect(created.get_by_role("rowheader")).to_have_text([f"Semaine du {first:%d/%m/%Y}",
                                                           f"Semaine du {first + timedelta(days=7):%d/%m/%Y}"])
    expect(page.get_by_role("link", name="Voir vos statistiques personnelles")).to_have_attribute(
        "href", routes.stats(start=first.isoformat(), end=last.isoformat(), personal=True))
    page.get_by_role("button", name="Exporter les RDV de la période").click()
    expect(page.get_by_text("Votre export est en cours de création")).to_be_visible(timeout=15_000)
    assert_accessible(page)
    page.get_by_role("link", name="Voir vos exports").click()
    expect(page.get_by_role("row").filter(has_text="Export de RDV du")).to_have_count(1, timeout=15_000)

    page.goto(f"{app_url}{routes.PUBLIC_STATS}")
    activity = page.get_by_role("table", name="Activité des agents, aujourd'hui et il y a 30 jours")
    expect(activity).to_be_visible(timeout=30_000)
    expect(activity.get_by_role("columnheader")).to_have_text(["Agents", "Aujourd'hui", "Il y a 30 jours"])
    expect(page.get_by_text(re.compile(r"^\d+ agent\(s\) synchronisent leur agenda avec Outlook"))).to_be_visible()
    page.get_by_role("link", name="Voir les notifications envoyées chaque jour").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Notifications envoyées", timeout=30_000)
    by_channel = page.get_by_role("region", name=re.compile(r"^Notifications par canal"))
    by_channel.get_by_text("Voir les données").click()
    expect(by_channel.get_by_role("rowheader")).to_have_count(30)
    expect(by_channel.get_by_role("columnheader").first).to_have_text("Jour")
    assert_accessible(page)
