"""The database refuses a request (SQLite's write lock held by someone else past the app's busy timeout,
RDV_SQLITE_BUSY_TIMEOUT=10 in the browser tests' server): the person reads in French that nothing was
recorded, the button comes back, and the next click, once the database answers, records it once."""

from __future__ import annotations

import dataclasses
import re
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from conftest import sign_up_and_reach_confirmation
from playwright.sync_api import Page, expect
from sqlalchemy.engine import make_url
from sqlmodel import col, func, select

from rdv_app.db.models import Agent, Participation, Usager
from rdv_app.db.uow import UnitOfWork
from rdv_app.services.agents import agent_account

JULIEN = "julien.petit@demo.test"
# Two tries of 10 s each for a booking, and a loaded machine.
REFUSAL_SHOWN = 90_000


@contextmanager
def write_lock_held(database_url: str) -> Iterator[None]:
    """Another connection holds SQLite's write lock: reads go on, every writer waits, then is refused."""
    connection = sqlite3.connect(make_url(database_url).database or "", isolation_level=None)
    connection.execute("BEGIN IMMEDIATE")
    try:
        yield
    finally:
        connection.execute("ROLLBACK")
        connection.close()


def test_a_booking_the_database_refuses_says_so_and_the_next_click_books_once(
        phone: Page, app_url: str, app_database_url: str) -> None:
    page = phone
    _chosen, email = sign_up_and_reach_confirmation(page, app_url, app_database_url, "Nina", "Caron")
    confirm = page.get_by_role("button", name="Confirmer mon RDV")
    expect(confirm).to_be_enabled()

    with write_lock_held(app_database_url):
        confirm.click()
        expect(page.get_by_text("Le service est momentanément indisponible : votre rendez-vous n'a pas été "
                                "enregistré.")).to_be_visible(timeout=REFUSAL_SHOWN)
        expect(confirm).to_be_enabled()
    assert _rdvs_of(app_database_url, email) == 0

    confirm.click()
    expect(page.get_by_role("heading", name="Votre rendez-vous est confirmé")).to_be_visible()
    assert _rdvs_of(app_database_url, email) == 1


def _rdvs_of(database_url: str, email: str) -> int:
    with UnitOfWork(database_url) as uow:
        return uow.session.exec(select(func.count(col(Participation.rdv_id))).join(Usager)
                                .where(Usager.email == email)).one()


@pytest.fixture
def julien_preferences(app_database_url: str, app_url: str) -> Iterator[int]:
    """Julien's preferences come back afterwards: other browser tests sign in as Julien too."""
    with UnitOfWork(app_database_url) as uow:
        agent_id = uow.session.exec(select(Agent.id).where(Agent.email == JULIEN)).one()
        before = agent_account.get_preferences(uow, agent_id)
        agent_account.update_preferences(uow, agent_id, **{**dataclasses.asdict(before), "display_saturdays": False})
    yield agent_id
    with UnitOfWork(app_database_url) as uow:
        agent_account.update_preferences(uow, agent_id, **dataclasses.asdict(before))


def test_an_unforeseen_failure_shows_a_french_message_with_a_reference_and_gives_the_button_back(
        page: Page, login_as, app_database_url: str, julien_preferences: int) -> None:
    login_as(JULIEN)
    page.get_by_role("link", name="Mon compte : Julien Petit").click()
    saturdays = page.get_by_label("Afficher les samedis")
    expect(saturdays).not_to_be_checked()
    saturdays.check()
    save = page.get_by_role("button", name="Enregistrer mes préférences")

    with write_lock_held(app_database_url):
        save.click()
        expect(page.get_by_text(re.compile(
            r"Une erreur est survenue, votre demande n'a pas été enregistrée\. Réessayez dans un instant\. "
            r"\(réf\. [0-9A-F]{8}\)"))).to_be_visible(timeout=REFUSAL_SHOWN)
        expect(save).to_be_enabled()
    assert not page.get_by_text("An error occurred").is_visible()
    with UnitOfWork(app_database_url) as uow:
        assert uow.session.get(Agent, julien_preferences).display_saturdays is False  # type: ignore[union-attr]

    save.click()
    expect(page.get_by_role("status").filter(has_text="Vos préférences ont été enregistrées.")).to_be_visible()
    with UnitOfWork(app_database_url) as uow:
        assert uow.session.get(Agent, julien_preferences).display_saturdays is True  # type: ignore[union-attr]
