"""Calendar sync in the browser and over HTTP: the webcal link of "Mon compte" (fetched as calendar
software would, then reset), and the admin pages of webhooks with a real receiver on loopback."""

from __future__ import annotations

import re
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import date, time, timedelta

import icalendar
import pytest
from fakes.webhook_receiver import WebhookReceiver
from playwright.sync_api import Page, expect
from sqlmodel import select

from rdv_app.db.models import Agent, AgentRole, Organisation
from rdv_app.db.uow import UnitOfWork
from rdv_app.services.availability import absences

JULIEN = "julien.petit@demo.test"
CAMILLE = "camille.martin@demo.test"


def _get(url: str, headers: dict[str, str] | None = None):
    try:
        return urllib.request.urlopen(urllib.request.Request(url, headers=headers or {}), timeout=10)
    except urllib.error.HTTPError as response:
        return response


def test_the_webcal_link_feeds_a_calendar_and_can_be_reset(page: Page, login_as, assert_accessible,
                                                           app_url: str) -> None:
    login_as(JULIEN)
    page.goto(f"{app_url}/mon-compte")
    section = page.get_by_role("region", name="Synchroniser avec mon agenda")
    expect(section).to_be_visible()
    webcal_field = section.get_by_label("Lien d'abonnement (webcal)")
    https_field = section.get_by_label("Même lien en https")
    # The address shows once read (and unsealed: the database keeps no secret in clear).
    expect(https_field).to_have_value(re.compile(rf"^{re.escape(app_url)}/calendrier/[A-Za-z0-9_-]{{16,}}\.ics$"))
    old_url = https_field.input_value()
    assert old_url.endswith(".ics")
    assert webcal_field.input_value() == "webcal://" + old_url.split("://", 1)[1]
    expect(section).to_contain_text("jusqu'à 12 heures")
    expect(section).to_contain_text("dans l'heure")
    assert_accessible(page)

    response = _get(old_url)
    assert response.status == 200
    assert response.headers["Content-Type"].startswith("text/calendar")
    calendar = icalendar.Calendar.from_ical(response.read())
    assert calendar["X-WR-CALNAME"] == "Julien Petit sur RDV Services Publics"
    assert calendar.walk("VEVENT"), "the demo agenda has RDVs"
    etag, last_modified = response.headers["ETag"], response.headers["Last-Modified"]
    assert _get(old_url, {"If-None-Match": etag}).status == 304
    assert _get(old_url, {"If-Modified-Since": last_modified}).status == 304

    section.get_by_role("button", name="Réinitialiser le lien").click()
    expect(section).to_contain_text("ne recevront plus vos rendez-vous")
    assert_accessible(page)
    section.get_by_role("button", name="Oui, réinitialiser le lien").click()
    expect(section.get_by_role("status")).to_contain_text("Nouveau lien créé")
    expect(https_field).not_to_have_value(old_url)
    new_url = https_field.input_value()
    assert new_url.startswith(f"{app_url}/calendrier/julien-petit-")  # whose calendar it is, at a glance
    assert _get(old_url).status == 404
    assert _get(new_url).status == 200

    statuses = [_get(new_url).status for _ in range(35)]
    assert statuses[-1] == 429 and 200 in statuses
    assert int(_get(new_url).headers["Retry-After"]) >= 1


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    with WebhookReceiver() as server:
        yield server


def _camille(app_database_url: str) -> tuple[int, int]:
    with UnitOfWork(app_database_url) as uow:
        agent_id = uow.session.exec(select(Agent.id).where(Agent.email == CAMILLE)).one()
        org_id = uow.session.exec(
            select(AgentRole.organisation_id).join(Organisation, Organisation.id == AgentRole.organisation_id)
            .where(AgentRole.agent_id == agent_id, AgentRole.access_level == "admin",
                   Organisation.name == "PMI Arras")).one()
    return agent_id, org_id


def test_an_admin_adds_a_webhook_reads_its_log_and_resends(page: Page, login_as, assert_accessible, app_url: str,
                                                          app_database_url: str, receiver: WebhookReceiver) -> None:
    login_as(CAMILLE)
    page.get_by_role("navigation", name="Navigation principale").get_by_role("link", name="Webhooks").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Webhooks")
    expect(page.get_by_text("Aucun webhook configuré.")).to_be_visible()
    assert_accessible(page)

    page.get_by_role("button", name="Ajouter un webhook").click()
    form = page.get_by_role("form", name="Nouveau webhook")
    form.get_by_label("Adresse de réception").fill("http://si.exemple.fr/rdv")
    form.get_by_label("Indisponibilités").check()
    form.get_by_role("button", name="Enregistrer").click()
    expect(form.get_by_text("L'adresse doit commencer par https://")).to_be_visible()
    expect(form.get_by_label("Adresse de réception")).to_have_attribute("aria-invalid", "true")
    assert_accessible(page)

    form.get_by_label("Adresse de réception").fill(receiver.url)
    form.get_by_role("button", name="Enregistrer").click()
    secret_field = page.get_by_label("Secret", exact=True)
    expect(secret_field).to_be_visible()
    receiver.secret = secret_field.input_value()
    assert receiver.secret.startswith("whsec_")
    assert_accessible(page)
    page.get_by_role("button", name="J'ai copié le secret").click()
    expect(secret_field).to_have_count(0)
    row = page.get_by_role("listitem").filter(has_text=receiver.url)
    expect(row).to_contain_text(receiver.secret[-3:])
    expect(row).not_to_contain_text(receiver.secret[:-3])
    expect(row).to_contain_text("Rendez-vous, Indisponibilités")

    agent_id, org_id = _camille(app_database_url)
    with UnitOfWork(app_database_url) as uow:
        absences.create_absence(uow, agent_id, org_id, agent_id=agent_id, title="Formation webhooks",
                                first_day=date.today() + timedelta(days=20), start_time=time(9), end_time=time(11))
    for _ in range(40):  # the app's worker polls the outbox every 2 seconds
        if receiver.received:
            break
        page.wait_for_timeout(500)
    [first] = receiver.received
    assert first.standard_signature_ok and first.lapin_signature_ok
    assert first.payload["meta"]["model"] == "Absence" and first.payload["data"]["title"] == "Formation webhooks"

    row.get_by_role("button", name="Journal").click()
    log = page.get_by_role("region", name="Journal des envois")
    expect(log.get_by_role("row").filter(has_text="Absence (création)")).to_contain_text("Reçu (HTTP 200)")
    assert_accessible(page)
    log.get_by_role("button", name="Renvoyer").first.click()
    expect(page.get_by_role("status")).to_contain_text("Message renvoyé")
    expect(log.get_by_role("row").filter(has_text="Absence (création)")).to_have_count(2)
    assert len(receiver.received) == 2
    assert receiver.received[1].headers["webhook-id"] == first.headers["webhook-id"]

    row.get_by_role("button", name="Modifier").click()
    form = page.get_by_role("form", name="Modifier le webhook")
    form.get_by_label("Rendez-vous", exact=True).uncheck()
    form.get_by_role("button", name="Enregistrer").click()
    expect(page.get_by_role("status")).to_contain_text("Webhook enregistré.")
    expect(row).to_contain_text("Objets : Indisponibilités")

    row.get_by_role("button", name="Supprimer").click()
    page.get_by_role("alertdialog").get_by_role("button", name="Supprimer définitivement").click()
    expect(page.get_by_text("Aucun webhook configuré.")).to_be_visible()
    expect(page.get_by_role("alertdialog")).to_have_count(0)
    assert_accessible(page)


def test_a_basic_agent_sees_no_webhook_page(page: Page, login_as, app_url: str) -> None:
    login_as(JULIEN)
    nav = page.get_by_role("navigation", name="Navigation principale")
    expect(nav.get_by_role("link", name="Agenda")).to_be_visible()
    expect(nav.get_by_role("link", name="Webhooks")).to_have_count(0)
    page.goto(f"{app_url}/admin/webhooks")
    expect(page.get_by_role("alert")).to_contain_text("Cette page est réservée aux administrateurs de l'organisation.")
    expect(page.get_by_role("button", name="Ajouter un webhook")).to_have_count(0)
