"""Plage d'ouverture and indisponibilité notices (issue 6), on SQLite and PostgreSQL: the agent whose plage
or absence changes gets an email with its calendar when their preference says so; the worker delivers it
to an aiosmtpd server, with its HTML part."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time

import factories as make
import icalendar
import pytest
from fakes.smtp_server import SmtpServer
from sqlmodel import select

from rdv_app.db.models import (
    OutboxMessage,
)
from rdv_app.db.uow import UnitOfWork
from rdv_app.notify.outbox import committed_ids
from rdv_app.notify.sms import ConsoleSmsProvider
from rdv_app.notify.worker import Worker
from rdv_app.services.availability import absences, plages

MONDAY = date(2026, 12, 7)
NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)
WEEKLY = {"every": "week", "on": ["monday", "thursday"], "until": "2027-03-31"}
# Built on fixed days: the clock stands at NOW for every test here, whatever the day they run.
pytestmark = pytest.mark.clock(NOW, tick=False)


@dataclass
class World:
    org: int
    admin: int  # Camille, admin, notices on
    julien: int  # basic, notices on
    ines: int  # basic, notices off
    motif: int
    lieu: int


@pytest.fixture
def world(uow: UnitOfWork) -> World:
    s = uow.session
    territory = make.territory(s)
    pmi = make.service(s, name="PMI")
    org = make.organisation(s, territory)
    admin = make.agent(s, "camille@demo.test", "Camille", "Martin", organisation=org, role="admin", services=[pmi])
    julien = make.agent(s, "julien@demo.test", "Julien", "Petit", organisation=org, services=[pmi])
    ines = make.agent(s, "ines@demo.test", "Inès", "Roux", organisation=org, services=[pmi],
                      plage_ouverture_notification_level="none", absence_notification_level="none")
    lieu = make.lieu(s, org)
    motif = make.motif(s, org, pmi)
    uow.commit()
    return World(org.id, admin.id, julien.id, ines.id, motif.id, lieu.id)  # type: ignore[arg-type]


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    with SmtpServer() as server:
        yield server


def _plage(uow: UnitOfWork, world: World, agent_id: int, **overrides: object) -> int:
    values: dict = dict(title="Consultations du lundi", agent_id=agent_id, lieu_id=world.lieu,
                        motif_ids=[world.motif], first_day=MONDAY, start_time=time(9), end_time=time(12),
                        recurrence=WEEKLY, confirm_warnings=True, now=NOW)
    values.update(overrides)
    return plages.create_plage(uow, world.admin, world.org, **values)


def _notices(uow: UnitOfWork) -> list[OutboxMessage]:
    uow.session.expire_all()
    return list(uow.session.exec(select(OutboxMessage).order_by(OutboxMessage.id)))  # type: ignore[arg-type]


def _event(row: OutboxMessage) -> icalendar.Event:
    calendar = icalendar.Calendar.from_ical(row.payload["ics"]["content"])
    assert calendar["METHOD"] == row.payload["ics"]["method"]
    return calendar.walk("VEVENT")[0]


def test_a_plage_created_by_a_colleague_reaches_its_agent_with_its_calendar(
        uow: UnitOfWork, world: World, db_url: str, smtp: SmtpServer) -> None:
    plage_id = _plage(uow, world, world.julien)
    [row] = _notices(uow)
    assert committed_ids(uow.session) == [row.id]  # what the page hands to the delivery right after
    assert (row.channel, row.event, row.agent_id, row.payload["to"]) == (
        "mail", "plage_ouverture_notice", world.julien, "julien@demo.test")
    assert row.payload["subject"] == "Plage d'ouverture créée : Consultations du lundi"
    text = row.payload["text"]
    assert "Votre plage d'ouverture « Consultations du lundi » a été créée par Camille Martin." in text
    assert "Quand : Chaque semaine (lundi, jeudi) de 9h00 à 12h00, du 07/12/2026 au 31/03/2027" in text
    assert "Lieu : Centre Arras (1 rue A, 62000 Arras)" in text and "Motifs : Consultation" in text
    event = _event(row)
    assert row.payload["ics"]["method"] == "REQUEST"
    assert str(event["UID"]).startswith(f"plage_ouverture_{plage_id}@")
    assert event["SEQUENCE"] == 0 and event["RRULE"]["BYDAY"] == ["MO", "TH"]
    assert event.decoded("DTSTART") == datetime(2026, 12, 7, 9, tzinfo=event.decoded("DTSTART").tzinfo)
    assert str(event["ATTENDEE"]) == "mailto:julien@demo.test"

    worker = Worker(db_url, sms=ConsoleSmsProvider(), smtp=smtp.settings())
    assert worker.run_once(now=NOW) == 1
    [(rcpt, mail)] = smtp.messages
    assert rcpt == ["julien@demo.test"]
    assert mail.get_body(("plain",)).get_content().replace("\r\n", "\n") == text
    html = mail.get_body(("html",)).get_content()
    assert "Consultations du lundi" in html and "<th scope=\"row\"" in html and 'lang="fr"' in html
    calendar = next(part for part in mail.walk() if part.get_content_type() == "text/calendar")
    assert calendar.get_param("method") == "REQUEST"
    assert [a.get_filename() for a in mail.iter_attachments()] == ["plage-ouverture-2026-12-07.ics"]


def test_changing_and_deleting_send_an_update_then_a_cancellation_with_a_growing_sequence(
        uow: UnitOfWork, world: World) -> None:
    plage_id = _plage(uow, world, world.julien)
    plages.update_plage(uow, world.admin, world.org, plage_id, title="Consultations", agent_id=world.julien,
                        lieu_id=world.lieu, motif_ids=[world.motif], first_day=MONDAY, start_time=time(9),
                        end_time=time(13), recurrence=WEEKLY, confirm_warnings=True, now=NOW)
    # Saving the same values again changes nothing and tells nobody.
    plages.update_plage(uow, world.admin, world.org, plage_id, title="Consultations", agent_id=world.julien,
                        lieu_id=world.lieu, motif_ids=[world.motif], first_day=MONDAY, start_time=time(9),
                        end_time=time(13), recurrence=WEEKLY, confirm_warnings=True, now=NOW)
    plages.delete_plage(uow, world.admin, world.org, plage_id)
    created, updated, deleted = _notices(uow)
    assert [r.payload["subject"] for r in (updated, deleted)] == [
        "Plage d'ouverture modifiée : Consultations", "Plage d'ouverture supprimée : Consultations"]
    assert [r.payload["ics"]["method"] for r in (created, updated, deleted)] == ["REQUEST", "REQUEST", "CANCEL"]
    events = [_event(r) for r in (created, updated, deleted)]
    assert len({str(e["UID"]) for e in events}) == 1
    sequences = [e["SEQUENCE"] for e in events]
    assert sequences == sorted(sequences)
    assert "de 9h00 à 13h00" in updated.payload["text"]


def test_giving_a_plage_to_another_agent_cancels_it_for_the_first_and_creates_it_for_the_second(
        uow: UnitOfWork, world: World) -> None:
    plage_id = _plage(uow, world, world.admin)
    before = len(_notices(uow))
    plages.update_plage(uow, world.admin, world.org, plage_id, title="Consultations du lundi", agent_id=world.julien,
                        lieu_id=world.lieu, motif_ids=[world.motif], first_day=MONDAY, start_time=time(9),
                        end_time=time(12), recurrence=WEEKLY, confirm_warnings=True, now=NOW)
    rows = _notices(uow)[before:]
    assert sorted((r.payload["to"], r.payload["ics"]["method"]) for r in rows) == [
        ("camille@demo.test", "CANCEL"), ("julien@demo.test", "REQUEST")]
    removed = next(r for r in rows if r.agent_id == world.admin)
    assert "a été attribuée à Julien Petit." in removed.payload["text"]


def test_preferences_at_none_send_nothing_and_ones_own_changes_are_confirmed(uow: UnitOfWork, world: World) -> None:
    _plage(uow, world, world.ines)
    absences.create_absence(uow, world.admin, world.org, agent_id=world.ines, title="Formation", first_day=MONDAY,
                            start_time=time(9), end_day=MONDAY, end_time=time(17), now=NOW)
    assert _notices(uow) == []
    # Camille records her own absence: her preference "all" confirms it, without "par ...".
    absence_id = absences.create_absence(uow, world.admin, world.org, agent_id=world.admin, title="Congés",
                                         first_day=MONDAY, start_time=time(8), end_day=date(2026, 12, 11),
                                         end_time=time(18), now=NOW)
    [row] = _notices(uow)
    assert (row.event, row.payload["to"]) == ("absence_notice", "camille@demo.test")
    assert row.payload["subject"] == "Indisponibilité créée : Congés"
    assert "Votre indisponibilité « Congés » a été créée." in row.payload["text"]
    assert ("Quand : Du lundi 7 décembre 2026 à 8h00 au vendredi 11 décembre 2026 à 18h00"
            in row.payload["text"])
    event = _event(row)
    assert str(event["UID"]).startswith(f"absence_{absence_id}@")
    assert event.decoded("DTEND").date() == date(2026, 12, 11)
    absences.delete_absence(uow, world.admin, world.org, absence_id)
    assert _notices(uow)[-1].payload["ics"]["method"] == "CANCEL"


def test_a_refused_change_sends_nothing(uow: UnitOfWork, world: World) -> None:
    with pytest.raises(Exception, match="heure de fin"):
        _plage(uow, world, world.julien, end_time=time(8))
    assert _notices(uow) == []
    assert committed_ids(uow.session) == []
