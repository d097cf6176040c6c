"""An usager moves their own RDV ("Changer la date", issue 28) on SQLite and PostgreSQL: one RDV kept with
a newer calendar version, the old slot released and the new one taken under the booking lock, "RDV
modifié" told once, and the races of two moves, or of a move and a booking, for one slot."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

import factories as make
import pytest
from db_snapshot import refused
from factories import at_paris
from sqlmodel import col, func, select

from rdv_app.auth import rate_limit
from rdv_app.db.models import (
    AuditLog,
    Motif,
    Organisation,
    OutboxMessage,
    Participation,
    Rdv,
    RdvAgent,
    Service,
    UsagerProfile,
)
from rdv_app.db.uow import UnitOfWork
from rdv_app.services.errors import NotFound
from rdv_app.services.rdv import lifecycle
from rdv_app.services.rdv.lifecycle import MOVED_MEANWHILE, SLOT_TAKEN, SlotTaken, book_rdv
from rdv_app.services.usagers import usager_rdvs

MONDAY = date(2026, 12, 7)
TUESDAY = MONDAY + timedelta(days=1)
NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)  # the Friday before: Monday is more than 2 days away


@dataclass
class World:
    org: int
    agent: int
    lieu: int
    motif: int
    usagers: list[int]


@pytest.fixture(autouse=True)
def fresh_rate_limits() -> Iterator[None]:
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
    usagers = [make.usager(s, f"Usager{i}", "Durand", email=f"usager{i}@demo.test", phone_number="06 12 34 56 78",
                           created_through="user_sign_up") for i in range(8)]
    make.plage(s, agent, org, lieu, [motif], title="Permanence", first_day=MONDAY, start_time=time(9),
               end_time=time(12), recurrence={"every": "week", "on": ["monday", "tuesday", "wednesday"]},
               created_at=NOW - timedelta(days=10))
    uow.commit()
    return World(org.id, agent.id, lieu.id, motif.id, [u.id for u in usagers])  # type: ignore[misc]


def _book(db_url: str, world: World, usager: int, starts_at: datetime, key: str) -> int:
    with UnitOfWork(db_url) as unit:
        return book_rdv(unit, usager, motif_id=world.motif, starts_at=starts_at, lieu_id=world.lieu,
                        booking_key=key, now=NOW).rdv_id


def _participation(db_url: str, rdv_id: int) -> int:
    with UnitOfWork(db_url) as unit:
        return unit.session.exec(select(Participation.id).where(Participation.rdv_id == rdv_id)).one()  # type: ignore[return-value]


def _move(db_url: str, usager: int, participation: int, starts_at: datetime, from_starts_at: datetime,
          now: datetime = NOW) -> lifecycle.RdvChange | None:
    with UnitOfWork(db_url) as unit:
        return usager_rdvs.move(unit, usager, participation, starts_at=starts_at, from_starts_at=from_starts_at,
                                now=now)


def _count(db_url: str, model: type, *where: object) -> int:
    with UnitOfWork(db_url) as unit:
        return unit.session.exec(select(func.count()).select_from(model).where(*where)).one()  # type: ignore[arg-type]


@dataclass(frozen=True)
class Message:
    id: int
    channel: str
    payload: dict


def _messages(db_url: str, rdv_id: int, event: str) -> list[Message]:
    with UnitOfWork(db_url) as unit:
        return [Message(m.id, m.channel, dict(m.payload)) for m in unit.session.exec(  # type: ignore[arg-type]
            select(OutboxMessage).where(OutboxMessage.rdv_id == rdv_id, OutboxMessage.event == event)
            .order_by(col(OutboxMessage.id))).all()]


def test_a_move_keeps_the_rdv_takes_the_new_slot_frees_the_old_one_and_tells_everyone_once(
        db_url: str, world: World) -> None:
    usager = world.usagers[0]
    rdv_id = _book(db_url, world, usager, at_paris(MONDAY, 9, 30), "k0")
    with UnitOfWork(db_url) as unit:
        before = unit.session.get(Rdv, rdv_id)
        assert before is not None
        uuid, sequence = before.uuid, before.ics_sequence
    participation = _participation(db_url, rdv_id)

    change = _move(db_url, usager, participation, at_paris(TUESDAY, 10), at_paris(MONDAY, 9, 30))

    assert change is not None and change.rdv_id == rdv_id
    with UnitOfWork(db_url) as check:
        rdv = check.session.get(Rdv, rdv_id)
        assert rdv is not None
        assert (rdv.uuid, rdv.ics_sequence) == (uuid, sequence + 1)
        assert (rdv.starts_at, rdv.ends_at) == (at_paris(TUESDAY, 10), at_paris(TUESDAY, 10, 30))
        slot = check.session.exec(select(RdvAgent).where(RdvAgent.rdv_id == rdv_id)).one()
        assert (slot.agent_id, slot.slot_starts_at, slot.slot_ends_at) == (
            world.agent, at_paris(TUESDAY, 10), at_paris(TUESDAY, 10, 30))
        audit = check.session.exec(select(AuditLog).where(AuditLog.entity_type == "rdv",
                                                          AuditLog.action == "updated")).one()
        assert (audit.actor_type, audit.actor_usager_id) == ("usager", usager)
    assert _count(db_url, Rdv) == 1

    notices = _messages(db_url, rdv_id, "rdv_updated")
    assert sorted((m.channel, m.payload["to"]) for m in notices) == [
        ("mail", "julien.petit@demo.test"), ("mail", "usager0@demo.test"), ("sms", "+33612345678")]
    assert sorted(m.id for m in notices) == sorted(change.outbox_ids)
    usager_mail = next(m for m in notices if m.payload["to"] == "usager0@demo.test")
    assert usager_mail.payload["subject"] == "RDV du lundi 7 décembre 2026 à 09h30 modifié"
    ics = usager_mail.payload["ics"]["content"]
    assert f"UID:{uuid}" in ics and f"SEQUENCE:{sequence + 1}" in ics and "DTSTART;TZID=Europe/Paris:20261208T100000" in ics
    assert "mardi 8 décembre 2026 à 10h00" in usager_mail.payload["text"]

    # A double click or a resubmitted confirmation: nothing done twice, nobody told twice.
    assert _move(db_url, usager, participation, at_paris(TUESDAY, 10), at_paris(MONDAY, 9, 30)) is None
    assert len(_messages(db_url, rdv_id, "rdv_updated")) == 3
    with UnitOfWork(db_url) as check:
        assert check.session.get(Rdv, rdv_id).ics_sequence == sequence + 1  # type: ignore[union-attr]
    # The old slot is free again for anyone.
    other = _book(db_url, world, world.usagers[1], at_paris(MONDAY, 9, 30), "k1")
    assert other != rdv_id and _count(db_url, Rdv) == 2


def test_moved_to_a_colleagues_time_the_old_agent_hears_annule_at_the_old_time_and_the_new_one_cree(
        db_url: str, uow: UnitOfWork, world: World) -> None:
    """RDV-SP's user_can_manage_rdv: after a reschedule to another agent, the old agent gets "RDV annulé" for
    the RDV they had (its old date; the usager cancelled nothing), the new agent a new RDV."""
    s = uow.session
    motif = s.get(Motif, world.motif)
    assert motif is not None
    colleague = make.agent(s, "camille.martin@demo.test", "Camille", "Martin",
                           organisation=s.get(Organisation, world.org), services=[s.get(Service, motif.service_id)])
    make.plage(s, colleague, world.org, world.lieu, [world.motif], title="Jeudis", first_day=MONDAY,
               start_time=time(9), end_time=time(12), recurrence={"every": "week", "on": ["thursday"]},
               created_at=NOW - timedelta(days=10))
    uow.commit()
    rdv_id = _book(db_url, world, world.usagers[0], at_paris(MONDAY, 9, 30), "k0")

    _move(db_url, world.usagers[0], _participation(db_url, rdv_id), at_paris(MONDAY + timedelta(days=3), 10),
          at_paris(MONDAY, 9, 30))

    [old] = [m.payload for m in _messages(db_url, rdv_id, "rdv_cancelled")]
    assert (old["to"], old["subject"]) == ("julien.petit@demo.test", "RDV annulé le lundi 7 décembre 2026 à 09h30")
    assert "Un RDV de votre agenda a été annulé." in old["text"]
    assert "Date : lundi 7 décembre 2026 à 09h30" in old["text"]
    new = [m.payload for m in _messages(db_url, rdv_id, "rdv_created") if m.payload["to"] == "camille.martin@demo.test"]
    assert [m["subject"] for m in new] == ["RDV créé le jeudi 10 décembre 2026 à 10h00"]


def test_refusals_say_why_in_french_and_change_nothing(db_url: str, uow: UnitOfWork, world: World) -> None:
    usager = world.usagers[0]
    rdv_id = _book(db_url, world, usager, at_paris(MONDAY, 9, 30), "k0")
    participation = _participation(db_url, rdv_id)
    monday, tuesday = at_paris(MONDAY, 9, 30), at_paris(TUESDAY, 10)

    def move(starts_at: datetime, from_starts_at: datetime, now: datetime = NOW) -> Callable[[UnitOfWork], object]:
        return lambda unit: usager_rdvs.move(unit, usager, participation, starts_at=starts_at,
                                             from_starts_at=from_starts_at, now=now)

    refused(db_url, move(tuesday, at_paris(MONDAY, 11)), MOVED_MEANWHILE[:40])
    refused(db_url, move(tuesday, monday, now=at_paris(MONDAY, 8) - timedelta(days=1)),
            "moins de 2 jours .* contactez PMI Arras au 03 21 00 00 00")
    refused(db_url, move(at_paris(TUESDAY, 13), monday), "Ce créneau n'est pas proposé")
    # Someone else's RDV is not found, whatever the participation id says.
    with UnitOfWork(db_url) as unit, pytest.raises(NotFound):
        usager_rdvs.move(unit, world.usagers[1], participation, starts_at=tuesday, from_starts_at=monday, now=NOW)

    motif = uow.session.get(Motif, world.motif)
    assert motif is not None
    motif.rdvs_editable_by_user = False
    uow.session.add(motif)
    uow.commit()
    refused(db_url, move(tuesday, monday), "ne peut pas être changée en ligne")
    with UnitOfWork(db_url, read_only=True) as unit:
        shown = usager_rdvs.list_rdvs(unit, usager, now=NOW).upcoming[0].summary
    assert not shown.can_edit and shown.edit_notice.startswith("La date de ce rendez-vous ne peut pas")


def test_an_rdv_planned_by_an_agent_is_not_moved_by_its_usager(db_url: str, world: World) -> None:
    usager = world.usagers[0]
    with UnitOfWork(db_url) as unit:
        unit.session.add(UsagerProfile(organisation_id=world.org, usager_id=usager))
        unit.commit()
        rdv_id = lifecycle.plan_rdv(unit, world.agent, world.org, motif_id=world.motif,
                                    starts_at=at_paris(MONDAY, 9), duration_in_min=30, agent_ids=[world.agent],
                                    lieu_id=world.lieu, usager_ids=[usager], now=NOW)
    participation = _participation(db_url, rdv_id)
    with UnitOfWork(db_url, read_only=True) as unit:
        shown = usager_rdvs.list_rdvs(unit, usager, now=NOW).upcoming[0].summary
    assert not shown.can_edit
    assert shown.edit_notice == ("Ce rendez-vous a été fixé par un agent : sa date ne se change pas en ligne. "
                                 "Pour la changer, contactez PMI Arras au 03 21 00 00 00.")
    refused(db_url, lambda unit: usager_rdvs.move(unit, usager, participation, starts_at=at_paris(TUESDAY, 10),
                                                 from_starts_at=at_paris(MONDAY, 9), now=NOW), "fixé par un agent")


def _together(*calls: Callable[[], object]) -> list[object]:
    barrier = threading.Barrier(len(calls))
    results: list[object] = [None] * len(calls)

    def run(index: int) -> None:
        barrier.wait()
        try:
            results[index] = calls[index]()
        except SlotTaken as taken:
            results[index] = taken.message
        except Exception as error:  # noqa: BLE001 - reported in the assertions
            results[index] = f"unexpected: {error!r}"

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


def _holders(db_url: str, starts_at: datetime) -> list[int]:
    with UnitOfWork(db_url) as unit:
        return list(unit.session.exec(select(Participation.usager_id).join(Rdv, col(Rdv.id) == Participation.rdv_id)
                                      .where(Rdv.starts_at == starts_at)).all())


def test_two_moves_to_one_slot_give_one_winner_and_the_other_a_clear_message(db_url: str, world: World) -> None:
    first, second = world.usagers[0], world.usagers[1]
    rdv_a = _book(db_url, world, first, at_paris(MONDAY, 9), "a")
    rdv_b = _book(db_url, world, second, at_paris(MONDAY, 9, 30), "b")
    pa, pb = _participation(db_url, rdv_a), _participation(db_url, rdv_b)
    target = at_paris(TUESDAY, 11)

    results = _together(lambda: _move(db_url, first, pa, target, at_paris(MONDAY, 9)),
                        lambda: _move(db_url, second, pb, target, at_paris(MONDAY, 9, 30)))

    assert sorted(map(type, results), key=str) == sorted([lifecycle.RdvChange, str], key=str), results
    assert [r for r in results if isinstance(r, str)] == [SLOT_TAKEN]
    assert _count(db_url, Rdv) == 2 and len(_holders(db_url, target)) == 1
    winner = next(r for r in results if isinstance(r, lifecycle.RdvChange))
    loser_rdv = rdv_b if winner.rdv_id == rdv_a else rdv_a
    with UnitOfWork(db_url) as check:
        loser = check.session.get(Rdv, loser_rdv)
        assert loser is not None and loser.ics_sequence == 0 and loser.starts_at != target
    assert len(_messages(db_url, winner.rdv_id, "rdv_updated")) == 3
    assert _messages(db_url, loser_rdv, "rdv_updated") == []


def test_a_move_racing_bookings_for_one_slot_leaves_one_rdv_on_it(db_url: str, world: World) -> None:
    mover = world.usagers[0]
    rdv_id = _book(db_url, world, mover, at_paris(MONDAY, 9), "m")
    participation = _participation(db_url, rdv_id)
    target = at_paris(TUESDAY, 9, 30)

    calls: list[Callable[[], object]] = [lambda: _move(db_url, mover, participation, target, at_paris(MONDAY, 9))]
    calls += [lambda i=i: _book(db_url, world, world.usagers[i], target, f"race-{i}") for i in range(1, 6)]
    results = _together(*calls)

    assert all(not (isinstance(r, str) and r.startswith("unexpected")) for r in results), results
    assert results.count(SLOT_TAKEN) == 5, results
    assert len(_holders(db_url, target)) == 1
    assert _count(db_url, Rdv) == 1 + sum(isinstance(r, int) for r in results)
    with UnitOfWork(db_url) as check:
        rdv = check.session.get(Rdv, rdv_id)
        assert rdv is not None
        assert rdv.starts_at == (target if isinstance(results[0], lifecycle.RdvChange) else at_paris(MONDAY, 9))
