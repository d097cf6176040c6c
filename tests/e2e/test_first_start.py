"""A real instance's first start (issues 15 and 17), in the production server and chromium: started without
the demo on an empty database, the sign-in page says how to create the first account; `cli bootstrap`
prints a one-time link; the link sets a name, a password and a second factor (TOTP), and the super admin
lands on an empty workspace. The super admin then opens a territory; its admin accepts the invitation read on the loopback
SMTP server, adds a lieu and a motif, invites an agent and creates a second organisation; the agent accepts and
opens a plage; a usager books it online on a phone, signed in by the email's link; the RDV is in the agenda.
With RDV_SCREENSHOTS=<folder>, the journey's pictures are kept there (docs/premier-demarrage holds a set)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from datetime import date, timedelta

import holidays
import pyotp
import pytest
from app_server import ROOT, running_app
from conftest import week_with_times
from fakes.smtp_server import SmtpServer
from playwright.sync_api import Page, expect

from rdv_app.domain import clock
from rdv_app.domain.datefmt import long_date

pytestmark = pytest.mark.own_server

EMAIL = "aline.roche@exemple.fr"
USAGER = "alice.durand@exemple.fr"
LIEU = "Centre PMI des Héros"
MOTIF = "Consultation du nourrisson"
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


def shoot(page: Page, name: str) -> None:
    """With RDV_SCREENSHOTS set to a folder, keeps a picture of the journey's step there."""
    folder = os.environ.get("RDV_SCREENSHOTS")
    if folder:
        page.screenshot(path=f"{folder}/{name}.png", full_page=True)


def open_from_menu(page: Page, link: str, heading: str) -> None:
    page.get_by_role("navigation", name="Navigation principale").get_by_role("link", name=link, exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(heading)


def working_day_ahead(days: int) -> date:
    """The first weekday at least `days` ahead that is not a public holiday in France."""
    day = clock.today("Europe/Paris") + timedelta(days=days)
    off = holidays.France(years=range(day.year, day.year + 2))
    while day.weekday() >= 5 or day in off:
        day += timedelta(days=1)
    return day


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
    # A super admin always signs in with a second factor: set up right after the password.
    expect(page.get_by_role("heading", level=1)).to_have_text("Activez la double authentification")
    expect(page.get_by_role("img", name="QR code à scanner avec votre application d'authentification")).to_be_visible()
    assert_accessible(page)
    secret = page.locator("code.totp-secret").inner_text().replace(" ", "")
    page.get_by_label("Code à 6 chiffres").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Activer la double authentification").click()
    expect(page.get_by_role("list", name="Codes de secours").get_by_role("listitem")).to_have_count(10)
    page.get_by_role("button", name="J'ai noté mes codes, accéder à mon espace").click()
    page.wait_for_url(f"{base_url}/espace**")
    expect(page.get_by_role("heading", name="Bonjour Aline")).to_be_visible()
    expect(page.get_by_text("Super administrateur de cette instance")).to_be_visible()
    expect(page.get_by_text("Vous n'êtes membre d'aucune organisation pour l'instant.")).to_be_visible()
    shoot(page, "01-super-admin")
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
    page.get_by_label("Adresse email de l'administrateur", exact=True).fill("camille.martin@exemple.fr")
    page.get_by_role("button", name="Ouvrir le territoire et inviter").click()
    expect(page.get_by_text("Choisissez au moins un service pour l'administrateur")).to_be_visible()
    page.get_by_role("group", name="Services de l'administrateur").get_by_label("Protection Maternelle Infantile").check()
    page.get_by_role("button", name="Ouvrir le territoire et inviter").click()
    expect(page.get_by_role("status").filter(has_text="Territoire")).to_have_text(
        "Territoire 62 Pas-de-Calais ouvert : une invitation a été envoyée à camille.martin@exemple.fr.")
    shoot(page, "02-territoire-ouvert")
    # A second super admin, invited by email.
    super_admins = page.get_by_role("form", name="Inviter un super administrateur")
    super_admins.get_by_label("Adresse email du super administrateur à inviter").fill("bruno.leroy@exemple.fr")
    super_admins.get_by_role("button", name="Inviter comme super administrateur").click()
    expect(page.get_by_role("status").filter(has_text="bruno.leroy")).to_have_text(
        "Une invitation a été envoyée à bruno.leroy@exemple.fr.")
    expect(page.get_by_role("region", name="Super administrateurs").get_by_role("row")).to_have_text([
        "NomEmailStatut", f"Aline Roche{EMAIL}Actif", "bruno.leroy@exemple.frbruno.leroy@exemple.frInvitation en attente"])
    expect(page.get_by_role("row", name="62 Pas-de-Calais Europe/Paris 1 camille.martin@exemple.fr")).to_be_visible()
    assert_accessible(page)
    page.get_by_label("Numéro du département").fill("62")
    page.get_by_label("Nom du territoire").fill("Nord")
    page.get_by_label("Nom de la première organisation").fill("MDS Lille")
    page.get_by_label("Adresse email de l'administrateur", exact=True).fill("autre@exemple.fr")
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
    shoot(page, "03-premieres-etapes")

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

    # ... adds the lieu and the motif the usagers will book ...
    open_from_menu(page, "Lieux", "Lieux")
    lieu = page.get_by_role("form", name="Ajouter un lieu")
    lieu.get_by_label("Nom du lieu").fill(LIEU)
    lieu.get_by_label("Adresse").fill("12 Place des Héros, 62000 Arras")
    lieu.get_by_role("button", name="Ajouter le lieu").click()
    expect(page.get_by_role("status").filter(has_text="a été ajouté")).to_have_text(f"Le lieu « {LIEU} » a été ajouté.")
    shoot(page, "04-lieu")
    open_from_menu(page, "Motifs", "Motifs")
    motif = page.get_by_role("form", name=re.compile("motif"))
    motif.get_by_label("Nom du motif").fill(MOTIF)
    motif.get_by_label("Service", exact=True).select_option(label="Protection Maternelle Infantile")
    motif.get_by_label("Durée par défaut (minutes)").fill("30")
    motif.get_by_role("tab", name="Réservation en ligne").click()
    motif.get_by_label("Qui peut réserver ce motif ?").select_option(label="Ouvert aux agents et aux usagers")
    motif.get_by_role("button", name="Créer le motif").click()
    expect(page.get_by_role("status").filter(has_text="a été créé")).to_have_text(f"Le motif « {MOTIF} » a été créé.")
    shoot(page, "05-motif")
    page.get_by_role("link", name="Accueil", exact=True).click()
    expect(page.get_by_role("region", name="Premières étapes").get_by_role("listitem")).to_have_text([
        "Ajouter un lieu de rendez-vous : fait", "Créer un motif : fait", "Inviter des agents : fait",
        "Ouvrir des plages d'ouverture : à faire"])

    # ... and creates a second organisation in the territory, landing on its first steps.
    page.get_by_role("link", name="Organisations du territoire").click()
    expect(page.get_by_role("row", name="PMI Arras 62 Pas-de-Calais 2")).to_be_visible()
    page.get_by_label("Nom de l'organisation").fill("Maison des Solidarités de Lens")
    page.get_by_label("Téléphone").fill("03 21 13 40 00")
    assert_accessible(page)
    page.get_by_role("button", name="Créer l'organisation").click()
    page.wait_for_url(f"{base_url}/espace**")
    shoot(page, "06-nouvelle-organisation")
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
    shoot(page, "07-agent-invite")
    expect(page.get_by_role("link", name="Agents", exact=True)).to_have_count(0)

    # The invited agent opens a plage for the motif at the lieu ...
    day = working_day_ahead(7)
    open_from_menu(page, "Plages d'ouverture", "Plages d'ouverture")
    plage = page.get_by_role("form", name=re.compile("plage"))
    expect(plage.get_by_label("Agent", exact=True).locator("option:checked")).to_have_text("Julien Petit")
    plage.get_by_label("Titre", exact=True).fill("Consultations du matin")
    plage.get_by_label("Lieu", exact=True).select_option(label=LIEU)
    plage.get_by_role("group", name="Motifs").get_by_label(MOTIF).check()
    plage.get_by_label("Date", exact=True).fill(day.isoformat())
    plage.get_by_label("Heure de début", exact=True).fill("09:00")
    plage.get_by_label("Heure de fin", exact=True).fill("12:00")
    assert_accessible(page)
    plage.get_by_role("button", name="Créer la plage").click()
    expect(page.get_by_role("status").filter(has_text="a été créée")).to_have_text(
        "La plage d'ouverture « Consultations du matin » a été créée.")
    shoot(page, "08-plage")

    # ... and a usager books it online, on a phone, signing in with the link of the email received.
    usager = page.context.browser.new_context(viewport={"width": 390, "height": 844}, locale="fr-FR")  # type: ignore[union-attr]
    phone = usager.new_page()
    phone.goto(f"{base_url}/prendre_rdv")
    phone.get_by_label("Département ou code postal").fill("62000")
    phone.get_by_role("button", name="Rechercher").click()
    # The territory offers one service online: the usager goes straight to its motifs.
    expect(phone.get_by_role("heading", name="Choisissez le motif de votre rendez-vous")).to_be_visible()
    phone.get_by_role("link", name=re.compile(f"^{MOTIF}")).click()
    phone.get_by_role("link", name=re.compile("Prochaine disponibilité le")).first.click()
    expect(phone.get_by_role("heading", name="Choisissez un horaire")).to_be_visible()
    first_time = week_with_times(phone).filter(has_text=re.compile("^09h00$")).first
    expect(first_time).to_have_attribute("aria-label", re.compile(f"^{long_date(day)} à 09h00$"))
    expect(first_time).to_be_visible()
    assert_accessible(phone)
    shoot(phone, "09-usager-creneaux")
    first_time.click()
    expect(phone.get_by_role("heading", name="Identifiez-vous pour confirmer")).to_be_visible()
    phone.get_by_label("Prénom").fill("Alice")
    phone.get_by_label("Nom", exact=True).fill("Durand")
    phone.get_by_label("Adresse email", exact=True).fill(USAGER)
    phone.get_by_role("button", name="Créer mon compte").click()
    expect(phone.get_by_role("status").filter(has_text="Un email vient de vous être envoyé")).to_be_visible()
    link = re.search(r"https?://\S+", smtp.wait_for(USAGER).get_body(("plain",)).get_content())
    assert link, "no link in the usager's email"
    phone.goto(link.group(0))
    phone.get_by_role("button", name="Me connecter et reprendre ma réservation").click()
    phone.get_by_role("button", name="Continuer").click()
    phone.get_by_role("link", name="Alice Durand (moi)").click()
    expect(phone.get_by_text(f"{MOTIF} (sur place)")).to_be_visible()
    phone.get_by_role("button", name="Confirmer mon RDV").click()
    expect(phone.get_by_role("heading", name="Votre rendez-vous est confirmé")).to_be_visible()
    expect(phone.get_by_text(LIEU)).to_be_visible()
    assert_accessible(phone)
    shoot(phone, "10-usager-confirme")
    usager.close()

    # The agent finds the RDV in the agenda of that day.
    page.goto(f"{base_url}/agenda?jour={day.isoformat()}")
    booked = page.locator(".agenda-rdv", has_text="Alice Durand")
    expect(booked).to_be_visible()
    expect(booked).to_contain_text(f"09:00 - 09:30{MOTIF} · Alice DURAND")
    shoot(page, "11-agenda")
