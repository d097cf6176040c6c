"""An external prescripteur books on a phone for a bénéficiaire (issue 20, domain.md section 6.4): from
"Je suis un prescripteur" on the public booking page, through their details and the bénéficiaire's, to the
confirmation; the RDV is the prescripteur's, for a new usager of PMI Arras."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable

from conftest import week_with_times
from playwright.sync_api import Page, expect
from sqlmodel import col, select

from rdv_app.db.models import OutboxMessage, Participation, Prescripteur, Rdv, Usager
from rdv_app.db.uow import UnitOfWork


def test_a_prescripteur_books_for_a_beneficiaire_on_a_phone(phone: Page, app_url: str, app_database_url: str,
                                                             assert_accessible: Callable[[Page], None]) -> None:
    page = phone
    page.goto(f"{app_url}/prendre_rdv?departement=62")
    expect(page.get_by_role("heading", name="Choisissez un service")).to_be_visible()
    page.get_by_role("link", name="Je suis un prescripteur").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Prendre rendez-vous pour une autre personne")
    expect(page.get_by_role("heading", name="Choisissez le motif du rendez-vous")).to_be_visible()
    # A motif open to prescripteurs but not to usagers online is offered here.
    expect(page.get_by_role("link", name=re.compile("^Entretien social par téléphone"))).to_be_visible()
    assert_accessible(page)
    page.get_by_role("link", name=re.compile(r"^Consultation pédiatrique \(sur place\)")).click()
    expect(page.get_by_role("heading", name="Choisissez un lieu")).to_be_visible()
    assert_accessible(page)
    page.get_by_role("link", name=re.compile("Prochaine disponibilité le")).first.click()

    expect(page.get_by_role("heading", name="Choisissez un horaire")).to_be_visible()
    times = week_with_times(page)
    assert_accessible(page)
    chosen = times.first.get_attribute("aria-label") or ""
    times.first.click()

    expect(page.get_by_role("heading", name="Vos coordonnées de prescripteur")).to_be_visible()
    assert_accessible(page)
    email = f"prescripteur-{uuid.uuid4().hex[:8]}@asso.test"
    page.get_by_label("Votre prénom").fill("Alice")
    page.get_by_label("Votre nom").fill("Leroy")
    page.get_by_label("Votre adresse email professionnelle").fill("alice@asso")
    page.get_by_role("button", name="Continuer").click()
    expect(page.get_by_text("L'adresse email n'est pas valide")).to_be_visible()
    page.get_by_label("Votre adresse email professionnelle").fill(email)
    page.get_by_role("button", name="Continuer").click()

    expect(page.get_by_role("heading", name="Le bénéficiaire du rendez-vous")).to_be_visible()
    assert_accessible(page)
    last_name = f"Bénéficiaire{uuid.uuid4().hex[:6]}"
    page.get_by_label("Prénom du bénéficiaire").fill("Zoé")
    page.get_by_label("Nom du bénéficiaire", exact=True).fill(last_name)
    page.get_by_label("Téléphone portable du bénéficiaire").fill("03 21 00 00 00")
    page.get_by_role("button", name="Continuer").click()
    expect(page.get_by_text("Indiquez un numéro de téléphone portable")).to_be_visible()
    assert_accessible(page)
    page.get_by_label("Téléphone portable du bénéficiaire").fill("06 98 76 54 32")
    page.get_by_role("button", name="Continuer").click()

    expect(page.get_by_role("heading", name="Vérifiez le rendez-vous")).to_be_visible()
    expect(page.get_by_text(f"Alice Leroy ({email})")).to_be_visible()
    expect(page.get_by_text(chosen.split(" à ")[-1], exact=False).first).to_be_visible()
    assert_accessible(page)
    page.get_by_role("button", name="Confirmer le RDV").click()

    expect(page.get_by_role("heading", name="Le rendez-vous est confirmé")).to_be_visible()
    assert_accessible(page)

    with UnitOfWork(app_database_url) as uow:
        s = uow.session
        rdv, prescripteur, usager = s.exec(
            select(Rdv, Prescripteur, Usager)
            .join(Prescripteur, col(Prescripteur.id) == Rdv.created_by_prescripteur_id)
            .join(Participation, col(Participation.rdv_id) == Rdv.id)
            .join(Usager, col(Usager.id) == Participation.usager_id)
            .where(Prescripteur.email == email)).one()
        assert (rdv.created_by_type, usager.last_name, usager.created_through) == (
            "prescripteur", last_name, "prescripteur")
        assert prescripteur.first_name == "Alice"
        mails = s.exec(select(OutboxMessage.payload).where(OutboxMessage.rdv_id == rdv.id)).all()
        assert any(m["to"] == email and m["subject"].startswith("RDV confirmé le") for m in mails)
