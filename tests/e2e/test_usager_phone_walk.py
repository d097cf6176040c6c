"""Issue 26: what a usager trips on with a phone (390×844), each point as a person sees it.

Ten minutes on the "Infos et annulation" page are not waited for: the browser is given the access cookie
it would hold by then (made by the service, 11 minutes ago, with the server's key), and the 10-minute
"3 letters" cookie is gone, as the browser drops it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlparse, urlsplit
from zoneinfo import ZoneInfo

from conftest import PHONE, open_booking_week, sign_up_and_reach_confirmation
from playwright.sync_api import Browser, BrowserContext, Locator, Page, WebSocketRoute, expect
from test_usager_link_browser import _initials, _link_path, _next_weekday, _plan

from rdv_app import routes
from rdv_app.db.models import Rdv
from rdv_app.db.uow import UnitOfWork
from rdv_app.domain import clock, datefmt
from rdv_app.services.usagers import usager_link

LETTERS = "Saisissez les trois premières lettres de votre nom de famille"
AGAIN = "Pour votre sécurité, saisissez à nouveau les trois premières lettres de votre nom"


def _stale_access(database_url: str, rdv_id: int, token: str) -> str:
    """The access cookie of a phone that opened the link 11 minutes ago."""
    with UnitOfWork(database_url) as uow:
        cookie = usager_link.open_link(uow, rdv_id, token, "192.0.2.26", now=clock.now() - timedelta(minutes=11))
    assert cookie is not None
    return cookie


def _ten_minutes_later(context: BrowserContext, app_url: str, rdv_id: int, cookie: str) -> None:
    """The cookies the phone holds 11 minutes after opening the link: the access, over; no 3-letter proof."""
    context.clear_cookies(name=routes.USAGER_VERIFIED_COOKIE)
    context.clear_cookies(name=routes.USAGER_ACCESS_COOKIE)
    context.add_cookies([{"name": routes.USAGER_ACCESS_COOKIE, "value": cookie, "domain": urlsplit(app_url).hostname,
                          "path": routes.usager_link(rdv_id), "httpOnly": True, "sameSite": "Lax"}])


def _answer(page: Page, last_name: str) -> None:
    page.get_by_label(LETTERS).fill(_initials(last_name))
    page.get_by_role("button", name="Valider").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Votre rendez-vous")


def _height(target: Locator) -> float:
    box = target.bounding_box()
    assert box is not None
    return box["height"]


def test_after_ten_minutes_the_link_asks_the_letters_again_and_an_old_link_says_the_rdv_was_cancelled(
        phone: Page, browser: Browser, app_url: str, app_database_url: str,
        assert_accessible: Callable[[Page], None]) -> None:
    rdv_id, sms_text, last_name = _plan(app_database_url, _next_weekday(3), skip=3)
    link = _link_path(sms_text, rdv_id)
    token = link.rsplit("/", 1)[1]
    page = phone
    page.goto(f"{app_url}{link}")
    _answer(page, last_name)

    # Point 1: the summary reloaded after its 10 minutes asks the letters again, never "plus valide".
    stale = _stale_access(app_database_url, rdv_id, token)
    _ten_minutes_later(page.context, app_url, rdv_id, stale)
    page.reload()
    expect(page.get_by_role("heading", level=1)).to_have_text("Vérification de votre identité")
    expect(page.get_by_role("status")).to_have_text(f"{AGAIN}.")
    expect(page.get_by_text("plus valide")).to_have_count(0)
    expect(page.get_by_role("link", name="Prendre un nouveau rendez-vous")).to_have_count(0)
    assert_accessible(page)
    _answer(page, last_name)

    # Point 2: cancelled from the link; the SMS link (older than the cancellation email's) says so.
    page.get_by_role("link", name="Annuler le rendez-vous").click()
    page.get_by_role("button", name="Oui, annuler le rendez-vous").click()
    expect(page.get_by_role("status")).to_contain_text("Votre rendez-vous est annulé")
    with UnitOfWork(app_database_url) as uow:
        cancelled_at = uow.session.get(Rdv, rdv_id).cancelled_at  # type: ignore[union-attr]
    assert cancelled_at is not None
    cancelled_on = datefmt.long_date(cancelled_at.astimezone(ZoneInfo("Europe/Paris")).date())
    other_phone = browser.new_context(**PHONE, locale="fr-FR", timezone_id="Europe/Paris")
    try:
        sms = other_phone.new_page()
        for shown in (sms, page):
            if shown is sms:
                sms.goto(f"{app_url}{link}")
            else:  # the same phone once its access is over
                _ten_minutes_later(page.context, app_url, rdv_id, stale)
                page.reload()
            expect(shown.get_by_role("heading", level=1)).to_have_text("Rendez-vous annulé")
            expect(shown.get_by_role("status")).to_contain_text(f"Ce rendez-vous a été annulé le {cancelled_on}.")
            expect(shown.get_by_text("plus valide")).to_have_count(0)
            expect(shown.locator('a[href^="tel:"]')).to_be_visible()
            expect(shown.get_by_role("link", name="Prendre un nouveau rendez-vous")).to_be_visible()
            expect(shown.get_by_role("button", name="Valider")).to_have_count(0)  # no way in: only the news
            assert _height(shown.locator('a[href^="tel:"]')) >= 44
            assert_accessible(shown)
    finally:
        other_phone.close()


def test_a_slot_never_offered_sends_the_recap_back_to_the_week(phone: Page, app_url: str, app_database_url: str,
                                                               assert_accessible: Callable[[Page], None]) -> None:
    page = phone
    sign_up_and_reach_confirmation(page, app_url, app_database_url, "Inès", "Garnier")
    recap = urlparse(page.url)
    query = {name: values[0] for name, values in parse_qs(recap.query).items()}
    offered = datetime.fromisoformat(query["creneau"])
    for never in (offered - timedelta(days=30), offered.replace(hour=1), offered + timedelta(days=365)):
        page.goto(f"{app_url}{recap.path}?{urlencode({**query, 'creneau': never.isoformat()})}")
        expect(page.get_by_role("alert")).to_have_text(re.compile("^Ce créneau n'est pas proposé"))
        expect(page.get_by_role("heading", name="Choisissez un horaire")).to_be_visible()
        expect(page.get_by_role("button", name="Confirmer mon RDV")).to_have_count(0)
        assert_accessible(page)
    # The week offers its times again, and one of them leads on (still signed in).
    page.locator("section ul a").first.click()
    expect(page.get_by_role("heading", name="Vos informations")).to_be_visible()
    expect(page.get_by_role("alert")).to_have_count(0)


def test_forms_show_every_error_at_once_and_the_confirmation_gives_help_at_hand(
        phone: Page, app_url: str, app_database_url: str, assert_accessible: Callable[[Page], None]) -> None:
    page = phone
    sign_up_and_reach_confirmation(page, app_url, app_database_url, "Hugo", "Lemaire")

    # Point 6: "Ajouter un proche" sent empty: both names refused at once, in the relative's words.
    page.get_by_role("link", name="← Modifier l'étape précédente").click()
    expect(page.get_by_role("heading", name="Pour qui est ce rendez-vous ?")).to_be_visible()
    page.get_by_role("button", name="Ajouter ce proche et continuer").click()
    summary = page.get_by_role("alert").filter(has_text="Corrigez les points suivants")
    expect(summary.get_by_role("link")).to_have_text(["Indiquez le prénom de votre proche.",
                                                      "Indiquez le nom de votre proche."])
    expect(page.get_by_text("Indiquez votre prénom")).to_have_count(0)
    first = page.get_by_label("Prénom du proche")
    expect(first).to_have_attribute("aria-invalid", "true")
    assert_accessible(page)
    first.fill("Noé")
    page.get_by_label("Nom du proche", exact=True).focus()  # leaving the fixed field clears its error, and only its
    expect(summary.get_by_role("link")).to_have_text(["Indiquez le nom de votre proche."])
    expect(first).to_have_attribute("aria-invalid", "false")
    page.get_by_label("Nom du proche", exact=True).fill("Lemaire")
    page.get_by_role("button", name="Ajouter ce proche et continuer").click()
    expect(page.get_by_role("heading", name="Vérifiez votre rendez-vous")).to_be_visible()
    expect(page.get_by_text("Noé Lemaire")).to_be_visible()

    # Point 7: the main actions are at least 44 px high, every target at least 24 px.
    assert _height(page.get_by_role("button", name="Confirmer mon RDV")) >= 44
    assert _height(page.get_by_role("button", name="Se déconnecter")) >= 44
    assert _height(page.get_by_role("link", name="Mes rendez-vous")) >= 44
    for target in page.locator("main a:visible, main button:visible").all():
        assert _height(target) >= 24, target.text_content()
    page.get_by_role("button", name="Confirmer mon RDV").click()

    # Point 5: the confirmation's contact can be called and written to, and the RDV added to a calendar.
    expect(page.get_by_role("heading", name="Votre rendez-vous est confirmé")).to_be_visible()
    call = page.locator('main a[href^="tel:+33-"]')
    expect(call).to_be_visible()
    write = page.locator('main a[href^="mailto:"]')
    expect(write).to_be_visible()
    for target in (call, write, page.get_by_role("link", name="Voir mes rendez-vous")):
        assert _height(target) >= 44
    assert_accessible(page)
    calendar = page.get_by_role("link", name="Ajouter à mon agenda")
    assert _height(calendar) >= 44
    with page.expect_download() as download:
        calendar.click()
    assert download.value.suggested_filename.endswith(".ics")
    content = Path(download.value.path()).read_text(encoding="utf-8")
    assert "BEGIN:VEVENT" in content and "Pesée et conseils" in content
    expect(page.get_by_role("heading", name="Votre rendez-vous est confirmé")).to_be_visible()  # still there


def test_a_stale_time_of_the_week_says_it_is_not_offered(phone: Page, app_url: str,
                                                        assert_accessible: Callable[[Page], None]) -> None:
    page = phone
    times = open_booking_week(page, app_url, "Consultation pédiatrique")
    href = times.first.get_attribute("href") or ""
    address = urlparse(href)
    query = {name: values[0] for name, values in parse_qs(address.query).items()}
    three_am = datetime.fromisoformat(query["creneau"]).replace(hour=2)  # 03:00 in Paris in winter, 04:00 in summer
    page.goto(f"{app_url}{address.path}?{urlencode({**query, 'creneau': three_am.isoformat()})}")
    expect(page.get_by_role("alert")).to_have_text(re.compile("^Ce créneau n'est pas proposé"))
    expect(page.get_by_role("heading", name="Identifiez-vous pour confirmer")).to_have_count(0)
    assert_accessible(page)


def test_a_page_that_never_finishes_loading_offers_to_try_again(phone: Page, app_url: str,
                                                                assert_accessible: Callable[[Page], None]) -> None:
    """Point 9: the connection to the server is lost (its websocket answers nothing): after a while the page
    says so in French, and "Réessayer" loads it again once the connection is back."""
    page = phone
    connection = {"lost": True}

    def socket(route: WebSocketRoute) -> None:
        if not connection["lost"]:
            route.connect_to_server()  # otherwise accepted, never answered

    page.route_web_socket(re.compile(r".*/_event.*"), socket)
    page.goto(f"{app_url}/prendre_rdv")
    slow = page.get_by_role("alert").filter(has_text="Le chargement prend plus de temps que prévu")
    expect(slow).to_be_visible(timeout=30_000)
    assert_accessible(page)
    connection["lost"] = False
    slow.get_by_role("button", name="Réessayer").click()
    expect(page.get_by_role("heading", name="Où habitez-vous ?")).to_be_visible()
    expect(slow).to_be_hidden()
