"""An usager books on a phone: from /prendre_rdv to a confirmed RDV, signing in through the email link."""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from urllib.parse import parse_qs, parse_qsl, urlparse

from conftest import sign_in_link, sign_up_and_reach_confirmation, to_next_week, week_with_times
from playwright.sync_api import Page, expect
from sqlmodel import col, select

from rdv_app.db.models import Motif, PlageOuverture, PlageOuvertureMotif, Usager
from rdv_app.db.uow import UnitOfWork
from rdv_app.services.rdv.lifecycle import book_rdv


def test_an_usager_books_on_a_phone_with_an_email_link(phone: Page, app_url: str, app_database_url: str,
                                                        assert_accessible) -> None:
    page = phone
    page.goto(f"{app_url}/prendre_rdv")
    expect(page.get_by_role("heading", level=1)).to_have_text("Prendre rendez-vous")
    expect(page.get_by_role("heading", name="Où habitez-vous ?")).to_be_visible()
    assert_accessible(page)

    field = page.get_by_label("Département ou code postal")
    field.fill("Arras")
    page.get_by_role("button", name="Rechercher").click()
    expect(page.get_by_text("Saisissez un numéro de département")).to_be_visible()
    field.fill("62000")
    page.get_by_role("button", name="Rechercher").click()
    page.wait_for_url(re.compile(r"departement=62"))
    expect(page.get_by_role("heading", name="Choisissez un service")).to_be_visible()
    assert_accessible(page)

    page.get_by_role("link", name=re.compile("^PMI")).click()
    expect(page.get_by_role("heading", name="Choisissez le motif de votre rendez-vous")).to_be_visible()
    assert_accessible(page)
    page.get_by_role("link", name=re.compile("^Consultation pédiatrique")).click()
    expect(page.get_by_role("heading", name="Choisissez un lieu")).to_be_visible()
    expect(page.get_by_role("link", name=re.compile("Prochaine disponibilité le")).first).to_be_visible()
    assert_accessible(page)
    page.get_by_role("link", name=re.compile("Prochaine disponibilité le")).first.click()

    expect(page.get_by_role("heading", name="Choisissez un horaire")).to_be_visible()
    expect(week_with_times(page).first).to_be_visible()
    assert_accessible(page)
    # A time of a later week: whatever the hour the test runs at, the RDV is then more than the 4 hours'
    # notice away that lets an usager cancel it online, which "Mes rendez-vous" shows below.
    to_next_week(page)
    times = week_with_times(page)
    week_url = page.url
    page.reload()
    expect(times.first).to_be_visible()
    assert page.url.replace("/?", "?") == week_url.replace("/?", "?")
    chosen = times.first.get_attribute("aria-label")
    # The browser joins each start's link and accessible name (rdv_app.components.slot_week): the week's
    # address plus `creneau`, and "<day> à <time>" under the day's capitalised heading.
    assert chosen is not None and re.fullmatch(r"[a-z]+ \d{1,2} \S+ \d{4} à \d\dh\d\d", chosen), chosen
    day = chosen.split(" à ")[0]
    expect(page.get_by_role("heading", level=3, name=day[:1].upper() + day[1:], exact=True)).to_be_visible()
    link, week = urlparse(times.first.get_attribute("href") or ""), urlparse(week_url)
    assert link.path.rstrip("/") == week.path.rstrip("/")
    assert parse_qsl(link.query)[:-1] == parse_qsl(week.query) and parse_qsl(link.query)[-1][0] == "creneau"
    times.first.click()

    expect(page.get_by_role("heading", name="Identifiez-vous pour confirmer")).to_be_visible()
    assert_accessible(page)
    email = f"usager-{uuid.uuid4().hex[:8]}@exemple.fr"
    page.get_by_label("Prénom").fill("Alice")
    page.get_by_label("Nom", exact=True).fill("Durand")
    page.get_by_label("Adresse email", exact=True).fill(email)
    page.get_by_role("button", name="Créer mon compte").click()
    expect(page.get_by_role("status").filter(has_text="Un email vient de vous être envoyé")).to_be_visible()

    page.goto(sign_in_link(app_database_url, email))
    assert_accessible(page)
    page.get_by_role("button", name="Me connecter et reprendre ma réservation").click()
    expect(page.get_by_role("heading", name="Vos informations")).to_be_visible()
    expect(page.get_by_label("Prénom")).to_have_value("Alice")
    assert_accessible(page)
    page.get_by_label("Téléphone (facultatif)").fill("06 12 34 56 78")
    page.get_by_role("button", name="Continuer").click()

    expect(page.get_by_role("heading", name="Pour qui est ce rendez-vous ?")).to_be_visible()
    assert_accessible(page)
    page.get_by_role("link", name="Alice Durand (moi)").click()

    expect(page.get_by_role("heading", name="Vérifiez votre rendez-vous")).to_be_visible()
    expect(page.get_by_text("Consultation pédiatrique (sur place)")).to_be_visible()
    assert_accessible(page)
    page.get_by_role("button", name="Confirmer mon RDV").click()

    expect(page.get_by_role("heading", name="Votre rendez-vous est confirmé")).to_be_visible()
    expect(page.get_by_text("Apportez le carnet de santé de votre enfant")).to_be_visible()
    expect(page.get_by_text("03 21 23 45 67")).to_be_visible()
    assert_accessible(page)

    # The booked RDV is in "Mes rendez-vous", with the time the usager chose.
    page.get_by_role("link", name="Voir mes rendez-vous").click()
    expect(page.get_by_role("heading", name="Mes rendez-vous", level=1)).to_be_visible()
    booked = page.locator("article").filter(has_text="Consultation pédiatrique")
    expect(booked).to_have_count(1)
    expect(booked).to_contain_text(chosen.split(" à ")[-1])  # type: ignore[union-attr]
    expect(booked.get_by_role("button", name="Annuler ce rendez-vous")).to_be_visible()

    page.goto(week_url)
    expect(page.get_by_role("heading", name="Choisissez un horaire")).to_be_visible()
    expect(page.get_by_role("link", name=chosen)).to_have_count(0)


def test_a_slot_taken_meanwhile_sends_the_usager_back_to_the_week(phone: Page, app_url: str, app_database_url: str,
                                                                  assert_accessible) -> None:
    page = phone
    chosen, _email = sign_up_and_reach_confirmation(page, app_url, app_database_url, "Paul", "Martin")

    # Someone else books the same slot from another phone, just before this usager confirms.
    query = parse_qs(urlparse(page.url).query)
    with UnitOfWork(app_database_url) as uow:
        other = Usager(first_name="Léa", last_name="Roux", email=f"autre-{uuid.uuid4().hex[:8]}@exemple.fr")
        uow.session.add(other)
        uow.commit()
        other_id = other.id
    with UnitOfWork(app_database_url) as uow:
        book_rdv(uow, other_id, motif_id=int(query["m"][0]), starts_at=datetime.fromisoformat(query["creneau"][0]),
                 lieu_id=int(query["lieu"][0]), booking_key="autre-telephone")

    page.get_by_role("button", name="Confirmer mon RDV").click()
    expect(page.get_by_role("alert").filter(has_text="Ce créneau n'est plus disponible")).to_be_visible()
    expect(page.get_by_role("heading", name="Choisissez un horaire")).to_be_visible()
    expect(page.get_by_role("link", name=chosen)).to_have_count(0)
    assert_accessible(page)

    # Still signed in: choosing another time goes straight to the informations; signing out ends it.
    page.locator("section ul a").first.click()
    expect(page.get_by_role("heading", name="Vos informations")).to_be_visible()
    informations_url = page.url
    page.get_by_role("button", name="Se déconnecter").click()
    expect(page.get_by_role("heading", name="Où habitez-vous ?")).to_be_visible()
    page.goto(informations_url)
    expect(page.get_by_role("heading", name="Identifiez-vous pour confirmer")).to_be_visible()


def test_an_usager_books_through_franceconnect(phone: Page, app_url: str, franceconnect,
                                               assert_accessible) -> None:
    page = phone
    page.goto(f"{app_url}/org/1/pmi-arras")
    expect(page.get_by_text("PMI Arras")).to_be_visible()
    page.get_by_role("link", name=re.compile("^Conseil de puériculture par téléphone")).click()
    times = week_with_times(page)
    week_url = page.url
    times.first.click()
    page.get_by_role("link", name="S'identifier avec FranceConnect").click()

    expect(page.get_by_role("heading", name="Vos informations")).to_be_visible()
    assert franceconnect.authorize_requests[-1]["acr_values"] == "eidas1"
    first_name = page.get_by_label("Prénom")
    expect(first_name).to_have_value("Marie Claire")
    expect(first_name).to_have_attribute("readonly", "")
    expect(page.get_by_text("Certifié par FranceConnect")).to_be_visible()
    assert_accessible(page)
    phone_field = page.get_by_label("Téléphone", exact=True)
    expect(phone_field).to_have_attribute("required", "")
    phone_field.fill("06 98 76 54 32")
    page.get_by_role("button", name="Continuer").click()
    page.get_by_role("link", name="Marie Claire MARTIN (moi)").click()
    recap_url = page.url
    page.get_by_role("button", name="Confirmer mon RDV").click()
    expect(page.get_by_role("heading", name="Votre rendez-vous est confirmé")).to_be_visible()
    expect(page.get_by_text("Par téléphone", exact=True)).to_be_visible()
    assert_accessible(page)

    # The booked time is no longer offered: its recap sends back to the week (issue 26).
    page.goto(recap_url)
    expect(page.get_by_role("alert")).to_have_text(re.compile("^Ce créneau n'est pas proposé"))

    # Signing out ends the FranceConnect session too, then comes back signed out.
    page.goto(week_url)
    week_with_times(page).first.click()
    expect(page.get_by_role("heading", name="Vos informations")).to_be_visible()
    informations_url = page.url
    page.get_by_role("button", name="Se déconnecter").click()
    expect(page.get_by_role("heading", name="Où habitez-vous ?")).to_be_visible()
    assert franceconnect.logout_requests[-1]["id_token_hint"]
    page.goto(informations_url)
    expect(page.get_by_role("heading", name="Identifiez-vous pour confirmer")).to_be_visible()


def test_days_beyond_the_maximum_delay_are_closed(phone: Page, app_url: str, assert_accessible) -> None:
    # "Pesée et conseils de puériculture" is bookable at most 42 days ahead.
    page = phone
    page.goto(f"{app_url}/org/1/pmi-arras")
    page.get_by_role("link", name=re.compile("^Pesée et conseils")).click()
    page.get_by_role("link", name=re.compile("Prochaine disponibilité le")).first.click()
    closed = page.get_by_text("Fermé à la réservation en ligne")
    following = page.get_by_role("link", name="Semaine suivante →")
    title = page.get_by_role("heading", name=re.compile("^Semaine du "))
    for _ in range(8):
        if closed.count():
            break
        previous = title.text_content()
        following.click()
        expect(title).not_to_have_text(previous)
    expect(closed.first).to_be_visible()
    expect(following).to_have_count(0)
    assert_accessible(page)


def test_a_deep_link_fixes_the_motif_and_the_lieu(phone: Page, app_url: str) -> None:
    page = phone
    page.goto(f"{app_url}/org/1?motif=1&lieu=1")
    expect(page.get_by_role("heading", name="Choisissez un horaire")).to_be_visible()
    expect(page.get_by_text("Consultation pédiatrique (sur place)")).to_be_visible()
    expect(page.get_by_text("Centre PMI d'Arras", exact=False)).to_be_visible()
    page.goto(f"{app_url}/org/1/pmi-arras?motif=999")
    expect(page.get_by_role("status").filter(has_text="Ce motif n'est plus proposé en ligne")).to_be_visible()
    expect(page.get_by_role("heading", name="Choisissez le motif de votre rendez-vous")).to_be_visible()


def test_days_before_the_minimum_delay_are_closed(phone: Page, app_url: str, app_database_url: str) -> None:
    page = phone
    with UnitOfWork(app_database_url) as uow:
        pesee = uow.session.exec(select(Motif).where(Motif.name == "Pesée et conseils de puériculture",
                                                     Motif.organisation_id == 1)).one()
        lieu_id = uow.session.exec(
            select(PlageOuverture.lieu_id).join(PlageOuvertureMotif).where(
                PlageOuvertureMotif.motif_id == pesee.id, col(PlageOuverture.recurrence).is_not(None))).first()
        motif_id, usual = pesee.id, pesee.min_public_booking_delay
    title = page.get_by_role("heading", name=re.compile("^Semaine du "))
    times = page.locator("section ul a")
    closed = page.get_by_text("Fermé à la réservation en ligne")

    def week_after_next() -> None:
        page.goto(f"{app_url}/org/1?motif={motif_id}&lieu={lieu_id}")
        for _ in range(2):
            expect(title).to_be_visible()
            previous = title.text_content()
            page.get_by_role("link", name="Semaine suivante →").click()
            expect(title).not_to_have_text(previous)

    def set_minimum_delay(seconds: int) -> None:
        with UnitOfWork(app_database_url) as uow:
            motif = uow.session.get(Motif, motif_id)
            motif.min_public_booking_delay = seconds  # type: ignore[union-attr]
            uow.session.add(motif)
            uow.commit()

    week_after_next()  # the weekly plage offers times two weeks ahead...
    expect(times.first).to_be_visible()
    expect(closed).to_have_count(0)
    try:
        set_minimum_delay(21 * 24 * 3600)  # ...but not when the motif must be booked 3 weeks ahead.
        week_after_next()
        expect(closed.first).to_be_visible()
        expect(times).to_have_count(0)
    finally:
        set_minimum_delay(usual)


def test_weeks_change_in_place_and_stay_links(phone: Page, app_url: str, browser) -> None:
    """« Semaine suivante » shows the next week as one event (no page load), and its address follows: back
    returns to the week before, a reload keeps the week, and a ctrl/cmd-click opens the week in a new tab."""
    page = phone
    sent: list[str] = []
    page.on("websocket", lambda socket: socket.on(
        "framesent", lambda frame: sent.extend(re.findall(r'"name":\s*"([^"]+)"', str(frame)))))
    page.goto(f"{app_url}/org/1/pmi-arras")
    page.get_by_role("link", name=re.compile("^Pesée et conseils")).click()
    page.get_by_role("link", name=re.compile("Prochaine disponibilité le")).first.click()
    title = page.get_by_role("heading", name=re.compile("^Semaine du "))
    expect(title).to_be_visible()
    first_title, first_url = title.text_content() or "", page.url

    # The title is read out when it changes: screen readers hear the new week, as they would a new page.
    expect(page.locator("[aria-live=polite][aria-atomic=true]").get_by_role("heading", name=first_title)
           ).to_be_visible()

    sent.clear()
    page.get_by_role("link", name="Semaine suivante →").click()
    expect(title).not_to_have_text(first_title)
    second_title = title.text_content() or ""
    page.wait_for_url(lambda url: url != first_url)
    assert parse_qs(urlparse(page.url).query)["semaine"] != parse_qs(urlparse(first_url).query).get("semaine")
    assert [name.rsplit(".", 1)[-1] for name in sent] == ["change_week"], sent
    expect(week_with_times(page).first).to_have_attribute("href", re.compile(
        re.escape("semaine=" + parse_qs(urlparse(page.url).query)["semaine"][0]) + ".*creneau="))

    page.go_back()
    expect(title).to_have_text(first_title)
    assert page.url == first_url
    page.go_forward()
    expect(title).to_have_text(second_title)
    page.reload()
    expect(title).to_have_text(second_title)

    second_url = page.url
    page.get_by_role("link", name="Semaine suivante →").dblclick()  # out of habit: one week on, as a link
    expect(title).not_to_have_text(second_title)
    third_title = title.text_content() or ""
    page.go_back()
    expect(title).to_have_text(second_title)
    assert page.url == second_url
    page.go_forward()
    expect(title).to_have_text(third_title)

    desktop = browser.new_context(locale="fr-FR", timezone_id="Europe/Paris")
    try:
        tab = desktop.new_page()
        tab.goto(first_url)
        expect(tab.get_by_role("heading", name=first_title)).to_be_visible()
        with desktop.expect_page() as opened:
            tab.get_by_role("link", name="Semaine suivante →").click(modifiers=["ControlOrMeta"])
        opened.value.wait_for_load_state()
        expect(opened.value.get_by_role("heading", name=second_title)).to_be_visible()
        expect(tab.get_by_role("heading", name=first_title)).to_be_visible()
        assert tab.url == first_url
    finally:
        desktop.close()
