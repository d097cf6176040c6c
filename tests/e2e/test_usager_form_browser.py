"""Usagers' records in the browser (issue 18), desktop: La Réunion's territorial admin shows "Logement" in the
territory's "Fiches usagers", creates a responsible (address chosen among the Base Adresse Nationale's
suggestions, served on loopback), then a relative in the care of that responsible, then a second usager with
the same phone, warned of the duplicate and confirming past it. Every page and the warnings pass axe. What the
test changes goes away after it."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from playwright.sync_api import Locator, Page, expect
from sqlmodel import col, select

from rdv_app.db.models import AuditLog, Territory, Usager, UsagerProfile
from rdv_app.db.uow import UnitOfWork

REUNION_ADMIN = "marie.payet@demo.test"  # admin of PMI Saint-Denis, territorial admin of La Réunion
LAST_NAME = "Testeur-Fiche"
PHONE = "0639 40 12 34"  # a Mayotte mobile: no usager of the demo has one


def _usagers(database_url: str) -> list[Usager]:
    """The test's usagers, as detached copies."""
    with UnitOfWork(database_url, read_only=True) as uow:
        rows = uow.session.exec(select(Usager).where(Usager.last_name == LAST_NAME).order_by(col(Usager.id))).all()
        return [Usager(**row.model_dump()) for row in rows]


@pytest.fixture
def reunion_restored(app_database_url: str, app_url: str) -> Iterator[None]:
    """La Réunion's record fields as the demo has them, and no usager of the test, again after it."""
    yield
    with UnitOfWork(app_database_url) as uow:
        ids = uow.session.exec(select(Usager.id).where(Usager.last_name == LAST_NAME)).all()
        uow.session.exec(sa.update(Usager).where(col(Usager.responsible_id).in_(ids)).values(responsible_id=None))
        uow.session.exec(sa.delete(UsagerProfile).where(col(UsagerProfile.usager_id).in_(ids)))
        uow.session.exec(sa.delete(AuditLog).where(AuditLog.entity_type == "usager",
                                                   col(AuditLog.entity_id).in_([str(i) for i in ids])))
        uow.session.exec(sa.delete(Usager).where(col(Usager.id).in_(ids)))
        uow.session.exec(sa.update(Territory).where(Territory.departement_number == "974")
                         .values(enable_logement_field=False))
        uow.commit()


def _open(page: Page, link: str, heading: str) -> None:
    """From the navigation, or from "Vos usagers" for what concerns usagers."""
    navigation = page.get_by_role("navigation", name="Navigation principale")
    if link == "Créer un usager":
        navigation.get_by_role("link", name="Usagers", exact=True).click()
        page.get_by_role("main").get_by_role("link", name=link, exact=True).click()
    else:
        navigation.get_by_role("link", name=link, exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(heading)


def _created(page: Page) -> None:
    """Saved: the usager's page opens, saying so."""
    expect(page.get_by_text("L'usager a été créé.")).to_be_visible()
    page.wait_for_url(re.compile(r"/usagers/\d+$"))


def _new_form(page: Page, app_url: str) -> Locator:
    page.goto(f"{app_url}/usagers/nouveau")
    expect(page.get_by_role("heading", level=1)).to_have_text("Créer un usager")
    form = page.get_by_role("form", name="Créer un usager")
    expect(form.get_by_label("Prénom")).to_be_enabled()  # its fields wait for the form's load
    return form


def test_create_a_responsible_a_relative_and_confirm_past_a_duplicate(
        page: Page, login_as, assert_accessible, app_url: str, app_database_url: str, reunion_restored: None) -> None:
    login_as(REUNION_ADMIN)

    _open(page, "Fiches usagers", "Fiches usagers")
    expect(page.get_by_text("Les champs seront simplement masqués, les données ne seront pas supprimées.").first
           ).to_be_visible()
    assert_accessible(page)
    page.get_by_label("Logement").check()
    page.get_by_role("button", name="Enregistrer").click()
    expect(page.get_by_text("Les champs des fiches usagers ont été enregistrés.")).to_be_visible()

    # A responsible, with an address chosen among the suggestions.
    _open(page, "Créer un usager", "Créer un usager")
    form = page.get_by_role("form", name="Créer un usager")
    expect(form.get_by_label("Prénom")).to_be_enabled()
    assert_accessible(page)
    form.get_by_label("Prénom").fill("Ilyas")
    form.get_by_label("Nom d'usage").fill(LAST_NAME)
    form.get_by_label("Téléphone (facultatif)").fill(PHONE)
    form.get_by_label("Adresse (facultatif)").fill("1 rue de la paix")
    form.get_by_role("button", name="1 Rue de la Paix 62000 Arras").click()
    expect(form.get_by_text("Code postal 62000 · Arras (code INSEE 62041)")).to_be_visible()
    form.get_by_label("Logement").select_option(label="Locataire")
    # Invited to create an account: it takes an email, which the form asks for next to the field.
    form.get_by_label(re.compile("^Inviter l'usager à se créer un compte")).check()
    form.get_by_role("button", name="Créer usager").click()
    expect(form.get_by_text("Renseignez l'email de l'usager pour l'inviter à créer son compte.")).to_be_visible()
    form.get_by_label("Email (facultatif)").fill(f"ilyas.{LAST_NAME.lower()}@exemple.fr")
    form.get_by_role("button", name="Créer usager").click()
    _created(page)
    expect(page.get_by_text("Une invitation à créer son compte lui a été envoyée")).to_be_visible()
    [ilyas] = _usagers(app_database_url)
    assert (ilyas.phone_number_formatted, ilyas.post_code, ilyas.city_code, ilyas.logement) == (
        "+262639401234", "62000", "62041", "locataire")

    # A relative in the care of that responsible.
    form = _new_form(page, app_url)
    form.get_by_label("Proche").click()  # the server's answer checks it
    expect(form.get_by_label("Proche")).to_be_checked()
    form.get_by_label("Prénom").fill("Nora")
    form.get_by_label("Nom d'usage").fill(LAST_NAME)
    expect(form.get_by_role("tab", name="Usager existant")).to_have_attribute("aria-selected", "true")
    form.get_by_label("Rechercher l'usager responsable").fill("ilyas")
    form.get_by_role("button", name=re.compile(r"^Choisir .*Ilyas")).click()
    expect(form.get_by_text("est le responsable choisi.")).to_be_visible()
    assert_accessible(page)
    form.get_by_role("button", name="Créer usager").click()
    _created(page)
    nora = next(u for u in _usagers(app_database_url) if u.first_name == "Nora")
    assert nora.responsible_id == ilyas.id

    # Another usager with Ilyas's phone: a warning, then confirmed.
    form = _new_form(page, app_url)
    form.get_by_label("Prénom").fill("Sami")
    form.get_by_label("Nom d'usage").fill(LAST_NAME)
    form.get_by_label("Téléphone (facultatif)").fill(PHONE)
    form.get_by_role("button", name="Créer usager").click()
    warnings = page.get_by_role("region", name="Avertissements")
    expect(warnings.get_by_text("Un usager avec le même numéro de téléphone existe déjà.")).to_be_visible()
    expect(warnings.get_by_text(f"{LAST_NAME.upper()} Ilyas")).to_be_visible()
    expect(warnings.get_by_role("button", name="Modifier cet usager")).to_be_visible()
    assert_accessible(page)
    assert [u.first_name for u in _usagers(app_database_url)] == ["Ilyas", "Nora"]
    warnings.get_by_role("button", name="Confirmer en ignorant les avertissements").click()
    _created(page)
    assert [u.first_name for u in _usagers(app_database_url)] == ["Ilyas", "Nora", "Sami"]
