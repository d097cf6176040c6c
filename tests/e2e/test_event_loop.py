"""A database writer that waits never freezes the other people's pages (issue 14).

Reflex serves every connected person from one event loop. Here another connection holds SQLite's write
lock for 5 seconds; meanwhile an agent opens a page, whose session check has to wait for that lock, and an
usager moves to the next week of slots. The usager's page must answer within a second: the agent's wait
happens on a worker thread, not on the loop. The only timed assertion of the browser tests, asked for by
the issue. The figures (with the same answer without the lock, for comparison) are printed
(`pytest -rP`) and kept in the test's user properties.
"""

from __future__ import annotations

import re
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest
from conftest import PHONE, open_booking_week
from playwright.sync_api import Browser, Page, expect

LOCK_SECONDS = 5.0
ANSWER_SECONDS = 1.0


class HeldLock:
    def __init__(self) -> None:
        self.taken = threading.Event()
        self.released = threading.Event()


@contextmanager
def write_lock_held(database_url: str, seconds: float) -> Iterator[HeldLock]:
    """Another connection takes SQLite's write lock, writes, and keeps its transaction open `seconds`."""
    lock = HeldLock()

    def hold() -> None:
        connection = sqlite3.connect(database_url.removeprefix("sqlite:///"), isolation_level=None)
        try:
            connection.execute("BEGIN IMMEDIATE")
            connection.execute("UPDATE organisation SET updated_at = updated_at")
            lock.taken.set()
            time.sleep(seconds)  # the scenario itself: a transaction that takes its time
            connection.execute("ROLLBACK")
        finally:
            lock.released.set()
            connection.close()

    holder = threading.Thread(target=hold, daemon=True)
    holder.start()
    try:
        assert lock.taken.wait(10), "the write lock could not be taken"
        yield lock
    finally:
        holder.join()


@pytest.fixture
def usager(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(**PHONE, locale="fr-FR", timezone_id="Europe/Paris")
    yield context.new_page()
    context.close()


def test_an_agent_waiting_for_the_write_lock_does_not_freeze_an_usagers_page(
        page: Page, usager: Page, app_url: str, app_database_url: str, login_as: Callable[[str], None],
        request: pytest.FixtureRequest) -> None:
    open_booking_week(usager, app_url, "Consultation pédiatrique")
    week_title = usager.get_by_role("heading", name=re.compile("^Semaine du "))
    next_week = usager.get_by_role("link", name="Semaine suivante →")
    # For the record: the same answer with nobody waiting for the lock.
    shown_week, started = week_title.text_content(), time.monotonic()
    next_week.click()
    expect(week_title).not_to_have_text(shown_week)
    without_lock = time.monotonic() - started
    shown_week = week_title.text_content()
    login_as("camille.martin@demo.test")
    # A new tab of the signed-in agent: its page knows nobody until it has checked the session cookie (the
    # tab that signed in has just checked it and would not ask the database again).
    agent_tab = page.context.new_page()
    checking = agent_tab.get_by_text("Vérification de votre session…")
    agenda_heading = agent_tab.get_by_role("heading", level=1, name="Agenda")

    with write_lock_held(app_database_url, LOCK_SECONDS) as lock:
        # The agent's session check is a write: it waits for the lock.
        agent_tab.goto(f"{app_url}/agenda")
        expect(checking).to_be_visible()

        started = time.monotonic()
        next_week.click()
        expect(week_title).not_to_have_text(shown_week)
        answered = time.monotonic() - started
        request.node.user_properties += [("usager_answer_seconds", round(answered, 3)),
                                         ("usager_answer_seconds_without_lock", round(without_lock, 3))]
        print(f"usager's next week: {answered:.3f} s while an agent waited for the write lock, "
              f"{without_lock:.3f} s without")

        assert not lock.released.is_set(), "the lock was released before the usager's page answered"
        expect(checking).to_be_visible()
        expect(agenda_heading).to_have_count(0)

    assert answered < ANSWER_SECONDS, f"the usager waited {answered:.2f} s"
    # Once the lock is free, the agent's page opens too.
    expect(agenda_heading).to_be_visible()
