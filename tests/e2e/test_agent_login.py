"""An agent signs in, sees the workspace, stays signed in, signs out; bad passwords get a French message."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

ADMIN = "camille.martin@demo.test"


def test_login_page_is_accessible(page: Page, app_url: str, assert_accessible) -> None:
    page.goto(f"{app_url}/connexion")
    expect(page.get_by_role("heading", level=1)).to_have_text("Connexion à l'espace agents")
    assert_accessible(page)


def test_wrong_password_shows_a_french_message(page: Page, app_url: str) -> None:
    page.goto(f"{app_url}/connexion")
    page.get_by_label("Adresse email").fill(ADMIN)
    page.get_by_label("Mot de passe").fill("Mauvais-mot-de-passe-1")
    page.get_by_role("button", name="Se connecter").click()
    expect(page.get_by_role("alert")).to_have_text("Adresse email ou mot de passe incorrect.")
    expect(page).to_have_url(re.compile(r"/connexion"))
    # The same message for an address that has no account: nothing tells whether it exists.
    page.get_by_label("Adresse email").fill("personne@demo.test")
    page.get_by_role("button", name="Se connecter").click()
    expect(page.get_by_role("alert")).to_have_text("Adresse email ou mot de passe incorrect.")


def test_admin_signs_in_and_sees_the_workspace(page: Page, app_url: str, login_as, assert_accessible) -> None:
    login_as(ADMIN)
    expect(page.get_by_role("heading", level=1)).to_have_text("Bonjour Camille")
    expect(page.get_by_role("link", name="Mon compte : Camille Martin")).to_be_visible()
    expect(page.get_by_role("navigation", name="Navigation principale")).to_be_visible()
    expect(page.get_by_role("heading", name="Vos prochains rendez-vous")).to_be_visible()
    expect(page.get_by_role("table")).to_be_visible()
    assert_accessible(page)

    # The session survives a reload and a new tab.
    page.reload()
    expect(page.get_by_role("heading", level=1)).to_have_text("Bonjour Camille")
    other_tab = page.context.new_page()
    other_tab.goto(f"{app_url}/mon-compte")
    expect(other_tab.get_by_role("heading", level=1)).to_have_text("Mon compte")
    expect(other_tab.get_by_text("camille.martin@demo.test")).to_be_visible()
    assert_accessible(other_tab)
    other_tab.close()

    page.get_by_role("button", name="Se déconnecter").click()
    page.wait_for_url(re.compile(r"/connexion"))
    page.goto(f"{app_url}/espace")
    page.wait_for_url(re.compile(r"/connexion\?suivant="))
    expect(page.get_by_role("heading", level=1)).to_have_text("Connexion à l'espace agents")


def test_agent_with_several_organisations_can_switch(page: Page, app_url: str, login_as) -> None:
    login_as("karim.haddad@demo.test")
    switcher = page.get_by_label("Organisation")
    expect(switcher).to_be_visible()
    options = switcher.locator("option")
    expect(options).to_have_count(3)
    second = options.nth(1).text_content()
    switcher.select_option(label=second)
    expect(page.get_by_text(re.compile(re.escape(second) + " · "))).to_be_visible()


def test_unknown_route_gets_a_french_404(page: Page, app_url: str, assert_accessible) -> None:
    page.goto(f"{app_url}/cette-page-n-existe-pas")
    expect(page.get_by_role("heading", level=1)).to_have_text("Page introuvable")
    assert_accessible(page)


def test_protected_page_redirects_to_login_and_back(page: Page, app_url: str) -> None:
    page.goto(f"{app_url}/mon-compte")
    page.wait_for_url(re.compile(r"/connexion\?suivant=%2Fmon-compte"))
    page.get_by_label("Adresse email").fill(ADMIN)
    page.get_by_label("Mot de passe").fill("RdvDemo-2026!")
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url(re.compile(r"/mon-compte/?$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Mon compte")


def test_the_sign_in_form_takes_nothing_before_the_page_comes_to_life(page: Page, app_url: str) -> None:
    """The HTML shell shows the form before its JavaScript runs: typed and sent there, a password would go
    into the address (a plain form), so the form stays disabled until the page has come to life."""
    page.route("**/assets/*.js", lambda route: route.abort())
    page.goto(f"{app_url}/connexion")
    expect(page.get_by_role("heading", name="Connexion à l'espace agents")).to_be_visible()
    expect(page.get_by_label("Adresse email")).to_be_disabled()
    expect(page.get_by_role("button", name="Se connecter")).to_be_disabled()
    page.unroute("**/assets/*.js")
    page.reload()
    expect(page.get_by_label("Adresse email")).to_be_enabled()
