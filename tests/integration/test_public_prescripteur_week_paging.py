"""The prescripteurs' search (PublicPrescripteurState, Reflex's own state tree, on SQLite and PostgreSQL): a
plain click on a link to another week shows that week in one event, reading the week only for the choices
made before it, and pushes the link's address into the tab's history; a search walked over a minute ago, or
whose motif closed meanwhile, loads that address instead."""

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
from state_tab import Tab, app_database, pushed, redirected

from rdv_app import routes
from rdv_app.auth import rate_limit
from rdv_app.db.models import Lieu, Motif
from rdv_app.db.uow import UnitOfWork
from rdv_app.services.rdv.lifecycle import SLOT_TAKEN
from rdv_app.state.public_prescripteur import PublicPrescripteurState

NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)  # Friday 4 December 2026, no public holiday in the weeks shown
pytestmark = pytest.mark.clock(NOW, tick=False)
# A change of week: the motif and lieu still open to prescripteurs (2 statements), then the week of slots (4,
# tests/integration/test_slot_query_count.py); a load sends 17.
WEEK_STATEMENTS = 6


@dataclass
class World:
    motif: int
    centre: int


@pytest.fixture
def world(db_url: str) -> Iterator[World]:
    """A motif open to prescripteurs at two lieux of PMI Arras: weekday mornings at the centre, afternoons at
    the annexe."""
    rate_limit.reset_all()
    with UnitOfWork(db_url) as uow:
        s = uow.session
        territory = make.territory(s)
        service = make.service(s, "PMI")
        org = make.organisation(s, territory, phone_number="03 21 00 00 00")
        agent = make.agent(s, "julien.petit@demo.test", "Julien", "Petit", organisation=org, services=[service])
        centre = make.lieu(s, org, "Centre", "1 rue A, 62000 Arras")
        annexe = make.lieu(s, org, "Annexe", "2 rue B, 62000 Arras")
        motif = make.motif(s, org, service, "Consultation PMI", bookable_by="agents_and_prescripteurs",
                           min_public_booking_delay=2 * 3600, max_public_booking_delay=60 * 86400)
        for lieu, start, end in ((centre, 9, 11), (annexe, 14, 16)):
            make.plage(s, agent, org, lieu, [motif], title="Permanence", first_day=date(2026, 11, 2),
                       start_time=time(start), end_time=time(end),
                       recurrence={"every": "week", "on": ["monday", "tuesday", "wednesday", "thursday", "friday"]},
                       created_at=NOW - timedelta(days=10))
        uow.commit()
        found = World(motif.id, centre.id)  # type: ignore[arg-type]
    with app_database(db_url):
        yield found
    rate_limit.reset_all()


async def _week_of_the_centre(tab: Tab) -> PublicPrescripteurState:
    """The prescripteur's search as they click through it: the département, the motif, then the centre and
    its week from today."""
    page = await tab.go(f"{routes.PUBLIC_PRESCRIPTEUR}?departement=62")
    assert page.step == "motif"
    page = await tab.go(next(c.href for c in page.choices if c.label == "Consultation PMI (sur place)"))
    assert page.step == "lieu"
    page = await tab.go(next(c.href for c in page.choices if c.label == "Centre"))
    assert page.step == "creneau" and page.week_title == "Semaine du vendredi 4 décembre 2026"
    return page


def _times(page: PublicPrescripteurState, day: int = 0) -> list[str]:
    return [t.label for t in page.days[day].times]


def _semaine(href: str) -> str:
    return dict(parse_qsl(urlsplit(href).query))["semaine"]


def _set(db_url: str, model: type[Motif] | type[Lieu], row_id: int, **values: object) -> None:
    with UnitOfWork(db_url) as uow:
        row = uow.session.get(model, row_id)
        assert row is not None
        for name, value in values.items():
            setattr(row, name, value)
        uow.commit()


def test_a_plain_click_on_another_week_shows_it_in_one_event_and_pushes_its_address(world: World) -> None:
    async def scenario() -> None:
        tab = Tab(os.environ["REFLEX_DB_URL"], PublicPrescripteurState)
        page = await _week_of_the_centre(tab)
        assert _times(page, 3) == ["09h00", "09h30", "10h00", "10h30"]  # Monday 7 December
        loaded = len(tab.statements)
        summary, change_href = [(r.label, r.value) for r in page.summary], page.change_href
        next_href = page.next_week_href

        page, asked = await tab.click_week("next")
        assert len(tab.statements) <= WEEK_STATEMENTS < loaded
        assert page.week_title == "Semaine du vendredi 11 décembre 2026"
        assert page.days[0].label == "vendredi 11 décembre 2026"
        assert _times(page) == ["09h00", "09h30", "10h00", "10h30"]
        assert all(t.value.startswith("2026-12-11T") for t in page.days[0].times)
        assert "semaine=2026-12-11" in page.slot_base_href and page.slot_base_href.endswith("creneau=")
        assert pushed(asked) == next_href and _semaine(next_href) == "2026-12-11"
        assert page._params == dict(parse_qsl(urlsplit(next_href).query))
        assert [(r.label, r.value) for r in page.summary] == summary and page.change_href == change_href
        assert _semaine(page.next_week_href) == "2026-12-18"

        page, asked = await tab.click_week("previous")
        assert page.week_title == "Semaine du vendredi 4 décembre 2026" and len(tab.statements) <= WEEK_STATEMENTS
        assert _semaine(pushed(asked)) == "2026-12-04"

        # A slot of the week shown in place is the prescripteur's choice, with every choice before it.
        page = await tab.go(page.slot_base_href + page.days[3].times[0].value)
        assert page.step == "prescripteur"
        assert ("Date", "lundi 7 décembre 2026 à 09h00") in [(r.label, r.value) for r in page.summary]

    asyncio.run(scenario())


def test_the_following_availability_is_shown_in_place(world: World) -> None:
    db_url = os.environ["REFLEX_DB_URL"]
    _set(db_url, Motif, world.motif, min_public_booking_delay=16 * 86400)  # from Sunday 20 December, 13h00

    async def scenario() -> None:
        tab = Tab(db_url, PublicPrescripteurState)
        page = await _week_of_the_centre(tab)
        assert page.week_is_empty and page.next_label == "Prochaine disponibilité le lundi 21 décembre 2026 à 09h00"
        following = page.next_href
        assert _semaine(following) == "2026-12-21"

        page, asked = await tab.click_week("following")
        assert pushed(asked) == following and len(tab.statements) <= WEEK_STATEMENTS
        assert page.week_title == "Semaine du lundi 21 décembre 2026" and not page.week_is_empty
        assert _times(page) == ["09h00", "09h30", "10h00", "10h30"]

    asyncio.run(scenario())


def test_a_click_on_a_week_of_a_search_that_can_no_longer_be_paged_loads_its_address(world: World) -> None:
    db_url = os.environ["REFLEX_DB_URL"]

    async def scenario() -> None:
        tab = Tab(db_url, PublicPrescripteurState)
        page = await _week_of_the_centre(tab)
        next_href = page.next_week_href
        with time_machine.travel(NOW + timedelta(seconds=61), tick=False):
            page, asked = await tab.click_week("next")
        assert redirected(asked) == next_href
        assert page.week_title == "Semaine du vendredi 4 décembre 2026"

        page = await tab.go(next_href + "&indisponible=1")  # back to the week: the slot was taken meanwhile
        assert page.notice == SLOT_TAKEN and "indisponible" not in page.previous_week_href
        page, asked = await tab.click_week("previous")  # an address changed by more than its week
        assert redirected(asked) == page.previous_week_href and page.notice == SLOT_TAKEN

        page = await tab.go(next_href)  # that address loaded: a whole walk; then the motif closes to them
        _set(db_url, Motif, world.motif, bookable_by="agents")
        previous_href = page.previous_week_href
        page, asked = await tab.click_week("previous")
        assert redirected(asked) == previous_href and page.week_title == "Semaine du vendredi 11 décembre 2026"
        page = await tab.go(previous_href)
        assert page.step != "creneau"

        page, asked = await tab.click_week("next")  # not a week any more: nothing to page
        assert asked is None and not tab.statements

    asyncio.run(scenario())
