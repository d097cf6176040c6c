"""Prescription by agents in the browser (issue 20), on a desktop: an agent of MDS Lens widens "Trouver un RDV"
to the territory, books a PMI Arras slot for an usager she creates on the way, and sees the confirmation;
PMI Arras' admin sees who booked it on the RDV's page; the prescribing agent cannot open the RDV itself.

The demo's Karim Haddad also works at PMI Arras (he could open the RDV there): the prescribing agent here is
Nathalie Lefebvre, admin of MDS Lens only."""

from __future__ import annotations

import re
from collections.abc import Callable

from conftest import sign_in_agent
from playwright.sync_api import Page, expect
from sqlmodel import col, select
from test_forms_born_loaded import SLOW_SOCKET

from rdv_app.db.models import Participation, Rdv, UsagerProfile
from rdv_app.db.uow import UnitOfWork

NATHALIE = "nathalie.lefebvre@demo.test"
CAMILLE = "camille.martin@demo.test"


def _prescribed_rdv(database_url: str) -> tuple[int, list[str]]:
    """The RDV booked by prescription, and the slugs of the organisations its usager is followed by."""
    with UnitOfWork(database_url) as uow:
        s = uow.session
        rdv_id, usager_id = s.exec(
            select(Rdv.id, Participation.usager_id).join(Participation, col(Participation.rdv_id) == Rdv.id)
            .where(col(Participation.created_by_agent_prescripteur).is_(True))
            .order_by(col(Rdv.id).desc())).first()
        organisations = s.exec(select(UsagerProfile.organisation_id)
                               .where(UsagerProfile.usager_id == usager_id)).all()
        return rdv_id, sorted(str(o) for o in organisations)


def test_an_agent_widens_the_search_and_books_in_another_organisation(
        page: Page, app_url: str, app_database_url: str, login_as,
        assert_accessible: Callable[[Page], None]) -> None:
    page.add_init_script(SLOW_SOCKET)
    login_as(NATHALIE)
    # The motif setting: "Ouvert aux prescripteurs", and its badge in the motif list.
    page.get_by_role("navigation", name="Navigation principale").get_by_role("link", name="Motifs", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Motifs")
    row = page.get_by_role("row").filter(has_text="Entretien social par téléphone")
    expect(row.get_by_text("Prescripteur", exact=True)).to_be_visible()
    form = page.get_by_role("form", name=re.compile("motif"))
    form.get_by_role("tab", name="Réservation en ligne").click()
    expect(form.get_by_label("Qui peut réserver ce motif ?").locator("option", has_text="Ouvert aux prescripteurs")
           ).to_have_count(1)

    page.get_by_role("link", name="Trouver un RDV").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Trouver un RDV")
    page.get_by_label("Motif").select_option(label="Entretien avec un travailleur social")
    page.get_by_role("button", name="Afficher les créneaux").click()
    widen = page.get_by_role("region", name="Élargir la recherche")
    expect(widen).to_contain_text("Vous pouvez aussi élargir votre recherche aux créneaux ouverts à la "
                                  "prescription dans d'autres organisations.")
    assert_accessible(page)

    widen.get_by_role("link", name="Élargir la recherche").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Nouveau RDV par prescription")
    page.get_by_label("Service").select_option(label="PMI (Protection Maternelle Infantile)")
    page.get_by_label("Motif").select_option(label="Consultation pédiatrique (sur place)")
    card = page.get_by_role("listitem").filter(has=page.get_by_role("heading", name="Centre PMI d'Arras"))
    expect(card).to_contain_text("PMI Arras")
    assert_accessible(page)
    card.get_by_role("button", name=re.compile("^Voir les créneaux")).click()
    expect(page.get_by_role("heading", name=re.compile(r"^Semaine du "))).to_be_visible()
    times = page.locator(".week-grid li button")
    for _ in range(6):
        if times.count():
            break
        title = page.get_by_role("heading", name=re.compile(r"^Semaine du ")).text_content()
        page.get_by_role("button", name="Semaine suivante").click()
        expect(page.get_by_role("heading", name=re.compile(r"^Semaine du "))).not_to_have_text(title)
    expect(times.first).to_be_visible()
    assert_accessible(page)
    when = times.first.get_attribute("aria-label")
    times.first.click()

    expect(page.get_by_role("heading", name="Pour quel usager prenez-vous RDV ?")).to_be_visible()
    page.get_by_label("Rechercher un usager").fill("Prescrite")
    expect(page.get_by_text("Aucun usager trouvé.")).to_be_visible()
    assert_accessible(page)
    page.get_by_role("button", name="Créer un usager").click()
    dialog = page.get_by_role("dialog", name="Créer un usager")
    expect(dialog).to_be_visible()
    assert_accessible(page)
    dialog.get_by_label("Prénom").fill("Inès")
    dialog.get_by_label("Nom", exact=True).fill("Prescrite")
    dialog.get_by_label("Téléphone (facultatif)").fill("06 45 67 89 10")
    dialog.get_by_role("button", name="Créer l'usager").click()

    expect(page.get_by_role("heading", name="Récapitulatif")).to_be_visible()
    recap = page.locator("main dl")
    expect(recap).to_contain_text("Consultation pédiatrique")
    expect(recap).to_contain_text("PMI Arras")
    expect(recap).to_contain_text("PRESCRITE Inès")
    expect(recap).to_contain_text(re.sub(r"^\S+ ", "", when or "").split(" à ")[0])
    assert_accessible(page)
    page.get_by_role("button", name="modifier l'usager").click()
    # Typed key by key while the server answers late (a slow line): the field keeps every letter.
    search = page.get_by_label("Rechercher un usager")
    expect(search).to_be_enabled()
    page.evaluate("window.slowSocketMs = 800")
    search.press_sequentially("Prescrite", delay=80)
    expect(search).to_have_value("Prescrite")
    page.evaluate("window.slowSocketMs = 0")
    page.get_by_role("button", name="Choisir PRESCRITE Inès").click()
    expect(page.get_by_role("heading", name="Récapitulatif")).to_be_visible()
    page.get_by_role("button", name="Confirmer le RDV").click()

    expect(page.get_by_role("heading", name="Rendez-vous confirmé")).to_be_visible()
    confirmation = page.locator("main")
    expect(confirmation).to_contain_text("PRESCRITE Inès")
    expect(confirmation).to_contain_text("Centre PMI d'Arras")
    expect(confirmation).to_contain_text("Informations supplémentaires")
    assert_accessible(page)

    rdv_id, organisations = _prescribed_rdv(app_database_url)
    assert len(organisations) == 2  # created at MDS Lens, followed by PMI Arras too
    # The prescribing agent has no role at PMI Arras: the RDV is not hers to open.
    page.goto(f"{app_url}/agenda/rdv/{rdv_id}")
    expect(page.get_by_role("heading", level=1)).to_have_text("Rendez-vous introuvable")

    page.context.clear_cookies()
    sign_in_agent(page, app_url, CAMILLE)
    page.goto(f"{app_url}/agenda/rdv/{rdv_id}")
    expect(page.get_by_role("heading", level=1)).to_have_text("Rendez-vous : Consultation pédiatrique")
    booked_by = page.get_by_text("Rendez-vous pris par Nathalie Lefebvre")
    expect(booked_by).to_be_visible()
    booked_by.click()
    expect(page.get_by_text(re.compile(r"En cas d'erreur, contactez Nathalie Lefebvre \(Maison Départementale "
                                       r"des Solidarités de Lens, nathalie\.lefebvre@demo\.test\)"))).to_be_visible()
    expect(page.get_by_role("definition").filter(has_text=re.compile("^Prescripteur$"))).to_be_visible()
    assert_accessible(page)


def test_an_agent_prescribes_a_seat_of_another_organisations_atelier(
        page: Page, app_url: str, app_database_url: str, login_as,
        assert_accessible: Callable[[Page], None]) -> None:
    """A collective motif lists its open sessions (date, seats left) instead of a week of slots; the seat is
    the usager's, registered by the prescribing agent (RDV-SP's can_add_a_user_to_a_rdv_collectif_spec)."""
    expect.set_options(timeout=15_000)
    login_as(NATHALIE)
    page.goto(f"{app_url}/trouver-un-rdv/prescription")
    expect(page.get_by_role("heading", level=1)).to_have_text("Nouveau RDV par prescription")
    page.get_by_label("Service").select_option(label="PMI (Protection Maternelle Infantile)")
    page.get_by_label("Motif").select_option(label="Atelier massage bébé (sur place)")
    card = page.get_by_role("listitem").filter(has=page.get_by_role("heading", name="Centre PMI d'Arras"))
    card.get_by_role("button", name=re.compile("^Voir les créneaux")).click()

    expect(page.get_by_role("heading", name="Inscrivez l'usager à un atelier")).to_be_visible()
    session = page.get_by_role("listitem").filter(has_text=re.compile(r"\d+ places? restantes?")).first
    expect(session).to_be_visible()
    assert_accessible(page)
    seats_before = int(re.search(r"(\d+) places? restantes?", session.inner_text()).group(1))  # type: ignore[union-attr]
    session.get_by_role("button", name=re.compile("^Choisir cet atelier : ")).click()

    expect(page.get_by_role("heading", name="Pour quel usager prenez-vous RDV ?")).to_be_visible()
    page.get_by_role("button", name="Créer un usager").click()
    dialog = page.get_by_role("dialog", name="Créer un usager")
    dialog.get_by_label("Prénom").fill("Lina")
    dialog.get_by_label("Nom", exact=True).fill("Atelierprescrite")
    dialog.get_by_role("button", name="Créer l'usager").click()

    expect(page.get_by_role("heading", name="Récapitulatif")).to_be_visible()
    recap = page.locator("main dl")
    expect(recap).to_contain_text("Atelier massage bébé")
    expect(recap).to_contain_text("ATELIERPRESCRITE Lina")
    page.get_by_role("button", name="Confirmer le RDV").click()
    expect(page.get_by_role("heading", name="Rendez-vous confirmé")).to_be_visible()
    expect(page.locator("main")).to_contain_text("Atelier massage bébé")
    assert_accessible(page)

    with UnitOfWork(app_database_url) as uow:
        rdv, participation = uow.session.exec(
            select(Rdv, Participation).join(Participation, col(Participation.rdv_id) == Rdv.id)
            .where(col(Participation.created_by_agent_prescripteur).is_(True), Rdv.max_participants_count == 8)
            .order_by(col(Participation.id).desc())).first()
        assert participation.status == "unknown"
        assert rdv.max_participants_count - rdv.users_count == seats_before - 1
