"""A tab whose session ended elsewhere is refused at its next action and sent to sign in again."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from conftest import DEMO_PASSWORD
from playwright.sync_api import Browser, Page, expect
from sqlmodel import select

from rdv_app.auth.passwords import hash_password
from rdv_app.db.models import Agent
from rdv_app.db.uow import UnitOfWork

SOPHIE = "sophie.bernard@demo.test"
NEW_PASSWORD = "Nouveau-Secret-2026!"
SESSION_ENDED = re.compile(r"^Votre session a pris fin .*Votre dernière action n'a pas été faite")


def _sign_in(page: Page, app_url: str, email: str = SOPHIE) -> None:
    page.goto(f"{app_url}/connexion")
    page.get_by_label("Adresse email").fill(email)
    page.get_by_label("Mot de passe").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url(f"{app_url}/espace**")


def _open_account(page: Page) -> None:
    page.get_by_role("link", name=re.compile("^Mon compte : ")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Mon compte")


@pytest.fixture
def sophies_password_back(app_database_url: str) -> Iterator[None]:
    """Other browser tests sign in as Sophie with the demo password."""
    yield
    with UnitOfWork(app_database_url) as uow:
        sophie = uow.session.exec(select(Agent).where(Agent.email == SOPHIE)).one()
        sophie.password_hash = hash_password(DEMO_PASSWORD)
        uow.session.add(sophie)
        uow.commit()


def test_a_password_change_in_one_browser_refuses_the_other_browsers_next_action(
        browser: Browser, app_url: str, assert_accessible, sophies_password_back) -> None:
    office, home = browser.new_context(), browser.new_context()
    try:
        stale, current = office.new_page(), home.new_page()
        _sign_in(stale, app_url)
        _open_account(stale)
        _sign_in(current, app_url)
        _open_account(current)

        form = current.get_by_role("form", name="Changer de mot de passe")
        form.get_by_label("Mot de passe actuel").fill(DEMO_PASSWORD)
        form.get_by_label("Nouveau mot de passe", exact=True).fill(NEW_PASSWORD)
        form.get_by_label("Confirmation du nouveau mot de passe").fill(NEW_PASSWORD)
        form.get_by_role("button", name="Changer de mot de passe").click()
        expect(current.get_by_text("Votre mot de passe a été modifié.")).to_be_visible()

        stale.get_by_role("button", name="Enregistrer mes préférences").click()
        stale.wait_for_url(re.compile(r"/connexion\?suivant=%2Fmon-compte&session=terminee$"))
        expect(stale.get_by_role("status").filter(has_text="Votre session a pris fin")).to_have_text(SESSION_ENDED)
        expect(stale.get_by_text("Vos préférences ont été enregistrées.")).not_to_be_visible()
        assert_accessible(stale)

        # The browser that changed it goes on.
        current.get_by_role("button", name="Enregistrer mes préférences").click()
        expect(current.get_by_text("Vos préférences ont été enregistrées.")).to_be_visible()
    finally:
        office.close()
        home.close()


def test_signing_out_in_one_tab_refuses_the_other_tabs_next_action(page: Page, app_url: str) -> None:
    _sign_in(page, app_url, "julien.petit@demo.test")
    _open_account(page)
    other_tab = page.context.new_page()
    other_tab.goto(f"{app_url}/espace")
    expect(other_tab.get_by_role("heading", level=1)).to_have_text("Bonjour Julien")
    other_tab.get_by_role("button", name="Se déconnecter").click()
    other_tab.wait_for_url(re.compile(r"/connexion"))

    page.get_by_role("button", name="Enregistrer mes préférences").click()
    page.wait_for_url(re.compile(r"/connexion\?suivant=%2Fmon-compte&session=terminee$"))
    expect(page.get_by_role("status").filter(has_text="Votre session a pris fin")).to_have_text(SESSION_ENDED)


def test_a_page_opened_signed_out_only_asks_to_sign_in(page: Page, app_url: str) -> None:
    page.goto(f"{app_url}/mon-compte")
    page.wait_for_url(re.compile(r"/connexion\?suivant=%2Fmon-compte(%2F)?$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Connexion à l'espace agents")
    expect(page.get_by_text("Votre session a pris fin")).to_have_count(0)
