"""The production log holds no personal data (issue 27): a full booking and its cancellation by the usager,
with their SMS and emails delivered by the real worker (SMTP on loopback), every logger at DEBUG (the
SQL statements and their parameters included) through the production handler (rdv_app.logs); then the
log is searched for the usager's names, email, phone number (written every way), the link's token, the
messages' texts and subjects. None may appear; the lines are JSON with their context."""

from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import Iterator
from datetime import time, timedelta

import factories as make
import pytest
from factories import at_paris
from fakes.smtp_server import SmtpServer
from sqlmodel import select

from rdv_app import logs
from rdv_app.auth import rate_limit
from rdv_app.db.models import OutboxMessage, Participation
from rdv_app.db.uow import UnitOfWork
from rdv_app.domain import clock
from rdv_app.notify.sms import ConsoleSmsProvider
from rdv_app.notify.worker import Worker
from rdv_app.services.online_booking import public_search
from rdv_app.services.rdv.lifecycle import book_rdv
from rdv_app.services.usagers import usager_rdvs

FIRST, LAST = "Camille", "Durandeau"
EMAIL = "camille.durandeau@exemple.fr"
PHONES = ("06 12 34 56 78", "0612345678", "+33612345678", "+33 6 12 34 56 78", "06.12.34.56.78")


@pytest.fixture
def production_log(monkeypatch: pytest.MonkeyPatch) -> Iterator[io.StringIO]:
    """Everything logged, at DEBUG, through the handler `cli serve` installs (not the demo's log)."""
    monkeypatch.delenv("RDV_DEMO", raising=False)
    stream = io.StringIO()
    handler = logs.production_handler(json_lines=True, stream=stream)
    handler.setLevel(logging.DEBUG)
    root = logging.getLogger()
    # alembic's configuration (the migrations) quiets SQLAlchemy: its statements and parameters are logged too.
    loggers = [root, *(logging.getLogger(name) for name in ("sqlalchemy", "sqlalchemy.engine", "alembic"))]
    levels = [logger.level for logger in loggers]
    root.addHandler(handler)
    for logger in loggers:
        logger.setLevel(logging.DEBUG)
    rate_limit.reset_all()
    try:
        yield stream
    finally:
        root.removeHandler(handler)
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)
        rate_limit.reset_all()


def test_a_booking_and_its_cancellation_log_nothing_personal(db_url: str, uow: UnitOfWork,
                                                             production_log: io.StringIO) -> None:
    s = uow.session
    territory = make.territory(s)
    service = make.service(s, "PMI")
    org = make.organisation(s, territory, phone_number="03 21 00 00 00")
    agent = make.agent(s, "julien.petit@demo.test", "Julien", "Petit", organisation=org, services=[service])
    lieu = make.lieu(s, org)
    motif = make.motif(s, org, service, default_duration_in_min=30, bookable_by="everyone",
                       min_public_booking_delay=1800, max_public_booking_delay=60 * 86400)
    usager = make.usager(s, FIRST, LAST, email=EMAIL, phone_number=PHONES[0], created_through="user_sign_up")
    monday = make.quiet_monday(2)
    make.plage(s, agent, org, lieu, [motif], title="Permanence", first_day=monday, start_time=time(9),
               end_time=time(12), recurrence=None, created_at=clock.now() - timedelta(days=3))
    uow.commit()
    usager_id, motif_id, lieu_id = usager.id, motif.id, lieu.id

    with SmtpServer() as smtp:
        worker = Worker(db_url, sms=ConsoleSmsProvider(show_texts=False), smtp=smtp.settings())
        with UnitOfWork(db_url, read_only=True) as read:
            assert not public_search.week(read, motif_id, lieu_id, monday).is_empty
        with UnitOfWork(db_url) as booking:
            booked = book_rdv(booking, usager_id, motif_id=motif_id, starts_at=at_paris(monday, 9, 30),
                              lieu_id=lieu_id, booking_key="cle-de-reservation")
        assert worker.run_once() == 3
        with UnitOfWork(db_url, read_only=True) as read:
            participation = read.session.exec(select(Participation.id)
                                              .where(Participation.rdv_id == booked.rdv_id)).one()
        with UnitOfWork(db_url) as cancelling:
            usager_rdvs.cancel(cancelling, usager_id, participation)
        assert worker.run_once() >= 1
        worker.retire()
        assert len(smtp.messages) >= 3

    with UnitOfWork(db_url, read_only=True) as read:
        messages = read.session.exec(select(OutboxMessage)).all()
        payloads = [message.payload for message in messages]
    log = production_log.getvalue()
    lines = [json.loads(line) for line in log.splitlines() if line.startswith("{")]
    assert len(lines) > 20, log[:2000]

    secrets = {FIRST, LAST, EMAIL, *PHONES, "cle-de-reservation"}
    for payload in payloads:
        secrets.add(payload.get("text", "")[:60])
        secrets.add(payload.get("subject", ""))
        secrets.update(re.findall(r"/r/\d+/([A-Za-z0-9_-]{6,})", payload.get("text", "")))
        secrets.update(re.findall(r"[?&]tkn=([A-Za-z0-9_-]{6,})", payload.get("text", "") + payload.get("html", "")))
    secrets.discard("")
    found = {secret for secret in secrets if secret.casefold() in log.casefold()}
    assert found == set(), [line for line in log.splitlines() if any(s.casefold() in line.casefold() for s in found)][:5]

    # The context of the lines: the outbox messages' attempts, with their organisation and channel.
    delivered = [line for line in lines if line.get("handler", "").startswith("outbox.")]
    assert delivered and all(line["organisation_id"] == org.id and line["event_id"].startswith("outbox-")
                             for line in delivered)
    assert any(line["logger"].startswith("sqlalchemy.engine") for line in lines)
