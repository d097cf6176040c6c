""""Mes rendez-vous" on a phone: a signed-in usager sees their RDVs and their child's, cancels one with
confirmation, and is told whom to call for one that is too close."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from playwright.sync_api import Page, expect
from sqlmodel import col, select

from rdv_app.db.models import (
    Agent,
    Lieu,
    Motif,
    Organisation,
    OutboxMessage,
    Participation,
    Rdv,
    RdvAgent,
    Usager,
    UsagerProfile,
)
from rdv_app.db.uow import UnitOfWork
from rdv_app.services.rdv import lifecycle

PARIS = ZoneInfo("Europe/Paris")
MONTHS = ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre",
          "novembre", "décembre")


def _local(days: int, hh: int) -> datetime:
    return datetime.combine(datetime.now(PARIS).date() + timedelta(days=days), time(hh), PARIS).astimezone(UTC)


def _day_label(moment: datetime) -> re.Pattern[str]:
    """"4 novembre 2026" as a whole (not inside "24 novembre 2026")."""
    local = moment.astimezone(PARIS)
    return re.compile(rf"(?<!\d){local.day} {MONTHS[local.month - 1]} {local.year}")


def _family(database_url: str) -> tuple[str, dict[str, int]]:
    """An usager and their child, with RDVs planned by the PMI Arras: the usager's in 3 days (cancellable)
    and in 2 hours (too close), the child's in 5 days, and a past one."""
    email = f"parent-{uuid.uuid4().hex[:8]}@exemple.fr"
    with UnitOfWork(database_url) as uow:
        s = uow.session
        # The server's worker writes to this SQLite file too: each transaction takes the write lock first,
        # so that its reads and writes are one step (as test_usager_link_browser's planning does).
        s.connection(execution_options={"sqlite_begin": "IMMEDIATE"})
        parent = Usager(first_name="Inès", last_name="Garnier", email=email, phone_number="06 11 22 33 44")
        s.add(parent)
        s.flush()
        child = Usager(first_name="Léo", last_name="Garnier", responsible_id=parent.id)
        s.add(child)
        s.flush()
        agent = s.exec(select(Agent.id).where(Agent.email == "camille.martin@demo.test")).one()
        org = s.exec(select(Organisation.id).where(Organisation.slug == "pmi-arras")).one()
        s.add_all([UsagerProfile(organisation_id=org, usager_id=parent.id),  # type: ignore[arg-type]
                   UsagerProfile(organisation_id=org, usager_id=child.id)])  # type: ignore[arg-type]
        motif = s.exec(select(Motif.id).where(Motif.organisation_id == org,
                                              Motif.name == "Consultation pédiatrique")).one()
        lieu = s.exec(select(Lieu.id).where(Lieu.organisation_id == org).order_by(col(Lieu.id))).first()
        uow.commit()
        ids = {"parent": parent.id, "child": child.id}  # type: ignore[dict-item]

        def plan(usager: int, starts_at: datetime) -> int:
            s.connection(execution_options={"sqlite_begin": "IMMEDIATE"})
            return lifecycle.plan_rdv(uow, agent, org, motif_id=motif, starts_at=starts_at, duration_in_min=30,  # type: ignore[arg-type]
                                 agent_ids=[agent], lieu_id=lieu, usager_ids=[usager], confirm_warnings=True)  # type: ignore[list-item]

        ids["soon"] = plan(parent.id, datetime.now(UTC).replace(second=0, microsecond=0) + timedelta(hours=2))  # type: ignore[arg-type]
        ids["cancellable"] = plan(parent.id, _local(3, 10))  # type: ignore[arg-type]
        ids["child_rdv"] = plan(child.id, _local(5, 11))  # type: ignore[arg-type]
        past_start = _local(-20, 9)
        past = Rdv(organisation_id=org, motif_id=motif, lieu_id=lieu, starts_at=past_start,
                   ends_at=past_start + timedelta(minutes=30), status="seen", users_count=1)
        s.add(past)
        s.flush()
        s.add_all([RdvAgent(rdv_id=past.id, agent_id=agent),  # type: ignore[arg-type]
                   Participation(rdv_id=past.id, usager_id=parent.id, status="seen")])  # type: ignore[arg-type]
        uow.commit()
        ids["past"] = past.id  # type: ignore[assignment]
    return email, ids


def _sign_in_link(database_url: str, email: str) -> str:
    with UnitOfWork(database_url) as uow:
        payloads = uow.session.exec(select(OutboxMessage.payload).where(OutboxMessage.channel == "mail")
                                    .order_by(col(OutboxMessage.id))).all()
    texts = [p["text"] for p in payloads if p.get("to") == email and "/_auth/usager/lien" in p.get("text", "")]
    assert texts, f"no sign-in email to {email}"
    found = re.search(r"https?://\S+/_auth/usager/lien\?jeton=\S+", texts[-1])
    assert found, texts[-1]
    return found.group(0)


def test_an_usager_sees_their_family_rdvs_and_cancels_one_on_a_phone(phone: Page, app_url: str,
                                                                    app_database_url: str, assert_accessible) -> None:
    email, ids = _family(app_database_url)
    page = phone

    # Signed out, the page offers a sign-in link that brings the usager back here.
    page.goto(f"{app_url}/mes-rdv")
    expect(page.get_by_role("heading", name="Mes rendez-vous", level=1)).to_be_visible()
    field = page.get_by_label("Adresse email de votre compte")
    expect(field).to_be_visible()
    assert_accessible(page)
    field.fill("ines@exemple")  # the browser accepts it, the service does not
    page.get_by_role("button", name="Recevoir un lien de connexion").click()
    expect(page.get_by_text("L'adresse email n'est pas valide")).to_be_visible()
    field.fill(email)
    page.get_by_role("button", name="Recevoir un lien de connexion").click()
    expect(page.get_by_role("status").filter(has_text="un email vient de lui être envoyé")).to_be_visible()
    page.goto(_sign_in_link(app_database_url, email))
    page.get_by_role("button", name="Me connecter et voir mes rendez-vous").click()
    page.wait_for_url(re.compile(r"/mes-rdv"))

    upcoming = page.get_by_role("heading", name="À venir")
    expect(upcoming).to_be_visible()
    cards = page.locator("article")
    soon = cards.filter(has_text="moins de 4 heures")
    cancellable = cards.filter(has_text=_day_label(_local(3, 10)))
    child = cards.filter(has_text="Léo GARNIER")
    past = cards.filter(has_text=_day_label(_local(-20, 9)))
    expect(cancellable).to_contain_text("à 10h00")
    expect(cancellable).to_contain_text("Consultation pédiatrique")
    expect(cancellable).to_contain_text("03 21 23 45 67")
    expect(child).to_contain_text("à 11h00")
    expect(child.get_by_role("button", name="Annuler ce rendez-vous")).to_be_visible()
    expect(soon).to_contain_text("Pour l'annuler, contactez PMI Arras au 03 21 23 45 67")
    expect(soon.get_by_role("button", name="Annuler ce rendez-vous")).to_have_count(0)
    expect(past).to_contain_text("à 09h00")
    expect(past.get_by_role("button", name="Annuler ce rendez-vous")).to_have_count(0)
    # Soonest first, then the past ones.
    texts = cards.all_inner_texts()
    assert texts.index(soon.inner_text()) < texts.index(cancellable.inner_text()) < texts.index(child.inner_text()) \
        < texts.index(past.inner_text())
    assert_accessible(page)

    # Cancelling asks first; keeping the RDV changes nothing.
    cancellable.get_by_role("button", name="Annuler ce rendez-vous").click()
    dialog = page.get_by_role("alertdialog")
    expect(dialog).to_contain_text("Annuler ce rendez-vous ?")
    expect(dialog).to_contain_text("Consultation pédiatrique")
    dialog.evaluate("node => Promise.all(node.getAnimations({subtree: true}).map(a => a.finished))")  # faded in
    assert_accessible(page)
    dialog.get_by_role("button", name="Garder mon rendez-vous").click()
    expect(dialog).to_have_count(0)
    cancellable.get_by_role("button", name="Annuler ce rendez-vous").click()
    page.get_by_role("alertdialog").get_by_role("button", name="Oui, annuler").click()
    expect(page.get_by_role("status").filter(has_text="Votre rendez-vous est annulé")).to_be_visible()
    expect(cancellable).to_contain_text("Annulé")
    expect(cancellable.get_by_role("button", name="Annuler ce rendez-vous")).to_have_count(0)
    assert_accessible(page)
    with UnitOfWork(app_database_url) as uow:
        statuses = dict(uow.session.exec(select(Rdv.id, Rdv.status).where(
            col(Rdv.id).in_([ids["cancellable"], ids["child_rdv"], ids["soon"]]))).all())
    assert statuses == {ids["cancellable"]: "excused", ids["child_rdv"]: "unknown", ids["soon"]: "unknown"}

    # Reloading keeps the session; the booking pages link back here.
    page.reload()
    expect(cancellable).to_contain_text("Annulé")
    page.get_by_role("link", name="Prendre un autre rendez-vous").click()
    expect(page.get_by_role("heading", name="Où habitez-vous ?")).to_be_visible()
    page.get_by_role("navigation", name="Mon compte").get_by_role("link", name="Mes rendez-vous").click()
    expect(page.get_by_role("heading", name="Mes rendez-vous", level=1)).to_be_visible()
    expect(child).to_contain_text("à 11h00")
