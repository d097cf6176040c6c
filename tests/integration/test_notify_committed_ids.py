"""What a state class hands to the delivery right after a commit (`rdv_app.notify.outbox.committed_ids`), on
SQLite and PostgreSQL: the ids of the messages its unit of work committed, once; nothing rolled back."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Any

import factories as make
import pytest
from reflex_base.event.context import EventContext
from sqlmodel import col, select

from rdv_app.db.models import (
    OutboxMessage,
)
from rdv_app.db.uow import UnitOfWork
from rdv_app.notify.outbox import committed_ids, enqueue
from rdv_app.services.errors import NotFound
from rdv_app.services.rdv import lifecycle
from rdv_app.state.notifications import NotificationDeliveryState, deliver_after_commit, delivery_proof

NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)


def _sms(uow: UnitOfWork, key: str) -> int | None:
    return enqueue(uow.session, channel="sms", event="rdv_created", idempotency_key=key,
                   payload={"to": "+33612345678", "text": key})


def test_only_committed_messages_are_handed_over_and_only_once(db_url: str) -> None:
    with UnitOfWork(db_url) as uow:
        first = _sms(uow, "a")
        assert committed_ids(uow.session) == []  # not committed yet
        uow.commit()
        assert _sms(uow, "b") is not None
        uow.rollback()
        second, third = _sms(uow, "c"), _sms(uow, "d")
        assert _sms(uow, "a") is None  # already queued: nothing new to deliver
        uow.commit()
        assert committed_ids(uow.session) == [first, second, third]
        assert committed_ids(uow.session) == []
    with UnitOfWork(db_url) as uow:
        stored = uow.session.exec(select(OutboxMessage.id, OutboxMessage.idempotency_key)
                                  .order_by(col(OutboxMessage.id))).all()
    assert stored == [(first, "a"), (second, "c"), (third, "d")]


def test_a_service_change_gives_the_event_that_delivers_its_messages(db_url: str) -> None:
    with UnitOfWork(db_url) as uow:
        s = uow.session
        territory = make.territory(s)
        pmi = make.service(s, name="PMI")
        org = make.organisation(s, territory)
        agent = make.agent(s, "agent@demo.test", "Inès", "Roux", organisation=org, role="admin", services=[pmi])
        loud = make.agent(s, "loud@demo.test", "Julien", "Petit", organisation=org, role="admin", services=[pmi],
                          rdv_notifications_level="all")
        jeanne = make.usager(s, "Jeanne", "Dupont", email="jeanne@example.fr", phone_number="06 12 34 56 78",
                             organisations=[org])
        lieu = make.lieu(s, org, name="Centre", address="1 rue A")
        motif = make.motif(s, org, pmi)
        uow.commit()
        values: dict[str, Any] = dict(motif_id=motif.id, starts_at=datetime.combine(date(2026, 12, 7), time(9), UTC),
                                      duration_in_min=30, agent_ids=[agent.id, loud.id], lieu_id=lieu.id,
                                      usager_ids=[jeanne.id], confirm_warnings=True, now=NOW)
        rdv_id = lifecycle.plan_rdv(uow, agent.id, org.id, **values)  # type: ignore[arg-type]
        queued = sorted(uow.session.exec(select(OutboxMessage.id).where(OutboxMessage.rdv_id == rdv_id)))
        assert len(queued) == 3  # Jeanne's SMS and email, Julien's email
        with EventContext(token="onglet-1", state_manager=None, enqueue_impl=None):  # type: ignore[arg-type]
            event = deliver_after_commit(uow)
        assert event is not None and event.handler.fn.__qualname__ == NotificationDeliveryState.deliver.fn.__qualname__
        assert sorted(event.args[0][1]._var_value) == queued
        # The event carries the proof that this tab's own handler queued them; no other tab could make it.
        proof = event.args[1][1]._var_value
        assert proof == delivery_proof("onglet-1", event.args[0][1]._var_value) != delivery_proof("onglet-2", queued)
        assert deliver_after_commit(uow) is None  # handed over once
        # A refused change queues nothing and gives nothing to deliver.
        with pytest.raises(NotFound):
            lifecycle.plan_rdv(uow, agent.id, org.id, **{**values, "usager_ids": [jeanne.id + 1000]})  # type: ignore[arg-type]
        assert deliver_after_commit(uow) is None
        assert sorted(uow.session.exec(select(OutboxMessage.id).where(col(OutboxMessage.id).not_in(queued)))) == []
