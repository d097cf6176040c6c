"""Issue 17 in the browser (the demo served as `make run` does, chromium, axe on every state): a super admin
(invited by the bootstrap link, second factor set up) enables a service in a territory and moves an agent
(an agent with RDVs to come is refused); an organisation's admin adds an intervenant and renames it; an
agent of several organisations picks one on the chooser, grouped by territory. The same super admin then
opens "Santé du service" (issue 27) and puts a given-up email back in the queue."""

from __future__ import annotations

import re
from collections.abc import Callable

import pyotp
from conftest import DEMO_PASSWORD
from playwright.sync_api import Page, expect

from rdv_app.db.models import OutboxMessage
from rdv_app.db.uow import UnitOfWork
from rdv_app.notify.outbox import enqueue
from rdv_app.services.agents.invitations import bootstrap_super_admin

SUPER_ADMIN = "operateur@exemple.fr"
SUPER_PASSWORD = "Operateur-Instance-2026"


def _become_super_admin(page: Page, app_url: str, database_url: str) -> None:
    with UnitOfWork(database_url) as uow:
        token = bootstrap_super_admin(uow, SUPER_ADMIN)
    page.goto(f"{app_url}/invitation?jeton={token}")
    page.get_by_label("Prénom").fill("Aline")
    page.get_by_label("Nom", exact=True).fill("Roche")
    page.get_by_label("Mot de passe", exact=True).fill(SUPER_PASSWORD)
    page.get_by_label("Confirmation du mot de passe").fill(SUPER_PASSWORD)
    page.get_by_role("button", name="Activer mon compte").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Activez la double authentification")
    secret = page.locator("code.totp-secret").inner_text().replace(" ", "")
    page.get_by_label("Code à 6 chiffres").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Activer la double authentification").click()
    page.get_by_role("button", name="J'ai noté mes codes, accéder à mon espace").click()
    page.wait_for_url(f"{app_url}/espace**")


def test_a_super_admin_enables_a_service_and_moves_an_agent(page: Page, app_url: str, app_database_url: str,
                                                            assert_accessible: Callable[[Page], None]) -> None:
    _become_super_admin(page, app_url, app_database_url)
    page.goto(f"{app_url}/super-admin")
    expect(page.get_by_role("heading", name="Configuration d'un territoire")).to_be_visible()
    assert_accessible(page)

    page.get_by_label("Territoire", exact=True).select_option(label="974 La Réunion")
    services = page.locator("main")
    expect(services.get_by_role("row", name=re.compile("^Mairie 0 Désactivé"))).to_be_visible()
    page.get_by_role("button", name="Activer Mairie").click()
    expect(page.get_by_role("status").filter(has_text="Mairie")).to_have_text(
        "Le service Mairie est activé dans le territoire La Réunion.")
    expect(services.get_by_role("row", name=re.compile("^Mairie 0 Activé"))).to_be_visible()
    page.get_by_role("button", name="Désactiver PMI (Protection Maternelle Infantile)").click()
    expect(page.get_by_role("alert").filter(has_text="désactivé")).to_contain_text(
        "Le service PMI (Protection Maternelle Infantile) ne peut pas être désactivé")
    assert_accessible(page)

    # The SMS settings: an OVH account of the territory, its keys never shown again.
    sms = page.get_by_role("form", name="SMS du territoire")
    sms.get_by_label("Compte OVH du territoire").check()
    sms.get_by_label("Nom du service SMS").fill("sms-ab12345-1")
    sms.get_by_label("Clé d'application (application key)").fill("ak-demo")
    sms.get_by_label("Secret d'application (application secret)").fill("as-demo-secret")
    sms.get_by_label("Clé client (consumer key)").fill("ck-demo-secret")
    sms.get_by_role("button", name="Enregistrer les réglages SMS").click()
    expect(page.get_by_role("status").filter(has_text="SMS")).to_have_text(
        "Les réglages SMS du territoire La Réunion sont enregistrés.")
    expect(sms.get_by_text("configuré : laissez vide pour garder la valeur enregistrée")).to_have_count(3)
    expect(sms.get_by_label("Secret d'application (application secret)")).to_have_value("")
    assert "as-demo-secret" not in page.content()
    assert_accessible(page)

    # Search as you type, then move: Julien has RDVs to come in PMI Arras, Lucas (invited) has none.
    search = page.get_by_label("Rechercher un agent ou une organisation")
    search.fill("julien")
    expect(page.get_by_role("row", name=re.compile("^Julien Petit"))) \
        .to_be_visible()
    page.get_by_role("button", name="Déplacer Julien Petit").click()
    move = page.get_by_role("form", name="Déplacer Julien Petit")
    move.get_by_label("Organisation d'arrivée").select_option(
        label="Maison Départementale des Solidarités de Lens (62 Pas-de-Calais)")
    assert_accessible(page)
    move.get_by_role("button", name="Déplacer l'agent").click()
    expect(page.get_by_role("alert").filter(has_text="Impossible")).to_contain_text(
        "Impossible de déplacer l'agent Julien Petit : il a des RDV à venir dans PMI Arras.")
    page.get_by_role("button", name="Annuler").click()

    search.fill("lucas")
    page.get_by_role("button", name="Déplacer lucas.morel@demo.test").click()
    move = page.get_by_role("form", name="Déplacer lucas.morel@demo.test")
    expect(move.get_by_label("Organisation de départ")).to_have_value(re.compile(r"\d+"))
    move.get_by_label("Organisation d'arrivée").select_option(
        label="Maison Départementale des Solidarités de Lens (62 Pas-de-Calais)")
    move.get_by_role("button", name="Déplacer l'agent").click()
    expect(page.get_by_role("status").filter(has_text="déplacé")).to_have_text(
        "L'agent lucas.morel@demo.test a été déplacé de PMI Arras vers Maison Départementale des Solidarités de Lens.")
    expect(page.get_by_role("row", name=re.compile("^lucas.morel@demo.test"))) \
        .to_contain_text("Maison Départementale des Solidarités de Lens")
    search.fill("saint-denis")
    expect(page.get_by_role("row", name=re.compile(
        "^PMI Saint-Denis 974 La Réunion"))).to_be_visible()
    assert_accessible(page)

    _service_health(page, app_url, app_database_url, assert_accessible)


def _service_health(page: Page, app_url: str, database_url: str, assert_accessible: Callable[[Page], None]) -> None:
    """"Santé du service": the queues, workers and daily jobs of the served demo; an email given up is put
    back in the queue with "Relancer", and the in-app worker then sends it."""
    with UnitOfWork(database_url) as uow:
        message_id = enqueue(uow.session, channel="mail", event="rdv_created", idempotency_key="sante-e2e",
                             payload={"to": "usager@exemple.fr", "subject": "Votre RDV", "text": "Bonjour"})
        message = uow.session.get(OutboxMessage, message_id)
        assert message is not None
        message.status, message.attempts, message.last_error = "failed", 17, "Échec définitif : SMTP 550"
        uow.commit()
    page.goto(f"{app_url}/super-admin")
    page.get_by_role("link", name=re.compile("^Santé du service")).click()
    page.wait_for_url(f"{app_url}/super-admin/sante")
    expect(page.get_by_role("heading", level=1)).to_have_text("Santé du service")
    # Rows are named by their cells: the channel, waiting, being sent, given up, the oldest's wait.
    expect(page.get_by_role("row", name=re.compile(r"^Email \d+ \d+ [1-9]\d* "))).to_be_visible()
    expect(page.get_by_role("row", name=re.compile(r" En vie$")).first).to_be_visible()
    expect(page.get_by_role("row", name=re.compile(r"^purge_plages .* À jour$"))).to_be_visible()
    expect(page.get_by_text("Taille de la base de données")).to_be_visible()
    assert "usager@exemple.fr" not in page.content()
    assert_accessible(page)

    page.get_by_role("button", name="Relancer les messages en échec : Email").click()
    expect(page.get_by_role("status").filter(has_text="remis")).to_have_text(
        re.compile(r"^\d+ messages? \(Email\) remis dans la file d'envoi\.$"))
    assert_accessible(page)
    with UnitOfWork(database_url, read_only=True) as uow:
        requeued = uow.session.get(OutboxMessage, message_id)
        assert requeued is not None and requeued.status in ("pending", "sending", "sent")


def test_an_admin_adds_an_intervenant_and_renames_it(page: Page, login_as: Callable[[str], None], app_url: str,
                                                      assert_accessible: Callable[[Page], None]) -> None:
    login_as("camille.martin@demo.test")
    page.goto(f"{app_url}/admin/agents")
    expect(page.get_by_role("heading", name="Agents de PMI Arras")).to_be_visible()
    # The demo's intervenant is listed with its badge.
    expect(page.get_by_role("row", name=re.compile("^Hélène Roussel Intervenant"))).to_be_visible()
    form = page.get_by_role("form", name="Ajouter un intervenant")
    form.get_by_role("button", name="Ajouter l'intervenant").click()
    expect(form.get_by_text("Indiquez le nom de l'intervenant.")).to_be_visible()
    assert_accessible(page)
    form.get_by_label("Nom", exact=True).fill("Avocat 1")
    form.get_by_label("PMI (Protection Maternelle Infantile)").check()
    form.get_by_role("button", name="Ajouter l'intervenant").click()
    expect(page.get_by_role("status").filter(has_text="Intervenant")).to_have_text(
        "Intervenant Avocat 1 créé avec succès.")
    expect(page.get_by_role("row", name=re.compile("^Avocat 1 Intervenant"))).to_be_visible()
    assert_accessible(page)

    page.get_by_role("button", name="Renommer Avocat 1").click()
    rename = page.get_by_role("form", name="Modifier le nom de Avocat 1")
    expect(rename.get_by_label("Nom", exact=True)).to_have_value("Avocat 1")
    assert_accessible(page)
    rename.get_by_label("Nom", exact=True).fill("Avocate Martin")
    rename.get_by_label("Prénom (facultatif)").fill("Inès")
    rename.get_by_role("button", name="Enregistrer le nom").click()
    expect(page.get_by_role("status").filter(has_text="modifié")).to_have_text(
        "Intervenant modifié avec succès : Inès Avocate Martin.")
    expect(page.get_by_role("row", name=re.compile("^Inès Avocate Martin Intervenant"))).to_be_visible()
    assert_accessible(page)


def test_an_agent_of_several_organisations_chooses_one_grouped_by_territory(
        page: Page, app_url: str, assert_accessible: Callable[[Page], None]) -> None:
    page.goto(f"{app_url}/connexion")
    page.get_by_label("Adresse email").fill("karim.haddad@demo.test")
    page.get_by_label("Mot de passe").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url(f"{app_url}/organisations**")
    expect(page.get_by_role("heading", level=1)).to_have_text("Choisissez une organisation")
    expect(page.locator("main").get_by_role("heading", level=2)).to_have_text(["62 Pas-de-Calais", "974 La Réunion"])
    expect(page.get_by_role("list", name="Organisations de 62 Pas-de-Calais").get_by_role("button")).to_have_text(
        [re.compile("^Maison Départementale des Solidarités de Lens"), re.compile("^PMI Arras")])
    reunion = page.get_by_role("list", name="Organisations de 974 La Réunion")
    expect(reunion.get_by_role("button")).to_have_count(1)
    assert_accessible(page)
    reunion.get_by_role("button", name="PMI Saint-Denis · Agent").click()
    page.wait_for_url(f"{app_url}/espace**")
    expect(page.get_by_text("PMI Saint-Denis · Agent")).to_be_visible()
    expect(page.get_by_label("Organisation", exact=True).locator("option")).to_have_count(3)
