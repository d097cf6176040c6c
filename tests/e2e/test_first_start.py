"""A real instance's first start (issue 15), in the production server and chromium: started without the demo
on an empty database, the sign-in page says how to create the first account; `cli bootstrap` prints a
one-time link; the link sets a name and a password, and the super admin lands on an empty workspace."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Callable, Iterator

import pytest
from conftest import ROOT, running_app
from fakes.smtp_server import SmtpServer
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.own_server

EMAIL = "aline.roche@exemple.fr"
PASSWORD = "Premier-Admin-2026"


@pytest.fixture(scope="module")
def instance(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """A real instance (no RDV_DEMO) on an empty database, with an SMTP server and SMS to the log."""
    data = tmp_path_factory.mktemp("first-start")
    db_url = f"sqlite:///{data / 'rdv.db'}"
    with SmtpServer() as smtp, running_app(db_url, data, RDV_DEMO="", RDV_SMS="console",
                                           RDV_SMTP_HOST="127.0.0.1", RDV_SMTP_PORT=str(smtp.port)) as base_url:
        yield base_url, db_url


def bootstrap(base_url: str, db_url: str) -> str:
    env = {**os.environ, "REFLEX_DB_URL": db_url, "RDV_PUBLIC_URL": base_url, "RDV_DEMO": ""}
    done = subprocess.run([sys.executable, "-m", "rdv_app.cli", "bootstrap", "--email", EMAIL], cwd=ROOT, env=env,
                          capture_output=True, text=True, check=True)
    link = re.search(r"https?://\S+/invitation\?jeton=\S+", done.stdout)
    assert link, done.stdout
    return link.group(0)


def test_the_first_super_admin_sets_up_their_account_from_the_bootstrap_link(
        page: Page, instance: tuple[str, str], assert_accessible: Callable[[Page], None]) -> None:
    base_url, db_url = instance
    page.goto(f"{base_url}/connexion")
    notice = page.get_by_role("region", name="Première mise en service")
    expect(notice).to_contain_text("python -m rdv_app.cli bootstrap --email")
    assert_accessible(page)
    assert page.request.get(f"{base_url}/dev/boite-mail").status == 404

    link = bootstrap(base_url, db_url)
    page.goto(link)
    expect(page.get_by_role("heading", name="Activer votre compte agent")).to_be_visible()
    expect(page.get_by_text(f"Invitation pour {EMAIL}")).to_be_visible()
    assert_accessible(page)
    page.get_by_label("Prénom").fill("Aline")
    page.get_by_label("Nom", exact=True).fill("Roche")
    page.get_by_label("Mot de passe", exact=True).fill("motdepasse")
    page.get_by_label("Confirmation du mot de passe").fill("motdepasse")
    page.get_by_role("button", name="Activer mon compte").click()
    expect(page.locator("#champ-password-erreur")).to_contain_text("au moins 12 caractères")
    assert_accessible(page)

    page.get_by_label("Mot de passe", exact=True).fill(PASSWORD)
    page.get_by_label("Confirmation du mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Activer mon compte").click()
    page.wait_for_url(f"{base_url}/espace**")
    expect(page.get_by_role("heading", name="Bonjour Aline")).to_be_visible()
    expect(page.get_by_text("Super administrateur de cette instance")).to_be_visible()
    expect(page.get_by_text("Vous n'êtes membre d'aucune organisation pour l'instant.")).to_be_visible()
    assert_accessible(page)

    page.goto(link)
    expect(page.get_by_role("alert")).to_contain_text("Ce lien d'invitation a déjà servi")
    page.goto(f"{base_url}/connexion")
    expect(page.get_by_role("heading", name="Connexion à l'espace agents")).to_be_visible()
    expect(page.get_by_role("region", name="Première mise en service")).to_have_count(0)
