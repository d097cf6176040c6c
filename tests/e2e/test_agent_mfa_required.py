"""With RDV_MFA_REQUIRED=1 (its own production server): an admin who has no second factor is led through
setting it up right after the password, before any session; nothing else opens until then. The step
passes axe."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pyotp
import pytest
from app_server import running_app
from conftest import DEMO_PASSWORD
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.own_server

ADMIN = "thomas.dubois@demo.test"


@pytest.fixture(scope="module")
def required_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    data = tmp_path_factory.mktemp("mfa-required")
    with running_app(f"sqlite:///{data / 'rdv.db'}", data, RDV_MFA_REQUIRED="1", RDV_SMTP_HOST="") as base_url:
        yield base_url


def test_an_admin_sets_up_the_second_factor_before_reaching_the_workspace(page: Page, required_url: str,
                                                                         assert_accessible) -> None:
    page.goto(f"{required_url}/connexion?suivant=/agenda")
    page.get_by_label("Adresse email").fill(ADMIN)
    page.get_by_label("Mot de passe").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Activez la double authentification")
    expect(page.get_by_role("img", name="QR code à scanner avec votre application d'authentification")).to_be_visible()
    assert_accessible(page)

    # No session yet: another page sends back to the sign-in.
    other = page.context.new_page()
    other.goto(f"{required_url}/espace")
    other.wait_for_url(re.compile(r"/connexion\?suivant="))
    other.close()

    secret = page.locator("code.totp-secret").inner_text().replace(" ", "")
    page.get_by_label("Code à 6 chiffres").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Activer la double authentification").click()
    expect(page.get_by_role("list", name="Codes de secours").get_by_role("listitem")).to_have_count(10)
    assert_accessible(page)
    page.get_by_role("button", name="J'ai noté mes codes, accéder à mon espace").click()
    page.wait_for_url(f"{required_url}/agenda**")

    page.goto(f"{required_url}/mon-compte")
    expect(page.get_by_text("Elle est obligatoire pour les administrateurs")).to_be_visible()
    expect(page.get_by_role("button", name="Désactiver la double authentification")).to_have_count(0)
