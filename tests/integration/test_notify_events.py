"""RDV changes queue their SMS and emails (rdv_app.notify.events), on SQLite and PostgreSQL, and the worker
delivers them to the loopback OVH API and an aiosmtpd server."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from html import unescape
from typing import Any

import factories as make
import icalendar
import pytest
from factories import at_paris
from fakes.ovh_server import FakeOvh
from fakes.smtp_server import SmtpServer
from sqlmodel import select

from rdv_app.auth.tokens import hash_token
from rdv_app.config import settings
from rdv_app.db.models import (
    Motif,
    OutboxMessage,
    Participation,
    Receipt,
    UsagerProfile,
)
from rdv_app.db.uow import UnitOfWork
from rdv_app.domain.sms import is_gsm7
from rdv_app.notify.events import notify_rdv_change
from rdv_app.notify.sms import OvhSmsProvider
from rdv_app.notify.worker import Worker
from rdv_app.services.rdv import lifecycle
from rdv_app.services.usagers import usager_link

MONDAY = date(2026, 12, 7)
NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)  # the Friday before
# Built on fixed days: the clock starts at NOW for every test here, whatever the day they run.
pytestmark = pytest.mark.clock(NOW)


NINE = at_paris(MONDAY, 9)


@dataclass
class World:
    org: int
    loud: int  # level "all"
    colleague: int  # level "others"
    quiet: int  # level "none"
    motif: int
    lieu: int
    jeanne: int  # email and mobile
    leo: int  # Jeanne's child, no contact of his own
    paul: int  # a landline only: nothing can reach him


@pytest.fixture
def world(uow: UnitOfWork) -> World:
    s = uow.session
    territory = make.territory(s)
    pmi = make.service(s)
    org = make.organisation(s, territory, phone_number="03 21 00 00 00", email="pmi.arras@demo.test",
                            timezone="Europe/Paris")
    agents = [make.agent(s, "loud@demo.test", "Julien", "Petit", organisation=org, role="admin", services=[pmi],
                         rdv_notifications_level="all"),
              make.agent(s, "colleague@demo.test", "Inès", "Roux", organisation=org, role="admin", services=[pmi]),
              make.agent(s, "quiet@demo.test", "Karim", "Haddad", organisation=org, role="admin", services=[pmi],
                         rdv_notifications_level="none")]
    lieu = make.lieu(s, org)
    motif = make.motif(s, org, pmi, instruction_for_rdv="Apportez le carnet de santé.")
    jeanne = make.usager(s, "Jeanne", "Dupont", email="jeanne@example.fr", phone_number="06 12 34 56 78")
    paul = make.usager(s, "Paul", "Durand", phone_number="03 21 12 34 56")
    leo = make.usager(s, "Léo", "Dupont", responsible_id=jeanne.id)
    s.add_all([UsagerProfile(organisation_id=org.id, usager_id=u.id) for u in (jeanne, leo, paul)])
    uow.commit()
    return World(org.id, agents[0].id, agents[1].id, agents[2].id, motif.id, lieu.id,  # type: ignore[arg-type]
                 jeanne.id, leo.id, paul.id)  # type: ignore[arg-type]


def _plan(uow: UnitOfWork, world: World, **overrides: Any) -> int:
    values: dict[str, Any] = dict(motif_id=world.motif, starts_at=NINE, duration_in_min=30,
                                  agent_ids=[world.loud, world.colleague, world.quiet], lieu_id=world.lieu,
                                  usager_ids=[world.jeanne], confirm_warnings=True, now=NOW)
    actor = overrides.pop("actor", world.colleague)
    values.update(overrides)
    return lifecycle.plan_rdv(uow, actor, world.org, **values)


def _rows(uow: UnitOfWork, **where: Any) -> list[OutboxMessage]:
    statement = select(OutboxMessage).order_by(OutboxMessage.id)  # type: ignore[arg-type]
    for name, value in where.items():
        statement = statement.where(getattr(OutboxMessage, name) == value)
    return list(uow.session.exec(statement))


def _summary(rows: list[OutboxMessage]) -> list[tuple[str, str, str]]:
    return sorted((row.event, row.channel, row.payload["to"]) for row in rows)


def _participation(uow: UnitOfWork, rdv_id: int, usager_id: int) -> Participation:
    participation = uow.session.exec(select(Participation).where(Participation.rdv_id == rdv_id,
                                                                 Participation.usager_id == usager_id)).one()
    uow.session.refresh(participation)
    return participation


def _token(text: str, rdv_id: int) -> str:
    match = re.search(rf"{re.escape(settings.public_url)}/r/{rdv_id}/([A-Za-z0-9_-]+)", text)
    assert match is not None, text
    return match.group(1)


def _ics(row: OutboxMessage) -> icalendar.Calendar:
    calendar = icalendar.Calendar.from_ical(row.payload["ics"]["content"])
    assert calendar["METHOD"] == row.payload["ics"]["method"]
    return calendar


def test_planning_queues_the_usager_sms_and_email_and_agent_emails_by_level(uow: UnitOfWork, world: World) -> None:
    rdv_id = _plan(uow, world)
    rows = _rows(uow, rdv_id=rdv_id)
    # The author (level "others") and the agent at level "none" hear nothing; level "all" does.
    assert _summary(rows) == [("rdv_created", "mail", "jeanne@example.fr"), ("rdv_created", "mail", "loud@demo.test"),
                              ("rdv_created", "sms", "+33612345678")]
    sms = next(r for r in rows if r.channel == "sms")
    text = sms.payload["text"]
    assert is_gsm7(text) and "lundi 07/12 à 09h00" in text and "Centre Arras (1 rue A, 62000 Arras)" in text
    token = _token(text, rdv_id)
    assert len(token) >= 8
    participation = _participation(uow, rdv_id, world.jeanne)
    assert participation.access_token_hash == hash_token(token) != token
    expires = participation.access_token_expires_at
    assert expires is not None and expires.replace(tzinfo=UTC) == at_paris(MONDAY, 9, 30) + timedelta(days=1)
    assert (sms.usager_id, sms.organisation_id, sms.payload["expires_at"]) == (world.jeanne, world.org,
                                                                                NINE.isoformat())

    usager_mail = next(r for r in rows if r.payload["to"] == "jeanne@example.fr")
    assert usager_mail.payload["subject"] == "RDV confirmé le lundi 7 décembre 2026 à 09h00"
    body = usager_mail.payload["text"]
    assert "Apportez le carnet de santé." in body and "03 21 00 00 00" in body and _token(body, rdv_id) == token
    event = _ics(usager_mail).walk("VEVENT")[0]
    assert (usager_mail.payload["ics"]["method"], event["SEQUENCE"]) == ("PUBLISH", 0)
    assert "Jeanne" not in usager_mail.payload["ics"]["content"]

    agent_mail = next(r for r in rows if r.payload["to"] == "loud@demo.test")
    assert agent_mail.agent_id == world.loud and agent_mail.payload["ics"]["method"] == "REQUEST"
    assert len(_ics(agent_mail).walk("VEVENT")[0].get("ATTENDEE")) == 3


def test_an_invisible_motif_reaches_no_usager_whatever_the_flags(uow: UnitOfWork, world: World) -> None:
    """Child protection: the parent of a relative must hear nothing of an RDV the motif hides from them,
    not an SMS, not an email, not a calendar file; the agents still get theirs."""
    motif = uow.session.get(Motif, world.motif)
    motif.visibility_type = "invisible"  # type: ignore[union-attr]
    uow.session.add(motif)
    uow.commit()
    rdv_id = _plan(uow, world, usager_ids=[world.jeanne, world.leo],
                   notify={world.jeanne: (True, True), world.leo: (True, True)})
    lifecycle.update_rdv(uow, world.colleague, world.org, rdv_id, starts_at=NINE + timedelta(hours=2),
                         duration_in_min=30, lieu_id=world.lieu, agent_ids=[world.loud, world.colleague, world.quiet],
                         confirm_warnings=True, now=NOW)
    lifecycle.cancel_rdv(uow, world.colleague, world.org, rdv_id, now=NOW)
    rows = _rows(uow, rdv_id=rdv_id)
    assert {row.payload["to"] for row in rows} == {"loud@demo.test"}
    assert all(row.usager_id is None for row in rows)
    assert all(p.access_token_hash is None for p in (_participation(uow, rdv_id, world.jeanne),
                                                     _participation(uow, rdv_id, world.leo)))


def test_the_author_at_level_all_hears_of_their_own_change(uow: UnitOfWork, world: World) -> None:
    rdv_id = _plan(uow, world, actor=world.loud, agent_ids=[world.loud, world.colleague])
    agents = [r.payload["to"] for r in _rows(uow, rdv_id=rdv_id) if r.agent_id is not None]
    assert sorted(agents) == ["colleague@demo.test", "loud@demo.test"]


def test_moving_the_time_queues_modifie_and_a_new_token(uow: UnitOfWork, world: World) -> None:
    rdv_id = _plan(uow, world)
    first_hash = _participation(uow, rdv_id, world.jeanne).access_token_hash
    change = lifecycle.update_rdv(uow, world.colleague, world.org, rdv_id, starts_at=at_paris(MONDAY, 10), duration_in_min=30,
                             lieu_id=world.lieu, agent_ids=[world.loud, world.colleague, world.quiet],
                             confirm_warnings=True, now=NOW)
    assert change is not None and len(change.outbox_ids) == 3
    rows = _rows(uow, event="rdv_updated")
    assert _summary(rows) == [("rdv_updated", "mail", "jeanne@example.fr"), ("rdv_updated", "mail", "loud@demo.test"),
                              ("rdv_updated", "sms", "+33612345678")]
    assert sorted(r.id for r in rows) == sorted(change.outbox_ids)
    sms = next(r for r in rows if r.channel == "sms")
    assert "RDV modifié: PMI lundi 07/12 à 10h00\nCentre Arras" in sms.payload["text"]
    new_hash = _participation(uow, rdv_id, world.jeanne).access_token_hash
    assert new_hash == hash_token(_token(sms.payload["text"], rdv_id)) != first_hash
    mail = next(r for r in rows if r.payload["to"] == "jeanne@example.fr")
    assert mail.payload["subject"] == "RDV du lundi 7 décembre 2026 à 09h00 modifié"
    assert _ics(mail).walk("VEVENT")[0]["SEQUENCE"] == 1


def test_changing_only_the_agents_tells_no_usager(uow: UnitOfWork, world: World) -> None:
    rdv_id = _plan(uow, world, agent_ids=[world.loud])
    before = len(_rows(uow))
    lifecycle.update_rdv(uow, world.quiet, world.org, rdv_id, starts_at=NINE, duration_in_min=30, lieu_id=world.lieu,
                    agent_ids=[world.colleague], confirm_warnings=True, now=NOW)
    rows = _rows(uow)[before:]
    assert all(r.usager_id is None for r in rows)
    assert _summary(rows) == [("rdv_cancelled", "mail", "loud@demo.test"),
                              ("rdv_created", "mail", "colleague@demo.test")]
    cancelled = next(r for r in rows if r.event == "rdv_cancelled")
    assert cancelled.payload["ics"]["method"] == "CANCEL"


def test_an_agent_cancelling_queues_sms_and_email_noshow_nothing(uow: UnitOfWork, world: World) -> None:
    rdv_id = _plan(uow, world)
    change = lifecycle.cancel_rdv(uow, world.colleague, world.org, rdv_id, now=NOW)
    assert change is not None
    rows = _rows(uow, event="rdv_cancelled")
    assert _summary(rows) == [("rdv_cancelled", "mail", "jeanne@example.fr"),
                              ("rdv_cancelled", "mail", "loud@demo.test"),
                              ("rdv_cancelled", "sms", "+33612345678")]
    sms = next(r for r in rows if r.channel == "sms")
    assert "a été annulé" in sms.payload["text"] and "Appelez le 03 21 00 00 00" in sms.payload["text"]
    mail = next(r for r in rows if r.payload["to"] == "jeanne@example.fr")
    assert mail.payload["subject"] == "RDV annulé le lundi 7 décembre 2026 à 09h00 avec PMI Arras"
    assert mail.payload["ics"]["method"] == "CANCEL"

    other = _plan(uow, world, starts_at=at_paris(MONDAY, 11))
    before = len(_rows(uow))
    lifecycle.change_status(uow, world.colleague, world.org, other, "noshow", confirm_warnings=True, now=NOW)
    assert len(_rows(uow)) == before


def test_when_the_usager_cancels_the_agents_email_says_so(uow: UnitOfWork, world: World, db_url: str) -> None:
    rdv_id = _plan(uow, world)
    participation = _participation(uow, rdv_id, world.jeanne)
    access = usager_link.ParticipationRef(rdv_id, participation.id, world.jeanne)  # type: ignore[arg-type]
    with UnitOfWork(db_url) as usager_request:  # the usager's "Annuler" on their link page
        usager_link.cancel(usager_request, access, now=NOW)
    uow.rollback()
    [mail] = _rows(uow, event="rdv_cancelled", agent_id=world.loud)
    assert mail.payload["subject"] == "RDV annulé par l'usager le lundi 7 décembre 2026 à 09h00"
    assert "Un RDV de votre agenda a été annulé par l'usager." in mail.payload["text"]
    assert "a été annulé par l'usager." in unescape(mail.payload["html"])

    by_agent = _plan(uow, world, starts_at=at_paris(MONDAY, 11))
    lifecycle.cancel_rdv(uow, world.colleague, world.org, by_agent, now=NOW)
    [mail] = _rows(uow, rdv_id=by_agent, event="rdv_cancelled", agent_id=world.loud)
    assert mail.payload["subject"] == "RDV annulé le lundi 7 décembre 2026 à 11h00"
    assert "Un RDV de votre agenda a été annulé." in mail.payload["text"]


def test_a_relatives_messages_go_to_the_responsible_person(uow: UnitOfWork, world: World) -> None:
    rdv_id = _plan(uow, world, usager_ids=[world.leo, world.paul])
    rows = [r for r in _rows(uow, rdv_id=rdv_id) if r.usager_id is not None]
    assert _summary(rows) == [("rdv_created", "mail", "jeanne@example.fr"), ("rdv_created", "sms", "+33612345678")]
    assert {r.usager_id for r in rows} == {world.jeanne}
    sms = next(r for r in rows if r.channel == "sms")
    assert "pour Léo DUPONT" in sms.payload["text"]
    assert _participation(uow, rdv_id, world.leo).access_token_hash == hash_token(_token(sms.payload["text"], rdv_id))
    assert _participation(uow, rdv_id, world.paul).access_token_hash is None  # nobody messaged for Paul


def test_nothing_for_a_past_rdv(uow: UnitOfWork, world: World) -> None:
    rdv_id = _plan(uow, world, starts_at=NOW - timedelta(hours=2))
    assert _rows(uow, rdv_id=rdv_id) == []
    assert _participation(uow, rdv_id, world.jeanne).access_token_hash is None


def test_replaying_the_same_change_queues_nothing_and_keeps_the_token(uow: UnitOfWork, world: World) -> None:
    rdv_id = _plan(uow, world)
    change = lifecycle.update_rdv(uow, world.colleague, world.org, rdv_id, starts_at=at_paris(MONDAY, 10), duration_in_min=30,
                             lieu_id=world.lieu, agent_ids=[world.loud, world.colleague, world.quiet],
                             confirm_warnings=True, now=NOW)
    assert change is not None
    count, token_hash = len(_rows(uow)), _participation(uow, rdv_id, world.jeanne).access_token_hash
    assert notify_rdv_change(uow.session, change, now=NOW) == []
    uow.commit()
    assert len(_rows(uow)) == count
    assert _participation(uow, rdv_id, world.jeanne).access_token_hash == token_hash


@pytest.fixture
def ovh() -> Iterator[FakeOvh]:
    with FakeOvh() as server:
        yield server


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    with SmtpServer() as server:
        yield server


def test_the_worker_delivers_them_and_writes_receipts(uow: UnitOfWork, world: World, db_url: str,
                                                      ovh: FakeOvh, smtp: SmtpServer) -> None:
    rdv_id = _plan(uow, world)
    worker = Worker(db_url, sms=OvhSmsProvider(ovh.settings()), smtp=smtp.settings())
    assert worker.run_once(limit=100) == 3
    assert [(sms.receivers, sms.message) for sms in ovh.received] == [
        (["+33612345678"], next(r.payload["text"] for r in _rows(uow) if r.channel == "sms"))]
    mails = {rcpt[0]: message for rcpt, message in smtp.messages}
    assert set(mails) == {"jeanne@example.fr", "loud@demo.test"}
    assert mails["jeanne@example.fr"]["Subject"] == "RDV confirmé le lundi 7 décembre 2026 à 09h00"
    parts = [part.get_content_type() for part in mails["jeanne@example.fr"].walk()]
    assert "text/calendar" in parts
    uow.session.expire_all()
    assert {row.status for row in _rows(uow)} == {"sent"}
    receipts = list(uow.session.exec(select(Receipt).where(Receipt.rdv_id == rdv_id)))
    assert sorted((r.channel, r.event, r.result) for r in receipts) == [
        ("mail", "rdv_created", "sent"), ("mail", "rdv_created", "sent"), ("sms", "rdv_created", "sent")]
    sms_receipt = next(r for r in receipts if r.channel == "sms")
    assert (sms_receipt.usager_id, sms_receipt.sms_count) == (world.jeanne, 1)
