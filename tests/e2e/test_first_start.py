"""A real instance's first start (issues 15 and 17), in the production server and chromium: started without
the demo on an empty database, the sign-in page says how to create the first account; `cli bootstrap`
prints a one-time link; the link sets a name and a password, and the super admin lands on an empty
workspace. The super admin then opens a territory; its admin accepts the invitation read on the loopback
SMTP server and lands in the new organisation."""

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
def smtp() -> Iterator[SmtpServer]:
    with SmtpServer() as server:
        yield server


@pytest.fixture(scope="module")
def instance(tmp_path_factory: pytest.TempPathFactory, smtp: SmtpServer) -> Iterator[tuple[str, str]]:
    """A real instance (no RDV_DEMO) on an empty database, with an SMTP server and SMS to the log."""
    data = tmp_path_factory.mktemp("first-start")
    db_url = f"sqlite:///{data / 'rdv.db'}"
    with running_app(db_url, data, RDV_DEMO="", RDV_SMS="console", RDV_SMTP_HOST="127.0.0.1",
                     RDV_SMTP_PORT=str(smtp.port)) as base_url:
        yield base_url, db_url


def bootstrap(base_url: str, db_url: str) -> str:
    env = {**os.environ, "REFLEX_DB_URL": db_url, "RDV_PUBLIC_URL": base_url, "RDV_DEMO": ""}
    done = subprocess.run([sys.executable, "-m", "rdv_app.cli", "bootstrap", "--email", EMAIL], cwd=ROOT, env=env,
                          capture_output=True, text=True, check=True)
    link = re.search(r"https?://\S+/invitation\?jeton=\S+", done.stdout)
    assert link, done.stdout
    return link.group(0)


def set_name_and_password(page: Page, first_name: str, last_name: str, password: str) -> None:
    page.get_by_label("Prénom").fill(first_name)
    page.get_by_label("Nom", exact=True).fill(last_name)
    page.get_by_label("Mot de passe", exact=True).fill(password)
    page.get_by_label("Confirmation du mot de passe").fill(password)
    page.get_by_role("button", name="Activer mon compte").click()


def test_the_first_super_admin_sets_up_their_account_then_opens_a_territory(
        page: Page, instance: tuple[str, str], smtp: SmtpServer, assert_accessible: Callable[[Page], None]) -> None:
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
    set_name_and_password(page, "Aline", "Roche", "motdepasse")
    expect(page.locator("#champ-password-erreur")).to_contain_text("au moins 12 caractères")
    assert_accessible(page)

    set_name_and_password(page, "Aline", "Roche", PASSWORD)
    page.wait_for_url(f"{base_url}/espace**")
    expect(page.get_by_role("heading", name="Bonjour Aline")).to_be_visible()
    expect(page.get_by_text("Super administrateur de cette instance")).to_be_visible()
    expect(page.get_by_text("Vous n'êtes membre d'aucune organisation pour l'instant.")).to_be_visible()
    assert_accessible(page)

    page.get_by_role("link", name="Ouvrir un territoire et inviter son administrateur").click()
    expect(page.get_by_role("heading", name="Super administration")).to_be_visible()
    expect(page.get_by_text("Aucun territoire pour l'instant")).to_be_visible()
    expect(page.get_by_text("Ajoutez d'abord un service au catalogue (ci-dessus).")).to_be_visible()
    services = page.get_by_role("form", name="Ajouter un service")
    for name, short_name in (("Protection Maternelle Infantile", "PMI"), ("Secrétariat", "Secrétariat")):
        services.get_by_label("Nom du service").fill(name)
        services.get_by_label("Nom court").fill(short_name)
        if short_name == "Secrétariat":
            services.get_by_label("Service de secrétariat").check()
        services.get_by_role("button", name="Ajouter le service").click()
        expect(page.get_by_role("row", name=re.compile(f"^{name} "))).to_be_visible()
    expect(page.get_by_role("row", name="Secrétariat Secrétariat Oui")).to_be_visible()
    page.get_by_label("Numéro du département").fill("62")
    page.get_by_label("Nom du territoire").fill("Pas-de-Calais")
    page.get_by_label("Nom de la première organisation").fill("PMI Arras")
    page.get_by_label("Adresse email de l'administrateur").fill("camille.martin@exemple.fr")
    page.get_by_role("button", name="Ouvrir le territoire et inviter").click()
    expect(page.get_by_text("Choisissez au moins un service pour l'administrateur")).to_be_visible()
    page.get_by_role("group", name="Services de l'administrateur").get_by_label("Protection Maternelle Infantile").check()
    page.get_by_role("button", name="Ouvrir le territoire et inviter").click()
    expect(page.get_by_role("status").filter(has_text="Territoire")).to_have_text(
        "Territoire 62 Pas-de-Calais ouvert : une invitation a été envoyée à camille.martin@exemple.fr.")
    expect(page.get_by_role("row", name="62 Pas-de-Calais Europe/Paris 1 camille.martin@exemple.fr")).to_be_visible()
    assert_accessible(page)
    page.get_by_label("Numéro du département").fill("62")
    page.get_by_label("Nom du territoire").fill("Nord")
    page.get_by_label("Nom de la première organisation").fill("MDS Lille")
    page.get_by_label("Adresse email de l'administrateur").fill("autre@exemple.fr")
    page.get_by_role("button", name="Ouvrir le territoire et inviter").click()
    expect(page.locator("#champ-departement_number-erreur")).to_have_text("Le territoire 62 existe déjà (Pas-de-Calais).")
    assert_accessible(page)

    page.goto(link)
    expect(page.get_by_role("alert")).to_contain_text("Ce lien d'invitation a déjà servi")
    page.get_by_role("link", name="Aller à la page de connexion").click()
    expect(page.get_by_role("heading", name="Connexion à l'espace agents")).to_be_visible()
    expect(page.get_by_role("region", name="Première mise en service")).to_have_count(0)

    mail = smtp.wait_for("camille.martin@exemple.fr")
    assert mail["Subject"] == "Invitation à rejoindre RDV Services Publics"
    text = mail.get_body(("plain",)).get_content()
    assert "Aline Roche vous invite à rejoindre l'organisation PMI Arras (territoire 62 Pas-de-Calais)" in text
    invitation = re.search(r"https?://\S+/invitation\?jeton=\S+", text)
    assert invitation, text
    page.context.clear_cookies()
    page.goto(invitation.group(0))
    expect(page.get_by_text("Invitation pour camille.martin@exemple.fr")).to_be_visible()
    set_name_and_password(page, "Camille", "Martin", PASSWORD)
    page.wait_for_url(f"{base_url}/espace**")
    expect(page.get_by_role("heading", name="Bonjour Camille")).to_be_visible()
    expect(page.get_by_text("PMI Arras · Administrateur")).to_be_visible()
    steps = page.get_by_role("region", name="Premières étapes")
    expect(steps.get_by_role("listitem")).to_have_text([
        "Ajouter un lieu de rendez-vous : à faire", "Créer un motif : à faire", "Inviter des agents : à faire",
        "Ouvrir des plages d'ouverture : à faire"])
    assert_accessible(page)

    # The territory's admin invites a colleague into the organisation.
    page.get_by_role("link", name="Agents", exact=True).click()
    expect(page.get_by_role("heading", name="Agents de PMI Arras")).to_be_visible()
    expect(page.get_by_role("row", name=re.compile("^Camille Martin vous"))).to_be_visible()
    invite = page.get_by_role("form", name="Inviter un agent")
    invite.get_by_label("Adresse email").fill("julien.petit@exemple.fr")
    invite.get_by_role("button", name="Envoyer l'invitation").click()
    expect(page.get_by_text("Choisissez au moins un service parmi ceux du territoire.")).to_be_visible()
    invite.get_by_label("Protection Maternelle Infantile").check()
    invite.get_by_role("button", name="Envoyer l'invitation").click()
    expect(page.get_by_role("status").filter(has_text="invité")).to_have_text(
        "L'agent julien.petit@exemple.fr a été invité à rejoindre votre organisation.")
    expect(page.get_by_role("row", name=re.compile("Invitation en attente julien.petit@exemple.fr"))).to_be_visible()
    expect(page.get_by_role("button", name="Renvoyer l'invitation à julien.petit@exemple.fr")).to_be_visible()
    assert_accessible(page)

    # ... and creates a second organisation in the territory, landing on its first steps.
    page.get_by_role("link", name="Organisations du territoire").click()
    expect(page.get_by_role("row", name="PMI Arras 62 Pas-de-Calais 2")).to_be_visible()
    page.get_by_label("Nom de l'organisation").fill("Maison des Solidarités de Lens")
    page.get_by_label("Téléphone").fill("03 21 13 40 00")
    assert_accessible(page)
    page.get_by_role("button", name="Créer l'organisation").click()
    page.wait_for_url(f"{base_url}/espace**")
    expect(page.get_by_text("Maison des Solidarités de Lens · Administrateur")).to_be_visible()
    expect(page.get_by_role("region", name="Premières étapes")).to_contain_text("Inviter des agents : à faire")
    expect(page.get_by_label("Organisation")).to_have_value(re.compile(r"\d+"))

    mail = smtp.wait_for("julien.petit@exemple.fr")
    invitation = re.search(r"https?://\S+/invitation\?jeton=\S+", mail.get_body(("plain",)).get_content())
    assert invitation, mail
    page.context.clear_cookies()
    page.goto(invitation.group(0))
    set_name_and_password(page, "Julien", "Petit", PASSWORD)
    page.wait_for_url(f"{base_url}/espace**")
    expect(page.get_by_text("PMI Arras · Agent")).to_be_visible()
    expect(page.get_by_role("link", name="Agents", exact=True)).to_have_count(0)
