"""At most 10 SMS per recipient per day (decision 8), on SQLite and PostgreSQL: counted from the receipts of
the last 24 hours through the index on receipt(sms_phone_number, created_at)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
import sqlalchemy as sa
from fakes.ovh_server import FakeOvh
from sqlmodel import select

from rdv_app.db.engine import get_engine
from rdv_app.db.models import OutboxMessage, Receipt
from rdv_app.db.uow import UnitOfWork
from rdv_app.domain import clock
from rdv_app.notify.outbox import enqueue
from rdv_app.notify.sms import OvhSmsProvider
from rdv_app.notify.worker import DAILY_SMS_CAP, Worker, recent_sms_statement

FULL = "+33612345678"  # 10 SMS in the last 24 hours
NEARLY = "+33698765432"  # 9 in the last 24 hours, and more before
FREE = "+33611111111"
INDEX = "ix_receipt_sms_phone_number_created_at"


@pytest.fixture
def ovh() -> Iterator[FakeOvh]:
    with FakeOvh() as server:
        yield server


def _sent(uow: UnitOfWork, number: str, ages: list[timedelta], result: str = "sent") -> None:
    now = clock.now()
    uow.session.add_all([Receipt(event="rdv_created", channel="sms", result=result, sms_phone_number=number,
                                 created_at=now - age) for age in ages])
    uow.commit()


def _queue(uow: UnitOfWork, number: str, count: int) -> None:
    for index in range(count):
        enqueue(uow.session, channel="sms", event="rdv_created", idempotency_key=f"cap:{number}:{index}",
                payload={"to": number, "text": f"message {index} pour {number}"})
    uow.commit()


def test_the_eleventh_sms_of_the_day_is_not_sent_and_says_why(uow: UnitOfWork, db_url: str, ovh: FakeOvh) -> None:
    _sent(uow, FULL, [timedelta(hours=h) for h in range(1, 11)])
    _sent(uow, NEARLY, [timedelta(hours=h) for h in range(1, 10)] + [timedelta(hours=25), timedelta(days=3)])
    # Failures did not reach the phone: they do not count.
    _sent(uow, FREE, [timedelta(minutes=m) for m in range(1, 20)], result="failure")
    _queue(uow, FULL, 1)
    _queue(uow, NEARLY, 2)
    _queue(uow, FREE, 1)

    assert Worker(db_url, sms=OvhSmsProvider(ovh.settings())).run_once(limit=100) == 4

    assert sorted(sms.receivers[0] for sms in ovh.received) == [FREE, NEARLY]
    with UnitOfWork(db_url) as check:
        rows = check.session.exec(select(OutboxMessage.payload, OutboxMessage.status, OutboxMessage.last_error)
                                  .order_by(OutboxMessage.id)).all()
        capped = check.session.exec(select(Receipt.sms_phone_number, Receipt.error_message)
                                    .where(Receipt.result == "failure", Receipt.outbox_message_id.is_not(None))).all()
    statuses = [(payload["to"], status) for payload, status, _ in rows]
    assert statuses == [(FULL, "cancelled"), (NEARLY, "sent"), (NEARLY, "cancelled"), (FREE, "sent")]
    message = f"Non envoyé : plafond de {DAILY_SMS_CAP} SMS par jour atteint pour ce numéro."
    assert sorted(capped) == [(FULL, message), (NEARLY, message)]


def test_the_count_reads_the_phone_number_index(uow: UnitOfWork, db_url: str) -> None:
    # Enough receipts of other numbers that reading them all would be the worse plan.
    now = clock.now()
    with get_engine(db_url).begin() as connection:
        connection.execute(sa.insert(Receipt.__table__), [
            {"event": "rdv_created", "channel": "sms", "result": "sent", "sms_phone_number": f"+336{i:08d}",
             "created_at": now - timedelta(minutes=i % 3000)} for i in range(5000)])
    statement = recent_sms_statement([FULL, NEARLY], now)
    engine = get_engine(db_url)
    sql = str(statement.compile(engine, compile_kwargs={"literal_binds": True}))
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            connection.execute(sa.text("ANALYZE receipt"))
            plan = "\n".join(row[0] for row in connection.execute(sa.text(f"EXPLAIN {sql}")))
        else:
            connection.execute(sa.text("ANALYZE"))
            plan = "\n".join(row[-1] for row in connection.execute(sa.text(f"EXPLAIN QUERY PLAN {sql}")))
        assert INDEX in plan, plan
        assert connection.execute(statement).all() == []
