"""A super admin opens a mairie's account in the browser (desktop, axe on each state): a wrong email is
refused under its field, then the mairie is opened with its geocoded lieu, its three ANTS motifs and its
admin invited (issue 21, admin-domain.md section 12)."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pyotp
from playwright.sync_api import Page, expect
from sqlmodel import col, select

from rdv_app.auth.passwords import hash_password
from rdv_app.db.models import Agent, AgentRole, Lieu, Motif, Organisation, Territory
from rdv_app.db.uow import UnitOfWork
from rdv_app.domain import ants, clock

PASSWORD = "Operatrice-Mairies-2026"


def _sign_in_as_a_super_admin(page: Page, app_url: str, database_url: str) -> None:
    """A super admin of its own (the instance may already have one), who sets up its second factor."""
    email = f"mairies-{uuid.uuid4().hex[:6]}@exemple.fr"
    with UnitOfWork(database_url) as uow:
        uow.session.add(Agent(email=email, first_name="Inès", last_name="Mairies", super_admin=True,
                              password_hash=hash_password(PASSWORD), created_at=clock.now(), updated_at=clock.now()))
        uow.commit()
    page.goto(f"{app_url}/connexion")
    page.get_by_label("Adresse email").fill(email)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    enrolment = page.get_by_role("heading", level=1, name="Activez la double authentification")
    expect(enrolment.or_(page.get_by_role("heading", name="Bonjour", exact=False)).first).to_be_visible(
        timeout=15_000)
    if enrolment.is_visible():
        secret = page.locator("code.totp-secret").inner_text().replace(" ", "")
        page.get_by_label("Code à 6 chiffres").fill(pyotp.TOTP(secret).now())
        page.get_by_role("button", name="Activer la double authentification").click()
        page.get_by_role("button", name="J'ai noté mes codes, accéder à mon espace").click()
    page.wait_for_url(f"{app_url}/espace**")


def test_a_super_admin_opens_a_mairies_account(page: Page, app_url: str, app_database_url: str,
                                               assert_accessible: Callable[[Page], None]) -> None:
    page.set_viewport_size({"width": 1280, "height": 900})
    _sign_in_as_a_super_admin(page, app_url, app_database_url)
    page.goto(f"{app_url}/super-admin")
    form = page.get_by_role("form", name="Ouvrir le compte d'une mairie")
    expect(form).to_be_visible(timeout=15_000)
    assert_accessible(page)

    name = f"Mairie d'Arras {uuid.uuid4().hex[:4]}"
    form.get_by_label("Nom de la mairie").fill(name)
    form.get_by_label("Adresse de la mairie").fill("1 Rue de la Paix 62000 Arras")
    email_field = form.get_by_label("Adresse email de l'administrateur de la mairie")
    email_field.fill("pas-une-adresse")
    # The browser's own check of type=email is left aside: the service's French message is the one shown.
    form.evaluate("element => element.noValidate = true")
    form.get_by_role("button", name="Ouvrir la mairie et inviter").click()
    expect(email_field).to_have_attribute("aria-invalid", "true", timeout=15_000)
    expect(form.locator("#champ-mairie_admin_email-erreur")).not_to_be_empty()
    with UnitOfWork(app_database_url, read_only=True) as uow:
        assert uow.session.exec(select(Organisation).where(Organisation.name == name)).first() is None
    assert_accessible(page)

    email_field.fill(f"maire-{uuid.uuid4().hex[:4]}@arras.test")
    form.get_by_role("button", name="Ouvrir la mairie et inviter").click()
    expect(page.get_by_role("status").filter(has_text="ouverte")).to_have_text(
        f"Mairie « {name} » ouverte avec ses trois motifs ANTS : une invitation a été envoyée.", timeout=15_000)
    expect(email_field).to_have_value("")  # a fresh form for the next mairie
    assert_accessible(page)
    with UnitOfWork(app_database_url, read_only=True) as uow:
        s = uow.session
        organisation = s.exec(select(Organisation).join(Territory, col(Territory.id) == Organisation.territory_id)
                              .where(Organisation.name == name, Territory.name == ants.MAIRIES_TERRITORY)).one()
        lieu = s.exec(select(Lieu).where(Lieu.organisation_id == organisation.id)).one()
        assert (lieu.address, lieu.latitude, lieu.longitude) == ("1 Rue de la Paix 62000 Arras", 50.29, 2.78)
        assert sorted(m.name for m in s.exec(select(Motif).where(Motif.organisation_id == organisation.id))) == [
            "Carte d'identité", "Passeport", "Passeport et carte d'identité"]
        assert s.exec(select(AgentRole.access_level).where(AgentRole.organisation_id == organisation.id)).all() == [
            "admin"]
