"""An usager of the Mairies territory books a passport slot with a pre-demande number that the served app
checks live with the loopback ANTS hub (tests/fakes/ants_hub.py), then the RDV is declared to ANTS. The
numbers are typed on a slow connection (the server's answers arrive late): each verdict is about the number
the field shows."""

from __future__ import annotations

import re
import time
import uuid
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from conftest import sign_in_link, week_with_times
from fakes.ants_hub import FakeAntsHub
from playwright.sync_api import Page, expect
from sqlmodel import select
from test_forms_born_loaded import SLOW_SOCKET

from rdv_app.db.models import (
    Agent,
    AgentRole,
    Lieu,
    Motif,
    MotifCategory,
    Organisation,
    PlageOuverture,
    PlageOuvertureMotif,
    Service,
    Territory,
    Usager,
)
from rdv_app.db.uow import UnitOfWork
from rdv_app.domain import ants
from rdv_app.domain.recurrence import Recurrence


def _mairie(database_url: str) -> int:
    """A mairie of the Mairies territory with a passport motif open online, every weekday 9:00-17:00."""
    suffix = uuid.uuid4().hex[:6]
    with UnitOfWork(database_url) as uow:
        s = uow.session
        territory = s.exec(select(Territory).where(Territory.name == ants.MAIRIES_TERRITORY)).first()
        if territory is None:
            territory = Territory(departement_number="MA", name=ants.MAIRIES_TERRITORY)
            s.add(territory)
            s.flush()
        service = s.exec(select(Service).where(Service.name == "Mairie")).one()
        category = s.exec(select(MotifCategory).where(
            MotifCategory.name == ants.CATEGORY_NAMES[ants.Reason.PASSPORT])).one()
        org = Organisation(territory_id=territory.id, name=f"Mairie de Seclin {suffix}", slug=f"seclin-{suffix}",
                           timezone="Europe/Paris")
        s.add(org)
        s.flush()
        lieu = Lieu(organisation_id=org.id, name="Mairie de Seclin", address="89 rue Roger Bouvry, Seclin, 59113")
        agent = Agent(email=f"guichet-{suffix}@seclin.test", first_name="Anne", last_name="Guichet")
        s.add_all([lieu, agent])
        s.flush()
        s.add(AgentRole(agent_id=agent.id, organisation_id=org.id, access_level="admin"))
        motif = Motif(organisation_id=org.id, service_id=service.id, name="Passeport", motif_category_id=category.id,
                      default_duration_in_min=15, bookable_by="everyone")
        s.add(motif)
        s.flush()
        today = datetime.now(ZoneInfo("Europe/Paris")).date()
        plage = PlageOuverture(agent_id=agent.id, organisation_id=org.id, lieu_id=lieu.id, title="Titres",
                               first_day=today, start_time=datetime.min.time().replace(hour=9),
                               end_time=datetime.min.time().replace(hour=17),
                               recurrence=Recurrence.weekly((0, 1, 2, 3, 4)).to_json(),
                               recurrence_until=today + timedelta(days=120))
        s.add(plage)
        s.flush()
        s.add(PlageOuvertureMotif(plage_ouverture_id=plage.id, motif_id=motif.id))
        uow.commit()
        return org.id  # type: ignore[return-value]


def test_a_passport_is_booked_with_a_pre_demande_number_checked_by_ants(
        page: Page, app_url: str, app_database_url: str, ants_hub: FakeAntsHub, assert_accessible) -> None:
    ants_hub.numbers |= {"CONSUMED12": "consumed", "PASSE12345": "validated"}
    org_id = _mairie(app_database_url)
    page.add_init_script(SLOW_SOCKET)
    page.goto(f"{app_url}/org/{org_id}")
    page.get_by_role("link", name=re.compile("^Passeport")).first.click()
    page.get_by_role("link", name=re.compile("Prochaine disponibilité le")).first.click()
    times = week_with_times(page)
    times.first.click()

    email = f"usager-{uuid.uuid4().hex[:8]}@exemple.fr"
    page.get_by_label("Prénom").fill("Inès")
    page.get_by_label("Nom", exact=True).fill("Martin")
    page.get_by_label("Adresse email", exact=True).fill(email)
    page.get_by_role("button", name="Créer mon compte").click()
    expect(page.get_by_role("status").filter(has_text="Un email vient de vous être envoyé")).to_be_visible()
    page.goto(sign_in_link(app_database_url, email))
    page.get_by_role("button", name="Me connecter et reprendre ma réservation").click()
    page.get_by_role("button", name="Continuer").click()
    page.get_by_role("link", name="Inès Martin (moi)").click()

    expect(page.get_by_role("heading", name="Vérifiez votre rendez-vous")).to_be_visible()
    number = page.get_by_label("Numéro de pré-demande ANTS")
    confirm = page.get_by_role("button", name="Confirmer mon RDV")
    expect(number).to_be_visible()
    expect(confirm).to_be_disabled()  # nothing typed yet
    assert_accessible(page)

    # An usager on a slow phone: the server's answers (the field's last value, the verdicts) come late.
    page.evaluate("window.slowSocketMs = 800")
    number.fill("abc12")
    number.blur()
    expect(page.get_by_text(ants.FORMAT_ERROR)).to_be_visible()
    expect(number).to_have_attribute("aria-invalid", "true")
    expect(confirm).to_be_disabled()
    assert ants_hub.calls_to("GET", "/api/status") == []  # the format is checked before asking ANTS
    assert_accessible(page)

    number.fill("consumed12")
    number.blur()
    expect(page.get_by_text("Ce numéro de pré-demande ANTS correspond à un dossier déjà instruit.")).to_be_visible()
    expect(confirm).to_be_disabled()

    number.clear()
    number.press_sequentially("passe12345")  # key by key, faster than the answers
    number.blur()
    expect(page.get_by_text("Numéro reconnu par l'ANTS.")).to_be_visible()
    expect(number).to_have_value("passe12345")  # shown upper-cased
    expect(number).to_have_attribute("aria-invalid", "false")
    page.evaluate("window.slowSocketMs = 0")
    assert_accessible(page)
    expect(confirm).to_be_enabled()
    confirm.click()

    expect(page.get_by_role("heading", name="Votre rendez-vous est confirmé")).to_be_visible()
    assert_accessible(page)
    with UnitOfWork(app_database_url) as uow:
        stored = uow.session.exec(select(Usager.ants_pre_demande_number).where(Usager.email == email)).one()
    assert stored == "PASSE12345"
    # The app's worker declares the RDV to ANTS: the appointment appears at the hub.
    deadline = time.monotonic() + 60
    while not ants_hub.declared("PASSE12345") and time.monotonic() < deadline:
        time.sleep(0.2)
    (declared,) = ants_hub.declared("PASSE12345")
    assert declared["meeting_point"] == "Mairie de Seclin"
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:00", declared["appointment_date"])
