"""« Changer la date » (UsagerRdvMoveState, Reflex's own state tree, on SQLite and PostgreSQL): a plain click on
a link to another week shows that week in one event, reading the week only with the usager's right to move
the RDV, and pushes the link's address into the tab's history; a page read over a minute ago, or an RDV
whose date can no longer be changed, loads that address instead."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from urllib.parse import parse_qsl, urlsplit

import factories as make
import pytest
import time_machine
from factories import at_paris
from sqlmodel import select
from state_tab import Tab, app_database, pushed, redirected

from rdv_app import routes
from rdv_app.auth import rate_limit
from rdv_app.auth.tokens import hash_token
from rdv_app.db.models import Motif, Participation, UsagerSession
from rdv_app.db.uow import UnitOfWork
from rdv_app.services.rdv.lifecycle import book_rdv
from rdv_app.state.usager_rdv_move import UsagerRdvMoveState

NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)  # Friday 4 December 2026, no public holiday in the weeks shown
pytestmark = pytest.mark.clock(NOW, tick=False)
MONDAY, NEXT_MONDAY = date(2026, 12, 7), date(2026, 12, 14)
COOKIE = f"{routes.USAGER_SESSION_COOKIE}=jeton-de-nadia"
# A change of week: the usager's right to move this RDV (the usager, their participation, the RDV, its lieu:
# 7 statements), then the week of slots (4, tests/integration/test_slot_query_count.py); a load sends 19.
WEEK_STATEMENTS = 11


@dataclass
class World:
    motif: int
    participation: int


@pytest.fixture
def world(db_url: str) -> Iterator[World]:
    """Nadia, signed in, has an RDV on Monday 7 December at 09h30 that she may move: the motif is open online
    weekdays 09h00–11h00."""
    rate_limit.reset_all()
    with UnitOfWork(db_url) as uow:
        s = uow.session
        territory = make.territory(s)
        service = make.service(s, "PMI")
        org = make.organisation(s, territory, phone_number="03 21 00 00 00")
        agent = make.agent(s, "julien.petit@demo.test", "Julien", "Petit", organisation=org, services=[service])
        lieu = make.lieu(s, org)
        motif = make.motif(s, org, service, default_duration_in_min=30, bookable_by="everyone",
                           min_public_booking_delay=1800, max_public_booking_delay=60 * 86400)
        nadia = make.usager(s, "Nadia", "Berger", email="nadia@exemple.fr", created_through="user_sign_up")
        make.plage(s, agent, org, lieu, [motif], title="Permanence", first_day=date(2026, 11, 2),
                   start_time=time(9), end_time=time(11),
                   recurrence={"every": "week", "on": ["monday", "tuesday", "wednesday", "thursday", "friday"]},
                   created_at=NOW - timedelta(days=10))
        s.add(UsagerSession(usager_id=nadia.id, token_hash=hash_token("jeton-de-nadia")))
        uow.commit()
        motif_id, lieu_id, nadia_id = motif.id, lieu.id, nadia.id
        rdv_id = book_rdv(uow, nadia_id, motif_id=motif_id, starts_at=at_paris(MONDAY, 9, 30),  # type: ignore[arg-type]
                          lieu_id=lieu_id, booking_key="k0", now=NOW).rdv_id
        participation = uow.session.exec(select(Participation.id).where(Participation.rdv_id == rdv_id)).one()
    with app_database(db_url):
        yield World(motif_id, participation)  # type: ignore[arg-type]
    rate_limit.reset_all()


def _times(page: UsagerRdvMoveState, day: int = 0) -> list[str]:
    return [t.label for t in page.days[day].times]


def test_a_plain_click_on_another_week_shows_it_in_one_event_and_pushes_its_address(world: World) -> None:
    async def scenario() -> None:
        tab = Tab(os.environ["REFLEX_DB_URL"], UsagerRdvMoveState, COOKIE)
        page = await tab.go(routes.usager_rdv_move(world.participation, week=MONDAY.isoformat()))
        assert page.step == "creneau" and page.week_title == "Semaine du lundi 7 décembre 2026"
        assert _times(page) == ["09h00", "10h00", "10h30"]  # her own 09h30 is taken
        loaded = len(tab.statements)
        next_href, current = page.next_week_href, (page.title, page.current_when, page.place)

        page, asked = await tab.click_week("next")
        assert len(tab.statements) <= WEEK_STATEMENTS < loaded
        assert page.week_title == "Semaine du lundi 14 décembre 2026"
        assert page.days[0].label == "lundi 14 décembre 2026"
        assert _times(page) == ["09h00", "09h30", "10h00", "10h30"]
        assert all(t.value.startswith("2026-12-14T") for t in page.days[0].times)
        assert page.slot_base_href.endswith("semaine=2026-12-14&creneau=")
        assert pushed(asked) == next_href == routes.usager_rdv_move(world.participation, week="2026-12-14")
        assert (page.title, page.current_when, page.place) == current and page.step == "creneau"
        assert dict(parse_qsl(urlsplit(page.next_week_href).query))["semaine"] == "2026-12-21"

        page, asked = await tab.click_week("previous")
        assert page.week_title == "Semaine du lundi 7 décembre 2026" and len(tab.statements) <= WEEK_STATEMENTS
        assert pushed(asked) == routes.usager_rdv_move(world.participation, week=MONDAY.isoformat())
        assert _times(page) == ["09h00", "10h00", "10h30"]

        page = await tab.go(page.next_week_href)  # then the back or forward button: the page's load
        assert page.week_title == "Semaine du lundi 14 décembre 2026" and page.step == "creneau"

    asyncio.run(scenario())


def test_a_click_on_a_week_of_a_page_that_can_no_longer_be_paged_loads_its_address(world: World) -> None:
    db_url = os.environ["REFLEX_DB_URL"]

    async def scenario() -> None:
        tab = Tab(db_url, UsagerRdvMoveState, COOKIE)
        page = await tab.go(routes.usager_rdv_move(world.participation, week=MONDAY.isoformat()))
        next_href = page.next_week_href
        with time_machine.travel(NOW + timedelta(seconds=61), tick=False):
            page, asked = await tab.click_week("next")
        assert redirected(asked) == next_href
        assert page.week_title == "Semaine du lundi 7 décembre 2026"

        page = await tab.go(next_href)  # that address loaded; then the motif no longer lets usagers move
        with UnitOfWork(db_url) as uow:
            motif = uow.session.get(Motif, world.motif)
            assert motif is not None
            motif.rdvs_editable_by_user = False
            uow.commit()
        previous_href = page.previous_week_href
        page, asked = await tab.click_week("previous")
        assert redirected(asked) == previous_href and page.week_title == "Semaine du lundi 14 décembre 2026"
        page = await tab.go(previous_href)
        assert page.step == "" and page.page_error == ("La date de ce rendez-vous ne peut pas être changée en ligne. Pour la "
                                                     "changer, contactez PMI Arras au 03 21 00 00 00.")

    asyncio.run(scenario())


def test_a_click_off_the_week_step_does_nothing(world: World) -> None:
    async def scenario() -> None:
        tab = Tab(os.environ["REFLEX_DB_URL"], UsagerRdvMoveState, COOKIE)
        page = await tab.go(routes.usager_rdv_move(world.participation, week=MONDAY.isoformat()))
        page = await tab.go(page.slot_base_href + page.days[1].times[0].value)  # Tuesday 09h00: confirm it
        assert page.step == "confirmation" and page.new_when == "mardi 8 décembre 2026 à 09h00"
        page, asked = await tab.click_week("next")
        assert asked is None and not tab.statements and page.step == "confirmation"
        page, asked = await tab.click_week("elsewhere")
        assert asked is None and page.step == "confirmation"

        stranger = Tab(os.environ["REFLEX_DB_URL"], UsagerRdvMoveState)  # no session: nothing to page
        page = await stranger.go(routes.usager_rdv_move(world.participation, week=MONDAY.isoformat()))
        assert not page.signed_in
        page, asked = await stranger.click_week("next")
        assert asked is None and not stranger.statements

    asyncio.run(scenario())
