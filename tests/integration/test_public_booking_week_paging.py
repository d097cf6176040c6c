"""Paging the weeks of slots on the usagers' booking page (PublicBookingState.load, Reflex's own state tree,
on SQLite and PostgreSQL): a change of week reads the week only, and shows the right one; any other change
of the address, or a page walked more than a minute ago, works the whole page out again."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest
import time_machine
from state_tab import Tab, app_database, pushed

from rdv_app import routes
from rdv_app.db.models import (
    Agent,
    Lieu,
    Motif,
    Organisation,
    PlageOuverture,
    PlageOuvertureMotif,
    Service,
    Territory,
)
from rdv_app.db.uow import UnitOfWork
from rdv_app.state.public_booking import PublicBookingState

NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)  # Friday 4 December 2026, no public holiday in the weeks shown
pytestmark = pytest.mark.clock(NOW, tick=False)
MONDAY, NEXT_MONDAY = date(2026, 12, 7), date(2026, 12, 14)
WEEKDAYS = {"every": "week", "on": ["monday", "tuesday", "wednesday", "thursday", "friday"]}
WEEK_STATEMENTS = 4  # tests/integration/test_slot_query_count.py: one week of slots for an usager


@pytest.fixture
def app_db(db_url: str) -> Iterator[dict[str, int]]:
    """A motif open online at two lieux, mornings at the first, afternoons at the second; the states' database
    is this one."""
    with UnitOfWork(db_url) as uow:
        territory = Territory(departement_number="62", name="Pas-de-Calais")
        service = Service(name="PMI", short_name="PMI")
        uow.session.add_all([territory, service])
        uow.session.flush()
        org = Organisation(territory_id=territory.id, name="PMI Arras", slug="pmi-arras")
        uow.session.add(org)
        uow.session.flush()
        motif = Motif(organisation_id=org.id, service_id=service.id, name="Consultation", bookable_by="everyone")
        centre = Lieu(organisation_id=org.id, name="Centre", address="1 rue A, 62000 Arras")
        annexe = Lieu(organisation_id=org.id, name="Annexe", address="2 rue B, 62000 Arras")
        uow.session.add_all([motif, centre, annexe])
        uow.session.flush()
        agent = Agent(last_name="Durand", first_name="Léa")
        uow.session.add(agent)
        uow.session.flush()
        for lieu, start, end in ((centre, 9, 11), (annexe, 14, 16)):
            plage = PlageOuverture(agent_id=agent.id, organisation_id=org.id, lieu_id=lieu.id, title="Permanence",
                                   first_day=date(2026, 11, 2), start_time=time(start), end_time=time(end),
                                   recurrence=WEEKDAYS)
            uow.session.add(plage)
            uow.session.flush()
            uow.session.add(PlageOuvertureMotif(plage_ouverture_id=plage.id, motif_id=motif.id))
        uow.commit()
        world = {"motif": motif.id, "centre": centre.id, "annexe": annexe.id}
    with app_database(db_url):
        yield world  # type: ignore[misc]


def _tab() -> Tab:
    return Tab(os.environ["REFLEX_DB_URL"], PublicBookingState)


def _booking(query: dict[str, str | int]) -> str:
    """The booking page's address with this query."""
    return f"{routes.PUBLIC_BOOKING}?{urlencode({k: str(v) for k, v in query.items()})}"


def _link_query(href: str) -> dict[str, str]:
    """The query of a link the page shows, as the browser would send it."""
    return dict(parse_qsl(urlsplit(href).query))


def _first_times(page: PublicBookingState) -> list[str]:
    return [t.label for t in page.days[0].times]


def test_a_change_of_week_reads_the_week_only_and_shows_the_right_one(app_db: dict[str, int]) -> None:
    async def scenario() -> None:
        tab = _tab()
        page = await tab.go(_booking({"departement": "62", "motif": app_db["motif"], "lieu": app_db["centre"],
                                      "semaine": MONDAY.isoformat()}))
        assert page.step == "creneau" and page.week_title == "Semaine du lundi 7 décembre 2026"
        assert _first_times(page) == ["09h00", "09h30", "10h00", "10h30"]
        walked = len(tab.statements)
        summary = [(r.label, r.value) for r in page.summary]

        page = await tab.go(page.next_week_href)
        assert len(tab.statements) <= WEEK_STATEMENTS < walked
        assert page.step == "creneau" and page.week_title == "Semaine du lundi 14 décembre 2026"
        assert page.days[0].label == "lundi 14 décembre 2026"
        assert _first_times(page) == ["09h00", "09h30", "10h00", "10h30"]
        assert all(t.value.startswith("2026-12-14T") for t in page.days[0].times)
        assert "semaine=2026-12-14" in page.slot_base_href and page.slot_base_href.endswith("creneau=")
        assert [(r.label, r.value) for r in page.summary] == summary
        assert "Centre" in dict(summary)["Lieu"]

        page = await tab.go(page.previous_week_href)  # back, from the week just shown
        assert len(tab.statements) <= WEEK_STATEMENTS
        assert page.week_title == "Semaine du lundi 7 décembre 2026"
        assert _first_times(page) == ["09h00", "09h30", "10h00", "10h30"]

    asyncio.run(scenario())


def test_a_change_of_another_parameter_walks_the_whole_page(app_db: dict[str, int]) -> None:
    async def scenario() -> None:
        tab = _tab()
        page = await tab.go(_booking({"departement": "62", "motif": app_db["motif"], "lieu": app_db["centre"],
                                      "semaine": MONDAY.isoformat()}))
        walked = len(tab.statements)
        query = dict(page._params, lieu=str(app_db["annexe"]), semaine=NEXT_MONDAY.isoformat())
        page = await tab.go(_booking(query))
        assert len(tab.statements) == walked
        assert page.week_title == "Semaine du lundi 14 décembre 2026"
        assert _first_times(page) == ["14h00", "14h30", "15h00", "15h30"]
        assert "Annexe" in {r.label: r.value for r in page.summary}["Lieu"]

        page = await tab.go(page.change_href)  # « Modifier »: back to the lieux
        assert page.step == "lieu" and len(tab.statements) > WEEK_STATEMENTS

    asyncio.run(scenario())


def _close(db_url: str, model: type[Motif] | type[Lieu], row_id: int, **values: object) -> None:
    with UnitOfWork(db_url) as uow:
        row = uow.session.get(model, row_id)
        assert row is not None
        for name, value in values.items():
            setattr(row, name, value)
        uow.commit()


def test_a_motif_closed_between_two_loads_is_noticed_on_the_next_one(app_db: dict[str, int]) -> None:
    db_url = os.environ["REFLEX_DB_URL"]

    async def scenario() -> None:
        tab = _tab()
        page = await tab.go(_booking({"departement": "62", "motif": app_db["motif"], "lieu": app_db["centre"],
                                      "semaine": MONDAY.isoformat()}))
        week_link = page.next_week_href
        _close(db_url, Motif, app_db["motif"], bookable_by="agents")
        page = await tab.go(week_link)
        assert page.step != "creneau" and len(tab.statements) > WEEK_STATEMENTS
        assert page.notice == "Ce motif n'est plus proposé en ligne. Choisissez un autre motif."

    asyncio.run(scenario())


def test_a_lieu_closed_between_two_loads_is_noticed_on_the_next_other_change_and_after_a_minute(
        app_db: dict[str, int]) -> None:
    db_url = os.environ["REFLEX_DB_URL"]

    async def scenario() -> None:
        tab = _tab()
        first = {"departement": "62", "motif": app_db["motif"], "lieu": app_db["centre"],
                 "semaine": MONDAY.isoformat()}
        page = await tab.go(_booking(first))
        week_link = page.next_week_href
        _close(db_url, Lieu, app_db["centre"], availability="disabled")

        page = await tab.go(page.change_href)  # « Modifier »: back to the lieux
        assert page.step == "lieu" and [c.label for c in page.choices] == ["Annexe"]

        tab = _tab()  # another tab, that walked the page before the lieu closed
        _close(db_url, Lieu, app_db["centre"], availability="enabled")
        page = await tab.go(_booking(first))
        week_link = page.next_week_href
        _close(db_url, Lieu, app_db["centre"], availability="disabled")
        with time_machine.travel(NOW + timedelta(seconds=61), tick=False):
            page = await tab.go(week_link)
        assert len(tab.statements) > WEEK_STATEMENTS
        assert page.step == "error" and page.page_error == "Ce lieu ne propose plus ce motif. Choisissez un autre lieu."

    asyncio.run(scenario())


def test_a_plain_click_on_another_week_shows_it_in_one_event_and_pushes_its_address(app_db: dict[str, int]) -> None:
    async def scenario() -> None:
        tab = _tab()
        page = await tab.go(_booking({"departement": "62", "motif": app_db["motif"], "lieu": app_db["centre"],
                                      "semaine": MONDAY.isoformat()}))
        summary = [(r.label, r.value) for r in page.summary]
        next_href = page.next_week_href

        page, asked = await tab.click_week("next")
        assert len(tab.statements) <= WEEK_STATEMENTS
        assert page.week_title == "Semaine du lundi 14 décembre 2026"
        assert page.days[0].label == "lundi 14 décembre 2026"
        assert _first_times(page) == ["09h00", "09h30", "10h00", "10h30"]
        assert "semaine=2026-12-14" in page.slot_base_href
        assert [(r.label, r.value) for r in page.summary] == summary
        assert pushed(asked) == next_href and page._params == _link_query(next_href)
        assert "semaine=2026-12-21" in page.next_week_href

        page, asked = await tab.click_week("previous")
        assert page.week_title == "Semaine du lundi 7 décembre 2026" and len(tab.statements) <= WEEK_STATEMENTS
        assert _link_query(pushed(asked))["semaine"] == MONDAY.isoformat()

        page = await tab.go(page.next_week_href)  # then the back or forward button: a navigation
        assert page.week_title == "Semaine du lundi 14 décembre 2026" and len(tab.statements) <= WEEK_STATEMENTS

    asyncio.run(scenario())


def test_a_click_on_a_week_of_a_page_that_can_no_longer_be_paged_loads_its_address(app_db: dict[str, int]) -> None:
    db_url = os.environ["REFLEX_DB_URL"]

    async def scenario() -> None:
        tab = _tab()
        page = await tab.go(_booking({"departement": "62", "motif": app_db["motif"], "lieu": app_db["centre"],
                                      "semaine": MONDAY.isoformat()}))
        next_href = page.next_week_href
        with time_machine.travel(NOW + timedelta(seconds=61), tick=False):
            page, asked = await tab.click_week("next")
        assert asked == ("_redirect", {"path": next_href, "external": False, "popup": False, "replace": False})
        assert page.week_title == "Semaine du lundi 7 décembre 2026"

        page = await tab.go(next_href)  # that address loaded: a whole walk
        _close(db_url, Motif, app_db["motif"], bookable_by="agents")
        page, asked = await tab.click_week("previous")
        assert asked is not None and asked[0] == "_redirect" and asked[1]["path"] == page.previous_week_href
        page = await tab.go(str(asked[1]["path"]))
        assert page.notice == "Ce motif n'est plus proposé en ligne. Choisissez un autre motif."

        page, asked = await tab.click_week("next")  # not a week any more: nothing to page
        assert asked is None and page.step != "creneau"

    asyncio.run(scenario())
