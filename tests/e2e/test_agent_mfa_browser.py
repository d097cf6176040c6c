"""The second factor in the browser: an agent turns it on in "Mon compte" (the code computed from the key the
page shows), signs out, signs in with the password then a code, then with a recovery code; the territorial
admin reads it in the "Journal de sécurité". Each new step passes axe."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator

import pyotp
import pytest
from conftest import DEMO_PASSWORD
from playwright.sync_api import Page, expect
from sqlmodel import select

from rdv_app.db.models import Agent
from rdv_app.db.uow import UnitOfWork
from rdv_app.services.agents import agent_mfa

AGENT = "nathalie.lefebvre@demo.test"
TERRITORIAL_ADMIN = "camille.martin@demo.test"


@pytest.fixture
def second_factor_removed_after(app_database_url: str) -> Iterator[None]:
    """Other browser tests sign this agent in with the password alone: at the end, she turns the second
    factor off with her password, as "Mon compte" lets her."""
    yield
    with UnitOfWork(app_database_url) as uow:
        agent_id = uow.session.exec(select(Agent.id).where(Agent.email == AGENT)).one()
        agent_mfa.disable(uow, agent_id, DEMO_PASSWORD)


def _sign_out(page: Page, app_url: str) -> None:
    page.get_by_role("button", name="Se déconnecter").click()
    page.wait_for_url(re.compile(r"/connexion"))


def _password(page: Page, app_url: str) -> None:
    page.goto(f"{app_url}/connexion")
    page.get_by_label("Adresse email").fill(AGENT)
    page.get_by_label("Mot de passe").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    # argon2 on a busy machine: as long as `login_as` waits for the workspace.
    expect(page.get_by_role("heading", level=1)).to_have_text("Double authentification", timeout=30_000)


def test_an_agent_turns_on_the_second_factor_and_signs_in_with_it(page: Page, app_url: str, login_as,
                                                                 assert_accessible,
                                                                 second_factor_removed_after: None) -> None:
    login_as(AGENT)
    page.goto(f"{app_url}/mon-compte")
    expect(page.get_by_role("heading", name="Double authentification")).to_be_visible()
    page.get_by_role("button", name="Activer la double authentification").click()
    expect(page.get_by_role("img", name="QR code à scanner avec votre application d'authentification")).to_be_visible()
    secret = page.locator("code.totp-secret").inner_text().replace(" ", "")
    assert len(secret) == 32
    assert_accessible(page)

    # A wrong code says so and changes nothing.
    right = pyotp.TOTP(secret).now()
    page.get_by_label("Code à 6 chiffres").fill(f"{(int(right) + 1) % 1_000_000:06d}")
    page.get_by_role("button", name="Activer la double authentification").click()
    expect(page.get_by_role("alert")).to_contain_text("Ce code n'est pas valide")
    page.get_by_label("Code à 6 chiffres").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Activer la double authentification").click()
    codes_list = page.get_by_role("list", name="Codes de secours")
    expect(codes_list.get_by_role("listitem")).to_have_count(10)
    recovery_codes = codes_list.get_by_role("listitem").all_inner_texts()
    expect(page.get_by_text("La double authentification est activée. Codes de secours restants")).to_be_visible()
    assert_accessible(page)
    _sign_out(page, app_url)

    # Password, then the code of the next 30-second step (the one typed above cannot be used again).
    _password(page, app_url)
    assert_accessible(page)
    page.get_by_label("Code à 6 chiffres").fill(pyotp.TOTP(secret).at(time.time() + 30))
    page.get_by_role("button", name="Valider le code").click()
    page.wait_for_url(f"{app_url}/espace**")
    expect(page.get_by_role("heading", level=1)).to_have_text("Bonjour Nathalie")
    _sign_out(page, app_url)

    # Without the phone: a recovery code, once.
    _password(page, app_url)
    page.get_by_label("Code à 6 chiffres").fill(recovery_codes[0])
    page.get_by_role("button", name="Valider le code").click()
    page.wait_for_url(f"{app_url}/espace**")
    _sign_out(page, app_url)
    _password(page, app_url)
    page.get_by_label("Code à 6 chiffres").fill(recovery_codes[0])
    page.get_by_role("button", name="Valider le code").click()
    expect(page.locator("#champ-code-erreur")).to_contain_text("n'est pas valide ou a déjà été utilisé")
    assert_accessible(page)

    # The territorial admin of the Pas-de-Calais reads it all in the security log.
    page.get_by_role("button", name="Recommencer la connexion").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Connexion à l'espace agents")
    login_as(TERRITORIAL_ADMIN)
    page.goto(f"{app_url}/admin/territoire/journal-de-securite")
    table = page.get_by_role("table")
    expect(table.get_by_role("row", name=re.compile("Double authentification activée"))).to_contain_text(
        "Nathalie Lefebvre")
    expect(table.get_by_role("row", name=re.compile("Code de secours utilisé"))).to_be_visible()
    expect(table.get_by_role("row", name=re.compile(r"Échec de connexion \(code"))).to_have_count(1)
    assert_accessible(page)
