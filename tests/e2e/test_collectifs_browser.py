"""RDV collectifs in the browser: an usager takes a seat of the demo's "Atelier massage bébé" on a phone and
finds it in "Mes rendez-vous"; an agent creates an atelier on a desktop, registers a participant and reads
its fill ("1/8") in the list, on its page and in the agenda; an agent edits an atelier (warned of a name
too long for SMS, refused fewer seats than participants) and duplicates it. Axe on every page and dialog."""

from __future__ import annotations

import re
import uuid
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from conftest import sign_in_link
from playwright.sync_api import Page, expect
from sqlmodel import col, select

from rdv_app import routes
from rdv_app.db.models import Agent, AgentRole, Lieu, Motif, Participation, Rdv, Usager, UsagerProfile
from rdv_app.db.uow import UnitOfWork
from rdv_app.services.rdv import lifecycle

PARIS = ZoneInfo("Europe/Paris")


def test_an_usager_books_a_seat_of_an_atelier_on_a_phone(phone: Page, app_url: str, app_database_url: str,
                                                          assert_accessible) -> None:
    page = phone
    page.goto(f"{app_url}/prendre_rdv?departement=62")
    page.get_by_role("link", name=re.compile("^PMI")).click()
    page.get_by_role("link", name=re.compile("^Atelier massage bébé")).click()
    expect(page.get_by_role("heading", name="Choisissez un lieu")).to_be_visible()
    page.get_by_role("link", name=re.compile("Prochaine disponibilité le")).first.click()

    expect(page.get_by_role("heading", name="Inscrivez-vous à l'atelier")).to_be_visible()
    session = page.get_by_role("link", name=re.compile(r"places? restantes?"))
    expect(session.first).to_be_visible()
    assert_accessible(page)
    seats_before = int(re.search(r"(\d+) places? restantes?", session.first.inner_text()).group(1))  # type: ignore[union-attr]
    session.first.click()

    expect(page.get_by_role("heading", name="Identifiez-vous pour confirmer")).to_be_visible()
    email = f"usager-{uuid.uuid4().hex[:8]}@exemple.fr"
    page.get_by_label("Prénom").fill("Inès")
    page.get_by_label("Nom", exact=True).fill("Carpentier")
    page.get_by_label("Adresse email", exact=True).fill(email)
    page.get_by_role("button", name="Créer mon compte").click()
    expect(page.get_by_role("status").filter(has_text="Un email vient de vous être envoyé")).to_be_visible()
    page.goto(sign_in_link(app_database_url, email))
    page.get_by_role("button", name="Me connecter et reprendre ma réservation").click()
    page.get_by_role("button", name="Continuer").click()
    page.get_by_role("link", name="Inès Carpentier (moi)").click()

    confirm = page.get_by_role("button", name="Confirmer mon RDV")
    expect(confirm).to_be_disabled()  # the atelier's conditions come first
    expect(page.get_by_text("Atelier", exact=True)).to_be_visible()
    assert_accessible(page)
    page.get_by_role("checkbox", name="J'ai lu et j'accepte ces conditions").click()
    confirm.click()
    expect(page.get_by_role("heading", name="Votre rendez-vous est confirmé")).to_be_visible()
    assert_accessible(page)

    with UnitOfWork(app_database_url) as uow:
        usager = uow.session.exec(select(Usager).where(Usager.email == email)).one()
        rdv_id = uow.session.exec(select(Participation.rdv_id).where(Participation.usager_id == usager.id)).one()
        rdv = uow.session.get(Rdv, rdv_id)
        assert rdv is not None and rdv.max_participants_count is not None
        assert rdv.max_participants_count - rdv.users_count == seats_before - 1

    page.get_by_role("link", name="Voir mes rendez-vous").click()
    expect(page.get_by_role("heading", name="Mes rendez-vous", level=1)).to_be_visible()
    card = page.get_by_role("article").filter(has_text="Atelier massage bébé")
    expect(card).to_be_visible()
    expect(card.get_by_role("button", name="Annuler ce rendez-vous")).to_be_visible()
    assert_accessible(page)


def _next_weekday(days_ahead: int) -> str:
    day = datetime.now(PARIS).date() + timedelta(days=days_ahead)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day.isoformat()


def test_an_agent_creates_an_atelier_registers_a_participant_and_reads_its_fill(
        page: Page, app_database_url: str, login_as, assert_accessible) -> None:
    login_as("julien.petit@demo.test")
    page.get_by_role("link", name="RDV collectifs").click()
    expect(page.get_by_role("heading", name="RDV collectifs", level=1)).to_be_visible()
    expect(page.get_by_role("heading", name="Ateliers à venir")).to_be_visible()
    assert_accessible(page)

    name = f"Atelier portage {uuid.uuid4().hex[:4]}"
    day = _next_weekday(20)
    page.get_by_label("Motif collectif").select_option(label="Atelier massage bébé")
    expect(page.get_by_label("Durée (minutes)")).to_have_value("60")  # the motif's duration, shown
    page.get_by_label("Nom de l'atelier (facultatif)").fill(name)
    page.get_by_label("Lieu", exact=True).select_option(index=1)
    page.get_by_label("Date", exact=True).fill(day)
    page.get_by_label("Heure de début").fill("17:00")
    page.get_by_label("Nombre de places").fill("8")
    page.get_by_role("button", name="Créer l'atelier").click()
    expect(page.get_by_role("status").filter(has_text="L'atelier a été créé.")).to_be_visible()
    row = page.get_by_role("listitem").filter(has_text=name)
    expect(row.get_by_text("0/8 participants")).to_be_visible()
    assert_accessible(page)

    row.get_by_role("link", name=re.compile(name)).click()
    expect(page.get_by_text("Places occupées : 0/8")).to_be_visible()
    with UnitOfWork(app_database_url) as uow:
        last_name = uow.session.exec(select(Usager.last_name).where(col(Usager.responsible_id).is_(None),
                                                                   col(Usager.deleted_at).is_(None))
                                     .order_by(col(Usager.id))).first()
    assert last_name
    page.get_by_label("Rechercher un usager").fill(last_name)
    found = page.get_by_role("list", name="Usagers trouvés").get_by_role("button", name=re.compile("^Inscrire"))
    expect(found.first).to_be_visible()
    found.first.click()
    expect(page.get_by_text("Places occupées : 1/8")).to_be_visible()
    expect(page.get_by_role("button", name=re.compile("^Retirer .* de l'atelier$"))).to_be_visible()
    assert_accessible(page)
    page.get_by_role("button", name="Annuler le rendez-vous").click()
    dialog = page.get_by_role("alertdialog")
    expect(dialog.get_by_role("button", name="Annuler par le service")).to_be_visible()
    expect(dialog.get_by_role("button", name=re.compile("excusé"))).to_have_count(0)
    assert_accessible(page)
    dialog.get_by_role("button", name="Ne pas annuler").click()

    page.goto(page.url.split("/agenda/")[0] + f"/agenda?jour={day}")
    expect(page.locator(".agenda-rdv", has_text=f"{name} (1/8)")).to_be_visible()


def _session_with_two_participants(database_url: str, day: str) -> int:
    """A session of Julien Petit's "Atelier massage bébé" with two participants, as another agent made it."""
    with UnitOfWork(database_url) as uow:
        agent = uow.session.exec(select(Agent).where(Agent.email == "julien.petit@demo.test")).one()
        organisations = select(AgentRole.organisation_id).where(AgentRole.agent_id == agent.id)
        motif = uow.session.exec(select(Motif).where(Motif.name == "Atelier massage bébé",
                                                     col(Motif.organisation_id).in_(organisations))).first()
        assert motif is not None
        lieu_id = uow.session.exec(select(Lieu.id).where(Lieu.organisation_id == motif.organisation_id,
                                                         Lieu.availability == "enabled")
                                   .order_by(col(Lieu.id))).first()
        usager_ids = uow.session.exec(
            select(Usager.id).join(UsagerProfile, col(UsagerProfile.usager_id) == Usager.id)
            .where(UsagerProfile.organisation_id == motif.organisation_id, col(Usager.responsible_id).is_(None),
                   col(Usager.deleted_at).is_(None)).order_by(col(Usager.id)).limit(2)).all()
        agent_id, organisation_id, motif_id = agent.id, motif.organisation_id, motif.id
    assert agent_id and lieu_id and motif_id and len(usager_ids) == 2
    starts_at = datetime.combine(datetime.fromisoformat(day).date(), time(17), PARIS)
    with UnitOfWork(database_url) as uow:
        (rdv_id,) = lifecycle.create_collectif_rdv(
            uow, agent_id, organisation_id, motif_id=motif_id, name="Massage du soir", starts_at=starts_at,
            duration_in_min=60, agent_ids=[agent_id], lieu_id=lieu_id, max_participants_count=8)
    for usager_id in usager_ids:
        with UnitOfWork(database_url) as uow:
            lifecycle.add_participant(uow, agent_id, organisation_id, rdv_id, usager_id, notify=(False, False))  # type: ignore[arg-type]
    return rdv_id


def test_an_agent_edits_an_atelier_warned_of_a_long_name_then_duplicates_it(
        page: Page, app_url: str, app_database_url: str, login_as, assert_accessible) -> None:
    rdv_id = _session_with_two_participants(app_database_url, _next_weekday(24))
    login_as("julien.petit@demo.test")
    page.goto(app_url + routes.rdv_page(rdv_id))
    expect(page.get_by_text("Places occupées : 2/8")).to_be_visible()
    page.get_by_role("button", name="Modifier le nom, la date, le lieu, les agents ou les places").click()
    expect(page.get_by_role("heading", name="Modifier l'atelier")).to_be_visible()
    name = page.get_by_label("Nom de l'atelier (facultatif)")
    expect(name).to_have_value("Massage du soir")
    expect(page.get_by_role("group", name="Agents").get_by_role("checkbox").first).to_be_visible()  # the choices loaded

    long_name = "Massage du soir pour les bébés de moins de six mois et leurs parents"
    name.fill(long_name)
    expect(page.get_by_text("il sera tronqué dans les SMS")).to_be_visible()
    page.get_by_label("Nombre de places").fill("1")
    page.get_by_role("button", name="Enregistrer les modifications").click()
    expect(page.get_by_text("Cet atelier compte déjà 2 participants inscrits")).to_be_visible()
    assert_accessible(page)

    page.get_by_label("Nombre de places").fill("3")
    page.get_by_role("button", name="Enregistrer les modifications").click()
    expect(page.get_by_text("Le rendez-vous a été modifié.")).to_be_visible()
    expect(page.get_by_text("Places occupées : 2/3")).to_be_visible()
    expect(page.get_by_text(f"Nom de l'atelier : Massage du soir → {long_name}")).to_be_visible()

    page.get_by_role("button", name="Dupliquer à une autre date").click()
    expect(page.get_by_role("heading", name="Dupliquer l'atelier")).to_be_visible()
    page.get_by_label("Date du nouvel atelier").fill(_next_weekday(31))
    assert_accessible(page)
    page.get_by_role("button", name="Créer la copie").click()
    expect(page).not_to_have_url(re.compile(f"/rdv/{rdv_id}$"))
    expect(page.get_by_text("Places occupées : 0/3")).to_be_visible()
    expect(page.get_by_text("Massage du soir pour les bébés").first).to_be_visible()
