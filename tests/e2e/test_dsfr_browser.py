"""Issue 24: the usagers' pages on the State design system (DSFR), on a phone: its header and footer on
every step of the booking, the stepper naming the steps, the legal pages the footer links to (their
contents from the deployment's settings), and the "Paramètres d'affichage" that switch to the dark theme.
axe on every page and dialog."""

from __future__ import annotations

import os
import re
from collections.abc import Callable

from conftest import week_with_times
from playwright.sync_api import Page, expect

from rdv_app.config import settings
from rdv_app.services.retention import RETENTION_TABLE

LEGAL_PAGES = (("Accessibilité : partiellement conforme", "Déclaration d'accessibilité"),
               ("Mentions légales", "Mentions légales"),
               ("Données personnelles", "Données personnelles"),
               ("Gestion des cookies", "Gestion des cookies"))


def shoot(page: Page, name: str) -> None:
    """With RDV_SCREENSHOTS set to a folder, keeps a picture of the page there (docs/dsfr holds a set)."""
    folder = os.environ.get("RDV_SCREENSHOTS")
    if folder:
        page.screenshot(path=f"{folder}/{name}.png", full_page=True)


def _frame_is_dsfr(page: Page) -> None:
    """The DSFR's header (the product's name, no Marianne: the demo is no State service) and footer."""
    header = page.get_by_role("banner")
    expect(header.get_by_role("link", name=re.compile(re.escape(settings.product_name)))).to_be_visible()
    expect(header.locator(".fr-logo")).to_have_count(0)
    footer = page.get_by_role("contentinfo")
    for link, _ in LEGAL_PAGES:
        expect(footer.get_by_role("link", name=link)).to_be_attached()
    expect(footer.get_by_role("button", name="Paramètres d'affichage")).to_be_attached()


def _step(page: Page, number: int, title: str) -> None:
    stepper = page.locator(".fr-stepper")
    expect(stepper).to_contain_text(title)
    expect(stepper).to_contain_text(f"Étape {number} sur 5")


def test_the_booking_pages_wear_the_dsfr_with_their_steps_on_a_phone(phone: Page, app_url: str,
                                                                      assert_accessible: Callable[[Page], None]) -> None:
    page = phone
    page.goto(f"{app_url}/prendre_rdv?departement=62")
    expect(page.get_by_role("heading", name="Choisissez un service")).to_be_visible(timeout=30_000)
    _step(page, 1, "Choisir le motif")
    _frame_is_dsfr(page)
    assert_accessible(page)
    shoot(page, "apres-1-service")

    page.get_by_role("link", name=re.compile("^PMI")).click()
    expect(page.get_by_role("heading", name="Choisissez le motif de votre rendez-vous")).to_be_visible()
    _step(page, 1, "Choisir le motif")
    page.get_by_role("link", name=re.compile("^Pesée et conseils")).click()

    expect(page.get_by_role("heading", name=re.compile("^Choisissez un (lieu|service près de chez vous)$"))).to_be_visible()
    _step(page, 2, "Choisir le lieu")
    expect(page.locator(".fr-stepper")).to_contain_text("Étape suivante : Choisir un créneau")
    _frame_is_dsfr(page)
    assert_accessible(page)
    shoot(page, "apres-2-lieu")
    page.get_by_role("link", name=re.compile("Prochaine disponibilité le")).first.click()

    times = week_with_times(page)
    _step(page, 3, "Choisir un créneau")
    _frame_is_dsfr(page)
    assert_accessible(page)
    shoot(page, "apres-3-creneaux")
    times.first.click()

    expect(page.get_by_role("heading", name="Identifiez-vous pour confirmer")).to_be_visible()
    _step(page, 4, "Vous identifier")
    _frame_is_dsfr(page)
    assert_accessible(page)
    shoot(page, "apres-4-identification")

    # The organisation's own link wears the same frame.
    page.goto(f"{app_url}/org/1/pmi-arras")
    expect(page.get_by_role("heading", name="Prendre rendez-vous", level=1)).to_be_visible()
    expect(page.locator(".fr-stepper")).to_be_visible()
    _frame_is_dsfr(page)
    assert_accessible(page)


def test_the_legal_pages_are_reached_from_the_footer_with_the_deployments_details(
        phone: Page, app_url: str, assert_accessible: Callable[[Page], None]) -> None:
    page = phone
    for link, heading in LEGAL_PAGES:
        page.goto(f"{app_url}/prendre_rdv")
        page.get_by_role("contentinfo").get_by_role("link", name=link).click()
        expect(page.get_by_role("heading", name=heading, level=1)).to_be_visible()
        _frame_is_dsfr(page)
        assert_accessible(page)
        if heading == "Données personnelles":
            shoot(page, "apres-5-donnees-personnelles")
        main = page.get_by_role("main")
        if heading == "Mentions légales":
            expect(main).to_contain_text(settings.operator_name)
            expect(main).to_contain_text(settings.hosting_provider)
            expect(main.get_by_role("link", name=settings.contact_email)).to_be_visible()
        elif heading == "Données personnelles":
            expect(main.get_by_role("link", name=settings.dpo_contact)).to_be_visible()
            table = main.get_by_role("table", name="Durées de conservation des données")
            for what, how_long in RETENTION_TABLE:
                expect(table.get_by_role("row", name=f"{what} {how_long}")).to_be_attached()
        elif heading == "Gestion des cookies":
            expect(main).to_contain_text("que des cookies strictement nécessaires")
            expect(main.get_by_role("cell", name="rdv_usager_session", exact=True)).to_be_visible()
        else:
            expect(main).to_contain_text("partiellement conforme avec le référentiel général d'amélioration de "
                                         "l'accessibilité (RGAA), version 4.1")


def _background(page: Page, selector: str) -> str:
    return page.locator(selector).first.evaluate("element => getComputedStyle(element).backgroundColor")


def test_the_display_settings_switch_to_the_dark_theme_and_back(phone: Page, app_url: str,
                                                               assert_accessible: Callable[[Page], None]) -> None:
    page = phone
    page.goto(f"{app_url}/prendre_rdv?departement=62")
    expect(page.get_by_role("heading", name="Choisissez un service")).to_be_visible(timeout=30_000)
    light = _background(page, ".public-shell")
    opener = page.get_by_role("button", name="Paramètres d'affichage")
    opener.click()
    dialog = page.get_by_role("dialog", name="Paramètres d'affichage")
    expect(dialog).to_be_visible()
    assert_accessible(page)
    dialog.get_by_text("Thème sombre", exact=True).click()  # the DSFR draws the label, over the radio
    expect(dialog.get_by_label("Thème sombre")).to_be_checked()

    html = page.locator("html")
    expect(html).to_have_attribute("data-fr-theme", "dark")
    expect(html).to_have_attribute("data-fr-scheme", "dark")
    dialog.get_by_role("button", name="Fermer").click()
    expect(dialog).to_be_hidden()
    assert _background(page, ".public-shell") == "rgb(22, 22, 22)" != light
    assert _background(page, ".fr-header") != "rgb(255, 255, 255)"
    assert_accessible(page)
    shoot(page, "apres-6-theme-sombre")

    # Kept for the next page, then back to light.
    page.reload()
    expect(page.get_by_role("heading", name="Choisissez un service")).to_be_visible(timeout=30_000)
    expect(html).to_have_attribute("data-fr-theme", "dark")
    page.get_by_role("button", name="Paramètres d'affichage").click()
    page.get_by_role("dialog").get_by_text("Thème clair", exact=True).click()
    expect(html).to_have_attribute("data-fr-theme", "light")
    assert _background(page, ".public-shell") == light


def test_the_agents_pages_take_the_dsfr_tokens(page: Page, login_as: Callable[[str], None],
                                               assert_accessible: Callable[[Page], None]) -> None:
    """The agenda (FullCalendar kept) in the DSFR's Marianne, loaded from the package, with its blue; at
    1280 px the navigation is folded into « Menu »."""
    page.set_viewport_size({"width": 1280, "height": 720})
    login_as("julien.petit@demo.test")
    page.get_by_role("button", name="Menu").click()
    page.get_by_role("link", name="Agenda").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Agenda")
    expect(page.locator(".fc")).to_be_visible()
    assert page.evaluate("document.fonts.ready.then(() => [...document.fonts].some("
                         "face => face.family.replaceAll('\"', '') === 'Marianne' && face.status === 'loaded'))")
    heading_font = page.get_by_role("heading", level=1).evaluate("element => getComputedStyle(element).fontFamily")
    assert heading_font.startswith("Marianne")
    assert page.locator("html").get_attribute("data-fr-theme") == "light"
    assert_accessible(page)
    shoot(page, "apres-7-agenda")


def test_a_mouse_over_a_choice_or_a_time_keeps_it_readable(page: Page, app_url: str,
                                                          assert_accessible: Callable[[Page], None]) -> None:
    """On a desktop, under the mouse, a choice's card takes the grey surface and a time the lighter blue, their
    text readable: Radix's link once put its accent colour over them (a time's text at 2.5:1 on its blue)."""
    page.goto(f"{app_url}/prendre_rdv?departement=62")
    service = page.get_by_role("link", name=re.compile("^PMI"))
    service.hover()
    expect(service).to_have_css("background-color", "rgb(246, 246, 246)")
    expect(service).to_have_css("border-color", "rgb(0, 0, 145)")
    assert_accessible(page)
    service.click()
    page.get_by_role("link", name=re.compile("^Pesée et conseils")).click()
    page.get_by_role("link", name=re.compile("Prochaine disponibilité le")).first.click()

    first_time = week_with_times(page).first
    first_time.hover()
    expect(first_time).to_have_css("background-color", "rgb(18, 18, 255)")
    expect(first_time).to_have_css("color", "rgb(255, 255, 255)")
    assert_accessible(page)
