"""A week of slots reaches the browser compactly (each start's time and value, and one `slot_base_href` for the
week): the links the browser joins from them are the week's address plus `creneau`, parameter for parameter
and in order, on the usagers' booking page and on the prescripteurs' one, and each opens its slot."""

from __future__ import annotations

from datetime import datetime, time
from urllib.parse import parse_qsl, urlsplit

import factories as make
import pytest

from rdv_app import routes
from rdv_app.db.uow import UnitOfWork
from rdv_app.state.public_booking import BookingPage
from rdv_app.state.public_prescripteur import PrescripteurSearch

WEEKDAYS = {"every": "week", "on": ["monday", "tuesday", "wednesday", "thursday", "friday"]}


@pytest.fixture
def monday(uow: UnitOfWork) -> str:
    """A motif open to usagers and prescripteurs at one lieu, Monday to Friday mornings from a Monday ahead
    without a public holiday in its week (that Monday, ISO)."""
    s = uow.session
    first = make.quiet_monday(1)
    pdc = make.territory(s)
    pmi = make.service(s, "PMI")
    arras = make.organisation(s, pdc, "PMI Arras", "pmi-arras")
    julien = make.agent(s, "julien.petit@demo.test", "Julien", "Petit", organisation=arras, services=[pmi])
    lieu = make.lieu(s, arras, "Centre PMI d'Arras", "12 Rue Gambetta, 62000 Arras")
    motif = make.motif(s, arras, pmi, "Consultation PMI", bookable_by="everyone")
    make.plage(s, julien, arras, lieu, [motif], title="Permanence", first_day=first, start_time=time(9),
               end_time=time(12), recurrence=WEEKDAYS)
    uow.commit()
    return first.isoformat()


def _booking(db_url: str, address: str) -> BookingPage:
    """The booking page an address opens, worked out as the page's `load` does."""
    parts = urlsplit(address)
    page = BookingPage(params=dict(parse_qsl(parts.query)), base=routes.PUBLIC_BOOKING, usager_id=None)
    with UnitOfWork(db_url, read_only=True) as uow:
        page.open(uow, parts.path)
    return page


def _prescripteur(db_url: str, address: str) -> PrescripteurSearch:
    search = PrescripteurSearch(params=dict(parse_qsl(urlsplit(address).query)))
    with UnitOfWork(db_url, read_only=True) as uow:
        search.walk(uow)
    return search


def _week_address(open_page, first_address: str, monday: str) -> str:
    """The address of the week of `monday`, reached by following the first choice of each step, as a person
    would, then the week's own link."""
    address, page = first_address, open_page(first_address)
    while page.step != "creneau":
        assert page.choices, (page.step, page.page_error)
        address = page.choices[0].href
        page = open_page(address)
    parts = urlsplit(address)
    return f"{parts.path}?{parts.query}&semaine={monday}"


def _links(page: BookingPage | PrescripteurSearch) -> list[tuple[str, str]]:
    """Each start of the week as the browser joins it (rdv_app.components.slot_week): its accessible name and
    its link."""
    return [(f"{day.label} à {button.label}", page.slot_base_href + button.value)
            for day in page.days for button in day.times]


def test_the_booking_weeks_slot_links_are_the_week_address_with_the_slot(db_url: str, monday: str) -> None:
    week_address = _week_address(lambda address: _booking(db_url, address), f"{routes.PUBLIC_BOOKING}?departement=62",
                                 monday)
    # An address kept from a later step (who, which step, the booking key): a slot's link drops them.
    week = _booking(db_url, f"{week_address}&etape=informations&pour=12&cle=abc")
    assert (week.step, week.week_is_empty) == ("creneau", False)
    assert week.days[0].label.startswith("lundi ")  # as in a sentence; the page capitalises the heading
    links = _links(week)
    assert len(links) == 5 * 6  # 9:00 to 12:00 by 30 minutes, Monday to Friday
    for _name, link in links:
        parts, expected = urlsplit(link), urlsplit(week_address)
        assert parts.path == expected.path == routes.PUBLIC_BOOKING
        params = parse_qsl(parts.query, strict_parsing=True)
        assert params[:-1] == parse_qsl(expected.query) and params[-1][0] == "creneau"
    name, link = links[0]
    assert name == f"{week.days[0].label} à 09h00"
    chosen = _booking(db_url, link)
    assert chosen.step == "identification" and chosen.starts_at is not None
    assert chosen.starts_at == make.at_paris(datetime.fromisoformat(monday).date(), 9)
    assert dict(parse_qsl(urlsplit(link).query))["creneau"] == chosen.starts_at.isoformat()


def test_the_prescripteurs_weeks_slot_links_are_the_week_address_with_the_slot(db_url: str, monday: str) -> None:
    week_address = _week_address(lambda address: _prescripteur(db_url, address),
                                 f"{routes.PUBLIC_PRESCRIPTEUR}?departement=62", monday)
    week = _prescripteur(db_url, week_address)
    assert (week.step, week.week_is_empty) == ("creneau", False)
    links = _links(week)
    assert len(links) == 5 * 6
    for _name, link in links:
        parts, expected = urlsplit(link), urlsplit(week_address)
        assert parts.path == expected.path == routes.PUBLIC_PRESCRIPTEUR
        params = parse_qsl(parts.query, strict_parsing=True)
        assert params[:-1] == parse_qsl(expected.query) and params[-1][0] == "creneau"
    name, link = links[-1]
    assert name == f"{week.days[4].label} à 11h30"
    chosen = _prescripteur(db_url, link)
    assert chosen.step == "prescripteur" and chosen.starts_at is not None
    assert dict(parse_qsl(urlsplit(link).query))["creneau"] == chosen.starts_at.isoformat()
