"""Keyboard and screen readers (issue 24, docs/accessibilite.md): the skip link, focus back to the control
that opened a dialog, the connection lost said in French, reflow at 320 px. On the session's server."""

from __future__ import annotations

import re
from collections.abc import Callable

import factories
from conftest import PHONE
from pg import free_port
from playwright.sync_api import Browser, Locator, Page, expect
from sqlmodel import col, select

from rdv_app.db.models import Organisation, Rdv
from rdv_app.db.uow import UnitOfWork
from rdv_app.domain import clock
from rdv_app.domain.enums import RdvStatus

ADMIN = "camille.martin@demo.test"  # admin of PMI Arras


def _skip_link_reaches_the_content(page: Page) -> None:
    """The first Tab lands on "Aller au contenu"; Enter puts the focus on the main region."""
    page.locator("body").focus()
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Aller au contenu")
    expect(skip).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("main#contenu")).to_be_focused()


def _reflex_overlay_speaks_french(page: Page) -> None:
    expect(page.get_by_role("region", name="Notifications, raccourci clavier alt+T")).to_have_count(1)
    expect(page.locator('[title^="Connection Error"]')).to_have_count(0)


def test_the_skip_link_works_on_public_and_agent_pages(page: Page, app_url: str, login_as) -> None:
    page.goto(f"{app_url}/prendre_rdv?departement=62")
    expect(page.get_by_role("link", name=re.compile("^PMI"))).to_be_visible()
    _skip_link_reaches_the_content(page)
    _reflex_overlay_speaks_french(page)

    page.goto(f"{app_url}/connexion")
    expect(page.get_by_label("Adresse email")).to_be_enabled()
    _skip_link_reaches_the_content(page)

    login_as(ADMIN)
    _skip_link_reaches_the_content(page)
    _reflex_overlay_speaks_french(page)


# The page's websocket goes to a closed port, as behind a proxy that refuses it, until the tab is told otherwise.
REFUSED_WEBSOCKET = """(() => {
  const Real = window.WebSocket;
  window.WebSocket = function (url, protocols) {
    const refused = sessionStorage.getItem("websocket-back") ? url : "ws://127.0.0.1:%d/_event/";
    return new Real(refused, protocols);
  };
  Object.assign(window.WebSocket, Real);
  window.WebSocket.prototype = Real.prototype;
})();"""


def test_without_the_websocket_a_french_banner_offers_to_try_again(browser: Browser, app_url: str) -> None:
    context = browser.new_context(locale="fr-FR", **PHONE)
    try:
        page = context.new_page()
        page.add_init_script(REFUSED_WEBSOCKET % free_port())
        page.goto(f"{app_url}/prendre_rdv")
        banner = page.get_by_role("alert").filter(has_text="La connexion au serveur est interrompue")
        expect(banner).to_be_visible()
        retry = banner.get_by_role("button", name="Réessayer")
        expect(page.locator('[title^="Connection Error"]')).to_have_count(0)
        # "Réessayer" loads the page again: with the websocket back, the page shows and the banner goes.
        page.evaluate("sessionStorage.setItem('websocket-back', '1')")
        retry.click()
        expect(page.get_by_role("heading", name="Où habitez-vous ?")).to_be_visible()
        expect(banner).to_have_count(0)
    finally:
        context.close()


def _focus_comes_back(page: Page, opener: Locator, dialog_role: str, close: Callable[[Locator], None],
                      assert_accessible: Callable[[Page], None] | None = None) -> None:
    """Opens the dialog from `opener` with the keyboard, closes it with `close`: the focus is on `opener`."""
    opener.focus()
    page.keyboard.press("Enter")
    dialog = page.get_by_role(dialog_role)
    expect(dialog).to_be_visible()
    expect(dialog.locator(":focus")).to_have_count(1)  # the focus went into the dialog
    if assert_accessible:
        dialog.evaluate("node => Promise.all(node.getAnimations({subtree: true}).map(a => a.finished))")
        assert_accessible(page)
    close(dialog)
    expect(dialog).to_have_count(0)
    expect(opener).to_be_focused()


def _escape(dialog: Locator) -> None:
    dialog.page.keyboard.press("Escape")


def _cancel_button(name: str) -> Callable[[Locator], None]:
    def close(dialog: Locator) -> None:
        dialog.get_by_role("button", name=name).focus()
        dialog.page.keyboard.press("Enter")

    return close


def _arras_rdv_to_come_and_a_webhook(database_url: str) -> tuple[int, str]:
    """A PMI Arras RDV still to come (its page has "Annuler le rendez-vous"), and a webhook of PMI Arras to
    delete."""
    with UnitOfWork(database_url) as uow:
        org = uow.session.exec(select(Organisation).where(Organisation.name == "PMI Arras")).one()
        rdv_id = uow.session.exec(select(Rdv.id).where(Rdv.organisation_id == org.id, Rdv.starts_at > clock.now(),
                                                       col(Rdv.status) == RdvStatus.UNKNOWN)
                                  .order_by(col(Rdv.starts_at))).first()
        url = f"https://sih-clavier-{org.id}.exemple.fr/rdv"
        factories.webhook(uow.session, org, target_url=url)
        uow.commit()
    assert rdv_id is not None
    return rdv_id, url


def test_every_dialog_gives_the_focus_back_to_its_opener(page: Page, app_url: str, app_database_url: str,
                                                        login_as, assert_accessible) -> None:
    rdv_id, webhook_url = _arras_rdv_to_come_and_a_webhook(app_database_url)
    login_as(ADMIN)

    page.goto(f"{app_url}/agenda")
    _focus_comes_back(page, page.get_by_role("button", name="Planifier un RDV"), "dialog", _cancel_button("Annuler"))

    page.goto(f"{app_url}/agenda/rdv/{rdv_id}")
    _focus_comes_back(page, page.get_by_role("button", name="Annuler le rendez-vous"), "alertdialog",
                      _cancel_button("Ne pas annuler"))

    page.goto(f"{app_url}/planning/plages")
    _focus_comes_back(page, page.get_by_role("button", name=re.compile("^Supprimer la plage")).first, "alertdialog",
                      _escape)

    page.goto(f"{app_url}/admin/motifs")
    _focus_comes_back(page, page.get_by_role("button", name=re.compile("^(Archiver|Supprimer) le motif")).first,
                      "alertdialog", _cancel_button("Annuler"), assert_accessible)

    page.goto(f"{app_url}/admin/webhooks")
    _focus_comes_back(page, page.get_by_role("button", name=f"Supprimer le webhook {webhook_url}"), "alertdialog",
                      _escape)

    page.goto(f"{app_url}/usagers")
    page.get_by_label("Recherche").fill("a")
    page.get_by_role("row").get_by_role("link").first.click()
    page.wait_for_url(re.compile(r"/usagers/\d+$"))
    _focus_comes_back(page, page.get_by_role("button", name="Supprimer", exact=True), "alertdialog",
                      _cancel_button("Annuler"))


def _no_sideways_scroll(page: Page) -> None:
    """WCAG 1.4.10: at 320 px wide, nothing needs scrolling sideways (a table scrolls in its own region)."""
    widths = page.evaluate("() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    assert widths[0] <= widths[1], f"{page.url}: {widths[0]} px of content for {widths[1]} px"


def _summary_links_to_each_field(page: Page, form: Locator, fields: list[str]) -> None:
    """Every field left empty: the summary lists each one's error, and its link puts the focus in the field."""
    summary = page.get_by_role("alert").filter(has_text="Corrigez les points suivants")
    expect(summary.get_by_role("link")).to_have_count(len(fields))
    for index, label in enumerate(fields):
        field = form.get_by_label(label, exact=True)
        expect(field).to_have_attribute("aria-invalid", "true")
        summary.get_by_role("link").nth(index).click()
        expect(field).to_be_focused()


def test_booking_steps_have_their_own_titles_and_forms_list_every_error_at_320_px(
        browser: Browser, app_url: str, assert_accessible) -> None:
    context = browser.new_context(locale="fr-FR", timezone_id="Europe/Paris", **{
        **PHONE, "viewport": {"width": 320, "height": 640}})
    try:
        page = context.new_page()
        titles = []
        page.goto(f"{app_url}/prendre_rdv?departement=62")
        page.get_by_role("link", name=re.compile("^PMI")).click()
        expect(page).to_have_title(re.compile("^Choisir un motif – Prendre rendez-vous – Pas-de-Calais"))
        titles.append(page.title())
        _no_sideways_scroll(page)
        page.get_by_role("link", name=re.compile("^Pesée et conseils")).click()
        expect(page).to_have_title(re.compile("^Choisir un lieu – Prendre rendez-vous – "))
        titles.append(page.title())
        page.get_by_role("link", name=re.compile("Prochaine disponibilité le")).first.click()
        expect(page).to_have_title(re.compile("^Choisir un créneau – Prendre rendez-vous – "))
        titles.append(page.title())
        _no_sideways_scroll(page)
        page.locator("section ul a").first.click()
        expect(page).to_have_title(re.compile("^Vous identifier – Prendre rendez-vous – "))
        titles.append(page.title())
        assert len(set(titles)) == len(titles), titles

        form = page.get_by_role("form", name="Créer un compte")
        form.get_by_role("button", name="Créer mon compte").click()
        _summary_links_to_each_field(page, form, ["Prénom", "Nom", "Adresse email"])
        _no_sideways_scroll(page)
        assert_accessible(page)
    finally:
        context.close()


def test_the_agent_pages_reflow_at_320_px_and_the_password_form_lists_every_error(
        page: Page, app_url: str, login_as, assert_accessible) -> None:
    login_as(ADMIN)
    page.set_viewport_size({"width": 320, "height": 640})
    _no_sideways_scroll(page)  # the home page: its table scrolls in its region

    page.goto(f"{app_url}/mon-compte")
    form = page.get_by_role("form", name="Changer de mot de passe")
    expect(form).to_be_visible()
    _no_sideways_scroll(page)
    form.get_by_role("button", name="Changer de mot de passe").click()
    _summary_links_to_each_field(page, form, ["Mot de passe actuel", "Nouveau mot de passe",
                                              "Confirmation du nouveau mot de passe"])
    assert_accessible(page)

    page.goto(f"{app_url}/trouver-un-rdv")
    page.get_by_label("Motif").select_option(label="Consultation pédiatrique")
    page.get_by_label("Lieu").select_option(label="Centre PMI d'Arras")
    page.get_by_role("button", name="Afficher les créneaux").click()
    expect(page.locator(".slot-button").first).to_be_visible()
    _no_sideways_scroll(page)
    assert_accessible(page)

    # The agenda's month, on a desktop: day numbers and events readable and large enough to touch.
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{app_url}/agenda")
    page.get_by_role("button", name="Mois").click()
    expect(page.locator(".fc-dayGridMonth-view")).to_be_visible()
    assert_accessible(page)
