"""Collective sessions ("RDV collectifs") on SQLite and PostgreSQL: an agent creates sessions, adds and
removes participants, marks statuses and cancels; usagers book seats (20 racing for the last 2 seats
make exactly 2 participations) and cancel their own seat without cancelling the session."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

import factories as make
import pytest
from factories import at_paris
from sqlmodel import col, func, select

from rdv_app import routes
from rdv_app.auth import rate_limit
from rdv_app.db.models import Motif, Organisation, OutboxMessage, Participation, Rdv, RdvAgent
from rdv_app.db.rows import require_id
from rdv_app.db.uow import UnitOfWork
from rdv_app.domain.enums import RdvStatus
from rdv_app.services.agents import webcal
from rdv_app.services.errors import DomainError, NotFound, PermissionDenied
from rdv_app.services.online_booking import public_search, sessions
from rdv_app.services.online_booking.public_search import PublicScope
from rdv_app.services.rdv import collectifs, lifecycle, queries
from rdv_app.services.rdv.lifecycle import Booked, SlotTaken
from rdv_app.services.usagers import usager_rdvs
from rdv_app.state.public_booking import BookingPage

MONDAY = date(2026, 12, 7)
NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)  # the Friday before
pytestmark = pytest.mark.clock(NOW)


@dataclass
class World:
    territory: int
    org: int
    agent: int
    other_service_agent: int
    lieu: int
    motif: int  # collective, bookable online, cancellable by the usager
    individual: int
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
    pmi, social, _ = make.pmi_social_secretariat(s)
    org = make.organisation(s, territory)
    agent = make.agent(s, "julien.petit@demo.test", "Julien", "Petit", organisation=org, services=[pmi],
                       rdv_notifications_level="all")
    other = make.agent(s, "karim.haddad@demo.test", "Karim", "Haddad", organisation=org, services=[social])
    lieu = make.lieu(s, org)
    motif = make.motif(s, org, pmi, "Atelier portage", collectif=True, bookable_by="everyone",
                       default_duration_in_min=90, min_public_booking_delay=1800,
                       max_public_booking_delay=30 * 86400)
    individual = make.motif(s, org, pmi, "Consultation")
    usagers = [make.usager(s, f"Usager{i}", "Durand", email=f"usager{i}@demo.test", phone_number="06 12 34 56 78",
                           created_through="user_sign_up", organisations=[org]) for i in range(26)]
    uow.commit()
    return World(territory.id, org.id, agent.id, other.id, lieu.id, motif.id, individual.id,  # type: ignore[arg-type]
                 [u.id for u in usagers])  # type: ignore[misc]


def _session(db_url: str, world: World, *, seats: int | None = 8, weekly_count: int = 1,
             starts_at: datetime | None = None) -> list[int]:
    with UnitOfWork(db_url) as unit:
        return lifecycle.create_collectif_rdv(
            unit, world.agent, world.org, motif_id=world.motif, name="Bien porter bébé",
            starts_at=starts_at or at_paris(MONDAY, 14), duration_in_min=90, agent_ids=[world.agent],
            lieu_id=world.lieu, max_participants_count=seats, weekly_count=weekly_count)


def _seat(db_url: str, usager: int, rdv_id: int, **kwargs: object) -> Booked:
    with UnitOfWork(db_url) as unit:
        return lifecycle.book_seat(unit, usager, rdv_id=rdv_id, **kwargs)  # type: ignore[arg-type]


def _count(db_url: str, model: type, *where: object) -> int:
    with UnitOfWork(db_url) as unit:
        return unit.session.exec(select(func.count()).select_from(model).where(*where)).one()  # type: ignore[arg-type]


def _rdv(db_url: str, rdv_id: int) -> Rdv:
    with UnitOfWork(db_url) as unit:
        rdv = unit.session.get(Rdv, rdv_id)
        assert rdv is not None
        unit.session.expunge(rdv)
        return rdv


def _statuses(db_url: str, rdv_id: int) -> dict[int, str]:
    with UnitOfWork(db_url) as unit:
        return dict(unit.session.exec(select(Participation.usager_id, Participation.status)
                                      .where(Participation.rdv_id == rdv_id)).all())


def _messages_to(db_url: str, rdv_id: int) -> list[tuple[str, str, str]]:
    with UnitOfWork(db_url) as unit:
        rows = unit.session.exec(select(OutboxMessage).where(OutboxMessage.rdv_id == rdv_id)
                                 .order_by(col(OutboxMessage.id))).all()
        return [(m.channel, m.payload["to"], m.event) for m in rows]


def test_an_agent_creates_weekly_sessions_at_the_same_local_time_seen_with_their_fill(
        db_url: str, uow: UnitOfWork, world: World) -> None:
    # Across the end of March, Paris moves to summer time: each session stays at 14:00 local.
    ids = _session(db_url, world, weekly_count=3, starts_at=at_paris(date(2027, 3, 22), 14))
    assert len(ids) == 3
    starts = [_rdv(db_url, i).starts_at for i in ids]
    assert starts == [at_paris(date(2027, 3, 22), 14), at_paris(date(2027, 3, 29), 14), at_paris(date(2027, 4, 5), 14)]
    rdv = _rdv(db_url, ids[0])
    assert (rdv.name, rdv.max_participants_count, rdv.users_count, rdv.created_by_agent_id) == (
        "Bien porter bébé", 8, 0, world.agent)
    # The agents hear of each session; nobody else does.
    assert {to for _, to, _ in _messages_to(db_url, ids[0])} == {"julien.petit@demo.test"}

    with UnitOfWork(db_url) as unit:
        lifecycle.add_participant(unit, world.agent, world.org, ids[0], world.usagers[0])
    with UnitOfWork(db_url) as unit:
        listed = collectifs.sessions(unit, world.agent, world.org, now=NOW)
    assert [(s.rdv_id, s.fill, s.name) for s in listed][:2] == [(ids[0], "1/8", "Bien porter bébé"),
                                                                (ids[1], "0/8", "Bien porter bébé")]


@pytest.mark.parametrize(("changes", "field"), [
    ({"max_participants_count": 0}, "max_participants_count"),
    ({"weekly_count": 27}, "weekly_count"),
    ({"duration_in_min": 0}, "duration_in_min"),
    ({"agent_ids": []}, "agent_ids"),
    ({"lieu_id": None}, "lieu_id"),
])
def test_session_creation_refuses_bad_input_in_french_and_writes_nothing(
        db_url: str, uow: UnitOfWork, world: World, changes: dict[str, object], field: str) -> None:
    values: dict[str, object] = dict(motif_id=world.motif, name="Atelier", starts_at=at_paris(MONDAY, 14),
                                     duration_in_min=90, agent_ids=[world.agent], lieu_id=world.lieu,
                                     max_participants_count=8, weekly_count=1) | changes
    with UnitOfWork(db_url) as unit, pytest.raises(DomainError) as refused:
        lifecycle.create_collectif_rdv(unit, world.agent, world.org, **values)  # type: ignore[arg-type]
    assert refused.value.field == field
    assert _count(db_url, Rdv) == 0


def test_only_a_collective_motif_of_the_agents_services_makes_a_session(db_url: str, uow: UnitOfWork,
                                                                        world: World) -> None:
    with UnitOfWork(db_url) as unit, pytest.raises(DomainError, match="motif collectif"):
        lifecycle.create_collectif_rdv(unit, world.agent, world.org, motif_id=world.individual, name=None,
                                       starts_at=at_paris(MONDAY, 14), duration_in_min=60, agent_ids=[world.agent],
                                       lieu_id=world.lieu, max_participants_count=None)
    with UnitOfWork(db_url) as unit, pytest.raises(PermissionDenied):
        lifecycle.create_collectif_rdv(unit, world.other_service_agent, world.org, motif_id=world.motif, name=None,
                                       starts_at=at_paris(MONDAY, 14), duration_in_min=60,
                                       agent_ids=[world.other_service_agent], lieu_id=world.lieu,
                                       max_participants_count=None)
    assert _count(db_url, Rdv) == 0


def _race(db_url: str, rdv_id: int, usagers: list[int]) -> list[Booked | str]:
    barrier = threading.Barrier(len(usagers))
    results: list[Booked | str] = [""] * len(usagers)

    def take(index: int, usager: int) -> None:
        barrier.wait()
        try:
            results[index] = _seat(db_url, usager, rdv_id)
        except SlotTaken as taken:
            results[index] = taken.message
        except Exception as error:  # noqa: BLE001 - reported in the assertion below
            results[index] = f"unexpected: {error!r}"

    threads = [threading.Thread(target=take, args=(i, u)) for i, u in enumerate(usagers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


def test_twenty_usagers_racing_for_the_last_two_seats_make_exactly_two_participations(
        db_url: str, uow: UnitOfWork, world: World) -> None:
    (rdv_id,) = _session(db_url, world, seats=8)
    for usager in world.usagers[:6]:
        _seat(db_url, usager, rdv_id)

    results = _race(db_url, rdv_id, world.usagers[6:])

    booked = [r for r in results if isinstance(r, Booked)]
    assert len(booked) == 2, results
    assert all(b.created for b in booked)
    refused = [r for r in results if not isinstance(r, Booked)]
    assert refused == ["Cet atelier est complet. Choisissez une autre date."] * 18, refused
    assert _count(db_url, Participation, col(Participation.rdv_id) == rdv_id) == 8
    assert _rdv(db_url, rdv_id).users_count == 8
    assert _count(db_url, Rdv) == 1


def test_a_resubmitted_seat_is_the_same_seat_and_is_notified_once(db_url: str, uow: UnitOfWork,
                                                                  world: World) -> None:
    (rdv_id,) = _session(db_url, world, seats=3)
    first = _seat(db_url, world.usagers[0], rdv_id)
    again = _seat(db_url, world.usagers[0], rdv_id)
    assert first.created and not again.created
    assert _rdv(db_url, rdv_id).users_count == 1
    usager_messages = [m for m in _messages_to(db_url, rdv_id) if m[1] != "julien.petit@demo.test"]
    # The usager hears "confirmé" once, by email and SMS; the agent hears of the session, then of the seat.
    assert sorted(usager_messages) == [("mail", "usager0@demo.test", "rdv_created"),
                                       ("sms", "+33612345678", "rdv_created")]
    sms = _sms_text(db_url, rdv_id)
    assert "Bien porter bébé" in sms and "Infos et annulation" in sms and "/r/" in sms


def _sms_text(db_url: str, rdv_id: int) -> str:
    with UnitOfWork(db_url) as unit:
        payload = unit.session.exec(select(OutboxMessage.payload).where(OutboxMessage.rdv_id == rdv_id,
                                                                        OutboxMessage.channel == "sms")).first()
        assert payload is not None
        return str(payload["text"])


def test_seats_are_refused_outside_the_booking_window_when_cancelled_or_for_an_agents_only_motif(
        db_url: str, uow: UnitOfWork, world: World) -> None:
    (too_far,) = _session(db_url, world, starts_at=NOW + timedelta(days=40))
    (too_soon,) = _session(db_url, world, starts_at=NOW + timedelta(minutes=20))
    (revoked,) = _session(db_url, world)
    with UnitOfWork(db_url) as unit:
        lifecycle.cancel_rdv(unit, world.agent, world.org, revoked)
    for rdv_id, message in [(too_far, "plus ouvert"), (too_soon, "plus ouvert"), (revoked, "annulé")]:
        with pytest.raises(SlotTaken, match=message):
            _seat(db_url, world.usagers[0], rdv_id)
    with UnitOfWork(db_url) as unit:
        motif = unit.session.get(Motif, world.motif)
        assert motif is not None
        motif.bookable_by = "agents"
        unit.session.add(motif)
        unit.session.commit()
    with pytest.raises(NotFound):
        _seat(db_url, world.usagers[0], too_far)
    assert _count(db_url, Participation) == 0


def test_open_sessions_are_offered_on_the_booking_pages_with_their_seats_left(db_url: str, uow: UnitOfWork,
                                                                              world: World) -> None:
    (full,) = _session(db_url, world, seats=1, starts_at=at_paris(MONDAY, 9))
    (open_one,) = _session(db_url, world, seats=3, starts_at=at_paris(MONDAY, 14))
    (unlimited,) = _session(db_url, world, seats=None, starts_at=at_paris(MONDAY + timedelta(days=1), 14))
    _session(db_url, world, starts_at=NOW + timedelta(days=40))  # beyond the maximum delay
    _seat(db_url, world.usagers[0], full)
    _seat(db_url, world.usagers[1], open_one)

    scope = PublicScope(world.territory)
    with UnitOfWork(db_url) as unit:
        choices = public_search.motifs(unit, scope, public_search.services(unit, scope, NOW)[0].id, NOW)
        assert [c.name for c in choices] == ["Atelier portage"]
        cards = public_search.lieux(unit, choices[0], NOW)
        assert [(c.lieu_id, c.next_availability and c.next_availability.starts_at) for c in cards] == [
            (world.lieu, at_paris(MONDAY, 14))]
        found = sessions.open_sessions(unit, world.motif, world.lieu, now=NOW)
    assert [(s.rdv_id, s.seats) for s in found] == [(open_one, "2 places restantes"),
                                                    (unlimited, "Places illimitées")]
    assert found[0].label == "lundi 7 décembre 2026 à 14h00"


def test_an_usager_cancels_their_seat_and_the_session_goes_on(db_url: str, uow: UnitOfWork, world: World) -> None:
    (rdv_id,) = _session(db_url, world, seats=2)
    _seat(db_url, world.usagers[0], rdv_id)
    _seat(db_url, world.usagers[1], rdv_id)
    with UnitOfWork(db_url) as unit:
        lifecycle.cancel_by_usager(unit, rdv_id, world.usagers[0])
    rdv = _rdv(db_url, rdv_id)
    assert (rdv.status, rdv.users_count) == ("unknown", 1)
    assert _statuses(db_url, rdv_id) == {world.usagers[0]: "excused", world.usagers[1]: "unknown"}
    # The seat freed is offered again, and the one who cancelled may come back.
    _seat(db_url, world.usagers[2], rdv_id)
    with pytest.raises(SlotTaken, match="complet"):
        _seat(db_url, world.usagers[0], rdv_id)


def test_an_usager_cancelling_their_seat_tells_the_sessions_agents_whose_calendars_keep_it(
        db_url: str, uow: UnitOfWork, world: World) -> None:
    """RDV-SP's user_can_manage_collective_rdv: the agent hears of a participation cancelled by its usager
    (not the other participants); the session goes on, in the agent's calendar too."""
    (rdv_id,) = _session(db_url, world, seats=3)
    _seat(db_url, world.usagers[0], rdv_id)
    _seat(db_url, world.usagers[1], rdv_id)
    before = len(_messages_to(db_url, rdv_id))
    with UnitOfWork(db_url) as unit:
        lifecycle.cancel_by_usager(unit, rdv_id, world.usagers[0])
    with UnitOfWork(db_url) as unit:
        rows = unit.session.exec(select(OutboxMessage).where(OutboxMessage.rdv_id == rdv_id)
                                 .order_by(col(OutboxMessage.id))).all()[before:]
        told = [(m.channel, m.payload["to"], m.event) for m in rows]
        [mail] = [m.payload for m in rows if m.payload["to"] == "julien.petit@demo.test"]
    assert sorted(told) == [("mail", "julien.petit@demo.test", "rdv_cancelled"),
                            ("mail", "usager0@demo.test", "rdv_cancelled")]
    assert mail["subject"] == "Participation annulée par l'usager le lundi 7 décembre 2026 à 14h00"
    assert "Un participant a annulé sa participation à un RDV collectif de votre agenda, qui reste prévu." in mail["text"]
    assert "Motif : Atelier portage (Bien porter bébé)" in mail["text"]
    assert mail["ics"]["method"] != "CANCEL"


def test_an_usager_taking_again_the_seat_they_hold_is_told_so(db_url: str, uow: UnitOfWork, world: World) -> None:
    """RDV-SP: "Vous êtes déjà inscrit pour cet atelier"; nothing is booked or sent again."""
    (rdv_id,) = _session(db_url, world)
    assert _seat(db_url, world.usagers[0], rdv_id).created
    messages = len(_messages_to(db_url, rdv_id))
    again = _seat(db_url, world.usagers[0], rdv_id)
    assert (again.rdv_id, again.created, len(_messages_to(db_url, rdv_id))) == (rdv_id, False, messages)
    page = BookingPage(params={"rdv": str(rdv_id), "deja": "1"}, base=routes.PUBLIC_CONFIRMATION,
                       usager_id=world.usagers[0])
    with UnitOfWork(db_url, read_only=True) as unit:
        page.open(unit, routes.PUBLIC_CONFIRMATION)
    assert (page.step, page.notice) == ("confirmation", "Déjà inscrit à cet atelier : l'inscription est inchangée, "
                                                        "aucune nouvelle confirmation n'est envoyée.")


def test_an_usager_cannot_cancel_a_seat_within_four_hours(db_url: str, uow: UnitOfWork, world: World) -> None:
    (rdv_id,) = _session(db_url, world, starts_at=NOW + timedelta(hours=6))
    _seat(db_url, world.usagers[0], rdv_id)
    with UnitOfWork(db_url) as unit, pytest.raises(DomainError, match="moins de 4 heures"):
        lifecycle.cancel_by_usager(unit, rdv_id, world.usagers[0], now=NOW + timedelta(hours=3))
    assert _statuses(db_url, rdv_id) == {world.usagers[0]: "unknown"}


def test_an_agent_adds_and_removes_participants_who_hear_of_it_and_agents_do_not(
        db_url: str, uow: UnitOfWork, world: World) -> None:
    (rdv_id,) = _session(db_url, world, seats=2)
    before = len(_messages_to(db_url, rdv_id))
    with UnitOfWork(db_url) as unit:
        lifecycle.add_participant(unit, world.agent, world.org, rdv_id, world.usagers[0])
    with UnitOfWork(db_url) as unit:
        lifecycle.add_participant(unit, world.agent, world.org, rdv_id, world.usagers[1], notify=(False, False))
    with UnitOfWork(db_url) as unit, pytest.raises(SlotTaken, match="complet"):
        lifecycle.add_participant(unit, world.agent, world.org, rdv_id, world.usagers[2])
    with UnitOfWork(db_url) as unit, pytest.raises(DomainError, match="déjà inscrit"):
        lifecycle.add_participant(unit, world.agent, world.org, rdv_id, world.usagers[0])
    added = _messages_to(db_url, rdv_id)[before:]
    assert sorted(added) == [("mail", "usager0@demo.test", "rdv_created"), ("sms", "+33612345678", "rdv_created")]

    with UnitOfWork(db_url) as unit:
        lifecycle.remove_participant(unit, world.agent, world.org, rdv_id, world.usagers[0])
    removed = _messages_to(db_url, rdv_id)[before + 2:]
    assert sorted(removed) == [("mail", "usager0@demo.test", "rdv_cancelled"),
                               ("sms", "+33612345678", "rdv_cancelled")]
    assert _statuses(db_url, rdv_id) == {world.usagers[1]: "unknown"}
    assert _rdv(db_url, rdv_id).users_count == 1
    with UnitOfWork(db_url) as unit, pytest.raises(PermissionDenied):
        lifecycle.add_participant(unit, world.other_service_agent, world.org, rdv_id, world.usagers[3])


def test_statuses_follow_the_collective_rules(db_url: str, uow: UnitOfWork, world: World) -> None:
    (rdv_id,) = _session(db_url, world, seats=None)
    for usager in world.usagers[:3]:
        _seat(db_url, usager, rdv_id)
    later = at_paris(MONDAY, 17)
    with UnitOfWork(db_url) as unit, pytest.raises(DomainError, match="collectif"):
        lifecycle.change_status(unit, world.agent, world.org, rdv_id, "noshow", now=later)
    # One participant seen makes the session seen; the others stay to be filled in.
    with UnitOfWork(db_url) as unit:
        lifecycle.change_participation_status(unit, world.agent, world.org, rdv_id, world.usagers[0], "seen",
                                              now=later)
    assert _rdv(db_url, rdv_id).status == "seen"
    with UnitOfWork(db_url) as unit:
        lifecycle.change_participation_status(unit, world.agent, world.org, rdv_id, world.usagers[1], "noshow",
                                              now=later)
    assert _statuses(db_url, rdv_id) == {world.usagers[0]: "seen", world.usagers[1]: "noshow",
                                         world.usagers[2]: "unknown"}
    assert _rdv(db_url, rdv_id).status == "seen"


def test_a_past_session_where_nobody_came_becomes_revoked(db_url: str, uow: UnitOfWork, world: World) -> None:
    (rdv_id,) = _session(db_url, world, seats=None)
    _seat(db_url, world.usagers[0], rdv_id)
    with UnitOfWork(db_url) as unit:
        lifecycle.change_participation_status(unit, world.agent, world.org, rdv_id, world.usagers[0], "noshow",
                                              now=at_paris(MONDAY, 17))
    assert _rdv(db_url, rdv_id).status == RdvStatus.REVOKED.value


def test_cancelling_the_session_tells_every_participant_still_registered(db_url: str, uow: UnitOfWork,
                                                                        world: World) -> None:
    (rdv_id,) = _session(db_url, world, seats=None)
    for usager in world.usagers[:3]:
        _seat(db_url, usager, rdv_id)
    with UnitOfWork(db_url) as unit:
        lifecycle.cancel_by_usager(unit, rdv_id, world.usagers[2])
    before = len(_messages_to(db_url, rdv_id))
    with UnitOfWork(db_url) as unit:
        change = lifecycle.cancel_rdv(unit, world.agent, world.org, rdv_id)
    assert change is not None
    assert _rdv(db_url, rdv_id).status == "revoked"
    assert _statuses(db_url, rdv_id) == {world.usagers[0]: "revoked", world.usagers[1]: "revoked",
                                         world.usagers[2]: "excused"}
    told = {(to, event) for channel, to, event in _messages_to(db_url, rdv_id)[before:] if channel == "mail"}
    assert told == {("usager0@demo.test", "rdv_cancelled"), ("usager1@demo.test", "rdv_cancelled"),
                    ("julien.petit@demo.test", "rdv_cancelled")}
    assert _count(db_url, RdvAgent) == 1
    with UnitOfWork(db_url) as unit, pytest.raises(DomainError):
        lifecycle.cancel_rdv(unit, world.agent, world.org, rdv_id, excused=True)


def test_the_session_creation_form_offers_collective_motifs_and_plans_in_local_time(
        db_url: str, uow: UnitOfWork, world: World) -> None:
    with UnitOfWork(db_url) as unit:
        form = collectifs.form_choices(unit, world.agent, world.org)
    assert [m.label for m in form.motifs] == ["Atelier portage"]
    assert [lieu.id for lieu in form.lieux] == [world.lieu]
    assert world.agent in [a.id for a in form.agents]
    with UnitOfWork(db_url) as unit:
        ids = collectifs.create(unit, world.agent, world.org, motif_id=world.motif, name="Atelier",
                                day=MONDAY, start_time=time(14), duration_in_min=60, agent_ids=[world.agent],
                                lieu_id=world.lieu, max_participants_count=None, weekly_count=2)
    assert [_rdv(db_url, i).starts_at for i in ids] == [at_paris(MONDAY, 14), at_paris(MONDAY + timedelta(7), 14)]


def test_calendars_and_webhooks_carry_the_session_with_its_name_and_fill(db_url: str, uow: UnitOfWork,
                                                                        world: World) -> None:
    with UnitOfWork(db_url) as unit:
        make.webhook(unit.session, world.org)
        unit.commit()
    (rdv_id,) = _session(db_url, world, seats=8)
    _seat(db_url, world.usagers[0], rdv_id)
    _seat(db_url, world.usagers[1], rdv_id)
    uid = _rdv(db_url, rdv_id).uuid
    with UnitOfWork(db_url) as unit:
        mails = unit.session.exec(select(OutboxMessage.payload).where(OutboxMessage.rdv_id == rdv_id,
                                                                      OutboxMessage.channel == "mail")).all()
        hooks = unit.session.exec(select(OutboxMessage.payload).where(OutboxMessage.channel == "webhook")
                                  .order_by(col(OutboxMessage.id))).all()
    # One calendar event per session for the agent: the session's creation and each seat booked online
    # carry the same UID, named after the session.
    agent_calendars = [m["ics"]["content"] for m in mails if m["to"] == "julien.petit@demo.test"]
    assert len(agent_calendars) == 3
    assert all(f"UID:{uid}" in c and "SUMMARY:RDV Atelier portage : Bien porter bébé" in c
               for c in agent_calendars)
    # The webhooks describe the session with its seats and participants as they now are.
    rdv_hooks = [json.loads(h["body"]) for h in hooks if json.loads(h["body"])["meta"]["model"] == "Rdv"]
    last = rdv_hooks[-1]["data"]
    assert (last["uuid"], last["collectif"], last["max_participants_count"], last["users_count"]) == (uid, True, 8, 2)
    assert len(last["participations"]) == 2
    # The webcal feed shows the session with its fill.
    with UnitOfWork(db_url) as unit:
        secret = webcal.feed_links(unit, world.agent).https_url.rsplit("/", 1)[1].removesuffix(".ics")
    with UnitOfWork(db_url) as unit:
        body = webcal.agent_feed(unit, secret, now=NOW).body.decode()
    assert "SUMMARY:Atelier portage : Bien porter bébé (2/8)" in body


def test_an_usager_who_registers_again_after_cancelling_is_told_each_time(db_url: str, uow: UnitOfWork,
                                                                         world: World) -> None:
    (rdv_id,) = _session(db_url, world, seats=4)
    _seat(db_url, world.usagers[0], rdv_id)
    with UnitOfWork(db_url) as unit:
        lifecycle.cancel_by_usager(unit, rdv_id, world.usagers[0])
    again = _seat(db_url, world.usagers[0], rdv_id)
    assert again.created
    assert _statuses(db_url, rdv_id) == {world.usagers[0]: "unknown"}
    emails = [event for channel, to, event in _messages_to(db_url, rdv_id)
              if channel == "mail" and to == "usager0@demo.test"]
    assert emails == ["rdv_created", "rdv_cancelled", "rdv_created"]


def _children(db_url: str, world: World, parent: int, count: int = 2) -> list[int]:
    with UnitOfWork(db_url) as unit:
        org = unit.session.get(Organisation, world.org)
        children = [make.usager(unit.session, f"Enfant{i}", "Durand", responsible_id=parent, organisations=[org])
                    for i in range(count)]
        unit.commit()
        return [require_id(child) for child in children]


def test_an_agent_adding_a_relative_replaces_the_family_member_already_registered(
        db_url: str, uow: UnitOfWork, world: World) -> None:
    parent, stranger = world.usagers[0], world.usagers[1]
    first_child, second_child = _children(db_url, world, parent)
    (rdv_id,) = _session(db_url, world, seats=2)
    for usager in (parent, stranger):
        with UnitOfWork(db_url) as unit:
            lifecycle.add_participant(unit, world.agent, world.org, rdv_id, usager)
    before = len(_messages_to(db_url, rdv_id))

    # The session is full, yet the parent's seat is their child's to take.
    with UnitOfWork(db_url) as unit:
        change = lifecycle.add_participant(unit, world.agent, world.org, rdv_id, first_child)
    assert _statuses(db_url, rdv_id) == {stranger: "unknown", first_child: "unknown"}
    assert _rdv(db_url, rdv_id).users_count == 2
    # The parent hears their seat cancelled, then (as the child's responsible) the child's seat confirmed;
    # the other participant and the agents hear nothing.
    told = [(channel, to, event) for channel, to, event in _messages_to(db_url, rdv_id)[before:]]
    assert [(to, event) for channel, to, event in told if channel == "mail"] == [
        ("usager0@demo.test", "rdv_cancelled"), ("usager0@demo.test", "rdv_created")]
    assert {to for _, to, _ in told} == {"usager0@demo.test", "+33612345678"}
    assert len(change.outbox_ids) == len(told)

    # A sibling replaces the first child.
    with UnitOfWork(db_url) as unit:
        lifecycle.add_participant(unit, world.agent, world.org, rdv_id, second_child)
    assert _statuses(db_url, rdv_id) == {stranger: "unknown", second_child: "unknown"}
    assert _rdv(db_url, rdv_id).users_count == 2


def test_an_usager_booking_a_seat_for_a_relative_gives_up_the_familys_other_seat(
        db_url: str, uow: UnitOfWork, world: World) -> None:
    parent = world.usagers[0]
    (child, _) = _children(db_url, world, parent)
    (rdv_id,) = _session(db_url, world, seats=1)
    _seat(db_url, parent, rdv_id)
    # A stranger finds the session full; the parent may still hand their seat to their child.
    with pytest.raises(SlotTaken, match="complet"):
        _seat(db_url, world.usagers[1], rdv_id)
    before = len(_messages_to(db_url, rdv_id))
    booked = _seat(db_url, parent, rdv_id, for_usager_id=child)
    assert booked.created
    assert _statuses(db_url, rdv_id) == {child: "unknown"}
    assert _rdv(db_url, rdv_id).users_count == 1
    usager_mails = [(to, event) for channel, to, event in _messages_to(db_url, rdv_id)[before:]
                    if channel == "mail" and to != "julien.petit@demo.test"]
    assert usager_mails == [("usager0@demo.test", "rdv_cancelled"), ("usager0@demo.test", "rdv_created")]
    assert len(booked.outbox_ids) == len(_messages_to(db_url, rdv_id)[before:])
    # The parent taking the seat back gives up the child's; a double click changes nothing more.
    _seat(db_url, parent, rdv_id)
    assert not _seat(db_url, parent, rdv_id).created
    assert _statuses(db_url, rdv_id) == {parent: "unknown"}


def _edit(db_url: str, world: World, rdv_id: int, **changes: object) -> lifecycle.RdvChange | None:
    rdv = _rdv(db_url, rdv_id)
    values: dict[str, object] = dict(
        starts_at=rdv.starts_at, duration_in_min=int((rdv.ends_at - rdv.starts_at).total_seconds() // 60),
        lieu_id=rdv.lieu_id, agent_ids=[world.agent],
        session=lifecycle.SessionSettings(rdv.name, rdv.max_participants_count)) | changes
    with UnitOfWork(db_url) as unit:
        return lifecycle.update_rdv(unit, world.agent, world.org, rdv_id, **values)  # type: ignore[arg-type]


def test_an_agent_renames_and_resizes_a_session_never_below_its_participants(
        db_url: str, uow: UnitOfWork, world: World) -> None:
    (rdv_id,) = _session(db_url, world, seats=4)
    for usager in world.usagers[:3]:
        _seat(db_url, usager, rdv_id)
    sequence, before = _rdv(db_url, rdv_id).ics_sequence, len(_messages_to(db_url, rdv_id))

    with pytest.raises(DomainError) as refused:
        _edit(db_url, world, rdv_id, session=lifecycle.SessionSettings("Bien porter bébé", 2))
    assert refused.value.field == "max_participants_count"
    assert refused.value.message == ("Cet atelier compte déjà 3 participants inscrits : prévoyez au moins 3 places, "
                                     "ou retirez d'abord des participants.")
    assert _rdv(db_url, rdv_id).max_participants_count == 4

    change = _edit(db_url, world, rdv_id, session=lifecycle.SessionSettings("  Portage en écharpe ", 3))
    assert change is not None
    rdv = _rdv(db_url, rdv_id)
    assert (rdv.name, rdv.max_participants_count, rdv.ics_sequence) == ("Portage en écharpe", 3, sequence + 1)
    # Nobody is emailed about a new name or size; the agent's calendar feed shows them, in a newer version.
    assert _messages_to(db_url, rdv_id)[before:] == []
    with UnitOfWork(db_url) as unit:
        secret = webcal.feed_links(unit, world.agent).https_url.rsplit("/", 1)[1].removesuffix(".ics")
    with UnitOfWork(db_url) as unit:
        body = webcal.agent_feed(unit, secret, now=NOW).body.decode()
    assert "SUMMARY:Atelier portage : Portage en écharpe (3/3)" in body
    assert f"SEQUENCE:{sequence + 1}" in body
    with pytest.raises(SlotTaken, match="complet"):
        _seat(db_url, world.usagers[3], rdv_id)

    _edit(db_url, world, rdv_id, session=lifecycle.SessionSettings("Portage en écharpe", None))
    assert _rdv(db_url, rdv_id).max_participants_count is None
    with UnitOfWork(db_url) as unit:
        history = queries.get_rdv(unit, world.agent, world.org, rdv_id).history
    assert [h.details for h in history if h.action == "RDV modifié"] == [
        ["Nom de l'atelier : Bien porter bébé → Portage en écharpe", "Places : 4 → 3"],
        ["Places : 3 → illimitées"]]
    _seat(db_url, world.usagers[3], rdv_id)
    assert _edit(db_url, world, rdv_id) is None  # nothing changed: nothing written, nobody told


def test_moving_a_session_tells_its_participants_with_a_newer_calendar(db_url: str, uow: UnitOfWork,
                                                                       world: World) -> None:
    (rdv_id,) = _session(db_url, world, seats=None)
    _seat(db_url, world.usagers[0], rdv_id)
    _seat(db_url, world.usagers[1], rdv_id)
    with UnitOfWork(db_url) as unit:
        lifecycle.cancel_by_usager(unit, rdv_id, world.usagers[1])
    with UnitOfWork(db_url) as unit:
        org = unit.session.get(Organisation, world.org)
        assert org is not None
        other_lieu = require_id(make.lieu(unit.session, org, name="Maison des familles"))
        unit.commit()
    sequence, before = _rdv(db_url, rdv_id).ics_sequence, len(_messages_to(db_url, rdv_id))
    # A session needs no plage d'ouverture: moving it raises no warning about one.
    change = _edit(db_url, world, rdv_id, starts_at=at_paris(MONDAY + timedelta(days=1), 10), lieu_id=other_lieu)
    assert change is not None and change.time_or_lieu_changed
    rdv = _rdv(db_url, rdv_id)
    assert (rdv.starts_at, rdv.lieu_id, rdv.ics_sequence) == (at_paris(MONDAY + timedelta(days=1), 10), other_lieu,
                                                              sequence + 1)
    mails = {(to, event) for channel, to, event in _messages_to(db_url, rdv_id)[before:] if channel == "mail"}
    # The participant still registered hears of it; the one who cancelled does not.
    assert mails == {("usager0@demo.test", "rdv_updated"), ("julien.petit@demo.test", "rdv_updated")}
    with UnitOfWork(db_url) as unit:
        ics = unit.session.exec(select(OutboxMessage.payload).where(
            OutboxMessage.rdv_id == rdv_id, OutboxMessage.channel == "mail",
            OutboxMessage.event == "rdv_updated")).first()
    assert ics is not None and f"SEQUENCE:{sequence + 1}" in ics["ics"]["content"]


def test_an_agent_duplicates_a_session_without_its_participants(db_url: str, uow: UnitOfWork, world: World) -> None:
    (rdv_id,) = _session(db_url, world, seats=6)
    _seat(db_url, world.usagers[0], rdv_id)
    next_monday = MONDAY + timedelta(days=7)
    with UnitOfWork(db_url) as unit:
        copy_id = collectifs.duplicate(unit, world.agent, world.org, rdv_id, day=next_monday, start_time=time(9, 30))
    copy, original = _rdv(db_url, copy_id), _rdv(db_url, rdv_id)
    assert copy_id != rdv_id and copy.uuid != original.uuid
    assert (copy.motif_id, copy.name, copy.lieu_id, copy.max_participants_count, copy.users_count) == (
        world.motif, "Bien porter bébé", world.lieu, 6, 0)
    assert (copy.starts_at, copy.ends_at - copy.starts_at) == (at_paris(next_monday, 9, 30), timedelta(minutes=90))
    assert _statuses(db_url, copy_id) == {}
    assert _statuses(db_url, rdv_id) == {world.usagers[0]: "unknown"}
    with UnitOfWork(db_url) as unit:
        assert unit.session.exec(select(RdvAgent.agent_id).where(RdvAgent.rdv_id == copy_id)).all() == [world.agent]
    # Nobody but the session's agent hears of the copy.
    assert {to for _, to, _ in _messages_to(db_url, copy_id)} == {"julien.petit@demo.test"}

    with UnitOfWork(db_url) as unit, pytest.raises(DomainError) as refused:
        collectifs.duplicate(unit, world.agent, world.org, rdv_id, day=None, start_time=time(9))
    assert refused.value.field == "day"
    with UnitOfWork(db_url) as unit, pytest.raises(PermissionDenied):
        collectifs.duplicate(unit, world.other_service_agent, world.org, rdv_id, day=next_monday,
                             start_time=time(9))
    assert _count(db_url, Rdv) == 2


def test_usagers_see_neither_full_nor_cancelled_sessions(db_url: str, uow: UnitOfWork, world: World) -> None:
    (full,) = _session(db_url, world, seats=1, starts_at=at_paris(MONDAY, 9))
    (revoked,) = _session(db_url, world, seats=5, starts_at=at_paris(MONDAY, 11))
    (open_one,) = _session(db_url, world, seats=5, starts_at=at_paris(MONDAY, 14))
    _seat(db_url, world.usagers[0], full)
    with UnitOfWork(db_url) as unit:
        lifecycle.cancel_rdv(unit, world.agent, world.org, revoked)
    with UnitOfWork(db_url) as unit:
        found = sessions.open_sessions(unit, world.motif, world.lieu, now=NOW)
    assert [s.rdv_id for s in found] == [open_one]
    # A seat freed in the full session opens it again.
    with UnitOfWork(db_url) as unit:
        lifecycle.cancel_by_usager(unit, full, world.usagers[0])
    with UnitOfWork(db_url) as unit:
        assert [s.rdv_id for s in sessions.open_sessions(unit, world.motif, world.lieu, now=NOW)] == [full, open_one]


def test_a_participant_cancelling_is_told_only_if_their_notifications_are_on_and_nobody_else_is(
        db_url: str, uow: UnitOfWork, world: World) -> None:
    (rdv_id,) = _session(db_url, world, seats=None)
    quiet, told, other = world.usagers[:3]
    with UnitOfWork(db_url) as unit:
        lifecycle.add_participant(unit, world.agent, world.org, rdv_id, quiet, notify=(False, False))
    _seat(db_url, told, rdv_id)
    _seat(db_url, other, rdv_id)

    before = len(_messages_to(db_url, rdv_id))
    with UnitOfWork(db_url) as unit:
        change = lifecycle.cancel_by_usager(unit, rdv_id, quiet)
    # The session's agent hears of it (RDV-SP's user_can_manage_collective_rdv), not the quiet participant.
    assert _messages_to(db_url, rdv_id)[before:] == [("mail", "julien.petit@demo.test", "rdv_cancelled")]
    assert len(change.outbox_ids) == 1
    before += 1

    with UnitOfWork(db_url) as unit:
        lifecycle.cancel_by_usager(unit, rdv_id, told)
    # Their own email (an usager's own cancellation sends no SMS) and the agent's; the other participant
    # hears nothing.
    assert sorted(_messages_to(db_url, rdv_id)[before:]) == [("mail", "julien.petit@demo.test", "rdv_cancelled"),
                                                             ("mail", "usager1@demo.test", "rdv_cancelled")]
    assert _statuses(db_url, rdv_id) == {quiet: "excused", told: "excused", other: "unknown"}
    assert (_rdv(db_url, rdv_id).status, _rdv(db_url, rdv_id).users_count) == ("unknown", 1)


def _mine(db_url: str, usager: int) -> list[tuple[int, int, int]]:
    """The RDVs to come in the usager's "Mes rendez-vous": (participation id, participant id, SEQUENCE)."""
    with UnitOfWork(db_url) as unit:
        found = usager_rdvs.list_rdvs(unit, usager, now=NOW).upcoming
        return [(r.participation_id, r.participant_id, not_null_rdv(unit, r.participation_id).ics_sequence)
                for r in found]


def not_null_rdv(unit: UnitOfWork, participation_id: int) -> Rdv:
    participation = unit.session.get(Participation, participation_id)
    assert participation is not None
    rdv = unit.session.get(Rdv, participation.rdv_id)
    assert rdv is not None
    return rdv


def test_an_usager_switches_their_rdv_between_themself_and_a_relative(db_url: str, uow: UnitOfWork,
                                                                      world: World) -> None:
    parent, stranger = world.usagers[0], world.usagers[1]
    child, _ = _children(db_url, world, parent)
    with UnitOfWork(db_url) as unit:
        rdv_id = lifecycle.plan_rdv(unit, world.agent, world.org, motif_id=world.individual,
                                    starts_at=at_paris(MONDAY, 9), duration_in_min=30, agent_ids=[world.agent],
                                    lieu_id=world.lieu, usager_ids=[child], confirm_warnings=True)
    with UnitOfWork(db_url) as unit:
        assert [p.name for p in usager_rdvs.people(unit, parent)] == ["Usager0 DURAND", "Enfant0 DURAND",
                                                                      "Enfant1 DURAND"]
    ((participation, for_whom, sequence),) = _mine(db_url, parent)
    assert for_whom == child
    before = len(_messages_to(db_url, rdv_id))

    with UnitOfWork(db_url) as unit:
        usager_rdvs.change_participant(unit, parent, participation, parent, now=NOW)
    assert _mine(db_url, parent) == [(participation, parent, sequence + 1)]
    assert _statuses(db_url, rdv_id) == {parent: "unknown"}
    assert _messages_to(db_url, rdv_id)[before:] == []  # the same person hears of the RDV: nothing to send
    with UnitOfWork(db_url) as unit:
        assert usager_rdvs.change_participant(unit, parent, participation, parent, now=NOW) is None

    # Nobody outside the family: neither as the new participant, nor as the one who asks.
    with UnitOfWork(db_url) as unit, pytest.raises(DomainError) as refused:
        usager_rdvs.change_participant(unit, parent, participation, stranger, now=NOW)
    assert refused.value.field == "new_participant_id"
    with UnitOfWork(db_url) as unit, pytest.raises(NotFound):
        usager_rdvs.change_participant(unit, stranger, participation, stranger, now=NOW)
    with UnitOfWork(db_url) as unit:
        lifecycle.cancel_rdv(unit, world.agent, world.org, rdv_id)
    with UnitOfWork(db_url) as unit, pytest.raises(DomainError, match="annulé"):
        usager_rdvs.change_participant(unit, parent, participation, child, now=NOW)
    assert _statuses(db_url, rdv_id) == {parent: "revoked"}


def test_an_usager_hands_their_seat_in_a_session_to_a_relative(db_url: str, uow: UnitOfWork, world: World) -> None:
    parent = world.usagers[0]
    child, _ = _children(db_url, world, parent)
    (rdv_id,) = _session(db_url, world, seats=1)
    _seat(db_url, parent, rdv_id)
    ((participation, _, _),) = _mine(db_url, parent)
    before = len(_messages_to(db_url, rdv_id))
    with UnitOfWork(db_url) as unit:
        usager_rdvs.change_participant(unit, parent, participation, child, now=NOW)
    assert _statuses(db_url, rdv_id) == {child: "unknown"}
    assert _rdv(db_url, rdv_id).users_count == 1
    assert _messages_to(db_url, rdv_id)[before:] == []
    with UnitOfWork(db_url) as unit, pytest.raises(DomainError, match="passé"):
        usager_rdvs.change_participant(unit, parent, participation, parent, now=at_paris(MONDAY, 15))
