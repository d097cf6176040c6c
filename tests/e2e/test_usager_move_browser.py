""""Changer la date" on a phone (issue 28): a signed-in usager moves the RDV they booked online from
"Mes rendez-vous" — the week of slots of the same motif and lieu, the next week shown in place, the
confirmation, done — and the RDV is the same one at its new time, its calendar version one higher, the usager
told once."""

from __future__ import annotations

import re
import uuid
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from playwright.sync_api import Page, expect
from sqlmodel import col, select

from rdv_app.db.models import (
    Motif,
    OutboxMessage,
    Participation,
    PlageOuverture,
    PlageOuvertureMotif,
    Rdv,
    Usager,
)
from rdv_app.db.uow import UnitOfWork
from rdv_app.domain import datefmt
from rdv_app.services.online_booking import public_search
from rdv_app.services.rdv.lifecycle import book_rdv

PARIS = ZoneInfo("Europe/Paris")


def _booked_online(database_url: str) -> tuple[str, int, datetime, datetime, str, str]:
    """An usager who booked "Pesée et conseils de puériculture" online next week; returns their email,
    the RDV and its start, and another start of that week with the label of its button and its long date."""
    email = f"deplace-{uuid.uuid4().hex[:8]}@exemple.fr"
    with UnitOfWork(database_url) as uow:
        s = uow.session
        s.connection(execution_options={"sqlite_begin": "IMMEDIATE"})  # the server writes to this file too
        usager = Usager(first_name="Nadia", last_name="Berger", email=email, phone_number="06 11 22 33 44",
                        created_through="user_sign_up")
        s.add(usager)
        pesee = s.exec(select(Motif).where(Motif.name == "Pesée et conseils de puériculture",
                                           Motif.organisation_id == 1)).one()
        lieu_id = s.exec(select(PlageOuverture.lieu_id).join(PlageOuvertureMotif).where(
            PlageOuvertureMotif.motif_id == pesee.id, col(PlageOuverture.recurrence).is_not(None))).first()
        uow.commit()
        usager_id, motif_id = usager.id, pesee.id
        today = datetime.now(PARIS).date()
        week = public_search.week(uow, motif_id, lieu_id, today + timedelta(days=7))  # type: ignore[arg-type]
        uow.rollback()
        times = [(d.label, iso, label) for d in week.days for iso, label in d.times]
        assert len(times) >= 2, "the demo's weekly plage offers several times next week"
        booked, (day_label, target_iso, target_label) = times[0], times[-1]
        book_rdv(uow, usager_id, motif_id=motif_id, starts_at=datetime.fromisoformat(booked[1]),  # type: ignore[arg-type]
                 lieu_id=lieu_id, booking_key=uuid.uuid4().hex)
        rdv_id = s.exec(select(Participation.rdv_id).where(Participation.usager_id == usager_id)).one()
    target = datetime.fromisoformat(target_iso)
    return (email, rdv_id, datetime.fromisoformat(booked[1]), target, f"{day_label} à {target_label}",
            datefmt.long_datetime(target, "Europe/Paris"))


def _sign_in_link(database_url: str, email: str) -> str:
    with UnitOfWork(database_url) as uow:
        payloads = uow.session.exec(select(OutboxMessage.payload).where(OutboxMessage.channel == "mail")
                                    .order_by(col(OutboxMessage.id))).all()
    texts = [p["text"] for p in payloads if p.get("to") == email and "/_auth/usager/lien" in p.get("text", "")]
    assert texts, f"no sign-in email to {email}"
    found = re.search(r"https?://\S+/_auth/usager/lien\?jeton=\S+", texts[-1])
    assert found, texts[-1]
    return found.group(0)


def test_an_usager_moves_their_rdv_from_mes_rendez_vous_on_a_phone(phone: Page, app_url: str, app_database_url: str,
                                                                   assert_accessible) -> None:
    email, rdv_id, old_start, target, button_label, new_when = _booked_online(app_database_url)
    page = phone
    sent: list[str] = []  # the events the page sends, by name
    page.on("websocket", lambda socket: socket.on(
        "framesent", lambda frame: sent.extend(re.findall(r'"name":\s*"([^"]+)"', str(frame)))))
    page.goto(f"{app_url}/mes-rdv")
    page.get_by_label("Adresse email de votre compte").fill(email)
    page.get_by_role("button", name="Recevoir un lien de connexion").click()
    expect(page.get_by_role("status").filter(has_text="un email vient de lui être envoyé")).to_be_visible()
    page.goto(_sign_in_link(app_database_url, email))
    page.get_by_role("button", name="Me connecter et voir mes rendez-vous").click()
    page.wait_for_url(re.compile(r"/mes-rdv"))

    card = page.locator("article").filter(has_text="Pesée et conseils de puériculture")
    expect(card.get_by_role("link", name="Changer la date")).to_be_visible()
    assert_accessible(page)

    # The week of slots of the same motif and lieu, from today; the RDV's week is the next one.
    card.get_by_role("link", name="Changer la date").click()
    expect(page.get_by_role("heading", name="Choisissez un nouvel horaire")).to_be_visible()
    expect(page.get_by_text("Date actuelle :")).to_be_visible()
    title = page.get_by_role("heading", name=re.compile("^Semaine du "))
    today = datetime.now(PARIS).date()
    this_week = f"Semaine du {datefmt.long_date(today)}"
    next_week = f"Semaine du {datefmt.long_date(today + timedelta(days=7))}"
    expect(title).to_have_text(this_week)
    assert_accessible(page)

    # « Semaine suivante » shows the next week in place, as one event, and its address follows: back returns
    # to the week before, forward to it again.
    week_url = page.url
    sent.clear()
    page.get_by_role("link", name="Semaine suivante →").click()
    expect(title).to_have_text(next_week)
    page.wait_for_url(re.compile(re.escape(f"semaine={(today + timedelta(days=7)).isoformat()}")))
    assert [name.rsplit(".", 1)[-1] for name in sent] == ["change_week"], sent
    page.go_back()
    expect(title).to_have_text(this_week)
    assert page.url == week_url
    page.go_forward()
    expect(title).to_have_text(next_week)
    page.get_by_role("link", name=button_label, exact=True).click()

    # The confirmation names both dates; confirming moves the RDV once.
    expect(page.get_by_role("heading", name="Confirmez le nouvel horaire")).to_be_visible()
    expect(page.get_by_text(new_when)).to_be_visible()
    assert_accessible(page)
    confirm = page.get_by_role("button", name="Confirmer le nouvel horaire")
    confirm.dblclick()
    done = page.get_by_role("status").filter(has_text="Votre rendez-vous est déplacé au")
    expect(done).to_contain_text(new_when)
    assert_accessible(page)

    with UnitOfWork(app_database_url) as uow:
        rdvs = uow.session.exec(select(Rdv).join(Participation, col(Participation.rdv_id) == Rdv.id)
                                .join(Usager, col(Usager.id) == Participation.usager_id)
                                .where(Usager.email == email)).all()
        assert [(r.id, r.starts_at, r.ics_sequence, r.status) for r in rdvs] == [(rdv_id, target, 1, "unknown")]
        told = uow.session.exec(select(OutboxMessage.payload).where(OutboxMessage.rdv_id == rdv_id,
                                                                    OutboxMessage.event == "rdv_updated",
                                                                    OutboxMessage.channel == "mail")).all()
    assert [p["subject"] for p in told if p["to"] == email] == [
        f"RDV du {datefmt.long_datetime(old_start, 'Europe/Paris')} modifié"]

    page.get_by_role("link", name="Retour à mes rendez-vous").click()
    expect(card).to_contain_text(new_when)
