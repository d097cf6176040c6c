"""Online booking (book_rdv) on SQLite and PostgreSQL: final check, agent choice, idempotency, races."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

import factories as make
import pytest
import sqlalchemy as sa
from factories import at_paris
from sqlmodel import col, func, select

from rdv_app.auth import rate_limit
from rdv_app.db.engine import get_engine
from rdv_app.db.models import (
    AuditLog,
    Motif,
    OutboxMessage,
    Participation,
    Rdv,
    RdvAgent,
    Service,
    Usager,
    UsagerProfile,
    WebhookEndpoint,
)
from rdv_app.db.uow import UnitOfWork
from rdv_app.services.errors import DomainError, NeedsConfirmation, NotFound
from rdv_app.services.online_booking.booking import booked_rdv
from rdv_app.services.rdv import lifecycle
from rdv_app.services.rdv.lifecycle import (
    BOOKINGS_PER_USAGER,
    SERVICE_BUSY,
    SLOT_NOT_OFFERED,
    SLOT_TAKEN,
    TOO_MANY_BOOKINGS,
    Booked,
    SlotTaken,
    book_rdv,
)

MONDAY = date(2026, 12, 7)
NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)  # the Friday before


@dataclass
class World:
    org: int
    agent_a: int
    agent_b: int
    lieu: int
    motif: int
    usagers: list[int]


def _add(uow: UnitOfWork, *rows: object) -> None:
    uow.session.add_all(rows)
    uow.session.flush()


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
    agent_a = make.agent(s, "julien.petit@demo.test", "Julien", "Petit", organisation=org, services=[service])
    agent_b = make.agent(s, "karim.haddad@demo.test", "Karim", "Haddad", organisation=org, services=[service])
    lieu = make.lieu(s, org)
    motif = make.motif(s, org, service, default_duration_in_min=30, bookable_by="everyone",
                       min_public_booking_delay=1800, max_public_booking_delay=30 * 86400)
    usagers = [make.usager(s, f"Usager{i}", "Durand", email=f"usager{i}@demo.test", phone_number="06 12 34 56 78",
                           created_through="user_sign_up") for i in range(21)]
    uow.commit()
    return World(org.id, agent_a.id, agent_b.id, lieu.id, motif.id, [u.id for u in usagers])  # type: ignore[misc]


def _plage(uow: UnitOfWork, world: World, agent: int, created_at: datetime, *, motif: int | None = None,
           lieu: int | None | str = "default") -> None:
    make.plage(uow.session, agent, world.org, world.lieu if lieu == "default" else lieu,  # type: ignore[arg-type]
               [motif or world.motif], title="Permanence", first_day=MONDAY, start_time=time(9), end_time=time(12),
               recurrence={"every": "week", "on": ["monday", "tuesday", "wednesday", "thursday", "friday"]},
               created_at=created_at)
    uow.commit()


def _book(db_url: str, usager: int, world: World, starts_at: datetime, key: str, **kwargs: object) -> Booked:
    with UnitOfWork(db_url) as unit:
        return book_rdv(unit, usager, motif_id=kwargs.pop("motif_id", world.motif),  # type: ignore[arg-type]
                        starts_at=starts_at, lieu_id=kwargs.pop("lieu_id", world.lieu),  # type: ignore[arg-type]
                        booking_key=key, now=NOW, **kwargs)  # type: ignore[arg-type]


def _count(db_url: str, model: type, *where: object) -> int:
    with UnitOfWork(db_url) as unit:
        return unit.session.exec(select(func.count()).select_from(model).where(*where)).one()  # type: ignore[arg-type]


def test_booking_writes_the_rdv_its_agent_participation_audit_and_notifications(db_url: str, uow: UnitOfWork,
                                                                                world: World) -> None:
    _plage(uow, world, world.agent_a, NOW - timedelta(days=10))
    booked = _book(db_url, world.usagers[0], world, at_paris(MONDAY, 9, 30), "key-1")

    assert booked.created
    with UnitOfWork(db_url) as check:
        rdv = check.session.get(Rdv, booked.rdv_id)
        assert rdv is not None
        assert (rdv.starts_at, rdv.ends_at) == (at_paris(MONDAY, 9, 30), at_paris(MONDAY, 10))
        assert (rdv.created_by_type, rdv.created_by_usager_id, rdv.lieu_id) == ("usager", world.usagers[0], world.lieu)
        assert rdv.uuid == booked.uuid
        assert check.session.exec(select(RdvAgent.agent_id).where(RdvAgent.rdv_id == rdv.id)).all() == [world.agent_a]
        participation = check.session.exec(select(Participation).where(Participation.rdv_id == rdv.id)).one()
        assert (participation.usager_id, participation.created_by_type) == (world.usagers[0], "usager")
        assert check.session.exec(select(UsagerProfile.organisation_id)
                                  .where(UsagerProfile.usager_id == world.usagers[0])).all() == [world.org]
        outbox = check.session.exec(select(OutboxMessage).where(OutboxMessage.rdv_id == rdv.id)).all()
        recipients = sorted((m.channel, m.payload["to"]) for m in outbox)
        assert recipients == [("mail", "julien.petit@demo.test"), ("mail", "usager0@demo.test"),
                              ("sms", "+33612345678")]
        assert sorted(m.id for m in outbox) == sorted(booked.outbox_ids)
        audit = check.session.exec(select(AuditLog).where(AuditLog.entity_type == "rdv")).one()
        assert (audit.actor_type, audit.actor_usager_id, audit.action) == ("usager", world.usagers[0], "created")


def test_the_plage_created_first_wins_then_the_other_agent_then_the_slot_is_gone(db_url: str, uow: UnitOfWork,
                                                                                 world: World) -> None:
    _plage(uow, world, world.agent_b, NOW - timedelta(days=5))
    _plage(uow, world, world.agent_a, NOW - timedelta(days=3))
    start = at_paris(MONDAY, 10)
    first = _book(db_url, world.usagers[0], world, start, "k0")
    second = _book(db_url, world.usagers[1], world, start, "k1")
    with pytest.raises(SlotTaken) as taken:
        _book(db_url, world.usagers[2], world, start, "k2")

    assert taken.value.message == SLOT_TAKEN
    assert taken.value.message.startswith("Ce créneau n'est plus disponible")
    with UnitOfWork(db_url) as check:
        agents = {rdv_id: agent for rdv_id, agent in check.session.exec(select(RdvAgent.rdv_id, RdvAgent.agent_id))}
    assert agents == {first.rdv_id: world.agent_b, second.rdv_id: world.agent_a}


def test_a_resubmitted_confirmation_returns_the_same_rdv_and_notifies_once(db_url: str, uow: UnitOfWork,
                                                                           world: World) -> None:
    _plage(uow, world, world.agent_a, NOW - timedelta(days=10))
    first = _book(db_url, world.usagers[0], world, at_paris(MONDAY, 11), "double-click")
    again = _book(db_url, world.usagers[0], world, at_paris(MONDAY, 11), "double-click")

    assert (again.rdv_id, again.created, again.outbox_ids) == (first.rdv_id, False, ())
    assert _count(db_url, Rdv) == 1
    assert _count(db_url, OutboxMessage) == 3
    # The same key from another usager is another booking, refused here because the slot is taken.
    with pytest.raises(SlotTaken):
        _book(db_url, world.usagers[1], world, at_paris(MONDAY, 11), "double-click")


def test_booking_delays_and_the_motif_rules_are_enforced(db_url: str, uow: UnitOfWork, world: World) -> None:
    _plage(uow, world, world.agent_a, NOW - timedelta(days=10))
    with uow.session.begin():
        motif = uow.session.get(Motif, world.motif)
        assert motif is not None
        motif.min_public_booking_delay = 4 * 86400  # from Tuesday 8 December 12:00 UTC
        motif.max_public_booking_delay = 7 * 86400  # until Friday 11 December 12:00 UTC
    with pytest.raises(SlotTaken):
        _book(db_url, world.usagers[0], world, at_paris(MONDAY, 9), "too-soon")
    with pytest.raises(SlotTaken):
        _book(db_url, world.usagers[0], world, at_paris(MONDAY + timedelta(days=4), 14), "too-late")
    with pytest.raises(SlotTaken):
        _book(db_url, world.usagers[0], world, at_paris(MONDAY + timedelta(days=2), 9, 7), "off-grid")
    assert _book(db_url, world.usagers[0], world, at_paris(MONDAY + timedelta(days=2), 9), "fine").created

    with uow.session.begin():
        motif = uow.session.get(Motif, world.motif)
        motif.restriction_for_rdv = "Venez avec le carnet de santé."  # type: ignore[union-attr]
    with pytest.raises(DomainError) as conditions:
        _book(db_url, world.usagers[1], world, at_paris(MONDAY + timedelta(days=2), 10), "cond")
    assert conditions.value.field == "accepted_conditions"
    assert _book(db_url, world.usagers[1], world, at_paris(MONDAY + timedelta(days=2), 10), "cond",
                 accepted_conditions=True).created

    with uow.session.begin():
        motif = uow.session.get(Motif, world.motif)
        motif.bookable_by = "agents"  # type: ignore[union-attr]
    with pytest.raises(NotFound):
        _book(db_url, world.usagers[2], world, at_paris(MONDAY + timedelta(days=2), 11), "closed")
    assert _count(db_url, Rdv) == 2


def test_phone_motifs_need_a_phone_number_and_relatives_are_booked_for(db_url: str, uow: UnitOfWork,
                                                                       world: World) -> None:
    with uow.session.begin():
        phone_motif = Motif(organisation_id=world.org, service_id=uow.session.exec(select(Service.id)).one(),
                            name="Entretien téléphonique", location_type="phone", bookable_by="everyone")
        uow.session.add(phone_motif)
        holder = uow.session.get(Usager, world.usagers[0])
        holder.phone_number = None  # type: ignore[union-attr]
        relative = Usager(first_name="Léa", last_name="Durand", responsible_id=world.usagers[0])
        stranger = Usager(first_name="Paul", last_name="Martin")
        uow.session.add_all([relative, stranger])
    _plage(uow, world, world.agent_a, NOW - timedelta(days=10), motif=phone_motif.id, lieu=None)
    start = at_paris(MONDAY, 9)

    with pytest.raises(DomainError) as no_phone:
        _book(db_url, world.usagers[0], world, start, "p1", motif_id=phone_motif.id, lieu_id=None)
    assert no_phone.value.field == "phone_number"
    with uow.session.begin():
        uow.session.get(Usager, world.usagers[0]).phone_number = "06 11 22 33 44"  # type: ignore[union-attr]
    with pytest.raises(DomainError) as not_mine:
        _book(db_url, world.usagers[0], world, start, "p2", motif_id=phone_motif.id, lieu_id=None,
              for_usager_id=stranger.id)
    assert not_mine.value.field == "for_usager_id"

    booked = _book(db_url, world.usagers[0], world, start, "p3", motif_id=phone_motif.id, lieu_id=world.lieu,
                   for_usager_id=relative.id)
    with UnitOfWork(db_url) as check:
        rdv = check.session.get(Rdv, booked.rdv_id)
        assert rdv is not None and rdv.lieu_id is None
        assert check.session.exec(select(Participation.usager_id)
                                  .where(Participation.rdv_id == booked.rdv_id)).all() == [relative.id]
        # The relative's messages go to the account holder.
        outbox = check.session.exec(select(OutboxMessage.payload).where(OutboxMessage.rdv_id == booked.rdv_id,
                                                                        OutboxMessage.usager_id.is_not(None))).all()  # type: ignore[union-attr]
        assert {p["to"] for p in outbox} == {"usager0@demo.test", "+33611223344"}


def _race(db_url: str, world: World, start: datetime, keys: list[tuple[int, str]]) -> list[Booked | str]:
    barrier = threading.Barrier(len(keys))
    results: list[Booked | str] = [""] * len(keys)

    def confirm(index: int, usager: int, key: str) -> None:
        barrier.wait()
        try:
            results[index] = _book(db_url, usager, world, start, key)
        except SlotTaken as taken:
            results[index] = taken.message
        except Exception as error:  # noqa: BLE001 - reported in the assertion below
            results[index] = f"unexpected: {error!r}"

    threads = [threading.Thread(target=confirm, args=(i, u, k)) for i, (u, k) in enumerate(keys)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


def test_twenty_concurrent_confirmations_of_one_slot_create_exactly_one_rdv(db_url: str, uow: UnitOfWork,
                                                                            world: World) -> None:
    _plage(uow, world, world.agent_a, NOW - timedelta(days=10))
    start = at_paris(MONDAY, 9)
    results = _race(db_url, world, start, [(world.usagers[i], f"race-{i}") for i in range(20)])

    booked = [r for r in results if isinstance(r, Booked)]
    assert len(booked) == 1, results
    assert [r for r in results if not isinstance(r, Booked)] == [SLOT_TAKEN] * 19
    assert _count(db_url, Rdv) == 1
    assert _count(db_url, RdvAgent) == 1
    assert _count(db_url, Participation) == 1
    assert _count(db_url, OutboxMessage, col(OutboxMessage.rdv_id) == booked[0].rdv_id) == 3


def test_twenty_concurrent_submissions_of_one_confirmation_give_one_rdv(db_url: str, uow: UnitOfWork,
                                                                        world: World) -> None:
    _plage(uow, world, world.agent_a, NOW - timedelta(days=10))
    results = _race(db_url, world, at_paris(MONDAY, 9), [(world.usagers[0], "same-key")] * 20)

    assert all(isinstance(r, Booked) for r in results), results
    assert len({r.rdv_id for r in results if isinstance(r, Booked)}) == 1
    assert sum(1 for r in results if isinstance(r, Booked) and r.created) == 1
    assert _count(db_url, Rdv) == 1
    assert _count(db_url, OutboxMessage) == 3


def test_the_confirmation_shows_the_rdv_to_its_usager_only_and_bookings_per_day_are_capped(
        db_url: str, uow: UnitOfWork, world: World) -> None:
    _plage(uow, world, world.agent_a, NOW - timedelta(days=10))
    with uow.session.begin():
        motif = uow.session.get(Motif, world.motif)
        motif.instruction_for_rdv = "Apportez le carnet de santé."  # type: ignore[union-attr]
    booked = _book(db_url, world.usagers[0], world, at_paris(MONDAY, 9), "mine")
    with UnitOfWork(db_url) as unit:
        shown = booked_rdv(unit, world.usagers[0], booked.rdv_id)
        assert (shown.when, shown.place, shown.instruction, shown.organisation_phone) == (
            "lundi 7 décembre 2026 à 09h00", "Centre Arras, 1 rue A, 62000 Arras", "Apportez le carnet de santé.",
            "03 21 00 00 00")
        with pytest.raises(NotFound):
            booked_rdv(unit, world.usagers[1], booked.rdv_id)

    day = MONDAY + timedelta(days=1)
    for index in range(1, BOOKINGS_PER_USAGER.amount):
        start = at_paris(day + timedelta(days=(index - 1) // 6), 9) + timedelta(minutes=30 * ((index - 1) % 6))
        _book(db_url, world.usagers[0], world, start, f"k{index}")
    with pytest.raises(DomainError) as capped:
        _book(db_url, world.usagers[0], world, at_paris(day + timedelta(days=3), 9), "one-too-many")
    assert capped.value.message == TOO_MANY_BOOKINGS
    assert _count(db_url, Rdv) == BOOKINGS_PER_USAGER.amount


def test_booking_queues_the_rdv_and_user_profile_webhooks_in_its_transaction(db_url: str, uow: UnitOfWork,
                                                                             world: World) -> None:
    endpoint = WebhookEndpoint(organisation_id=world.org, target_url="https://hooks.example.fr/arras", secret="s3cret",
                               subscriptions=["rdv", "user_profile"])
    _add(uow, endpoint)
    uow.commit()
    _plage(uow, world, world.agent_a, NOW - timedelta(days=10))
    booked = _book(db_url, world.usagers[0], world, at_paris(MONDAY, 9, 30), "key-webhooks")
    _book(db_url, world.usagers[0], world, at_paris(MONDAY, 9, 30), "key-webhooks")  # a double click: nothing more

    with UnitOfWork(db_url) as check:
        rows = check.session.exec(select(OutboxMessage).where(OutboxMessage.webhook_endpoint_id == endpoint.id)
                                  .order_by(col(OutboxMessage.id))).all()
        profile = check.session.exec(select(UsagerProfile.id).where(UsagerProfile.usager_id == world.usagers[0])).one()
        payloads = [row.payload for row in rows]
    bodies = [json.loads(payload["body"]) for payload in payloads]
    assert [(b["meta"]["model"], b["meta"]["event"], b["data"]["id"]) for b in bodies] == [
        ("UserProfile", "created", profile), ("Rdv", "created", booked.rdv_id)]
    rdv_data = bodies[1]["data"]
    assert (rdv_data["created_by_type"], rdv_data["starts_at"][:16]) == ("usager", at_paris(MONDAY, 9, 30).isoformat()[:16])
    assert [p["user"]["id"] for p in rdv_data["participations"]] == [world.usagers[0]]
    assert all(payload["endpoint_id"] == endpoint.id for payload in payloads)  # its address is read when sending

    # A slot gone rolls everything back: no webhook for an RDV that does not exist.
    with pytest.raises(SlotTaken):
        _book(db_url, world.usagers[1], world, at_paris(MONDAY, 9, 30), "key-late")
    assert _count(db_url, OutboxMessage, OutboxMessage.webhook_endpoint_id == endpoint.id) == 2


def test_a_slot_never_offered_is_refused_with_the_usager_policys_reason(db_url: str, uow: UnitOfWork,
                                                                        world: World) -> None:
    _plage(uow, world, world.agent_a, NOW - timedelta(days=10))
    with uow.session.begin():
        motif = uow.session.get(Motif, world.motif)
        assert motif is not None
        motif.min_public_booking_delay = 4 * 86400
    with pytest.raises(SlotTaken) as too_soon:
        _book(db_url, world.usagers[0], world, at_paris(MONDAY, 9), "too-soon")
    assert too_soon.value.message == SLOT_NOT_OFFERED
    assert too_soon.value.reason == "Ce créneau est trop proche pour être réservé en ligne."
    with pytest.raises(SlotTaken) as outside:
        _book(db_url, world.usagers[0], world, at_paris(MONDAY + timedelta(days=2), 15), "afternoon")
    assert outside.value.reason == "Ce créneau est en dehors des plages d'ouverture des agents pour ce motif."
    _book(db_url, world.usagers[1], world, at_paris(MONDAY + timedelta(days=2), 9), "first")
    with pytest.raises(SlotTaken) as taken:
        _book(db_url, world.usagers[0], world, at_paris(MONDAY + timedelta(days=2), 9), "second")
    assert (taken.value.message, taken.value.reason) == (SLOT_TAKEN, None)


def test_agents_planning_and_usagers_booking_one_slot_together_make_one_rdv(db_url: str, uow: UnitOfWork,
                                                                            world: World) -> None:
    """Every path onto an agent's time takes the same lock: 10 agents planning (without confirming an
    overbooking) and 10 usagers booking the same slot give one RDV, on either database."""
    _plage(uow, world, world.agent_a, NOW - timedelta(days=10))
    _add(uow, *[UsagerProfile(organisation_id=world.org, usager_id=u) for u in world.usagers[10:20]])
    uow.commit()
    start = at_paris(MONDAY, 9)
    barrier = threading.Barrier(20)
    outcomes: list[str] = [""] * 20

    def plan(index: int) -> None:
        barrier.wait()
        try:
            with UnitOfWork(db_url) as unit:
                lifecycle.plan_rdv(unit, (world.agent_a, world.agent_b)[index % 2], world.org,
                                   motif_id=world.motif, starts_at=start, duration_in_min=30,
                                   agent_ids=[world.agent_a], lieu_id=world.lieu,
                                   usager_ids=[world.usagers[10 + index]], now=NOW)
            outcomes[index] = "planned"
        except NeedsConfirmation as warning:
            outcomes[index] = "warned" if any("a déjà un RDV sur ce créneau" in w for w in warning.warnings) \
                else f"unexpected: {warning.warnings}"
        except Exception as error:  # noqa: BLE001 - reported in the assertion below
            outcomes[index] = f"unexpected: {error!r}"

    def book(index: int) -> None:
        barrier.wait()
        try:
            _book(db_url, world.usagers[index], world, start, f"mixed-{index}")
            outcomes[10 + index] = "booked"
        except SlotTaken:
            outcomes[10 + index] = "taken"
        except Exception as error:  # noqa: BLE001 - reported in the assertion below
            outcomes[10 + index] = f"unexpected: {error!r}"

    threads = [threading.Thread(target=plan, args=(i,)) for i in range(10)]
    threads += [threading.Thread(target=book, args=(i,)) for i in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert sum(o in ("planned", "booked") for o in outcomes) == 1, outcomes
    assert all(o in ("planned", "booked", "warned", "taken") for o in outcomes), outcomes
    assert _count(db_url, Rdv) == 1
    # An agent who confirms the warning overbooks deliberately: a decision, never a race (for another
    # usager than the winner's: the same one would be an identical RDV, refused as such).
    with UnitOfWork(db_url) as unit:
        winner = unit.session.exec(select(Participation.usager_id)).one()
        other = next(u for u in world.usagers[10:20] if u != winner)
        lifecycle.plan_rdv(unit, world.agent_a, world.org, motif_id=world.motif, starts_at=start,
                           duration_in_min=30, agent_ids=[world.agent_a], lieu_id=world.lieu,
                           usager_ids=[other], confirm_warnings=True, now=NOW)
    assert _count(db_url, Rdv) == 2


# SQLite has a single writer: no transaction gets past another, the constraint is PostgreSQL's.
@pytest.mark.parametrize("migrated_url", ["postgresql"], indirect=True)
def test_postgresql_refuses_two_overlapping_online_slots_of_one_agent_even_past_the_lock(
        db_url: str, uow: UnitOfWork, world: World) -> None:
    _plage(uow, world, world.agent_a, NOW - timedelta(days=10))
    booked = _book(db_url, world.usagers[0], world, at_paris(MONDAY, 9), "first")
    with UnitOfWork(db_url) as unit:
        rdv = unit.session.get(Rdv, booked.rdv_id)
        assert rdv is not None
        twin = Rdv(organisation_id=world.org, motif_id=world.motif, lieu_id=world.lieu, starts_at=rdv.starts_at,
                   ends_at=rdv.ends_at, status="unknown", created_by_type="usager")
        unit.session.add(twin)
        unit.session.flush()
        unit.session.add(RdvAgent(rdv_id=twin.id, agent_id=world.agent_a,  # type: ignore[arg-type]
                                  slot_starts_at=rdv.starts_at + timedelta(minutes=15),
                                  slot_ends_at=rdv.ends_at + timedelta(minutes=15)))
        with pytest.raises(sa.exc.IntegrityError, match="rdv_agent_online_slots_do_not_overlap"):
            unit.session.flush()
    # Cancelled, the first slot no longer stands: the same insert goes through.
    lifecycle.cancel_by_usager(uow, booked.rdv_id, world.usagers[0], now=NOW)
    with UnitOfWork(db_url) as unit:
        twin = Rdv(organisation_id=world.org, motif_id=world.motif, lieu_id=world.lieu,
                   starts_at=at_paris(MONDAY, 9), ends_at=at_paris(MONDAY, 9, 30), status="unknown",
                   created_by_type="usager")
        unit.session.add(twin)
        unit.session.flush()
        unit.session.add(RdvAgent(rdv_id=twin.id, agent_id=world.agent_a,  # type: ignore[arg-type]
                                  slot_starts_at=twin.starts_at, slot_ends_at=twin.ends_at))
        unit.commit()


@pytest.mark.parametrize("migrated_url", ["postgresql"], indirect=True)
def test_a_booking_whose_connection_is_cut_is_tried_once_more_and_books_once(db_url: str, uow: UnitOfWork,
                                                                               world: World) -> None:
    """PostgreSQL restarting, a proxy cutting the connection: the booking's first transaction dies with its
    connection, nothing of it is written, and the second try books the slot, once."""
    _plage(uow, world, world.agent_a, NOW - timedelta(days=10))
    engine = get_engine(db_url)
    cut: list[int] = []

    def cut_once(conn, _cursor, statement: str, *_args) -> None:
        if not cut and statement.lstrip().upper().startswith("INSERT INTO RDV "):
            cut.append(conn.exec_driver_sql("SELECT pg_backend_pid()").scalar_one())
            with engine.connect() as other:
                other.exec_driver_sql(f"SELECT pg_terminate_backend({cut[0]})")

    sa.event.listen(engine, "before_cursor_execute", cut_once)
    try:
        booked = _book(db_url, world.usagers[0], world, at_paris(MONDAY, 9), "cut-once")
    finally:
        sa.event.remove(engine, "before_cursor_execute", cut_once)
    assert cut and booked.created
    assert _count(db_url, Rdv) == 1
    assert _count(db_url, OutboxMessage, OutboxMessage.rdv_id == booked.rdv_id) == 3


@pytest.mark.parametrize("migrated_url", ["postgresql"], indirect=True)
def test_a_booking_the_database_refuses_twice_says_so_in_french_and_writes_nothing(db_url: str, uow: UnitOfWork,
                                                                                   world: World) -> None:
    _plage(uow, world, world.agent_a, NOW - timedelta(days=10))
    engine = get_engine(db_url)

    def cut_always(conn, _cursor, statement: str, *_args) -> None:
        if statement.lstrip().upper().startswith("INSERT INTO RDV "):
            pid = conn.exec_driver_sql("SELECT pg_backend_pid()").scalar_one()
            with engine.connect() as other:
                other.exec_driver_sql(f"SELECT pg_terminate_backend({pid})")

    sa.event.listen(engine, "before_cursor_execute", cut_always)
    try:
        with pytest.raises(DomainError) as refused:
            _book(db_url, world.usagers[0], world, at_paris(MONDAY, 9), "cut-always")
    finally:
        sa.event.remove(engine, "before_cursor_execute", cut_always)
    assert refused.value.message == SERVICE_BUSY
    assert _count(db_url, Rdv) == 0 and _count(db_url, OutboxMessage) == 0
