"""Reminders computed by the worker from the database (decision 1), on SQLite and PostgreSQL, delivered to
the loopback OVH API and an aiosmtpd server: on time, after a restart, at the new time of a moved RDV,
never for a cancelled one, exactly once with two workers, by the participants' flags."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import factories as make
import pytest
from factories import at_paris
from fakes.ovh_server import FakeOvh
from fakes.smtp_server import SmtpServer
from pg import free_port
from sqlmodel import select

from rdv_app.auth.tokens import hash_token
from rdv_app.config import settings
from rdv_app.db.models import (
    Motif,
    OutboxMessage,
    Participation,
    Rdv,
    Receipt,
    Usager,
    UsagerProfile,
)
from rdv_app.db.uow import UnitOfWork
from rdv_app.domain import clock
from rdv_app.notify.reminders import due_rdv_ids
from rdv_app.notify.sms import OvhSmsProvider
from rdv_app.notify.worker import Worker
from rdv_app.services.rdv import lifecycle

PARIS = ZoneInfo("Europe/Paris")
MONDAY = date(2026, 12, 7)
# Booked the Tuesday before; the reminder of Monday 9:00 is due on Friday 9:00 (Sunday does not count).
BOOKED = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
REMINDER = datetime(2026, 12, 4, 9, 0, tzinfo=PARIS).astimezone(UTC)
REMINDER_EVENT = "rdv_upcoming_reminder"
# Built on fixed days: the clock starts at BOOKED for every test here, whatever the day they run.
pytestmark = pytest.mark.clock(BOOKED)


@dataclass
class World:
    org: int
    agent: int
    motif: int
    lieu: int
    jeanne: int  # email and mobile
    leo: int  # Jeanne's child
    marc: int  # mobile only, refuses SMS: nothing reaches him


@pytest.fixture
def world(uow: UnitOfWork) -> World:
    s = uow.session
    territory = make.territory(s, sms_sender="PMI 62")
    pmi = make.service(s)
    org = make.organisation(s, territory, phone_number="03 21 00 00 00", timezone="Europe/Paris")
    agent = make.agent(s, "agent@demo.test", "Inès", "Roux", organisation=org, role="admin", services=[pmi],
                       rdv_notifications_level="none")
    lieu = make.lieu(s, org)
    motif = make.motif(s, org, pmi)
    jeanne = make.usager(s, "Jeanne", "Dupont", email="jeanne@example.fr", phone_number="06 12 34 56 78")
    marc = make.usager(s, "Marc", "Leroy", phone_number="06 98 76 54 32", notify_by_sms=False)
    leo = make.usager(s, "Léo", "Dupont", responsible_id=jeanne.id)
    s.add_all([UsagerProfile(organisation_id=org.id, usager_id=u.id) for u in (jeanne, leo, marc)])
    uow.commit()
    return World(org.id, agent.id, motif.id, lieu.id, jeanne.id, leo.id, marc.id)  # type: ignore[arg-type]


@pytest.fixture
def ovh() -> Iterator[FakeOvh]:
    with FakeOvh() as server:
        yield server


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    with SmtpServer() as server:
        yield server


def _worker(db_url: str, ovh: FakeOvh, smtp: SmtpServer) -> Worker:
    """A new worker object each time: nothing carries over in memory, as after a restart."""
    return Worker(db_url, sms=OvhSmsProvider(ovh.settings()), smtp=smtp.settings())


def _plan(uow: UnitOfWork, world: World, **overrides: Any) -> int:
    values: dict[str, Any] = dict(motif_id=world.motif, starts_at=at_paris(MONDAY, 9), duration_in_min=30,
                                  agent_ids=[world.agent], lieu_id=world.lieu, usager_ids=[world.jeanne],
                                  confirm_warnings=True, now=BOOKED)
    values.update(overrides)
    return lifecycle.plan_rdv(uow, world.agent, world.org, **values)


def _reminders(db_url: str) -> list[OutboxMessage]:
    with UnitOfWork(db_url) as uow:
        rows = list(uow.session.exec(select(OutboxMessage).where(OutboxMessage.event == REMINDER_EVENT)
                                     .order_by(OutboxMessage.id)))  # type: ignore[arg-type]
        uow.session.expunge_all()  # read as they are now, usable after the unit of work
        return rows


def _summary(rows: list[OutboxMessage]) -> list[tuple[str, str]]:
    return sorted((row.channel, row.payload["to"]) for row in rows)


def test_the_reminder_leaves_48_counted_hours_before_and_reaches_sms_and_email(
        uow: UnitOfWork, world: World, db_url: str, ovh: FakeOvh, smtp: SmtpServer) -> None:
    rdv_id = _plan(uow, world)
    worker = _worker(db_url, ovh, smtp)
    assert worker.run_scheduled(now=REMINDER - timedelta(minutes=1)) == []
    assert _reminders(db_url) == []

    queued = worker.run_scheduled(now=REMINDER)
    rows = _reminders(db_url)
    assert sorted(queued) == sorted(r.id for r in rows)
    assert _summary(rows) == [("mail", "jeanne@example.fr"), ("sms", "+33612345678")]
    assert worker.run_once(now=REMINDER, limit=100) == 4  # the confirmation's SMS and email, then these

    [sms] = [m for m in ovh.received if "Rappel" in m.message]
    assert sms.receivers == ["+33612345678"] and sms.sender == "PMI 62"
    assert "\nRappel RDV PMI le lundi 07/12 à 09h00.\nCentre Arras (1 rue A, 62000 Arras).\n" in sms.message
    # The link carries a new token: the one stored for Jeanne's participation.
    token = re.search(rf"{re.escape(settings.public_url)}/r/{rdv_id}/(\S+) /", sms.message)
    assert token is not None
    with UnitOfWork(db_url) as check:
        participation = check.session.exec(select(Participation).where(Participation.rdv_id == rdv_id)).one()
        assert participation.access_token_hash == hash_token(token.group(1))
        receipts = check.session.exec(select(Receipt.channel, Receipt.event, Receipt.result)
                                      .where(Receipt.rdv_id == rdv_id, Receipt.event == REMINDER_EVENT)).all()
    assert sorted(receipts) == [("mail", REMINDER_EVENT, "sent"), ("sms", REMINDER_EVENT, "sent")]
    # The receipt agents read keeps the text without the usager's key to the RDV.
    with UnitOfWork(db_url) as check:
        kept = check.session.exec(select(Receipt.content).where(Receipt.rdv_id == rdv_id, Receipt.channel == "sms",
                                                                Receipt.event == REMINDER_EVENT)).one()
    assert kept == sms.message.replace(token.group(1), "…") and token.group(1) not in kept

    [(_, mail)] = [(rcpt, m) for rcpt, m in smtp.messages if m["Subject"].startswith("[Rappel]")]
    assert mail["Subject"] == "[Rappel] RDV le lundi 7 décembre 2026 à 09h00"
    html = mail.get_body(("html",)).get_content()
    assert "Nous vous rappelons votre rendez-vous." in html and 'lang="fr"' in html
    calendar = next(part for part in mail.walk() if part.get_content_type() == "text/calendar")
    assert calendar.get_param("method") == "PUBLISH"
    # The confirmation sent before it had its HTML part too, with the link it had then.
    [(_, confirmation)] = [(rcpt, m) for rcpt, m in smtp.messages if m["Subject"].startswith("RDV confirmé")]
    alternatives = next(p for p in confirmation.walk() if p.get_content_type() == "multipart/alternative")
    assert [p.get_content_type() for p in alternatives.iter_parts()] == ["text/plain", "text/html", "text/calendar"]
    confirmation_html = confirmation.get_body(("html",)).get_content()
    assert "Votre rendez-vous est confirmé." in confirmation_html
    assert re.search(rf'<a href="{re.escape(settings.public_url)}/r/{rdv_id}/[^"]+"[^>]*>Infos et annulation</a>',
                     confirmation_html)

    # Later scans, by this worker or another one started afterwards, send nothing more; the RDV is not
    # even looked at again.
    with UnitOfWork(db_url) as check:
        assert due_rdv_ids(check.session, REMINDER + timedelta(hours=1)) == []
    assert worker.run_scheduled(now=REMINDER + timedelta(hours=1)) == []
    assert _worker(db_url, ovh, smtp).run_scheduled(now=REMINDER + timedelta(days=2)) == []
    assert len(_reminders(db_url)) == 2


def test_a_worker_stopped_at_the_reminder_time_catches_up_but_never_after_the_start(
        uow: UnitOfWork, world: World, db_url: str, ovh: FakeOvh, smtp: SmtpServer) -> None:
    _plan(uow, world)
    other = _plan(uow, world, starts_at=at_paris(MONDAY, 11), usager_ids=[world.leo])
    # Nothing ran on Friday; a worker started on Monday at 10:00 sends the 11:00 RDV's reminder only.
    late = at_paris(MONDAY, 10)
    _worker(db_url, ovh, smtp).run_scheduled(now=late)
    rows = _reminders(db_url)
    assert {r.rdv_id for r in rows} == {other}
    assert _summary(rows) == [("mail", "jeanne@example.fr"), ("sms", "+33612345678")]
    # A relative's reminder goes to the responsible person and names the child.
    sms = next(r for r in rows if r.channel == "sms")
    assert "pour Léo DUPONT" in sms.payload["text"] and sms.usager_id == world.jeanne


def test_a_moved_rdv_gets_its_reminder_at_the_new_time_once_per_version(
        uow: UnitOfWork, world: World, db_url: str, ovh: FakeOvh, smtp: SmtpServer) -> None:
    rdv_id = _plan(uow, world)
    worker = _worker(db_url, ovh, smtp)
    worker.run_scheduled(now=REMINDER)
    assert len(_reminders(db_url)) == 2

    # Moved on Friday afternoon to Wednesday 14:00: its reminder is due on Monday 14:00.
    lifecycle.update_rdv(uow, world.agent, world.org, rdv_id, starts_at=at_paris(MONDAY + timedelta(days=2), 14),
                    duration_in_min=30, lieu_id=world.lieu, agent_ids=[world.agent], confirm_warnings=True,
                    now=REMINDER + timedelta(hours=5))
    assert worker.run_scheduled(now=at_paris(MONDAY, 13, 59)) == []
    assert len(worker.run_scheduled(now=at_paris(MONDAY, 14))) == 2
    rows = _reminders(db_url)
    assert len(rows) == 4
    newest = [r for r in rows if ":1:" in r.idempotency_key]
    assert _summary(newest) == [("mail", "jeanne@example.fr"), ("sms", "+33612345678")]
    assert "mercredi 09/12 à 14h00" in next(r for r in newest if r.channel == "sms").payload["text"]
    assert worker.run_scheduled(now=at_paris(MONDAY, 18)) == []


def test_an_rdv_whose_reminder_cannot_be_written_does_not_hold_back_the_others(
        uow: UnitOfWork, world: World, db_url: str, ovh: FakeOvh, smtp: SmtpServer,
        caplog: pytest.LogCaptureFixture) -> None:
    broken = _plan(uow, world)
    fine = _plan(uow, world, starts_at=at_paris(MONDAY, 10))
    with UnitOfWork(db_url) as edit:  # an on-site RDV whose lieu vanished: no SMS text can be written
        rdv = edit.session.get(Rdv, broken)
        rdv.lieu_id = None  # type: ignore[union-attr]
        edit.session.add(rdv)
        edit.commit()
    worker = _worker(db_url, ovh, smtp)
    assert len(worker.run_scheduled(now=at_paris(MONDAY, 8))) == 2
    assert {r.rdv_id for r in _reminders(db_url)} == {fine}
    assert f"reminders: RDV {broken} skipped" in caplog.text


def test_a_cancelled_rdv_gets_no_reminder(uow: UnitOfWork, world: World, db_url: str, ovh: FakeOvh,
                                          smtp: SmtpServer) -> None:
    rdv_id = _plan(uow, world)
    lifecycle.cancel_rdv(uow, world.agent, world.org, rdv_id, now=BOOKED + timedelta(days=1))
    assert _worker(db_url, ovh, smtp).run_scheduled(now=REMINDER) == []
    assert _reminders(db_url) == []


def test_an_invisible_motif_gets_no_reminder_whatever_the_flags(uow: UnitOfWork, world: World, db_url: str,
                                                                ovh: FakeOvh, smtp: SmtpServer) -> None:
    _plan(uow, world, usager_ids=[world.jeanne, world.leo],
          notify={world.jeanne: (True, True), world.leo: (True, True)})
    with UnitOfWork(db_url) as edit:
        motif = edit.session.get(Motif, world.motif)
        motif.visibility_type = "invisible"  # type: ignore[union-attr]
        edit.session.add(motif)
        edit.commit()
    assert _worker(db_url, ovh, smtp).run_scheduled(now=REMINDER) == []
    assert _reminders(db_url) == []


def test_flags_decide_who_gets_it(uow: UnitOfWork, world: World, db_url: str, ovh: FakeOvh,
                                  smtp: SmtpServer) -> None:
    # Jeanne opted out of the reminder for this RDV; Marc refuses SMS and has no email.
    _plan(uow, world, usager_ids=[world.jeanne, world.marc], notify={world.jeanne: (True, False)})
    assert _worker(db_url, ovh, smtp).run_scheduled(now=REMINDER) == []
    # Another RDV where Jeanne keeps the reminder but refuses email: SMS only.
    with UnitOfWork(db_url) as edit:
        jeanne = edit.session.get(Usager, world.jeanne)
        jeanne.notify_by_email = False  # type: ignore[union-attr]
        edit.session.add(jeanne)
        edit.commit()
    _plan(uow, world, starts_at=at_paris(MONDAY, 15))
    _worker(db_url, ovh, smtp).run_scheduled(now=at_paris(MONDAY - timedelta(days=3), 15))
    assert _summary(_reminders(db_url)) == [("sms", "+33612345678")]


def test_booked_after_the_reminder_time_the_confirmation_is_enough(
        uow: UnitOfWork, world: World, db_url: str, ovh: FakeOvh, smtp: SmtpServer) -> None:
    now = clock.now()
    soon = (now + timedelta(hours=30)).replace(second=0, microsecond=0)
    # Jeanne gets the confirmation now; Marc's participation does without it, so the reminder is his only
    # message (he accepts no SMS: let him accept them for this test).
    with UnitOfWork(db_url) as edit:
        marc = edit.session.get(Usager, world.marc)
        marc.notify_by_sms = True  # type: ignore[union-attr]
        edit.session.add(marc)
        edit.commit()
    rdv_id = _plan(uow, world, starts_at=soon, usager_ids=[world.jeanne, world.marc],
                   notify={world.marc: (False, True)}, now=now)
    queued = _worker(db_url, ovh, smtp).run_scheduled(now=clock.now())
    rows = _reminders(db_url)
    assert sorted(queued) == [r.id for r in rows]
    assert [(r.rdv_id, r.channel, r.payload["to"]) for r in rows] == [(rdv_id, "sms", "+33698765432")]


def test_two_workers_scanning_together_queue_each_reminder_once(
        uow: UnitOfWork, world: World, db_url: str, ovh: FakeOvh, smtp: SmtpServer) -> None:
    rdv_ids = [_plan(uow, world, starts_at=at_paris(MONDAY, 8 + index), usager_ids=[world.jeanne])
               for index in range(4)]  # with their confirmations, 8 SMS: under the daily cap of 10
    workers = [_worker(db_url, ovh, smtp) for _ in range(2)]
    start = threading.Barrier(2)
    results: list[list[int]] = [[], []]

    def scan(index: int) -> None:
        start.wait()
        results[index] = workers[index].run_scheduled(now=at_paris(MONDAY, 7))

    threads = [threading.Thread(target=scan, args=(index,)) for index in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    rows = _reminders(db_url)
    assert len(rows) == 8 and sorted(results[0] + results[1]) == sorted(r.id for r in rows)
    assert sorted((r.rdv_id, r.channel) for r in rows) == sorted((i, c) for i in rdv_ids for c in ("mail", "sms"))
    # Both workers deliver: each message once, and each SMS link is the participation's current token.
    threads = [threading.Thread(target=w.run_once, kwargs={"now": at_paris(MONDAY, 7), "limit": 100})
               for w in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    texts = [m.message for m in ovh.received if "Rappel" in m.message]
    assert len(texts) == 4 and len(set(texts)) == 4
    with UnitOfWork(db_url) as check:
        hashes = dict(check.session.exec(select(Participation.rdv_id, Participation.access_token_hash)).all())
    for text in texts:
        match = re.search(r"/r/(\d+)/(\S+) /", text)
        assert match is not None and hashes[int(match.group(1))] == hash_token(match.group(2))


def test_reminders_waiting_across_a_cancellation_or_a_move_are_withdrawn_not_sent(
        uow: UnitOfWork, world: World, db_url: str, ovh: FakeOvh, smtp: SmtpServer) -> None:
    cancelled = _plan(uow, world)
    moved = _plan(uow, world, usager_ids=[world.leo])
    worker = _worker(db_url, ovh, smtp)
    assert worker.run_once(now=REMINDER - timedelta(hours=1), limit=100) == 4  # the confirmations
    # OVH and the SMTP server are down when the reminders fall due: they are put back for later.
    ovh.go_down()
    assert len(worker.run_scheduled(now=REMINDER)) == 4
    nowhere = Worker(db_url, sms=OvhSmsProvider(ovh.settings()), smtp=smtp.settings(port=free_port()))
    assert nowhere.run_once(now=REMINDER, limit=100) == 4
    assert not any("Rappel" in sms.message for sms in ovh.received)
    assert {r.status for r in _reminders(db_url)} == {"pending"}

    # Meanwhile one RDV is cancelled and the other moved to Wednesday 14:00.
    lifecycle.cancel_rdv(uow, world.agent, world.org, cancelled, now=REMINDER + timedelta(minutes=5))
    lifecycle.update_rdv(uow, world.agent, world.org, moved, starts_at=at_paris(MONDAY + timedelta(days=2), 14),
                         duration_in_min=30, lieu_id=world.lieu, agent_ids=[world.agent], confirm_warnings=True,
                         now=REMINDER + timedelta(minutes=6))

    ovh.come_back()
    worker.run_once(now=REMINDER + timedelta(hours=2), limit=100)
    assert not any("Rappel" in sms.message for sms in ovh.received)
    assert not any(message["Subject"].startswith("[Rappel]") for _, message in smtp.messages)
    assert any("a été annulé" in sms.message for sms in ovh.received)
    assert any("RDV modifié" in sms.message and "mercredi 09/12 à 14h00" in sms.message for sms in ovh.received)
    with UnitOfWork(db_url) as check:
        withdrawn = check.session.exec(select(Receipt.rdv_id, Receipt.channel, Receipt.error_message)
                                       .where(Receipt.event == REMINDER_EVENT,
                                              Receipt.error_message == "Annulé : le rendez-vous a changé.")).all()
    statuses = {r.status for r in _reminders(db_url)}
    assert sorted(withdrawn) == sorted([(cancelled, "mail", "Annulé : le rendez-vous a changé."),
                                        (cancelled, "sms", "Annulé : le rendez-vous a changé."),
                                        (moved, "mail", "Annulé : le rendez-vous a changé."),
                                        (moved, "sms", "Annulé : le rendez-vous a changé.")])
    assert statuses == {"cancelled"}
    # The moved RDV's reminder comes again at its new time, for its new version only.
    assert len(worker.run_scheduled(now=at_paris(MONDAY, 14))) == 2
    worker.run_once(now=at_paris(MONDAY, 14), limit=100)
    [reminder] = [sms for sms in ovh.received if "Rappel" in sms.message]
    assert "mercredi 09/12 à 14h00" in reminder.message


def test_a_reminder_a_worker_already_holds_when_its_rdv_is_cancelled_does_not_leave(
        uow: UnitOfWork, world: World, db_url: str, ovh: FakeOvh, smtp: SmtpServer) -> None:
    first = _plan(uow, world)
    second = _plan(uow, world, usager_ids=[world.leo])
    worker = _worker(db_url, ovh, smtp)
    assert worker.run_once(now=REMINDER - timedelta(hours=1), limit=100) == 4  # the confirmations
    assert len(worker.run_scheduled(now=REMINDER)) == 4
    rows = _reminders(db_url)
    held = next(row for row in rows if row.channel == "sms")
    other = second if held.rdv_id == first else first
    behind = [row.id for row in rows if row.rdv_id == other and row.id > held.id]
    assert behind, "the other RDV's reminders come after the held SMS in the batch"

    # The worker claims the four reminders in one batch; OVH holds the answer to the first SMS while the
    # other RDV is cancelled: its reminders are no longer waiting, they are the worker's.
    ovh.hang_after_accepting(held.payload["text"])
    delivering = threading.Thread(target=worker.run_once, kwargs={"now": REMINDER, "limit": 100})
    delivering.start()
    assert ovh.hung.wait(timeout=30)
    assert {r.status for r in _reminders(db_url) if r.id in behind} == {"sending"}
    lifecycle.cancel_rdv(uow, world.agent, world.org, other, now=REMINDER + timedelta(minutes=1))
    ovh.release(accept=True)
    delivering.join(timeout=60)

    reminders_sent = [sms.message for sms in ovh.received if "Rappel" in sms.message]
    assert reminders_sent == [held.payload["text"]]
    with UnitOfWork(db_url) as check:
        withdrawn = check.session.exec(select(Receipt.outbox_message_id).where(
            Receipt.event == REMINDER_EVENT, Receipt.error_message == "Annulé : le rendez-vous a changé.")).all()
    assert sorted(withdrawn) == behind
    assert {r.status for r in _reminders(db_url) if r.id in behind} == {"cancelled"}
