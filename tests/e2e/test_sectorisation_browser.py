"""Sectorisation in the browser (issue 28), on the demo and the loopback Base Adresse Nationale: an usager
books on a phone a motif sectorised by agent from their address; a territorial admin manages sectors."""

from __future__ import annotations

import re
import uuid
from urllib.parse import parse_qs, urlparse

from conftest import sign_in_link, week_with_times
from playwright.sync_api import Page, expect
from sqlmodel import col, select

from rdv_app.db.models import Agent, Rdv, RdvAgent, Sector, SectorZone
from rdv_app.db.uow import UnitOfWork

SECTORISED_MOTIF = "Bilan de santé des 4 ans"  # demo: by agent, Julien Petit for the town of Arras


def test_an_usager_books_a_sectorised_motif_from_their_address(phone: Page, app_url: str, app_database_url: str,
                                                               assert_accessible) -> None:
    page = phone
    # Without an address, the motifs booked by address are not offered, and the page asks for it.
    page.goto(f"{app_url}/prendre_rdv?departement=62")
    page.get_by_role("link", name=re.compile("^PMI")).click()
    expect(page.get_by_role("heading", name="Choisissez le motif de votre rendez-vous")).to_be_visible()
    expect(page.get_by_role("link", name=re.compile("^Pesée et conseils"))).to_be_visible()
    expect(page.get_by_role("link", name=re.compile(f"^{SECTORISED_MOTIF}"))).to_have_count(0)
    page.get_by_role("link", name=re.compile("^Indiquez votre adresse")).click()

    expect(page.get_by_role("heading", name="Quelle est votre adresse ?")).to_be_visible()
    page.get_by_label("Votre adresse").press_sequentially("1 rue de la paix arras")
    suggestions = page.get_by_role("navigation", name="Adresses proposées")
    expect(suggestions.get_by_role("link")).to_have_count(2)
    assert_accessible(page)
    suggestions.get_by_role("link", name="1 Rue de la Paix 62000 Arras").click()

    expect(page.get_by_role("heading", name="Choisissez un service")).to_be_visible()
    query = parse_qs(urlparse(page.url).query)
    assert (query["commune"], query["rue"]) == (["62041"], ["62041_0570"])
    expect(page.get_by_text("1 Rue de la Paix 62000 Arras")).to_be_visible()
    assert_accessible(page)
    page.get_by_role("link", name=re.compile("^PMI")).click()
    page.get_by_role("link", name=re.compile(f"^{SECTORISED_MOTIF}")).click()
    expect(page.get_by_role("heading", name="Choisissez un lieu")).to_be_visible()
    page.get_by_role("link", name=re.compile("Prochaine disponibilité le")).first.click()

    times = week_with_times(page)
    expect(page.get_by_text("1 Rue de la Paix 62000 Arras")).to_be_visible()  # in the summary
    assert_accessible(page)
    week_url = page.url
    page.reload()
    expect(times.first).to_be_visible()
    assert page.url.replace("/?", "?") == week_url.replace("/?", "?")
    chosen = times.first.get_attribute("aria-label") or ""
    assert chosen.startswith("jeudi")  # Julien Petit's plage of the sectorised motif
    times.first.click()

    email = f"usager-{uuid.uuid4().hex[:8]}@exemple.fr"
    page.get_by_label("Prénom").fill("Inès")
    page.get_by_label("Nom", exact=True).fill("Lemaire")
    page.get_by_label("Adresse email", exact=True).fill(email)
    page.get_by_role("button", name="Créer mon compte").click()
    expect(page.get_by_role("status").filter(has_text="Un email vient de vous être envoyé")).to_be_visible()
    page.goto(sign_in_link(app_database_url, email))
    page.get_by_role("button", name="Me connecter et reprendre ma réservation").click()
    page.get_by_role("button", name="Continuer").click()
    page.get_by_role("link", name="Inès Lemaire (moi)").click()
    expect(page.get_by_text("1 Rue de la Paix 62000 Arras")).to_be_visible()
    page.get_by_role("button", name="Confirmer mon RDV").click()
    expect(page.get_by_role("heading", name="Votre rendez-vous est confirmé")).to_be_visible()
    assert_accessible(page)

    rdv_id = int(parse_qs(urlparse(page.url).query)["rdv"][0])
    with UnitOfWork(app_database_url) as uow:
        agents = uow.session.exec(select(Agent.last_name).join(RdvAgent, col(RdvAgent.agent_id) == Agent.id)
                                  .where(RdvAgent.rdv_id == rdv_id)).all()
        assert uow.session.get(Rdv, rdv_id) is not None
    assert agents == ["Petit"]

    # An address of Béthune, which no sector covers: the motifs open to the whole département only.
    page.goto(f"{app_url}/prendre_rdv?departement=62&adresse=Place+Clemenceau+62400+B%C3%A9thune&commune=62119")
    expect(page.get_by_text("Votre adresse n'est couverte par aucun secteur : seuls les rendez-vous ouverts à tout "
                            "le département vous sont proposés.")).to_be_visible()
    page.get_by_role("link", name=re.compile("^PMI")).click()
    expect(page.get_by_role("link", name=re.compile("^Pesée et conseils"))).to_be_visible()
    expect(page.get_by_role("link", name=re.compile(f"^{SECTORISED_MOTIF}"))).to_have_count(0)
    assert_accessible(page)


def test_a_territorial_admin_manages_a_sector(page: Page, app_url: str, app_database_url: str, login_as,
                                              assert_accessible) -> None:
    login_as("camille.martin@demo.test")
    page.get_by_role("link", name="Sectorisation").click()
    expect(page.get_by_role("heading", name="Sectorisation géographique", level=1)).to_be_visible()
    table = page.get_by_role("table")
    expect(table.get_by_role("row").filter(has_text="Lens et Liévin")).to_contain_text(
        "Organisation : Maison Départementale des Solidarités de Lens")
    expect(table.get_by_role("row").filter(has_text="Arras (62041) — toute la commune")).to_contain_text(
        "Agent : Julien Petit (PMI Arras)")
    assert_accessible(page)

    page.get_by_label("Nom du secteur").fill("Rue de la Paix")
    page.get_by_label("Identifiant").fill("Arras Paix")
    page.get_by_role("button", name="Créer le secteur").click()
    expect(page.locator("#champ-identifiant-secteur-erreur")).to_contain_text("Indiquez un identifiant")
    page.get_by_label("Identifiant").fill("arras-paix")
    page.get_by_role("button", name="Créer le secteur").click()
    expect(page.get_by_role("heading", name="Secteur « Rue de la Paix »")).to_be_visible()

    page.get_by_label("Ajouter une commune ou une rue").press_sequentially("rue de la paix arras")
    add_street = page.get_by_role("button", name="Ajouter « Rue : Rue de la Paix, Arras (62041) »")
    expect(add_street).to_be_visible()
    expect(page.get_by_role("button", name="Ajouter « Commune entière : Arras (62041) »")).to_be_visible()
    add_street.click()
    expect(page.get_by_role("status")).to_contain_text("« Rue de la Paix, Arras (62041) » a été ajouté")
    page.get_by_label("Attribuer le secteur à").select_option(label="Agent : Camille Martin (PMI Arras)")
    page.get_by_role("button", name="Attribuer", exact=True).click()
    row = table.get_by_role("row").filter(has_text="arras-paix")
    expect(row).to_contain_text("Rue de la Paix, Arras (62041)")
    expect(row).to_contain_text("Agent : Camille Martin (PMI Arras)")
    assert_accessible(page)

    row.get_by_role("button", name="Supprimer le secteur Rue de la Paix").click()
    dialog = page.get_by_role("alertdialog")
    expect(dialog).to_contain_text("sera supprimé avec ses zones et ses attributions")
    assert_accessible(page)
    dialog.get_by_role("button", name="Supprimer le secteur").click()
    expect(page.get_by_role("status")).to_contain_text("Le secteur « Rue de la Paix » a été supprimé.")
    expect(row).to_have_count(0)
    with UnitOfWork(app_database_url) as uow:
        assert [s.human_id for s in uow.session.exec(select(Sector).order_by(col(Sector.human_id)))] == [
            "arras", "lens-lievin"]


def test_a_territorial_admin_imports_zones_and_tests_an_address(page: Page, app_url: str, app_database_url: str,
                                                                login_as, assert_accessible) -> None:
    login_as("camille.martin@demo.test")
    page.get_by_role("link", name="Sectorisation").click()
    expect(page.get_by_role("heading", name="Importer des zones")).to_be_visible()
    zone_file = page.get_by_label("Fichier des zones")
    try:
        # A file with a wrong line: nothing imported, the line named.
        zone_file.set_input_files(files=[{"name": "zones.csv", "mimeType": "text/csv", "buffer": (
            b"sector_id;city_code;city_name\nlens-lievin;62065;Avion\nnord;62041;Arras\n")}])
        page.get_by_role("button", name="Importer les zones").click()
        expect(page.get_by_text("Aucune zone n'a été importée : 1 ligne à corriger.")).to_be_visible()
        expect(page.get_by_role("list", name="Lignes à corriger")).to_contain_text(
            "Ligne 3 : aucun secteur du territoire n'a l'identifiant « nord » : créez-le d'abord.")
        assert_accessible(page)
        lens = page.get_by_role("table").get_by_role("row").filter(has_text="Lens et Liévin")
        expect(lens).not_to_contain_text("Avion")

        zone_file.set_input_files(files=[{"name": "zones.csv", "mimeType": "text/csv", "buffer": (
            b"sector_id;city_code;city_name\nlens-lievin;62065;Avion\n")}])
        page.get_by_role("button", name="Importer les zones").click()
        expect(page.get_by_role("status").filter(has_text="1 zone importée.")).to_be_visible()
        expect(lens).to_contain_text("Avion (62065) — toute la commune")

        page.get_by_label("Adresse à tester").press_sequentially("1 rue de la paix arras")
        page.get_by_role("button", name="Tester « 1 Rue de la Paix 62000 Arras »").click()
        expect(page.get_by_text("couverte par les zones de sa commune.")).to_be_visible()
        expect(page.get_by_role("heading", name="Secteurs", exact=True).locator("..")).to_contain_text("Arras (arras)")
        expect(page.get_by_role("heading", name="Agents", exact=True).locator("..")).to_contain_text("Julien Petit (PMI Arras)")
        assert_accessible(page)
    finally:
        with UnitOfWork(app_database_url) as uow:
            for zone in uow.session.exec(select(SectorZone).where(SectorZone.city_code == "62065")):
                uow.session.delete(zone)
            uow.commit()
