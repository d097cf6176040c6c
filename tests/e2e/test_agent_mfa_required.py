"""With RDV_MFA_REQUIRED=1 (its own production server): an admin who has no second factor is led through
setting it up right after the password, before any session; nothing else opens until then. The step
passes axe."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pyotp
import pytest
from app_server import wait_for
from conftest import DEMO_PASSWORD
from pg import free_port
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.own_server

ROOT = Path(__file__).resolve().parents[2]
ADMIN = "thomas.dubois@demo.test"


@pytest.fixture(scope="module")
def required_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = free_port()
    data = tmp_path_factory.mktemp("mfa-required")
    base_url = f"http://localhost:{port}"
    env = {**os.environ, "REFLEX_DB_URL": f"sqlite:///{data / 'rdv.db'}", "RDV_PUBLIC_URL": base_url,
           "RDV_MFA_REQUIRED": "1", "RDV_SMTP_HOST": "", "REFLEX_TELEMETRY_ENABLED": "false",
           "REFLEX_CHECK_LATEST_VERSION": "false", "PYTHONUNBUFFERED": "1"}
    subprocess.run([sys.executable, "-m", "rdv_app.cli", "prepare"], cwd=ROOT, env=env, check=True,
                   capture_output=True)
    log = data / "server.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "reflex", "run", "--env", "prod", "--single-port", "--frontend-port", str(port),
             "--backend-port", str(port)], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True)
    try:
        wait_for(f"http://127.0.0.1:{port}/_health", process, log)
        yield base_url
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)


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
