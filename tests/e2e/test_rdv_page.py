"""Following an RDV: an agent opens it from the agenda, changes its status, moves it (confirming a
warning), reads its history and the receipts of the notifications sent, then cancels it. The page is
linkable (the agenda, ICS and webcal links open it), and another organisation's RDV is "introuvable"."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from conftest import DEMO_PASSWORD, PHONE
from playwright.sync_api import Browser, Page, expect
from sqlmodel import col, select

from rdv_app.db.models import (
    Agent,
    AgentRole,
    Lieu,
    Motif,
    Organisation,
    Rdv,
    RdvAgent,
    Usager,
    UsagerProfile,
)
from rdv_app.db.uow import UnitOfWork
from rdv_app.domain.datefmt import long_date
from rdv_app.services.rdv import lifecycle

PARIS = ZoneInfo("Europe/Paris")
JULIEN = "julien.petit@demo.test"
KARIM = "karim.haddad@demo.test"  # MDS Lens and PMI Arras
MOTIF = "Consultation pédiatrique"


def _in_two_weeks(weekday: int) -> date:
    """A day of the week after next: other browser tests book next week."""
    today = datetime.now(PARIS).date()
    return today + timedelta(days=14 - today.weekday() + weekday)


def _plan_as_camille(database_url: str, starts_at: datetime, usagers: int = 1) -> tuple[int, list[str]]:
    """Camille (admin) books Julien for usagers who accept SMS on a mobile, straight through the service."""
    with UnitOfWork(database_url) as uow:
        s = uow.session
        org = s.exec(select(Organisation).where(Organisation.name == "PMI Arras")).one()
        camille = s.exec(select(Agent).where(Agent.email == "camille.martin@demo.test")).one()
        julien = s.exec(select(Agent).where(Agent.email == JULIEN)).one()
        motif = s.exec(select(Motif).where(Motif.organisation_id == org.id, Motif.name == MOTIF)).one()
        lieu = s.exec(select(Lieu.id).where(Lieu.organisation_id == org.id, Lieu.availability == "enabled")
                      .order_by(Lieu.id)).first()
        chosen = s.exec(select(Usager).join(UsagerProfile, col(UsagerProfile.usager_id) == Usager.id)
                        .where(UsagerProfile.organisation_id == org.id, col(Usager.responsible_id).is_(None),
                               col(Usager.phone_number).is_not(None), Usager.notify_by_sms)
                        .order_by(col(Usager.last_name).desc(), Usager.id).limit(usagers)).all()
        rdv_id = lifecycle.plan_rdv(uow, camille.id, org.id, motif_id=motif.id, starts_at=starts_at, duration_in_min=30,
                               agent_ids=[julien.id], lieu_id=lieu, usager_ids=[u.id for u in chosen],
                               notify={u.id: (True, True) for u in chosen}, confirm_warnings=True)
        return rdv_id, [f"{u.first_name} {u.last_name.upper()}" for u in chosen]


def _foreign_rdv_id(database_url: str) -> int:
    """An RDV of an organisation where Julien has no role."""
    with UnitOfWork(database_url) as uow:
        julien = uow.session.exec(select(Agent.id).where(Agent.email == JULIEN)).one()
        his = select(AgentRole.organisation_id).where(AgentRole.agent_id == julien)
        return uow.session.exec(select(Rdv.id).where(col(Rdv.organisation_id).not_in(his)).order_by(Rdv.id)).first()


def _receipt(page: Page, event: str) -> None:
    receipts = page.get_by_role("region", name="Notifications envoyées")
    sms = receipts.get_by_role("listitem").filter(has_text=f"SMS · {event}")
    expect(sms.first).to_be_visible(timeout=15000)
    expect(sms.first).to_contain_text("Traité")
    expect(sms.first).to_contain_text(re.compile(r"Segments SMS\s*[1-9]"))


def test_an_agent_follows_an_rdv_from_the_agenda(page: Page, app_url: str, app_database_url: str, login_as,
                                                assert_accessible: Callable[[Page], None]) -> None:
    day = _in_two_weeks(1)
    rdv_id, (usager,) = _plan_as_camille(app_database_url, datetime.combine(day, time(18, 30), PARIS))
    login_as(JULIEN)
    page.get_by_role("navigation", name="Navigation principale").get_by_role("link", name="Agenda").click()
    page.wait_for_url(re.compile(r"/agenda"))
    # The agenda opens on this week, or on a Sunday (never drawn) on the week to come.
    today = datetime.now(PARIS).date()
    opening = today + timedelta(days=1) if today.weekday() == 6 else today
    for _ in range(((day - timedelta(days=day.weekday())) - (opening - timedelta(days=opening.weekday()))).days // 7):
        page.get_by_role("button", name=re.compile("suivant", re.IGNORECASE)).click()
    event = page.locator(f'.agenda-rdv[href$="/agenda/rdv/{rdv_id}"]')
    expect(event).to_contain_text(f"{MOTIF} · {usager}", timeout=5000)
    event.click()

    page.wait_for_url(f"**/agenda/rdv/{rdv_id}")
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Rendez-vous : {MOTIF}")
    details = page.get_by_role("region", name="Informations")
    expect(details).to_contain_text(long_date(day))
    expect(details).to_contain_text("18h30 – 19h00 (30 min)")
    expect(details).to_contain_text("Julien Petit")
    expect(details).to_contain_text("Camille Martin")
    participants = page.get_by_role("region", name="Participants")
    expect(participants.get_by_role("heading", name=usager)).to_be_visible()
    expect(participants).to_contain_text("SMS au")
    assert_accessible(page)

    # Status: the RDV and its participant become "honoré", once the agent confirms it for an RDV to come.
    status = page.get_by_role("region", name="Statut")
    status.get_by_label("Nouveau statut").select_option(label="Rendez-vous honoré")
    status.get_by_role("button", name="Enregistrer le statut").click()
    expect(status.get_by_role("alert")).to_contain_text(
        "Ce rendez-vous n'a pas encore eu lieu : voulez-vous vraiment le marquer « Rendez-vous honoré » ?")
    expect(participants).not_to_contain_text("Rendez-vous honoré")  # nothing changed yet
    assert_accessible(page)
    status.get_by_role("button", name="Oui, enregistrer ce statut").click()
    expect(status.get_by_role("status")).to_contain_text("Le statut du rendez-vous est maintenant « Rendez-vous honoré »")
    expect(participants).to_contain_text("Rendez-vous honoré")

    # Moving it to 18:00, still outside Julien's plages: a warning to confirm, and nothing saved before.
    page.get_by_role("button", name="Modifier la date, la durée, le lieu ou les agents").click()
    form = page.get_by_role("form", name="Modifier le rendez-vous")
    form.get_by_label("Heure de début").fill("18:00")
    form.get_by_role("button", name="Enregistrer les modifications").click()
    warning = form.get_by_role("alert")
    expect(warning).to_contain_text("en dehors des plages d'ouverture")
    expect(details).to_contain_text("18h30 – 19h00")
    warning.get_by_role("button", name="Confirmer quand même").click()
    expect(status.get_by_role("status")).to_contain_text("Le rendez-vous a été modifié.")
    expect(details).to_contain_text("18h00 – 18h30 (30 min)")
    expect(form).to_have_count(0)

    history = page.get_by_role("region", name="Historique")
    latest = history.locator(".history-entry").first
    expect(latest).to_contain_text("RDV modifié par Julien Petit")
    expect(latest).to_contain_text(f"Début : {long_date(day)} à 18h30 → {long_date(day)} à 18h00")
    expect(history).to_contain_text("Statut modifié par Julien Petit")
    expect(history).to_contain_text("Statut : À venir → Rendez-vous honoré")
    expect(history).to_contain_text("RDV créé par Camille Martin")
    _receipt(page, "RDV modifié")

    # Cancelling asks first; "Ne pas annuler" changes nothing.
    status.get_by_role("button", name="Annuler le rendez-vous").click()
    dialog = page.get_by_role("alertdialog", name="Annuler ce rendez-vous ?")
    dialog.get_by_role("button", name="Ne pas annuler").click()
    expect(dialog).to_have_count(0)
    expect(page.get_by_text("Statut actuel :")).to_be_visible()
    status.get_by_role("button", name="Annuler le rendez-vous").click()
    dialog.get_by_role("button", name="Annuler par le service").click()
    expect(status.get_by_role("status")).to_contain_text("Le rendez-vous a été annulé par le service.")
    expect(status).to_contain_text("Annulé (par le service)")
    expect(status.get_by_role("button", name="Annuler le rendez-vous")).to_have_count(0)
    expect(history).to_contain_text("Statut : Rendez-vous honoré → Annulé (par le service)")
    _receipt(page, "RDV annulé")
    assert_accessible(page)


def test_the_rdv_page_is_linkable_accessible_on_a_phone_and_tells_introuvable(
        browser: Browser, app_url: str, app_database_url: str, assert_accessible: Callable[[Page], None]) -> None:
    rdv_id, (first, second) = _plan_as_camille(app_database_url, datetime.combine(_in_two_weeks(2), time(18, 30),
                                                                                 PARIS), usagers=2)
    context = browser.new_context(**PHONE, locale="fr-FR", timezone_id="Europe/Paris")
    page = context.new_page()
    try:
        # A link from a calendar: the login comes first, then the RDV itself.
        page.goto(f"{app_url}/agenda/rdv/{rdv_id}")
        page.wait_for_url(re.compile(r"/connexion"))
        page.get_by_label("Adresse email").fill(JULIEN)
        page.get_by_label("Mot de passe").fill(DEMO_PASSWORD)
        page.get_by_role("button", name="Se connecter").click()
        page.wait_for_url(f"**/agenda/rdv/{rdv_id}")
        expect(page.get_by_role("heading", level=1)).to_have_text(f"Rendez-vous : {MOTIF}")
        participants = page.get_by_role("region", name="Participants")
        expect(participants).to_contain_text(first)
        assert_accessible(page)
        # One of two participants excuses themself: the RDV itself stays "à venir" (domain.md section 1).
        participants.get_by_label(f"Statut de {second}").select_option(label="Annulé (excusé)")
        status = page.get_by_role("region", name="Statut")
        expect(status.get_by_role("status")).to_contain_text(f"Le statut de {second} est maintenant « Annulé (excusé) »")
        expect(participants.get_by_role("listitem").filter(has_text=second)).to_contain_text("Annulé (excusé)")
        expect(participants.get_by_label(f"Statut de {first}")).to_have_value("unknown")
        expect(status).to_contain_text(re.compile(r"Statut actuel :\s*À venir"))
        page.get_by_role("button", name="Modifier la date, la durée, le lieu ou les agents").click()
        expect(page.get_by_role("form", name="Modifier le rendez-vous")).to_be_visible()
        assert_accessible(page)

        for other in (_foreign_rdv_id(app_database_url), 987654):
            page.goto(f"{app_url}/agenda/rdv/{other}")
            expect(page.get_by_role("heading", level=1)).to_have_text("Rendez-vous introuvable")
            expect(page.get_by_text("il n'existe pas ou ne concerne pas vos organisations")).to_be_visible()
        assert_accessible(page)
    finally:
        context.close()


def _karims_rdv_at_lens(database_url: str) -> int:
    """An RDV of Karim (MDS Lens and PMI Arras) in MDS Lens."""
    with UnitOfWork(database_url) as uow:
        s = uow.session
        karim = s.exec(select(Agent.id).where(Agent.email == KARIM)).one()
        lens = s.exec(select(Organisation.id).where(Organisation.slug == "mds-lens")).one()
        return s.exec(select(Rdv.id).join(RdvAgent, col(RdvAgent.rdv_id) == Rdv.id)
                      .where(RdvAgent.agent_id == karim, Rdv.organisation_id == lens).order_by(Rdv.id)).first()


def test_switching_organisation_from_an_rdv_opens_the_chosen_organisations_agenda(
        page: Page, app_url: str, app_database_url: str, login_as,
        assert_accessible: Callable[[Page], None]) -> None:
    rdv_id = _karims_rdv_at_lens(app_database_url)
    login_as(KARIM)
    page.goto(f"{app_url}/agenda/rdv/{rdv_id}")
    switcher = page.get_by_label("Organisation", exact=True)
    expect(page.get_by_role("heading", level=1)).to_have_text(re.compile(r"^Rendez-vous : "))
    expect(switcher.locator("option:checked")).to_have_text("Maison Départementale des Solidarités de Lens")
    assert_accessible(page)

    # The RDV stays in MDS Lens: choosing PMI Arras opens PMI Arras's agenda, not the RDV again.
    switcher.select_option(label="PMI Arras")
    page.wait_for_url(re.compile(r"/agenda$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Agenda")
    expect(switcher.locator("option:checked")).to_have_text("PMI Arras")
    page.reload()
    expect(page.get_by_role("heading", level=1)).to_have_text("Agenda")
    expect(switcher.locator("option:checked")).to_have_text("PMI Arras")
    assert_accessible(page)

    # The RDV's link still opens it in its own organisation, which the header shows again.
    page.goto(f"{app_url}/agenda/rdv/{rdv_id}")
    expect(page.get_by_role("heading", level=1)).to_have_text(re.compile(r"^Rendez-vous : "))
    expect(switcher.locator("option:checked")).to_have_text("Maison Départementale des Solidarités de Lens")
