"""Admins configure online: a motif open online, a bulk change of 50 motifs of the territory after its
preview (only in the organisations the territorial admin administers), lieux and the organisation; a basic
agent gets no access. Every page passes axe."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from playwright.sync_api import Locator, Page, expect
from sqlmodel import col, select

from rdv_app.db.models import Agent, AgentRole, AuditLog, Lieu, Motif, Organisation, Service
from rdv_app.db.uow import UnitOfWork
from rdv_app.domain.motif_rules import DAY, MONTH

ADMIN = "camille.martin@demo.test"  # admin of PMI Arras, territorial admin of the Pas-de-Calais
BASIC = "julien.petit@demo.test"
REUNION_ADMIN = "marie.payet@demo.test"  # admin of PMI Saint-Denis, territorial admin of La Réunion
LENS = "Maison Départementale des Solidarités de Lens"
BULK_PREFIX = "Atelier territoire"
NEW_MOTIF = "Dépistage visuel des 3 ans"
NEW_LIEU = "Antenne PMI Blangy"


def _open(page: Page, link: str, heading: str) -> None:
    page.get_by_role("navigation", name="Navigation principale").get_by_role("link", name=link, exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(heading)


def _delete_motifs(app_database_url: str, where: sa.ColumnElement[bool]) -> None:
    """Other browser tests share the demo database: what a test adds goes away after it."""
    with UnitOfWork(app_database_url) as uow:
        ids = uow.session.exec(select(Motif.id).where(where)).all()
        uow.session.exec(sa.delete(AuditLog).where(AuditLog.entity_type == "motif",
                                                   col(AuditLog.entity_id).in_([str(i) for i in ids])))
        uow.session.exec(sa.delete(Motif).where(col(Motif.id).in_(ids)))
        uow.commit()


@pytest.fixture
def added_things_removed_after(app_database_url: str, app_url: str) -> Iterator[None]:
    with UnitOfWork(app_database_url) as uow:
        organisation = uow.session.exec(select(Organisation).where(Organisation.slug == "pmi-arras")).one()
        website, horaires = organisation.website, organisation.horaires
    yield
    _delete_motifs(app_database_url, col(Motif.name).startswith(NEW_MOTIF))
    with UnitOfWork(app_database_url) as uow:
        uow.session.exec(sa.delete(Lieu).where(Lieu.name == NEW_LIEU))
        uow.session.exec(sa.update(Organisation).where(Organisation.name == "PMI Arras")
                         .values(website=website, horaires=horaires))
        uow.commit()


def _set_role(app_database_url: str, email: str, slug: str, access_level: str | None) -> None:
    """Gives the agent this role in the organisation, or takes their role there away (None)."""
    with UnitOfWork(app_database_url) as uow:
        agent_id = uow.session.exec(select(Agent.id).where(Agent.email == email)).one()
        organisation_id = uow.session.exec(select(Organisation.id).where(Organisation.slug == slug)).one()
        uow.session.exec(sa.delete(AgentRole).where(col(AgentRole.agent_id) == agent_id,
                                                    col(AgentRole.organisation_id) == organisation_id))
        if access_level is not None:
            uow.session.add(AgentRole(agent_id=agent_id, organisation_id=organisation_id, access_level=access_level))
        uow.commit()


@pytest.fixture
def admin_also_administers_lens(app_database_url: str, app_url: str) -> Iterator[None]:
    """The territory page covers only the organisations its admin administers: in the demo, Camille administers
    PMI Arras; for these tests she administers the MDS de Lens too, and the Mairie de Béthune stays out."""
    _set_role(app_database_url, ADMIN, "mds-lens", "admin")
    yield
    _set_role(app_database_url, ADMIN, "mds-lens", None)


@pytest.fixture
def fifty_motifs(app_database_url: str, admin_also_administers_lens: None) -> Iterator[tuple[list[int], int]]:
    """50 motifs in the two organisations of the Pas-de-Calais the admin administers, closed online with the
    default delays, and one more, with a name like theirs, at the Mairie de Béthune she does not administer."""
    with UnitOfWork(app_database_url) as uow:
        organisations = dict(uow.session.exec(select(Organisation.slug, Organisation.id)).all())
        services = dict(uow.session.exec(select(Service.short_name, Service.id)).all())
        motifs = [Motif(organisation_id=organisations["pmi-arras"] if n % 2 else organisations["mds-lens"],
                        service_id=services["PMI"] if n % 2 else services["Service social"],
                        name=f"{BULK_PREFIX} {n:02d}", color="#6d4c41")
                  for n in range(1, 51)]
        elsewhere = Motif(organisation_id=organisations["mairie-bethune"], service_id=services["Mairie"],
                          name=f"{BULK_PREFIX} de la mairie", color="#6d4c41")
        uow.session.add_all([*motifs, elsewhere])
        uow.commit()
        ids, elsewhere_id = [m.id for m in motifs], elsewhere.id
    yield ids, elsewhere_id  # type: ignore[misc]
    _delete_motifs(app_database_url, col(Motif.name).startswith(BULK_PREFIX))


@pytest.fixture
def territorial_admin_of_no_organisation(app_database_url: str, app_url: str) -> Iterator[None]:
    """Marie stays territorial admin of La Réunion but is only a basic agent of PMI Saint-Denis."""
    _set_role(app_database_url, REUNION_ADMIN, "pmi-saint-denis", "basic")
    yield
    _set_role(app_database_url, REUNION_ADMIN, "pmi-saint-denis", "admin")


def _motif_form(page: Page) -> Locator:
    return page.get_by_role("form", name=re.compile("motif"))


def test_an_admin_creates_a_motif_open_online_and_sees_it_listed_with_the_badge(
        page: Page, login_as, assert_accessible, added_things_removed_after) -> None:
    login_as(ADMIN)
    _open(page, "Motifs", "Motifs")
    expect(page.get_by_role("heading", name="Créer un motif")).to_be_visible()
    assert_accessible(page)

    form = _motif_form(page)
    form.get_by_label("Nom du motif").fill(NEW_MOTIF)
    form.get_by_label("Service", exact=True).select_option(label="PMI (Protection Maternelle Infantile)")
    form.get_by_label("Durée par défaut (minutes)").fill("40")
    form.get_by_role("tab", name="Réservation en ligne").click()
    form.get_by_label("Qui peut réserver ce motif ?").select_option(label="Ouvert aux agents et aux usagers")
    form.get_by_label("Délai minimum de réservation (nombre)").fill("2")
    form.get_by_label("Délai minimum de réservation (unité)").select_option(label="heures")
    form.get_by_label("Délai maximum de réservation (nombre)").fill("1")
    form.get_by_label("Délai maximum de réservation (unité)").select_option(label="heures")
    assert_accessible(page)
    form.get_by_role("tab", name="Instruction et notification").click()
    form.get_by_label("Instructions après la prise de RDV (facultatif)").fill(
        "Apportez le carnet de santé et les lunettes de l'enfant.")
    form.get_by_role("button", name="Créer le motif").click()

    # The error is next to its field, in the tab that holds it, and nothing was created.
    expect(form.get_by_role("tab", name="Réservation en ligne")).to_have_attribute("aria-selected", "true")
    error = form.get_by_text("Le délai maximum (1 heure) doit être plus long que le délai minimum (2 heures).")
    expect(error).to_be_visible()
    assert_accessible(page)
    form.get_by_label("Délai maximum de réservation (nombre)").fill("2")
    form.get_by_label("Délai maximum de réservation (unité)").select_option(label="mois")
    expect(error).to_have_count(0)
    form.get_by_role("button", name="Créer le motif").click()

    expect(page.get_by_role("status").filter(has_text="a été créé")).to_have_text(
        f"Le motif « {NEW_MOTIF} » a été créé.")
    row = page.get_by_role("row").filter(has=page.get_by_role("rowheader", name=re.compile(NEW_MOTIF)))
    expect(row).to_have_count(1)
    expect(row.get_by_text("Réservation en ligne")).to_be_visible()
    expect(row).to_contain_text("Ouvert aux agents et aux usagers")
    expect(row).to_contain_text("40 min")
    expect(row).to_contain_text("de 2 heures à 2 mois avant")
    online_filter = page.locator("#filtre-en-ligne")
    online_filter.select_option(label="Non ouverts en ligne")
    expect(row).to_have_count(0)
    online_filter.select_option(label="Ouverts à la réservation en ligne")
    expect(row).to_have_count(1)
    assert_accessible(page)

    # The "Réservation en ligne" page gives the public link and warns that no plage offers the new motif.
    _open(page, "Réservation en ligne", "Réservation en ligne")
    expect(page.get_by_label("Lien public")).to_have_value(re.compile(r"/org/\d+/pmi-arras$"))
    expect(page.get_by_label("Code d'intégration (iframe) pour votre site")).to_have_value(re.compile("<iframe src="))
    warning = page.locator(".warning-box")
    expect(warning).to_contain_text("Des motifs ouverts en ligne ne sont pas réservables")
    expect(warning.get_by_role("listitem")).to_have_text([NEW_MOTIF])
    expect(page.get_by_role("listitem").filter(has_text="Consultation pédiatrique")).to_contain_text(
        "Réservation en ligne")
    assert_accessible(page)


def test_an_admin_adds_a_lieu_and_edits_the_organisation(page: Page, login_as, assert_accessible,
                                                         added_things_removed_after) -> None:
    login_as(ADMIN)
    _open(page, "Lieux", "Lieux")
    expect(page.get_by_role("heading", name="Centre PMI d'Arras")).to_be_visible()
    assert_accessible(page)
    form = page.get_by_role("form", name="Ajouter un lieu")
    form.get_by_label("Nom du lieu").fill(NEW_LIEU)
    form.get_by_label("Adresse").fill("3 Rue des Rosati, 62000 Arras")
    form.get_by_label("Latitude (facultatif)").fill("50,2950")
    form.get_by_role("button", name="Ajouter le lieu").click()
    expect(form.get_by_text("Indiquez la latitude et la longitude ensemble, ou aucune des deux.")).to_be_visible()
    form.get_by_label("Longitude (facultatif)").fill("2.8010")
    form.get_by_role("button", name="Ajouter le lieu").click()
    expect(page.get_by_role("status").filter(has_text="a été ajouté")).to_have_text(
        f"Le lieu « {NEW_LIEU} » a été ajouté.")
    new_lieu = page.get_by_role("listitem").filter(has=page.get_by_role("heading", name=NEW_LIEU))
    expect(new_lieu).to_contain_text("50.295, 2.801")
    assert_accessible(page)

    # A lieu where plages are running is disabled only once the admin confirms.
    page.get_by_role("button", name="Désactiver le lieu « Centre PMI d'Arras »").click()
    warning = page.get_by_role("alert").filter(has_text="Désactiver ce lieu ?")
    expect(warning).to_contain_text("« Consultations pédiatriques »")
    assert_accessible(page)
    warning.get_by_role("button", name="Ne pas désactiver").click()
    expect(warning).to_have_count(0)
    expect(page.get_by_role("button", name="Désactiver le lieu « Centre PMI d'Arras »")).to_be_visible()
    # One without plages is disabled at once, and can be enabled again.
    page.get_by_role("button", name=f"Désactiver le lieu « {NEW_LIEU} »").click()
    expect(page.get_by_role("status").filter(has_text="désactivé")).to_have_text(
        f"Le lieu « {NEW_LIEU} » a été désactivé.")
    expect(new_lieu.get_by_text("Désactivé", exact=True)).to_be_visible()
    page.get_by_role("button", name=f"Réactiver le lieu « {NEW_LIEU} »").click()
    expect(new_lieu.get_by_text("Désactivé", exact=True)).to_have_count(0)

    _open(page, "Organisation", "Organisation")
    expect(page.get_by_label("Nom de l'organisation")).to_have_value("PMI Arras")
    expect(page.get_by_label("Fuseau horaire")).to_have_value("Europe/Paris")
    page.get_by_label("Site internet (facultatif)").fill("pas un site")
    page.get_by_role("button", name="Enregistrer").click()
    expect(page.get_by_text("L'adresse du site internet n'est pas valide")).to_be_visible()
    assert_accessible(page)
    page.get_by_label("Site internet (facultatif)").fill("www.pmi-arras.example.fr")
    page.get_by_label("Horaires d'ouverture (facultatif)").fill("Du lundi au vendredi, de 8 h 30 à 17 h")
    page.get_by_role("button", name="Enregistrer").click()
    expect(page.get_by_role("status").filter(has_text="enregistrées")).to_have_text(
        "Les informations de l'organisation ont été enregistrées.")
    page.reload()
    expect(page.get_by_label("Site internet (facultatif)")).to_have_value("https://www.pmi-arras.example.fr")
    expect(page.get_by_label("Horaires d'ouverture (facultatif)")).to_have_value(
        "Du lundi au vendredi, de 8 h 30 à 17 h")


def test_a_territory_admin_changes_the_delays_of_50_motifs_in_one_action_after_the_preview(
        page: Page, login_as, assert_accessible, fifty_motifs: tuple[list[int], int], app_database_url: str) -> None:
    motif_ids, elsewhere_id = fifty_motifs
    login_as(ADMIN)
    _open(page, "Motifs du territoire", "Motifs du territoire")
    expect(page.get_by_text("Motifs des organisations que vous administrez dans le territoire Pas-de-Calais (62)",
                            exact=True)).to_be_visible()
    expect(page.get_by_text(f"Organisations couvertes : {LENS}, PMI Arras.", exact=True)).to_be_visible()
    expect(page.locator("#territoire-filtre-organisation option")).to_have_text(
        ["Toutes vos organisations", LENS, "PMI Arras"])
    page.get_by_label("Nom contient").fill(BULK_PREFIX)
    rows = page.get_by_role("row").filter(has=page.get_by_role("rowheader", name=re.compile(BULK_PREFIX)))
    # The Mairie de Béthune's motif of the same name is not listed: she does not administer that organisation.
    expect(rows).to_have_count(50)
    expect(rows.filter(has_text="Mairie de Béthune")).to_have_count(0)
    assert_accessible(page)

    page.get_by_role("button", name="Tout sélectionner").click()
    expect(page.get_by_text("50 motifs sélectionnés", exact=True)).to_be_visible()
    page.get_by_label("Délai minimum de réservation (nombre)").fill("1")
    page.get_by_label("Délai minimum de réservation (unité)").select_option(label="jours")
    page.get_by_label("Délai maximum de réservation (nombre)").fill("2")
    page.get_by_label("Délai maximum de réservation (unité)").select_option(label="mois")
    page.get_by_role("button", name="Voir l'aperçu des changements").click()

    preview = page.locator(".preview-box")
    expect(preview).to_contain_text("50 motif(s) seront modifiés, 0 déjà à jour.")
    expect(preview.locator(".preview-line")).to_have_count(50)
    expect(preview.locator(".preview-line").first).to_contain_text(
        "Délai minimum de réservation : 30 minutes → 1 jour")
    expect(preview.locator(".preview-line").first).to_contain_text(
        "Délai maximum de réservation : 3 mois → 2 mois")
    assert_accessible(page)
    # Nothing changed before the admin applies the change.
    with UnitOfWork(app_database_url) as uow:
        assert {m.min_public_booking_delay for m in uow.session.exec(
            select(Motif).where(col(Motif.id).in_(motif_ids))).all()} == {1800}

    preview.get_by_role("button", name="Appliquer à 50 motifs sélectionnés").click()
    expect(page.get_by_role("status").filter(has_text="appliqué")).to_have_text(
        "Le changement a été appliqué : 50 motifs modifiés. Ils restent sélectionnés.")
    expect(rows.filter(has_text="de 1 jour à 2 mois avant")).to_have_count(50)
    # The selection stays for a second change on the same motifs (RDV-SP keeps it too).
    expect(page.get_by_text("50 motifs sélectionnés", exact=True)).to_be_visible()
    with UnitOfWork(app_database_url) as uow:
        stored = uow.session.exec(select(Motif).where(col(Motif.id).in_(motif_ids))).all()
        assert {(m.min_public_booking_delay, m.max_public_booking_delay) for m in stored} == {(DAY, 2 * MONTH)}
        assert {m.organisation_id for m in stored} == set(uow.session.exec(
            select(Organisation.id).where(col(Organisation.slug).in_(["pmi-arras", "mds-lens"]))).all())
        elsewhere = uow.session.get(Motif, elsewhere_id)
        assert (elsewhere.min_public_booking_delay, elsewhere.max_public_booking_delay) == (  # type: ignore[union-attr]
            1800, 3 * MONTH)
    assert_accessible(page)


def test_a_territory_admin_creates_one_motif_in_two_organisations(page: Page, login_as, assert_accessible,
                                                                  added_things_removed_after,
                                                                  admin_also_administers_lens) -> None:
    login_as(ADMIN)
    _open(page, "Motifs du territoire", "Motifs du territoire")
    form = page.get_by_role("form", name="Créer un motif dans plusieurs organisations")
    organisations = form.get_by_role("group", name="Organisations")
    expect(organisations.get_by_role("checkbox")).to_have_count(2)
    expect(organisations.get_by_label("Mairie de Béthune")).to_have_count(0)
    organisations.get_by_label("PMI Arras").check()
    organisations.get_by_label(LENS).check()
    form.get_by_label("Nom du motif").fill(NEW_MOTIF)
    form.get_by_label("Service", exact=True).select_option(label="PMI (Protection Maternelle Infantile)")
    form.get_by_role("tab", name="Réservation en ligne").click()
    form.get_by_label("Qui peut réserver ce motif ?").select_option(label="Ouvert aux agents et aux usagers")
    assert_accessible(page)
    form.get_by_role("button", name="Créer dans les organisations choisies").click()
    expect(page.get_by_role("status").filter(has_text="a été créé")).to_have_text(
        f"Le motif « {NEW_MOTIF} » a été créé dans 2 organisation(s).")
    page.get_by_label("Nom contient").fill("4 ans")
    rows = page.get_by_role("row").filter(has=page.get_by_role("rowheader", name=re.compile(NEW_MOTIF)))
    expect(rows).to_have_count(2)
    expect(rows.filter(has_text="PMI Arras").get_by_text("Réservation en ligne")).to_be_visible()
    expect(rows.filter(has_text=LENS)).to_have_count(1)


def test_a_territory_admin_of_no_organisation_is_told_why_the_page_is_empty(
        page: Page, login_as, assert_accessible, territorial_admin_of_no_organisation) -> None:
    login_as(REUNION_ADMIN)
    _open(page, "Motifs du territoire", "Motifs du territoire")
    expect(page.get_by_role("heading", name="Aucune organisation à gérer")).to_be_visible()
    expect(page.get_by_text("Vous êtes administrateur du territoire La Réunion (974), mais d'aucune de ses "
                            "organisations.")).to_be_visible()
    expect(page.get_by_text("demandez à l'un de ses administrateurs de vous donner ce rôle")).to_be_visible()
    expect(page.get_by_role("table")).to_have_count(0)
    expect(page.get_by_role("form")).to_have_count(0)
    assert_accessible(page)


@pytest.mark.parametrize(("path", "message"), [
    ("/admin/motifs", "Cette page est réservée aux administrateurs de l'organisation."),
    ("/admin/lieux", "Cette page est réservée aux administrateurs de l'organisation."),
    ("/admin/organisation", "Cette page est réservée aux administrateurs de l'organisation."),
    ("/admin/reservation-en-ligne", "Cette page est réservée aux administrateurs de l'organisation."),
    ("/admin/territoire/motifs", "Cette page est réservée aux administrateurs du territoire."),
    ("/admin/territoire/journal-de-securite", "Cette page est réservée aux administrateurs du territoire."),
])
def test_a_basic_agent_gets_no_access(page: Page, app_url: str, login_as, assert_accessible, path: str,
                                      message: str) -> None:
    login_as(BASIC)
    navigation = page.get_by_role("navigation", name="Navigation principale")
    expect(navigation.get_by_role("link", name="Agenda")).to_be_visible()
    for admin_link in ("Motifs", "Lieux", "Organisation", "Réservation en ligne", "Motifs du territoire",
                       "Journal de sécurité"):
        expect(navigation.get_by_role("link", name=admin_link, exact=True)).to_have_count(0)
    page.goto(f"{app_url}{path}")
    denied = page.get_by_role("alert").filter(has=page.get_by_role("heading", name="Accès réservé"))
    expect(denied.get_by_role("heading", name="Accès réservé")).to_be_visible()
    expect(denied).to_contain_text(message)
    expect(page.get_by_role("table")).to_have_count(0)
    expect(page.get_by_role("form")).to_have_count(0)
    assert_accessible(page)
