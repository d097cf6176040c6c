"""The usager's "Infos et annulation" link on a phone (issue 7): from the SMS to the cancellation, and the
agent's agenda showing it cancelled.

The SMS text is the one queued in the outbox (exactly what the worker hands to OVH; the delivery to the
loopback OVH API and the agents' emails reaching a loopback SMTP server are covered by
tests/integration/test_usager_link.py). The RDV is planned from this process, whose public URL is the
default one, so the link's path is opened on the server under test.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from conftest import PHONE
from playwright.sync_api import Browser, Page, expect
from sqlmodel import col, select

from rdv_app.db.models import Agent, Lieu, Motif, Organisation, OutboxMessage, Usager, UsagerProfile
from rdv_app.db.uow import UnitOfWork
from rdv_app.domain.recipients import sms_number
from rdv_app.domain.usager_link import fold
from rdv_app.services.rdv import lifecycle
from rdv_app.services.usagers.usager_link import DEFAULT_CANCEL_WARNING

PARIS = ZoneInfo("Europe/Paris")


def _usager(uow: UnitOfWork, organisation_id: int, skip: int = 0) -> Usager:
    """A demo usager of the organisation with an email and a mobile number (the SMS is sent)."""
    usagers = uow.session.exec(
        select(Usager).join(UsagerProfile, col(UsagerProfile.usager_id) == Usager.id)
        .where(UsagerProfile.organisation_id == organisation_id, col(Usager.responsible_id).is_(None),
               col(Usager.email).is_not(None), col(Usager.notify_by_sms), col(Usager.notify_by_email))
        .order_by(Usager.last_name, Usager.id)).all()
    reachable = [u for u in usagers if sms_number(u.phone_number_formatted or u.phone_number)]
    return reachable[skip]


def _plan(database_url: str, starts_at: datetime, skip: int = 0) -> tuple[int, str, str]:
    """Camille books Julien for a demo usager; returns the RDV id, the SMS text and the usager's last name."""
    with UnitOfWork(database_url) as uow:
        s = uow.session
        # The server's worker writes to this SQLite file too: take the write lock first, so that the
        # planning's reads and writes are one step.
        s.connection(execution_options={"sqlite_begin": "IMMEDIATE"})
        org = s.exec(select(Organisation).where(Organisation.name == "PMI Arras")).one()
        camille = s.exec(select(Agent).where(Agent.email == "camille.martin@demo.test")).one()
        julien = s.exec(select(Agent).where(Agent.email == "julien.petit@demo.test")).one()
        motif = s.exec(select(Motif).where(Motif.organisation_id == org.id,
                                           Motif.name == "Consultation pédiatrique")).one()
        lieu = s.exec(select(Lieu.id).where(Lieu.organisation_id == org.id, Lieu.availability == "enabled")
                      .order_by(Lieu.id)).first()
        usager = _usager(uow, org.id, skip)  # type: ignore[arg-type]
        rdv_id = lifecycle.plan_rdv(uow, camille.id, org.id, motif_id=motif.id, starts_at=starts_at,  # type: ignore[arg-type]
                               duration_in_min=30, agent_ids=[julien.id], lieu_id=lieu,  # type: ignore[list-item]
                               usager_ids=[usager.id], confirm_warnings=True)  # type: ignore[list-item]
        sms = s.exec(select(OutboxMessage).where(OutboxMessage.rdv_id == rdv_id, OutboxMessage.channel == "sms")
                     .order_by(col(OutboxMessage.id).desc())).first()
        assert sms is not None, "an SMS is queued for the usager's mobile"
        return rdv_id, sms.payload["text"], usager.last_name


def _cancel_warning(database_url: str) -> str:
    """The motif's own warning, or the default question."""
    with UnitOfWork(database_url) as uow:
        motif = uow.session.exec(select(Motif).where(Motif.name == "Consultation pédiatrique")).first()
        assert motif is not None
        return (motif.custom_cancel_warning_message or "").strip() or DEFAULT_CANCEL_WARNING


def _link_path(sms_text: str, rdv_id: int) -> str:
    match = re.search(rf"Infos et annulation: \S+?(/r/{rdv_id}/[A-Za-z0-9_-]+)", sms_text)
    assert match is not None, sms_text
    return match.group(1)


def _initials(last_name: str) -> str:
    return "".join(c for c in fold(last_name) if c.isalnum())[:3]


def _next_weekday(weekday: int) -> datetime:
    today = datetime.now(PARIS).date()
    day = today + timedelta(days=7 - today.weekday() + weekday)
    return datetime.combine(day, time(18, 0), PARIS)


def test_from_the_sms_link_the_usager_checks_their_name_and_cancels(
        browser: Browser, page: Page, app_url: str, app_database_url: str, login_as: Callable[[str], None],
        assert_accessible: Callable[[Page], None]) -> None:
    starts_at = _next_weekday(1)  # next week's Tuesday, 18:00
    rdv_id, sms_text, last_name = _plan(app_database_url, starts_at)
    phone = browser.new_context(**PHONE, locale="fr-FR", timezone_id="Europe/Paris")
    usager = phone.new_page()
    try:
        usager.goto(f"{app_url}{_link_path(sms_text, rdv_id)}")
        expect(usager).to_have_url(f"{app_url}/r/{rdv_id}")  # the token is gone from the address bar
        expect(usager.get_by_role("heading", level=1)).to_have_text("Vérification de votre identité")
        assert_accessible(usager)

        field = usager.get_by_label("Saisissez les trois premières lettres de votre nom de famille")
        field.fill("QZX" if _initials(last_name) != "QZX" else "QZY")
        usager.get_by_role("button", name="Valider").click()
        expect(usager.get_by_role("alert")).to_contain_text("Il vous reste 4 essais")
        expect(field).to_have_attribute("aria-invalid", "true")
        assert_accessible(usager)

        field.fill(_initials(last_name).lower())
        usager.get_by_role("button", name="Valider").click()
        expect(usager.get_by_role("heading", level=1)).to_have_text("Votre rendez-vous")
        summary = usager.get_by_role("region", name="Récapitulatif")
        expect(summary).to_contain_text("Consultation pédiatrique")
        expect(summary).to_contain_text("18h00")
        expect(usager.get_by_text("Apportez le carnet de santé de votre enfant")).to_be_visible()
        expect(usager.get_by_role("link", name="Ajouter à mon agenda")).to_be_visible()
        assert_accessible(usager)

        with usager.expect_download() as download:
            usager.get_by_role("link", name="Ajouter à mon agenda").click()
        assert download.value.suggested_filename.endswith(".ics")

        usager.get_by_role("link", name="Annuler le rendez-vous").click()
        expect(usager.get_by_role("heading", level=1)).to_have_text("Annuler le rendez-vous")
        expect(usager.get_by_text(_cancel_warning(app_database_url))).to_be_visible()
        assert_accessible(usager)
        usager.get_by_role("button", name="Oui, annuler le rendez-vous").click()
        expect(usager.get_by_role("status")).to_contain_text("Votre rendez-vous est annulé")
        expect(usager.get_by_role("link", name="Reprendre rendez-vous")).to_be_visible()
        expect(usager.get_by_role("link", name="Annuler le rendez-vous")).to_have_count(0)
        assert_accessible(usager)

        # An old or wrong link: a clear page, no detail, a way to book again.
        usager.goto(f"{app_url}/r/{rdv_id}/AAAAAAAAAAAA")
        expect(usager.get_by_role("heading", level=1)).to_have_text("Ce lien n'est plus valide")
        expect(usager.get_by_role("link", name="Prendre un nouveau rendez-vous")).to_be_visible()
        assert_accessible(usager)
    finally:
        phone.close()

    # The agents hear of it by email (queued here; delivered to SMTP in the integration test); no SMS.
    with UnitOfWork(app_database_url) as uow:
        cancelled = uow.session.exec(select(OutboxMessage).where(OutboxMessage.rdv_id == rdv_id,
                                                                 OutboxMessage.event == "rdv_cancelled")).all()
        julien = uow.session.exec(select(Agent.id).where(Agent.email == "julien.petit@demo.test")).one()
        messages = {(m.channel, m.agent_id) for m in cancelled}
    assert {channel for channel, _ in messages} == {"mail"}
    assert (("mail", julien) in messages) and (("mail", None) in messages)  # Julien, and the usager

    # Julien's agenda shows the RDV struck through as cancelled.
    login_as("julien.petit@demo.test")
    page.get_by_role("link", name="Agenda").click()
    page.wait_for_url(re.compile(r"/agenda"))
    if datetime.now(PARIS).date().weekday() != 6:  # a Sunday (never drawn) opens on the week to come already
        page.get_by_role("button", name=re.compile("suivant", re.IGNORECASE)).click()
    event = page.locator(f".agenda-rdv[href$='/agenda/rdv/{rdv_id}']")
    expect(event).to_be_visible()
    expect(event).to_have_class(re.compile(r"\bagenda-cancelled\b"))


def test_within_four_hours_the_page_gives_the_contact_and_no_cancel_button(
        browser: Browser, app_url: str, app_database_url: str, assert_accessible: Callable[[Page], None]) -> None:
    starts_at = (datetime.now(UTC) + timedelta(hours=3)).replace(second=0, microsecond=0)
    rdv_id, sms_text, last_name = _plan(app_database_url, starts_at, skip=1)
    phone = browser.new_context(**PHONE, locale="fr-FR", timezone_id="Europe/Paris")
    usager = phone.new_page()
    try:
        usager.goto(f"{app_url}{_link_path(sms_text, rdv_id)}")
        usager.get_by_label("Saisissez les trois premières lettres de votre nom de famille").fill(
            _initials(last_name))
        usager.get_by_role("button", name="Valider").click()
        expect(usager.get_by_role("heading", level=1)).to_have_text("Votre rendez-vous")
        expect(usager.get_by_text("ne peut plus être annulé en ligne")).to_be_visible()
        expect(usager.locator('a[href^="tel:"]')).to_be_visible()
        expect(usager.get_by_role("link", name="Annuler le rendez-vous")).to_have_count(0)
        assert_accessible(usager)
    finally:
        phone.close()


def test_five_wrong_answers_lock_the_link_with_a_clear_message(
        browser: Browser, app_url: str, app_database_url: str, assert_accessible: Callable[[Page], None]) -> None:
    rdv_id, sms_text, last_name = _plan(app_database_url, _next_weekday(2), skip=2)
    phone = browser.new_context(**PHONE, locale="fr-FR", timezone_id="Europe/Paris")
    usager = phone.new_page()
    try:
        usager.goto(f"{app_url}{_link_path(sms_text, rdv_id)}")
        wrong = "QZX" if _initials(last_name) != "QZX" else "QZY"
        for _ in range(5):
            usager.get_by_label("Saisissez les trois premières lettres de votre nom de famille").fill(wrong)
            usager.get_by_role("button", name="Valider").click()
            expect(usager.get_by_role("alert")).to_be_visible()
        expect(usager.get_by_role("alert")).to_contain_text("ce lien est bloqué pendant 15 minutes")
        expect(usager.get_by_role("button", name="Valider")).to_have_count(0)
        assert_accessible(usager)
        # Reopening the SMS link does not lift the lockout.
        usager.goto(f"{app_url}{_link_path(sms_text, rdv_id)}")
        expect(usager.get_by_role("alert")).to_contain_text("ce lien est bloqué pendant 15 minutes")

        usager.goto(f"{app_url}/r")  # the bare link of the calendar files
        expect(usager.get_by_role("heading", level=1)).to_have_text("Infos et annulation de votre rendez-vous")
        assert_accessible(usager)
    finally:
        phone.close()
