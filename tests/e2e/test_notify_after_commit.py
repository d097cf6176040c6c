"""Right after a commit the app sends the change's notifications itself (a Reflex background task), in
the real production server and chromium: with no worker at all (RDV_NOTIFY_WORKER=external and none
started), a plage created by an admin for a colleague reaches the colleague's mailbox within seconds, and
a new usager's sign-in email reaches the loopback SMTP server and brings them back to their booking."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from pathlib import Path

import holidays
import pytest
from app_server import running_app
from conftest import PHONE, open_booking_week
from fakes.smtp_server import SmtpServer
from playwright.sync_api import Browser, Page, expect
from sqlmodel import select

from rdv_app.db.models import OutboxMessage
from rdv_app.db.uow import UnitOfWork

pytestmark = pytest.mark.own_server

ROOT = Path(__file__).resolve().parents[2]
ADMIN = "camille.martin@demo.test"
COLLEAGUE = "julien.petit@demo.test"
PASSWORD = "RdvDemo-2026!"
MOTIF = "Consultation pédiatrique"
LIEU = "Antenne PMI Saint-Michel"


@pytest.fixture(scope="module")
def smtp() -> Iterator[SmtpServer]:
    with SmtpServer() as server:
        yield server


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, smtp: SmtpServer) -> Iterator[tuple[str, str]]:
    """The app as `make run` serves it, with the worker said to run elsewhere (it does not): (url, db url)."""
    data = tmp_path_factory.mktemp("after-commit")
    db_url = f"sqlite:///{data / 'rdv.db'}"
    with running_app(db_url, data, RDV_DEMO="1", RDV_NOTIFY_WORKER="external", RDV_SMTP_HOST="127.0.0.1",
                     RDV_SMTP_PORT=str(smtp.port),
                     RDV_MAIL_FROM="RDV Service Public <ne-pas-repondre@rdv.test>") as base_url:
        yield base_url, db_url


def _monday(weeks_ahead: int) -> date:
    day = date.today() + timedelta(weeks=weeks_ahead)
    monday = day - timedelta(days=day.weekday())
    while monday in holidays.France(years=monday.year):
        monday += timedelta(weeks=1)
    return monday


def test_a_plage_created_for_a_colleague_reaches_their_mailbox_right_away(
        page: Page, server: tuple[str, str], smtp: SmtpServer, assert_accessible: Callable[[Page], None]) -> None:
    base_url, db_url = server
    page.goto(f"{base_url}/connexion")
    page.get_by_label("Adresse email").fill(ADMIN)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url(f"{base_url}/espace**")
    page.get_by_role("navigation", name="Navigation principale").get_by_role(
        "link", name="Plages d'ouverture", exact=True).click()
    expect(page.get_by_role("heading", name="Créer une plage d'ouverture")).to_be_visible()

    title = "Permanence du soir"
    form = page.get_by_role("form", name=re.compile(r"plage"))
    form.get_by_label("Titre", exact=True).fill(title)
    form.get_by_label("Agent", exact=True).select_option(label="Julien Petit")
    form.get_by_label("Lieu", exact=True).select_option(label=LIEU)
    form.get_by_role("group", name="Motifs").get_by_label(MOTIF).check()
    form.get_by_label("Date", exact=True).fill(_monday(9).isoformat())
    form.get_by_label("Heure de début", exact=True).fill("19:00")
    form.get_by_label("Heure de fin", exact=True).fill("20:00")
    form.get_by_role("button", name="Créer la plage").click()
    created = page.get_by_role("status").filter(has_text="a été créée")
    confirm = page.get_by_role("button", name="Enregistrer quand même")
    expect(created.or_(confirm)).to_be_visible()
    if confirm.is_visible():
        confirm.click()
    expect(created).to_have_text(f"La plage d'ouverture « {title} » a été créée.")

    mail = smtp.wait_for(COLLEAGUE)  # right after the commit: no worker runs
    assert mail["Subject"] == f"Plage d'ouverture créée : {title}"
    html = mail.get_body(("html",)).get_content()
    assert "a été créée par Camille Martin" in html
    # The email's HTML, as a mail client shows it, passes axe.
    page.set_content(html)
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Plage d'ouverture créée : {title}")
    assert_accessible(page)
    with UnitOfWork(db_url) as uow:
        row = uow.session.exec(select(OutboxMessage).where(OutboxMessage.agent_id.is_not(None))).one()
        assert (row.status, row.attempts) == ("sent", 1)


def test_a_new_usager_gets_the_sign_in_email_on_the_smtp_server_and_comes_back_to_the_booking(
        browser: Browser, server: tuple[str, str], smtp: SmtpServer, assert_accessible: Callable[[Page], None]) -> None:
    base_url, _ = server
    context = browser.new_context(**PHONE, locale="fr-FR", timezone_id="Europe/Paris")
    page = context.new_page()
    times = open_booking_week(page, base_url, "Consultation pédiatrique")
    times.first.click()

    email = "alice.durand@exemple.fr"
    page.get_by_label("Prénom").fill("Alice")
    page.get_by_label("Nom", exact=True).fill("Durand")
    page.get_by_label("Adresse email", exact=True).fill(email)
    page.get_by_role("button", name="Créer mon compte").click()
    expect(page.get_by_role("status").filter(has_text="Un email vient de vous être envoyé")).to_be_visible()

    mail = smtp.wait_for(email)
    link = re.search(r"https?://\S+/_auth/usager/lien\?jeton=\S+", mail.get_body(("plain",)).get_content())
    assert link, mail
    page.goto(link.group(0))
    page.get_by_role("button", name="Me connecter et reprendre ma réservation").click()
    expect(page.get_by_role("heading", name="Vos informations")).to_be_visible()
    expect(page.get_by_label("Prénom")).to_have_value("Alice")
    assert_accessible(page)
    context.close()
