"""Agents' forms sent empty, on a 1280×720 desktop: the forms carry novalidate, so no browser bubble (in
English) stands for the app; each empty required field gets the service's French message under it, tied
to it (aria-invalid, aria-describedby), the forms with several fields list them all in a summary whose
links lead to the fields, and nothing is saved."""

from __future__ import annotations

import re

import sqlalchemy as sa
from playwright.sync_api import Locator, Page, expect
from sqlmodel import select

from rdv_app.db.models import Lieu, PlageOuverture
from rdv_app.db.uow import UnitOfWork

ADMIN = "camille.martin@demo.test"
DESKTOP = {"width": 1280, "height": 720}


def _count(database_url: str, model: type) -> int:
    with UnitOfWork(database_url, read_only=True) as uow:
        return uow.session.exec(select(sa.func.count()).select_from(model)).one()


def _field_says(field: Locator, message: str) -> None:
    """The field is marked invalid, its required attribute kept for screen readers, and `message` is part
    of what it is described by (after its hint, if it has one)."""
    expect(field).to_have_attribute("aria-invalid", "true")
    expect(field).to_have_attribute("required", "")
    expect(field).to_have_accessible_description(re.compile(f"{re.escape(message)}$"))


def _wait_hydrated(form: Locator) -> None:
    """React has taken over the server-rendered form (a click before would submit it as plain HTML)."""
    form.page.wait_for_function("form => Object.keys(form).some(key => key.startsWith('__reactProps'))",
                                arg=form.element_handle())


def _summary_links(form: Locator) -> Locator:
    summary = form.locator(".error-summary")
    expect(summary).to_have_attribute("role", "alert")
    expect(summary).to_contain_text("Corrigez les points suivants :")
    return summary.get_by_role("link")


def test_agents_forms_sent_empty_name_every_field_in_french_and_save_nothing(
        page: Page, app_url: str, app_database_url: str, login_as, assert_accessible) -> None:
    page.set_viewport_size(DESKTOP)

    # Sign-in: each empty field named under it.
    page.goto(f"{app_url}/connexion")
    sign_in = page.get_by_role("form", name="Connexion")
    expect(sign_in).to_have_attribute("novalidate", "")
    _wait_hydrated(sign_in)
    page.get_by_role("button", name="Se connecter").click()
    _field_says(sign_in.get_by_label("Adresse email"), "Saisissez votre adresse email.")
    _field_says(sign_in.get_by_label("Mot de passe"), "Saisissez votre mot de passe.")
    expect(page).to_have_url(re.compile("/connexion"))
    assert_accessible(page)

    login_as(ADMIN)

    # A plage d'ouverture: five fields to fill in (the agent is chosen already), all named at once.
    plages_before = _count(app_database_url, PlageOuverture)
    page.goto(f"{app_url}/planning/plages")
    form = page.get_by_role("form", name=re.compile("plage"))
    expect(form).to_have_attribute("novalidate", "")
    title = form.get_by_label("Titre", exact=True)
    expect(title).to_be_enabled()
    form.get_by_role("button", name="Créer la plage").click()
    links = _summary_links(form)
    expect(links).to_have_text(["Le titre est obligatoire.", "Choisissez au moins un motif.",
                                "Choisissez la date de la plage.", "Indiquez l'heure de début.",
                                "Indiquez l'heure de fin."])
    expect(links.first).to_have_attribute("href", re.compile("#plage-titre$"))
    _field_says(title, "Le titre est obligatoire.")
    _field_says(form.get_by_label("Date", exact=True), "Choisissez la date de la plage.")
    _field_says(form.get_by_label("Heure de début", exact=True), "Indiquez l'heure de début.")
    _field_says(form.get_by_label("Heure de fin", exact=True), "Indiquez l'heure de fin.")
    expect(form.get_by_role("group", name="Motifs")).to_have_accessible_description(
        re.compile("Choisissez au moins un motif.$"))
    assert_accessible(page)
    # Filling a field takes its message away, under it and in the summary.
    title.fill("Permanence")
    expect(title).to_have_attribute("aria-invalid", "false")
    expect(links).to_have_count(4)
    assert _count(app_database_url, PlageOuverture) == plages_before

    # A lieu: its name and its address.
    lieux_before = _count(app_database_url, Lieu)
    page.goto(f"{app_url}/admin/lieux")
    form = page.get_by_role("form", name="Ajouter un lieu")
    expect(form).to_have_attribute("novalidate", "")
    name = form.get_by_label("Nom du lieu")
    expect(name).to_be_enabled()
    form.get_by_role("button", name="Ajouter le lieu").click()
    expect(_summary_links(form)).to_have_text(["Le nom du lieu est obligatoire.",
                                               "L'adresse du lieu est obligatoire."])
    _field_says(name, "Le nom du lieu est obligatoire.")
    _field_says(form.get_by_label("Adresse"), "L'adresse du lieu est obligatoire.")
    assert_accessible(page)
    assert _count(app_database_url, Lieu) == lieux_before
