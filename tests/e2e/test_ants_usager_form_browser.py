"""An agent of a mairie types an usager's pre-demande number in the agents' usager form (desktop, axe on each
state): as they leave the field, the served app checks it with the loopback ANTS hub (tests/fakes/ants_hub.py)
and shows it upper-cased, with ANTS's word under it: a consumed number is an error, a number already used
for another RDV a warning, a valid number is recognised and saved (integrations.md 1d)."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable

from fakes.ants_hub import FakeAntsHub
from playwright.sync_api import Page, expect
from sqlmodel import select
from test_ants_booking_browser import _mairie

from rdv_app.auth.passwords import hash_password
from rdv_app.db.models import Agent, AgentRole, Usager
from rdv_app.db.uow import UnitOfWork

PASSWORD = "Guichet-Titres-2026"


def _agent_of(database_url: str, organisation_id: int) -> str:
    """The mairie's agent, given a password to sign in with; its email."""
    with UnitOfWork(database_url) as uow:
        agent = uow.session.exec(select(Agent).join(AgentRole, AgentRole.agent_id == Agent.id)
                                 .where(AgentRole.organisation_id == organisation_id)).one()
        agent.password_hash = hash_password(PASSWORD)
        uow.session.add(agent)
        uow.commit()
        return agent.email


def test_the_agent_sees_antss_word_on_the_number_as_they_leave_the_field(
        page: Page, app_url: str, app_database_url: str, ants_hub: FakeAntsHub, login_as: Callable[..., None],
        assert_accessible: Callable[[Page], None]) -> None:
    ants_hub.numbers |= {"CONSUMED12": "consumed", "USEDAGAIN1": "validated", "VALIDE1234": "validated"}
    ants_hub.appointments["USEDAGAIN1"] = [{"meeting_point": "Mairie de Lille", "meeting_point_id": "3",
                                            "appointment_date": "2030-01-01 10:00:00",
                                            "management_url": "https://rdv.exemple.fr/r/42"}]
    page.set_viewport_size({"width": 1280, "height": 900})
    login_as(_agent_of(app_database_url, _mairie(app_database_url)), PASSWORD)
    page.goto(f"{app_url}/usagers/nouveau")
    form = page.get_by_role("form", name="Créer un usager")
    number = form.get_by_label("Numéro de pré-demande ANTS (facultatif)")
    expect(number).to_be_enabled(timeout=15_000)
    last_name = f"Titres-{uuid.uuid4().hex[:6]}"
    form.get_by_label("Prénom").fill("Marc")
    form.get_by_label("Nom d'usage").fill(last_name)

    number.fill("consumed12")
    number.press("Tab")
    expect(form.get_by_text("Ce numéro de pré-demande ANTS correspond à un dossier déjà instruit.")).to_be_visible(
        timeout=15_000)
    expect(number).to_have_value("CONSUMED12")
    expect(number).to_have_attribute("aria-invalid", "true")
    assert_accessible(page)

    number.fill("usedagain1")
    number.press("Tab")
    expect(form.get_by_text(re.compile("^Ce numéro de pré-demande ANTS est déjà utilisé pour un RDV auprès de "
                                       "Mairie de Lille"))).to_be_visible(timeout=15_000)
    expect(form.get_by_role("link", name="Voir ce rendez-vous")).to_have_attribute("href",
                                                                                 "https://rdv.exemple.fr/r/42")
    expect(number).to_have_attribute("aria-invalid", "false")
    assert_accessible(page)

    number.fill(" valide1234 ")
    number.press("Tab")
    expect(form.get_by_text("Numéro reconnu par l'ANTS.")).to_be_visible(timeout=15_000)
    expect(number).to_have_value("VALIDE1234")
    assert_accessible(page)
    form.get_by_role("button", name="Créer usager").click()
    page.wait_for_url(re.compile(r"/usagers/\d+$"), timeout=15_000)
    with UnitOfWork(app_database_url, read_only=True) as uow:
        saved = uow.session.exec(select(Usager).where(Usager.last_name == last_name)).one()
        assert saved.ants_pre_demande_number == "VALIDE1234"
