"""The demo mailbox on SQLite and PostgreSQL: without RDV_SMTP_HOST the worker records emails instead of
sending them, and /dev/boite-mail (the real Starlette route) lists them with SMS, links clickable; with an
SMTP server configured, emails go to it (a loopback aiosmtpd) and the page does not exist."""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from fakes.smtp_server import SmtpServer
from sqlmodel import select
from starlette.applications import Starlette
from starlette.exceptions import StarletteDeprecationWarning

from rdv_app import routes
from rdv_app.api.demo_mailbox import ROUTES
from rdv_app.api.http import security_headers
from rdv_app.auth import rate_limit
from rdv_app.db.models import OutboxMessage, Receipt
from rdv_app.db.uow import UnitOfWork
from rdv_app.domain.enums import Channel, NotificationEvent, OutboxStatus, ReceiptResult
from rdv_app.notify.outbox import enqueue
from rdv_app.notify.sms import ConsoleSmsProvider
from rdv_app.notify.worker import Worker
from rdv_app.services.usagers import usager_auth

with warnings.catch_warnings():
    # Starlette would rather use httpx2; the project pins httpx, with which its test client works the same.
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from starlette.testclient import TestClient

STEP = "/prendre_rdv?departement=62&etape=informations"


@pytest.fixture(autouse=True)
def _fresh_rate_limits() -> Iterator[None]:
    rate_limit.reset_all()
    yield
    rate_limit.reset_all()


@pytest.fixture
def no_smtp(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RDV_SMTP_HOST", raising=False)


@pytest.fixture
def client(db_url: str) -> Iterator[TestClient]:
    app = Starlette(routes=ROUTES)
    app.state.database_url = db_url
    with TestClient(security_headers(app), base_url="http://testserver") as test_client:
        yield test_client


def _sign_up(db_url: str, email: str) -> tuple[int, ...]:
    with UnitOfWork(db_url) as uow:
        return usager_auth.request_account(uow, first_name="Alice", last_name="Durand", email=email,
                                           phone_number="", next_path=STEP, ip="203.0.113.7").outbox_ids


def _queue_sms(db_url: str, key: str, text: str, to: str = "+33612345678") -> int:
    with UnitOfWork(db_url) as uow:
        outbox_id = enqueue(uow.session, channel=Channel.SMS, event=NotificationEvent.RDV_CREATED,
                            idempotency_key=key, payload={"to": to, "text": text})
        uow.commit()
    assert outbox_id is not None
    return outbox_id


def test_without_smtp_emails_are_recorded_and_the_mailbox_shows_them_with_a_clickable_link(
        db_url: str, no_smtp: None, client: TestClient) -> None:
    sms_id = _queue_sms(db_url, "demo-sms-1", "Votre RDV du lundi 7 décembre à 9h00 est confirmé.")
    assert Worker(db_url, sms=ConsoleSmsProvider()).deliver([sms_id]) == 1
    ids = _sign_up(db_url, "alice.durand@exemple.fr")
    assert Worker(db_url, sms=ConsoleSmsProvider()).deliver(ids) == 1

    with UnitOfWork(db_url) as uow:
        message = uow.session.get(OutboxMessage, ids[0])
        assert message is not None
        assert (message.status, message.attempts, message.last_error) == (OutboxStatus.SENT.value, 1, None)
        [receipt] = uow.session.exec(select(Receipt).where(Receipt.outbox_message_id == ids[0])).all()
        link = re.search(r"https?://\S+", message.payload["text"]).group(0)  # type: ignore[union-attr]
        assert (receipt.result, receipt.email_address, receipt.content) == (
            ReceiptResult.PROCESSED.value, "alice.durand@exemple.fr", "Confirmez votre adresse email")
    assert routes.USAGER_EMAIL_LINK in link

    page = client.get(routes.DEMO_MAILBOX)
    assert page.status_code == 200
    assert page.headers["cache-control"] == "no-store"
    assert "2 messages, les plus récents en premier." in page.text
    # Newest first: the email, then the SMS.
    assert page.text.index("Confirmez votre adresse email") < page.text.index("Votre RDV du lundi 7 décembre")
    assert "alice.durand@exemple.fr" in page.text and "+33612345678" in page.text
    assert f'<a href="{link.replace("&", "&amp;")}">' in page.text


def test_the_mailbox_is_paginated_twenty_at_a_time(db_url: str, no_smtp: None, client: TestClient) -> None:
    # One number each: a number gets at most 10 SMS a day.
    ids = [_queue_sms(db_url, f"demo-sms-{number}", f"Message numéro {number}.", to=f"+336123456{number:02d}")
           for number in range(1, 24)]
    worker = Worker(db_url, sms=ConsoleSmsProvider())
    start = datetime.now(UTC)
    for position, outbox_id in enumerate(ids):
        assert worker.deliver([outbox_id], now=start + timedelta(seconds=position)) == 1

    first = client.get(routes.DEMO_MAILBOX)
    assert "23 messages" in first.text and "Page 1 sur 2" in first.text
    assert first.text.count('<article class="card">') == 20
    assert first.text.index("Message numéro 23.") < first.text.index("Message numéro 4.")
    assert "Message numéro 3." not in first.text
    assert f'href="{routes.DEMO_MAILBOX}?page=2">Messages plus anciens' in first.text

    second = client.get(routes.DEMO_MAILBOX, params={"page": "2"})
    assert "Page 2 sur 2" in second.text and second.text.count('<article class="card">') == 3
    assert "Message numéro 1." in second.text and "Message numéro 4." not in second.text
    assert f'href="{routes.DEMO_MAILBOX}?page=1">Messages plus récents' in second.text
    assert "Page 2 sur 2" in client.get(routes.DEMO_MAILBOX, params={"page": "99"}).text
    assert "Page 1 sur 2" in client.get(routes.DEMO_MAILBOX, params={"page": "abc"}).text


def test_with_smtp_configured_emails_are_sent_and_the_mailbox_is_a_404(
        db_url: str, monkeypatch: pytest.MonkeyPatch, client: TestClient) -> None:
    with SmtpServer() as smtp:
        monkeypatch.setenv("RDV_SMTP_HOST", smtp.settings().host)
        monkeypatch.setenv("RDV_SMTP_PORT", str(smtp.settings().port))
        ids = _sign_up(db_url, "alice.durand@exemple.fr")
        assert Worker(db_url, sms=ConsoleSmsProvider()).deliver(ids) == 1
        [(recipients, mail)] = smtp.messages
    assert recipients == ["alice.durand@exemple.fr"] and mail["Subject"] == "Confirmez votre adresse email"
    with UnitOfWork(db_url) as uow:
        [receipt] = uow.session.exec(select(Receipt).where(Receipt.outbox_message_id == ids[0])).all()
        assert receipt.result == ReceiptResult.SENT.value

    page = client.get(routes.DEMO_MAILBOX)
    assert page.status_code == 404
    assert "alice.durand" not in page.text


def test_outside_the_demo_a_missing_smtp_server_never_drops_mail_and_there_is_no_mailbox(
        db_url: str, monkeypatch: pytest.MonkeyPatch, no_smtp: None, client: TestClient) -> None:
    monkeypatch.delenv("RDV_DEMO")
    ids = _sign_up(db_url, "alice.durand@exemple.fr")
    assert not Worker(db_url, sms=ConsoleSmsProvider()).demo_mail
    with UnitOfWork(db_url) as uow:
        message = uow.session.get(OutboxMessage, ids[0])
        assert message is not None and message.status == OutboxStatus.PENDING.value
    assert client.get(routes.DEMO_MAILBOX).status_code == 404


def test_the_demo_served_under_https_has_no_mailbox(
        db_url: str, monkeypatch: pytest.MonkeyPatch, no_smtp: None, client: TestClient) -> None:
    """Reachable from outside, the demo lists no sign-in link: its mail waits for an SMTP server."""
    monkeypatch.setenv("RDV_PUBLIC_URL", "https://rdv.exemple.fr")
    ids = _sign_up(db_url, "alice.durand@exemple.fr")
    assert not Worker(db_url, sms=ConsoleSmsProvider()).demo_mail
    with UnitOfWork(db_url) as uow:
        message = uow.session.get(OutboxMessage, ids[0])
        assert message is not None and message.status == OutboxStatus.PENDING.value
    assert client.get(routes.DEMO_MAILBOX).status_code == 404
