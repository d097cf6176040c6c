""""Changer la date" from the "Infos et annulation" link (issue 28), over HTTP (Starlette's test client on
the real routes and database), on SQLite and PostgreSQL: the week, the confirmation, the move, a
resubmitted form, and the reason shown when the date cannot be changed online."""

from __future__ import annotations

import re
import uuid
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import factories as make
import pytest
from sqlmodel import col, select
from starlette.applications import Starlette
from starlette.exceptions import StarletteDeprecationWarning

from rdv_app import routes
from rdv_app.api.http import security_headers
from rdv_app.api.usager_link import ROUTES
from rdv_app.auth import rate_limit
from rdv_app.config import settings
from rdv_app.db.models import OutboxMessage, Rdv
from rdv_app.db.uow import UnitOfWork
from rdv_app.domain import datefmt
from rdv_app.domain.enums import Channel
from rdv_app.domain.off_days import holidays_between
from rdv_app.services.rdv.lifecycle import book_rdv

with warnings.catch_warnings():
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from starlette.testclient import TestClient

PARIS = ZoneInfo("Europe/Paris")
EVERY_DAY = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]


@dataclass
class World:
    org: int
    motif: int
    lieu: int
    usager: int


def _open_days() -> list[date]:
    """The days from today on that are not public holidays in the world's département: a holiday gives no
    slot, and "tomorrow" is one now and then (Easter Monday, 1 January...)."""
    today = datetime.now(PARIS).date()
    holidays = holidays_between("62", today, today + timedelta(days=30))
    return [day for day in (today + timedelta(days=n) for n in range(31)) if day not in holidays]


def _day(days: int) -> date:
    """The `days`-th open day after the first one (0: today, unless today is a holiday)."""
    return _open_days()[days]


def _at(days: int, hh: int) -> datetime:
    return datetime.combine(_day(days), time(hh), PARIS).astimezone(UTC)


def _soonest() -> datetime:
    """The first half hour of the permanence bookable now: at most two days ahead, whatever the hour and
    even when tomorrow is a holiday (France has no two holidays in a row outside Alsace-Moselle)."""
    now = datetime.now(UTC)
    for day in _open_days()[:3]:
        for minutes in range(9 * 60, 12 * 60, 30):
            starts_at = datetime.combine(day, time(minutes // 60, minutes % 60), PARIS).astimezone(UTC)
            if starts_at > now + timedelta(minutes=31):
                return starts_at
    raise AssertionError("no half hour of the permanence within three open days")


@pytest.fixture(autouse=True)
def _fresh_rate_limits() -> Iterator[None]:
    rate_limit.reset_all()
    yield
    rate_limit.reset_all()


@pytest.fixture
def world(uow: UnitOfWork) -> World:
    s = uow.session
    territory = make.territory(s)
    service = make.service(s, "PMI")
    org = make.organisation(s, territory, phone_number="03 21 00 00 00")
    agent = make.agent(s, "julien.petit@demo.test", "Julien", "Petit", organisation=org, services=[service])
    lieu = make.lieu(s, org)
    motif = make.motif(s, org, service, default_duration_in_min=30, bookable_by="everyone",
                       min_public_booking_delay=1800, max_public_booking_delay=30 * 86400)
    usager = make.usager(s, "Élodie", "De La Fontaine", email="elodie@example.fr", phone_number="06 12 34 56 78",
                         created_through="user_sign_up")
    make.plage(s, agent, org, lieu, [motif], title="Permanence", first_day=_day(0), start_time=time(9),
               end_time=time(12), recurrence={"every": "week", "on": EVERY_DAY})
    uow.commit()
    return World(org.id, motif.id, lieu.id, usager.id)  # type: ignore[arg-type]


@pytest.fixture
def client(db_url: str) -> Iterator[TestClient]:
    app = Starlette(routes=ROUTES)
    app.state.database_url = db_url
    with TestClient(security_headers(app), base_url="http://testserver", follow_redirects=False) as test_client:
        yield test_client


def _csrf(html: str) -> str:
    match = re.search(r'name="csrf" value="([0-9a-f]+)"', html)
    assert match is not None, html
    return match.group(1)


def _book(uow: UnitOfWork, world: World, starts_at: datetime) -> int:
    return book_rdv(uow, world.usager, motif_id=world.motif, starts_at=starts_at, lieu_id=world.lieu,
                    booking_key=uuid.uuid4().hex).rdv_id


def _verified(uow: UnitOfWork, client: TestClient, rdv_id: int) -> None:
    """Opens the link of the latest SMS of the RDV and answers the 3 letters."""
    text = uow.session.exec(select(OutboxMessage.payload).where(OutboxMessage.rdv_id == rdv_id,
                                                                OutboxMessage.channel == Channel.SMS.value)
                            .order_by(col(OutboxMessage.id).desc())).first()["text"]  # type: ignore[index]
    token = re.search(rf"{re.escape(settings.public_url)}/r/{rdv_id}/([A-Za-z0-9_-]+)", text).group(1)  # type: ignore[union-attr]
    assert client.get(f"/r/{rdv_id}/{token}").status_code == 303
    form = client.get(f"/r/{rdv_id}")
    assert client.post(f"/r/{rdv_id}/lettres", data={"lettres": "DEL", "csrf": _csrf(form.text)}).status_code == 303


def test_the_usager_changes_the_date_from_the_link(uow: UnitOfWork, world: World, client: TestClient) -> None:
    rdv_id = _book(uow, world, _at(4, 9))
    _verified(uow, client, rdv_id)
    summary = client.get(f"/r/{rdv_id}")
    assert f'href="{routes.usager_link_move(rdv_id)}"' in summary.text and "Changer la date" in summary.text

    week = client.get(routes.usager_link_move(rdv_id, week=_day(4).isoformat()))
    assert week.status_code == 200
    assert f"Semaine du {datefmt.long_date(_day(4))}" in week.text
    assert f"Date actuelle</dt><dd class=\"when\">{datefmt.long_datetime(_at(4, 9), 'Europe/Paris')}" in week.text
    target = _at(5, 10)
    slot_href = routes.usager_link_move(rdv_id, week=_day(4).isoformat(), slot=target.isoformat())
    assert f'href="{slot_href.replace("&", "&amp;")}"' in week.text
    # The RDV's own time is not offered to itself.
    assert routes.usager_link_move(rdv_id, week=_day(4).isoformat(), slot=_at(4, 9).isoformat()) \
        .replace("&", "&amp;") not in week.text

    confirm = client.get(slot_href)
    assert confirm.status_code == 200
    assert f"Nouvelle date : {datefmt.long_datetime(target, 'Europe/Paris')}" in confirm.text
    form = {"csrf": _csrf(confirm.text), "creneau": target.isoformat(), "depuis": _at(4, 9).isoformat()}
    done = client.post(routes.usager_link_move(rdv_id), data=form)
    assert done.status_code == 303 and done.headers["location"] == f"/r/{rdv_id}?deplace=1"
    final = client.get(done.headers["location"])
    assert "Votre rendez-vous est déplacé au" in final.text
    assert datefmt.long_datetime(target, "Europe/Paris") in final.text

    # The form sent again (a double tap, a reload): moved once, told once.
    again = client.post(routes.usager_link_move(rdv_id), data=form)
    assert again.status_code == 303
    uow.rollback()
    rdv = uow.session.get(Rdv, rdv_id)
    assert rdv is not None and (rdv.starts_at, rdv.ics_sequence) == (target, 1)
    notices = uow.session.exec(select(OutboxMessage.channel).where(OutboxMessage.rdv_id == rdv_id,
                                                                   OutboxMessage.event == "rdv_updated")).all()
    assert sorted(notices) == ["mail", "mail", "sms"]
    # A form from another page (no token of this browser) moves nothing.
    forged = client.post(routes.usager_link_move(rdv_id), data=dict(form, csrf="0" * 32, creneau=_at(6, 10).isoformat()))
    assert forged.status_code == 404
    uow.rollback()
    assert uow.session.get(Rdv, rdv_id).starts_at == target  # type: ignore[union-attr]


def test_a_taken_slot_and_a_close_rdv_are_explained_where_the_usager_looks(uow: UnitOfWork, world: World,
                                                                            client: TestClient) -> None:
    rdv_id = _book(uow, world, _at(4, 9))
    other = make.usager(uow.session, "Inès", "Roux", email="ines@example.fr", created_through="user_sign_up")
    uow.commit()
    _verified(uow, client, rdv_id)
    target = _at(5, 10)
    confirm = client.get(routes.usager_link_move(rdv_id, slot=target.isoformat()))
    book_rdv(uow, other.id, motif_id=world.motif, starts_at=target, lieu_id=world.lieu,  # type: ignore[arg-type]
             booking_key=uuid.uuid4().hex)
    taken = client.post(routes.usager_link_move(rdv_id), data={
        "csrf": _csrf(confirm.text), "creneau": target.isoformat(), "depuis": _at(4, 9).isoformat()})
    assert taken.status_code == 409
    assert "Ce créneau n&#x27;est plus disponible" in taken.text and "Choisissez un nouvel horaire" in taken.text
    uow.rollback()
    assert uow.session.get(Rdv, rdv_id).starts_at == _at(4, 9)  # type: ignore[union-attr]

    close = _book(uow, world, _soonest())
    _verified(uow, client, close)
    page = client.get(f"/r/{close}")
    assert "Changer la date" not in page.text
    assert ("Ce rendez-vous a lieu dans moins de 2 jours : sa date ne peut plus être changée en ligne. Pour la "
            "changer, contactez PMI Arras au 03 21 00 00 00.") in page.text
    refused = client.get(routes.usager_link_move(close))
    assert refused.status_code == 409 and "moins de 2 jours" in refused.text
