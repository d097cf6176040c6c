"""One path for every RDV change: a reaction registered once for `RdvChanged` hears every channel that
changes an RDV (agents, the SMS link, "Mes rendez-vous", public booking), once per change, inside the
change's transaction; a change that does not commit is never heard of."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, time

import factories as make
import pytest
from sqlmodel import Session, select

from rdv_app.auth import rate_limit
from rdv_app.db import messagebus
from rdv_app.db.models import AuditLog, Participation, Rdv
from rdv_app.db.uow import UnitOfWork
from rdv_app.domain import clock
from rdv_app.domain.enums import AuthorType, RdvStatus
from rdv_app.domain.events import Actor, Change, RdvChanged
from rdv_app.services.errors import NeedsConfirmation
from rdv_app.services.rdv import lifecycle
from rdv_app.services.usagers import usager_link, usager_rdvs
from rdv_app.services.usagers.usager_link import ParticipationRef

NOW = clock.now()
MONDAY = make.quiet_monday()
REACTION = "reaction_heard"


@dataclass
class World:
    org: int
    agent: int
    motif: int
    lieu: int
    jeanne: int
    paul: int


@pytest.fixture(autouse=True)
def fresh_rate_limits() -> Iterator[None]:
    rate_limit.reset_all()
    yield
    rate_limit.reset_all()


@pytest.fixture
def world(uow: UnitOfWork) -> World:
    s = uow.session
    territory = make.territory(s)
    pmi = make.service(s, "PMI")
    org = make.organisation(s, territory)
    agent = make.agent(s, "julien@demo.test", "Julien", "Petit", organisation=org, role="admin", services=[pmi])
    lieu = make.lieu(s, org)
    motif = make.motif(s, org, pmi, default_duration_in_min=30, bookable_by="everyone",
                       min_public_booking_delay=1800, max_public_booking_delay=60 * 86400)
    jeanne = make.usager(s, "Jeanne", "Dupont", organisations=[org], email="jeanne@example.fr",
                         created_through="user_sign_up")
    paul = make.usager(s, "Paul", "Martin", organisations=[org], email="paul@example.fr")
    make.plage(s, agent, org, lieu, [motif], title="Permanence", first_day=MONDAY, start_time=time(9),
               end_time=time(12), recurrence={"every": "week", "on": ["monday"]}, created_at=NOW)
    uow.commit()
    return World(org.id, agent.id, motif.id, lieu.id, jeanne.id, paul.id)  # type: ignore[arg-type]


@dataclass
class Heard:
    rdv_id: int
    action: str
    author: AuthorType
    status_seen: str  # the RDV's status as the handler reads it in the transaction
    in_transaction: bool


@pytest.fixture
def heard() -> Iterator[list[Heard]]:
    """A new reaction to RDV changes: one handler, registered once. It reads the change in the session and
    writes a row that must commit with it."""
    calls: list[Heard] = []

    def reaction(session: Session, change: RdvChanged) -> None:
        rdv = session.get(Rdv, change.rdv_id)
        assert rdv is not None
        calls.append(Heard(change.rdv_id, change.action, change.actor.type, rdv.status, session.in_transaction()))
        session.add(AuditLog(actor_type="system", action=REACTION, entity_type="rdv", entity_id=str(change.rdv_id),
                             organisation_id=change.organisation_id, changes={}))

    with messagebus.extra_handler(RdvChanged, reaction):
        yield calls


def _at(day: date, hour: int, minute: int = 0):
    return make.at_paris(day, hour, minute)


def _written(db_url: str) -> list[str]:
    """What the reaction wrote, as committed."""
    with UnitOfWork(db_url) as check:
        return list(check.session.exec(select(AuditLog.entity_id).where(AuditLog.action == REACTION)
                                       .order_by(AuditLog.id)).all())


def test_every_channel_that_changes_an_rdv_is_heard_once_in_its_transaction(db_url: str, uow: UnitOfWork,
                                                                             world: World,
                                                                             heard: list[Heard]) -> None:
    # Public booking, by an usager.
    booked = lifecycle.book_rdv(uow, world.jeanne, motif_id=world.motif, starts_at=_at(MONDAY, 9),
                                lieu_id=world.lieu, booking_key="key-1", now=NOW)
    # "Planifier un RDV", then a move and a status, by an agent.
    planned = lifecycle.plan_rdv(uow, world.agent, world.org, motif_id=world.motif, starts_at=_at(MONDAY, 10),
                                 duration_in_min=30, agent_ids=[world.agent], lieu_id=world.lieu,
                                 usager_ids=[world.paul], now=NOW)
    lifecycle.update_rdv(uow, world.agent, world.org, planned, starts_at=_at(MONDAY, 10, 30), duration_in_min=30,
                         lieu_id=world.lieu, agent_ids=[world.agent], now=NOW)
    lifecycle.change_status(uow, world.agent, world.org, planned, "revoked", now=NOW)
    # The usager cancels from the SMS link; another RDV from "Mes rendez-vous".
    participation = uow.session.exec(select(Participation).where(Participation.rdv_id == booked.rdv_id)).one()
    usager_link.cancel(uow, ParticipationRef(booked.rdv_id, participation.id, world.jeanne), now=NOW)  # type: ignore[arg-type]
    again = lifecycle.book_rdv(uow, world.jeanne, motif_id=world.motif, starts_at=_at(MONDAY, 11),
                               lieu_id=world.lieu, booking_key="key-2", now=NOW)
    mine = uow.session.exec(select(Participation).where(Participation.rdv_id == again.rdv_id)).one()
    usager_rdvs.cancel(uow, world.jeanne, mine.id, now=NOW)  # type: ignore[arg-type]

    assert [(h.rdv_id, h.action, h.author, h.status_seen) for h in heard] == [
        (booked.rdv_id, "created", AuthorType.USAGER, "unknown"),
        (planned, "created", AuthorType.AGENT, "unknown"),
        (planned, "updated", AuthorType.AGENT, "unknown"),
        (planned, "status_changed", AuthorType.AGENT, "revoked"),
        (booked.rdv_id, "status_changed", AuthorType.USAGER, "excused"),
        (again.rdv_id, "created", AuthorType.USAGER, "unknown"),
        (again.rdv_id, "status_changed", AuthorType.USAGER, "excused"),
    ]
    assert all(h.in_transaction for h in heard)
    assert _written(db_url) == [str(h.rdv_id) for h in heard]


def test_a_change_that_does_not_commit_is_never_heard_of(db_url: str, uow: UnitOfWork, world: World,
                                                         heard: list[Heard]) -> None:
    planned = lifecycle.plan_rdv(uow, world.agent, world.org, motif_id=world.motif, starts_at=_at(MONDAY, 10),
                                 duration_in_min=30, agent_ids=[world.agent], lieu_id=world.lieu,
                                 usager_ids=[world.paul], now=NOW)
    heard.clear()
    # Refused before anything is written: outside the plages, not confirmed.
    with pytest.raises(NeedsConfirmation):
        lifecycle.update_rdv(uow, world.agent, world.org, planned, starts_at=_at(MONDAY, 15), duration_in_min=30,
                             lieu_id=world.lieu, agent_ids=[world.agent], now=NOW)
    uow.rollback()
    # Recorded, then the unit of work ends without its commit.
    with UnitOfWork(db_url) as unit:
        unit.record(RdvChanged(rdv_id=planned, organisation_id=world.org, change=Change.UPDATED, action="updated",
                               actor=Actor.agent(world.agent), occurred_at=NOW, version=0, event=None,
                               status=RdvStatus.UNKNOWN, starts_at=_at(MONDAY, 10), old_starts_at=None,
                               time_or_lieu_changed=False, old_agent_ids=(), new_agent_ids=(), usager_ids=()))
    assert heard == []
    assert _written(db_url) == [str(planned)]  # only the planning, heard before
