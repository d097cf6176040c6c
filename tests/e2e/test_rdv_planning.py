"""Planning an RDV, as agents do it: from a slot of "Trouver un RDV" or an empty time of the agenda,
with usagers found by their first letters or created inline, a recap changed before confirming, a
warning confirmed, and the RDV in the agenda at once. An exact duplicate is refused; the same usager and
motif later that day asks for "Confirmer quand même". The agenda starts
on the organisation's "now" whatever the browser's clock, and follows the Saturdays preference live."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from conftest import DEMO_PASSWORD, PHONE
from playwright.sync_api import Browser, Page, expect
from sqlmodel import col, select

from rdv_app import routes
from rdv_app.db.models import Agent, Lieu, Motif, Organisation, OutboxMessage, Rdv, Usager, UsagerProfile
from rdv_app.db.uow import UnitOfWork
from rdv_app.domain.datefmt import long_date
from rdv_app.services.rdv import lifecycle

PARIS = ZoneInfo("Europe/Paris")
MOTIF = "Consultation pédiatrique"
CENTRE = "Centre PMI d'Arras"
OUTSIDE_PLAGES = "Ce créneau est en dehors des plages d'ouverture des agents pour ce motif."


def _monday_in(weeks: int) -> date:
    today = datetime.now(PARIS).date()
    return today + timedelta(days=7 * weeks - today.weekday())


def _adult_of_pmi_arras(database_url: str, skip: int = 0) -> Usager:
    with UnitOfWork(database_url) as uow:
        org = uow.session.exec(select(Organisation.id).where(Organisation.name == "PMI Arras")).one()
        usager = uow.session.exec(
            select(Usager).join(UsagerProfile, col(UsagerProfile.usager_id) == Usager.id)
            .where(UsagerProfile.organisation_id == org, col(Usager.responsible_id).is_(None))
            .order_by(Usager.last_name, Usager.id).offset(skip)).first()
        uow.session.expunge(usager)
        return usager


def _reverse_name(usager: Usager) -> str:
    return f"{usager.last_name.upper()} {usager.first_name}"


def _search_and_add(page: Page, usager: Usager) -> None:
    search = page.get_by_label("Rechercher un usager")
    search.fill(usager.last_name[:3])
    results = page.locator(".search-results")
    expect(results.get_by_role("heading", name="Usagers de votre organisation")).to_be_visible()
    page.get_by_role("button", name=f"Ajouter {_reverse_name(usager)} au RDV").click()
    participants = page.get_by_role("list", name="Participants du RDV")
    expect(participants).to_contain_text(_reverse_name(usager))
    expect(page.get_by_role("status").filter(has_text="ajouté(e) au RDV")).to_be_visible()
    expect(search).to_have_value("")


def _colleague_watching_the_agenda(browser: Browser, app_url: str, app_database_url: str, agent: str,
                                   day: str) -> Page:
    """A second browser, signed in as the slot's agent, with their agenda open on the RDV's day."""
    with UnitOfWork(app_database_url) as uow:
        [email] = [a.email for a in uow.session.exec(select(Agent)).all() if f"{a.first_name} {a.last_name}" == agent]
    other = browser.new_context(locale="fr-FR", timezone_id="Europe/Paris", viewport={"width": 1280, "height": 900})
    colleague = other.new_page()
    colleague.goto(f"{app_url}/connexion")
    colleague.get_by_label("Adresse email").fill(email)
    colleague.get_by_label("Mot de passe").fill(DEMO_PASSWORD)
    colleague.get_by_role("button", name="Se connecter").click()
    colleague.wait_for_url(f"{app_url}/espace**")
    colleague.goto(f"{app_url}{routes.agenda(day=day)}")
    expect(colleague.locator(".fc-timegrid")).to_be_visible()
    return colleague


def test_plan_from_a_slot_with_a_found_and_a_new_usager(page: Page, browser: Browser, app_url: str,
                                                        app_database_url: str, login_as,
                                                        assert_accessible: Callable[[Page], None]) -> None:
    login_as("camille.martin@demo.test")
    page.get_by_role("link", name="Trouver un RDV").click()
    page.get_by_label("Motif").select_option(label=MOTIF)
    page.get_by_label("Lieu").select_option(label=CENTRE)
    page.get_by_role("button", name="Afficher les créneaux").click()
    slot = page.locator(".slot-button").first
    expect(slot).to_be_visible()
    label = slot.get_attribute("aria-label")
    day_text, hour, agent = re.search(r"planifier un RDV le (.+) à (\d\dh\d\d), avec ([^,]+),", label).groups()
    slot.click()

    page.wait_for_url(re.compile(r"/agenda/nouveau-rdv\?"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Planifier un RDV")
    recap = page.get_by_role("region", name="2. Récapitulatif")
    expect(recap).to_contain_text(MOTIF)
    expect(recap.get_by_label("Heure de début")).to_have_value(hour.replace("h", ":"))
    expect(recap.get_by_label("Lieu")).to_have_value(re.compile(r"\d+"))
    expect(recap.get_by_label("Lieu").locator("option:checked")).to_have_text(CENTRE)
    expect(recap.get_by_role("group", name="Agents").get_by_label(agent)).to_be_checked()
    expect(recap.get_by_label("Durée (minutes)")).to_have_value("30")
    assert_accessible(page)

    # 1. An usager found by three letters of their last name.
    found = _adult_of_pmi_arras(app_database_url)
    page.get_by_label("Rechercher un usager").fill(found.last_name[:3])
    expect(page.get_by_role("heading", name="Usagers de votre organisation")).to_be_visible()
    assert_accessible(page)
    page.get_by_role("button", name=f"Ajouter {_reverse_name(found)} au RDV").click()
    participants = page.get_by_role("list", name="Participants du RDV")
    expect(participants).to_contain_text(_reverse_name(found))

    # A second one created inline: a bad phone number is refused in French, under its field.
    page.get_by_role("button", name="Créer un usager").click()
    form = page.get_by_role("form", name="Créer un usager")
    form.get_by_label("Prénom").fill("Anaïs")
    form.get_by_label("Nom", exact=True).fill("Planifiée")
    form.get_by_label("Téléphone (facultatif)").fill("12")
    form.get_by_role("button", name="Créer et ajouter au RDV").click()
    expect(form.locator("#usager-telephone-erreur")).to_have_text(
        "Le numéro de téléphone n'est pas valide (numéro français ou d'outre-mer).")
    expect(form.get_by_label("Téléphone (facultatif)")).to_have_attribute("aria-invalid", "true")
    expect(form.get_by_label("Téléphone (facultatif)")).to_be_focused()
    assert_accessible(page)
    form.get_by_label("Téléphone (facultatif)").fill("06 45 67 89 12")
    form.get_by_role("button", name="Créer et ajouter au RDV").click()
    expect(participants).to_contain_text("PLANIFIÉE Anaïs")
    expect(page.get_by_role("form", name="Créer un usager")).to_have_count(0)

    # 2. The recap: a longer RDV. 3. The new usager has a mobile and no email.
    recap.get_by_label("Durée (minutes)").fill("240")
    notifications = page.get_by_role("list", name="Notifications des participants")
    anais = notifications.locator("li", has_text="PLANIFIÉE Anaïs")
    expect(anais).to_contain_text("Notifications par SMS uniquement (pas d'email).")
    expect(anais.get_by_label("Rappel 48 h avant")).to_be_enabled()
    anais.get_by_label("Rappel 48 h avant").uncheck()
    expect(page.locator(".summary-line")).to_contain_text(f"{day_text} à {hour} · 240 min · {agent} · {CENTRE}",
                                                          timeout=15_000)

    # The address keeps every choice: a reload shows the same RDV in the making.
    page.wait_for_url(re.compile(r"duree=240"))
    page.reload()
    expect(participants).to_contain_text(_reverse_name(found))
    expect(participants).to_contain_text("PLANIFIÉE Anaïs")
    expect(recap.get_by_label("Durée (minutes)")).to_have_value("240")
    assert_accessible(page)

    start = re.search(r"debut=(\d{4}-\d\d-\d\d)", page.url)
    assert start, page.url
    colleague = _colleague_watching_the_agenda(browser, app_url, app_database_url, agent, start.group(1))
    expect(colleague.locator(".agenda-rdv", has_text="Anaïs PLANIFIÉE")).to_have_count(0)

    page.get_by_role("button", name="Créer le RDV").click()
    warning = page.locator(".warning-box")
    expect(warning).to_contain_text(OUTSIDE_PLAGES)
    assert_accessible(page)
    page.get_by_role("button", name="Confirmer quand même").click()

    page.wait_for_url(re.compile(r"/agenda\?jour="))
    expect(page.get_by_role("status").filter(has_text="a été créé")).to_contain_text(
        f"Le RDV « {MOTIF} » du {day_text} à {hour} a été créé.")
    event = page.locator(".agenda-rdv", has_text="Anaïs PLANIFIÉE")
    expect(event).to_be_visible()
    expect(event).to_contain_text(f"{int(hour[:2])}:{hour[3:]} - {int(hour[:2]) + 4}:{hour[3:]}")
    # The agent's agenda, open in another browser, shows it without a reload.
    expect(colleague.locator(".agenda-rdv", has_text="Anaïs PLANIFIÉE")).to_be_visible()
    colleague.context.close()
    assert_accessible(page)
    with UnitOfWork(app_database_url) as uow:
        rdv = uow.session.exec(select(Rdv).order_by(col(Rdv.id).desc())).first()
        assert (rdv.ends_at - rdv.starts_at) == timedelta(minutes=240)
        assert uow.session.exec(select(Usager.phone_number).where(Usager.last_name == "Planifiée")).one() == \
            "06 45 67 89 12"


def test_plan_from_an_empty_time_of_the_agenda_on_a_phone(browser: Browser, app_url: str, app_database_url: str,
                                                          assert_accessible: Callable[[Page], None]) -> None:
    context = browser.new_context(**PHONE, locale="fr-FR", timezone_id="Europe/Paris")
    page = context.new_page()
    try:
        page.goto(f"{app_url}/connexion")
        page.get_by_label("Adresse email").fill("julien.petit@demo.test")
        page.get_by_label("Mot de passe").fill(DEMO_PASSWORD)
        page.get_by_role("button", name="Se connecter").click()
        page.wait_for_url("**/espace**")
        monday = _monday_in(2)
        page.goto(f"{app_url}{routes.agenda(day=monday.isoformat())}")
        column = page.locator(f".fc-timegrid-col[data-date='{monday.isoformat()}']")
        expect(column).to_be_visible()
        assert_accessible(page)

        # An empty time: Monday at 19:00, after every plage.
        lane = page.locator("td.fc-timegrid-slot-lane[data-time='19:00:00']")
        lane.scroll_into_view_if_needed()
        x_box, y_box = column.bounding_box(), lane.bounding_box()
        page.mouse.click(x_box["x"] + x_box["width"] / 2, y_box["y"] + y_box["height"] / 2)
        dialog = page.get_by_role("dialog", name="Planifier un RDV")
        expect(dialog).to_contain_text(f"Le {long_date(monday)} à 19h00")
        dialog.get_by_role("button", name="Continuer").click()
        expect(dialog.locator("#nouveau-rdv-motif-erreur")).to_have_text("Choisissez le motif du RDV.")
        dialog.get_by_label("Motif").select_option(label=MOTIF)
        assert_accessible(page)
        dialog.get_by_role("button", name="Continuer").click()

        page.wait_for_url(re.compile(r"/agenda/nouveau-rdv\?"))
        recap = page.get_by_role("region", name="2. Récapitulatif")
        expect(recap.get_by_label("Date")).to_have_value(monday.isoformat())
        expect(recap.get_by_label("Heure de début")).to_have_value("19:00")
        expect(recap.get_by_role("group", name="Agents").get_by_label("Julien Petit")).to_be_checked()
        assert_accessible(page)

        usager = _adult_of_pmi_arras(app_database_url, skip=1)
        _search_and_add(page, usager)
        # Removed, then added again.
        participants = page.get_by_role("list", name="Participants du RDV")
        page.get_by_role("button", name=f"Retirer {_reverse_name(usager)} du RDV").click()
        expect(page.get_by_role("status").filter(has_text="retiré(e) du RDV")).to_be_visible()
        expect(participants).to_have_count(0)
        _search_and_add(page, usager)
        # A person without phone nor email: nothing can be sent, and the page says why.
        page.get_by_role("button", name="Créer un usager").click()
        form = page.get_by_role("form", name="Créer un usager")
        expect(form.get_by_label("Prénom")).to_be_focused()
        form.get_by_label("Prénom").fill("Sans")
        form.get_by_label("Nom", exact=True).fill("Coordonnées")
        form.get_by_role("button", name="Créer et ajouter au RDV").click()
        expect(participants).to_contain_text("COORDONNÉES Sans")
        silent = page.get_by_role("list", name="Notifications des participants").locator(
            "li", has_text="COORDONNÉES Sans")
        expect(silent).to_contain_text("Aucune notification possible : ni numéro de mobile ni email")
        expect(silent.get_by_label("Confirmation, modification et annulation")).to_be_disabled()
        expect(silent.get_by_label("Rappel 48 h avant")).not_to_be_checked()
        assert_accessible(page)
        # No plage holds 19:00: the lieu is the agent's choice, and is asked for.
        page.get_by_role("button", name="Créer le RDV").click()
        expect(recap.locator("#rdv-lieu-erreur")).to_have_text("Choisissez un lieu.")
        expect(recap.get_by_label("Lieu")).to_be_focused()
        assert_accessible(page)
        recap.get_by_label("Lieu").select_option(label=CENTRE)
        page.get_by_role("button", name="Créer le RDV").click()
        expect(page.locator(".warning-box")).to_contain_text(OUTSIDE_PLAGES)
        assert_accessible(page)
        page.get_by_role("button", name="Confirmer quand même").click()

        page.wait_for_url(re.compile(rf"/agenda\?jour={monday.isoformat()}"))
        # The family may have another RDV that week: this one is at 19:00.
        event = page.locator(".agenda-rdv", has_text=_reverse_name(usager).split(" ")[0]).filter(has_text="19:00")
        expect(event).to_be_visible()
        assert_accessible(page)
    finally:
        context.close()


def test_an_exact_duplicate_is_refused_and_the_same_motif_that_day_is_confirmed(page: Page, app_url: str, app_database_url: str,
                                                             login_as,
                                                             assert_accessible: Callable[[Page], None]) -> None:
    login_as("camille.martin@demo.test")
    monday = _monday_in(3)
    usager = _adult_of_pmi_arras(app_database_url, skip=2)
    with UnitOfWork(app_database_url) as uow:
        s = uow.session
        org = s.exec(select(Organisation.id).where(Organisation.name == "PMI Arras")).one()
        camille = s.exec(select(Agent.id).where(Agent.email == "camille.martin@demo.test")).one()
        julien = s.exec(select(Agent.id).where(Agent.email == "julien.petit@demo.test")).one()
        motif = s.exec(select(Motif.id).where(Motif.organisation_id == org, Motif.name == MOTIF)).one()
        lieu = s.exec(select(Lieu.id).where(Lieu.organisation_id == org, Lieu.name == CENTRE)).one()
    # Its own transaction, short: the server writes to the same SQLite file.
    with UnitOfWork(app_database_url) as uow:
        lifecycle.plan_rdv(uow, camille, org, motif_id=motif, starts_at=datetime.combine(monday, time(10), PARIS),
                      duration_in_min=30, agent_ids=[julien], lieu_id=lieu, usager_ids=[usager.id],
                      confirm_warnings=True)
    with UnitOfWork(app_database_url) as uow:
        before = uow.session.exec(select(sa.func.count()).select_from(Rdv)).one()
    link = routes.rdv_new(motif_id=motif, start=f"{monday.isoformat()}T10:00", agent_ids=[str(julien)],
                          lieu_id=lieu, duration=30, usager_ids=[str(usager.id)])
    page.goto(f"{app_url}{link}")
    expect(page.get_by_role("list", name="Participants du RDV")).to_contain_text(_reverse_name(usager))
    page.get_by_role("button", name="Créer le RDV").click()
    expect(page.get_by_role("alert").filter(has_text="identique")).to_have_text(
        "Un RDV identique existe déjà : même motif, lieu, horaire et participants.")
    expect(page.get_by_role("button", name="Confirmer quand même")).to_have_count(0)
    assert_accessible(page)
    with UnitOfWork(app_database_url) as uow:
        assert uow.session.exec(select(sa.func.count()).select_from(Rdv)).one() == before

    # The same usager and motif later that day is no duplicate, but the agent is warned first.
    page.get_by_role("region", name="2. Récapitulatif").get_by_label("Heure de début").fill("15:00")
    page.get_by_role("button", name="Créer le RDV").click()
    warning = page.locator(".warning-box")
    expect(warning).to_contain_text(
        f"{usager.first_name} {usager.last_name.upper()} a déjà un RDV pour ce motif ce jour-là.")
    assert_accessible(page)
    with UnitOfWork(app_database_url) as uow:
        assert uow.session.exec(select(sa.func.count()).select_from(Rdv)).one() == before
    warning.get_by_role("button", name="Confirmer quand même").click()
    page.wait_for_url(re.compile(rf"/agenda\?jour={monday.isoformat()}"))
    with UnitOfWork(app_database_url) as uow:
        assert uow.session.exec(select(sa.func.count()).select_from(Rdv)).one() == before + 1


def test_the_agenda_starts_on_the_organisations_now_and_follows_the_saturdays_preference(
        page: Page, app_url: str, app_database_url: str, login_as) -> None:
    # The browser's clock is ten days behind: the calendar must still open on the organisation's today.
    today = datetime.now(PARIS).date()
    page.clock.set_fixed_time(datetime.now(PARIS) - timedelta(days=10))
    login_as("julien.petit@demo.test")
    page.goto(f"{app_url}{routes.AGENDA}")
    expect(page.locator(".fc-timegrid")).to_be_visible()
    headers = page.locator(".fc-col-header-cell")
    # Sundays are never drawn (nor Saturdays, which Julien shows): on a Sunday, the week to come.
    opening = today + timedelta(days=1) if today.weekday() == 6 else today
    expect(headers.first).to_have_attribute("data-date", (opening - timedelta(days=opening.weekday())).isoformat())
    # "Today" is the organisation's, not the browser's (Sundays are never shown).
    expect(page.locator(".fc-col-header-cell.fc-day-today")).to_have_count(0 if today.weekday() == 6 else 1)
    if today.weekday() < 6:
        expect(page.locator(".fc-col-header-cell.fc-day-today")).to_have_attribute("data-date", today.isoformat())

    def set_saturdays(shown: bool) -> None:
        with UnitOfWork(app_database_url) as uow:
            uow.session.execute(sa.update(Agent).where(Agent.email == "julien.petit@demo.test")
                                .values(display_saturdays=shown))
            uow.commit()

    try:
        set_saturdays(False)
        expect(headers).to_have_count(5, timeout=5000)
        expect(page.locator(".fc-col-header-cell.fc-day-sat")).to_have_count(0)
        set_saturdays(True)
        expect(headers).to_have_count(6, timeout=5000)
        expect(page.locator(".fc-col-header-cell.fc-day-sat")).to_have_count(1)
    finally:
        set_saturdays(True)


def test_an_rdv_at_a_lieu_ponctuel(page: Page, app_url: str, app_database_url: str, login_as,
                                  assert_accessible: Callable[[Page], None]) -> None:
    login_as("camille.martin@demo.test")
    monday = _monday_in(6)
    with UnitOfWork(app_database_url) as uow:
        s = uow.session
        org = s.exec(select(Organisation.id).where(Organisation.name == "PMI Arras")).one()
        julien = s.exec(select(Agent.id).where(Agent.email == "julien.petit@demo.test")).one()
        motif = s.exec(select(Motif.id).where(Motif.organisation_id == org, Motif.name == MOTIF)).one()
        usager = s.exec(
            select(Usager).join(UsagerProfile, col(UsagerProfile.usager_id) == Usager.id)
            .where(UsagerProfile.organisation_id == org, col(Usager.responsible_id).is_(None),
                   col(Usager.email).is_not(None), col(Usager.notify_by_email))
            .order_by(Usager.last_name, Usager.id).offset(3)).first()
        s.expunge(usager)
    # 19:30: no plage then, so the RDV needs a confirmation before it is written.
    link = routes.rdv_new(motif_id=motif, start=f"{monday.isoformat()}T19:30", agent_ids=[str(julien)],
                          duration=30, usager_ids=[str(usager.id)])
    page.goto(f"{app_url}{link}")
    recap = page.get_by_role("region", name="2. Récapitulatif")
    expect(page.get_by_role("list", name="Participants du RDV")).to_contain_text(_reverse_name(usager))
    recap.get_by_label("Lieu", exact=True).select_option(label="Autre adresse (lieu ponctuel, pour ce RDV seulement)")
    page.get_by_role("button", name="Créer le RDV").click()
    expect(page.locator("#rdv-lieu-ponctuel-nom-erreur")).to_have_text(
        "Indiquez le nom du lieu ponctuel (par exemple « Salle de la mairie annexe »).")
    expect(recap.get_by_label("Nom du lieu ponctuel")).to_be_focused()
    assert_accessible(page)
    recap.get_by_label("Nom du lieu ponctuel").fill("Salle des fêtes de Dainville")
    recap.get_by_label("Adresse du lieu ponctuel").fill("5 rue de la Mairie, 62000 Dainville")
    page.get_by_role("button", name="Créer le RDV").click()
    expect(page.locator(".warning-box")).to_contain_text(OUTSIDE_PLAGES)
    page.get_by_role("button", name="Confirmer quand même").click()
    page.wait_for_url(re.compile(rf"/agenda\?jour={monday.isoformat()}"))

    with UnitOfWork(app_database_url) as uow:
        rdv, lieu = uow.session.exec(
            select(Rdv, Lieu).join(Lieu, col(Lieu.id) == Rdv.lieu_id)
            .where(Rdv.starts_at == datetime.combine(monday, time(19, 30), PARIS), Rdv.motif_id == motif)).one()
        mails = [m.payload for m in uow.session.exec(select(OutboxMessage).where(
            OutboxMessage.channel == "mail", OutboxMessage.rdv_id == rdv.id)).all()]
        rdv_id, place = rdv.id, (lieu.name, lieu.address, lieu.availability)
    assert place == ("Salle des fêtes de Dainville", "5 rue de la Mairie, 62000 Dainville", "single_use")
    to_usager = [m for m in mails if m.get("to") == usager.email]
    assert to_usager, mails
    assert "Salle des fêtes de Dainville (5 rue de la Mairie, 62000 Dainville)" in to_usager[0]["text"]
    assert "LOCATION:Salle des fêtes de Dainville (5 rue de la Mairie\\, 62000 Dainville)" in (
        to_usager[0]["ics"]["content"].replace("\r\n ", ""))

    page.goto(f"{app_url}{routes.rdv_page(rdv_id)}")
    expect(page.get_by_text("Salle des fêtes de Dainville (lieu ponctuel)")).to_be_visible()
    expect(page.get_by_text("5 rue de la Mairie, 62000 Dainville")).to_be_visible()
    assert_accessible(page)
    page.goto(f"{app_url}{routes.ADMIN_LIEUX}")  # not one of the organisation's lieux
    expect(page.get_by_role("heading", name=CENTRE)).to_be_visible()
    expect(page.get_by_text("Salle des fêtes de Dainville")).to_have_count(0)
