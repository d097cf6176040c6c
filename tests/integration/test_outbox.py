"""The outbox and the worker against real servers: the loopback OVH API and an aiosmtpd SMTP server."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import timedelta

import icalendar
import pytest
from fakes.ovh_server import FakeOvh
from fakes.smtp_server import SmtpServer
from sqlmodel import select

from rdv_app.db.models import OutboxMessage, Receipt
from rdv_app.db.uow import UnitOfWork
from rdv_app.domain import clock
from rdv_app.notify.outbox import enqueue
from rdv_app.notify.sms import ConsoleSmsProvider, OvhSmsProvider, sms_provider_from_env
from rdv_app.notify.worker import Worker

NUMBER = "+33612345678"
TEXT = "RDV PMI Arras vendredi 10/12 à 13h10.\nPMI Arras (1 rue de la Paix, Arras).\nInfos et annulation: https://rdv.test/r/1/AB12CD34"
CALENDAR = """BEGIN:VCALENDAR\r
VERSION:2.0\r
PRODID:-//RDV Service Public//FR\r
METHOD:REQUEST\r
BEGIN:VEVENT\r
UID:5f0c9b5e-2d1c-4c51-9d8e-3d1f5a1e2b7c\r
SEQUENCE:1\r
DTSTAMP:20261210T080000Z\r
DTSTART:20261211T121000Z\r
DTEND:20261211T124000Z\r
SUMMARY:RDV Consultation PMI\r
ORGANIZER:mailto:secretariat@rdv.test\r
ATTENDEE:mailto:lea.durand@demo.test\r
END:VEVENT\r
END:VCALENDAR\r
"""


@pytest.fixture
def ovh() -> Iterator[FakeOvh]:
    with FakeOvh() as server:
        yield server


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    with SmtpServer() as server:
        yield server


@pytest.fixture
def worker(db_url: str, ovh: FakeOvh, smtp: SmtpServer) -> Worker:
    return Worker(db_url, sms=OvhSmsProvider(ovh.settings()), smtp=smtp.settings())


def _queue_sms(db_url: str, key: str, text: str = TEXT, to: str = NUMBER, **options: object) -> int:
    with UnitOfWork(db_url) as uow:
        outbox_id = enqueue(uow.session, channel="sms", event="rdv_created", idempotency_key=key,
                            payload={"to": to, "text": text}, **options)
        uow.commit()
    assert outbox_id is not None
    return outbox_id


def _messages(db_url: str) -> list[OutboxMessage]:
    with UnitOfWork(db_url) as uow:
        rows = list(uow.session.exec(select(OutboxMessage).order_by(OutboxMessage.id)))
        uow.session.expunge_all()  # keeps the loaded values once the unit of work rolls back
    return rows


def _receipts(db_url: str) -> list[Receipt]:
    with UnitOfWork(db_url) as uow:
        rows = list(uow.session.exec(select(Receipt).order_by(Receipt.id)))
        uow.session.expunge_all()
    return rows


# ------------------------------------------------------------------------------------------- enqueue


def test_a_rolled_back_transaction_sends_nothing(db_url: str, worker: Worker, ovh: FakeOvh) -> None:
    with UnitOfWork(db_url) as uow:
        assert enqueue(uow.session, channel="sms", event="rdv_created", idempotency_key="rdv:1:sms",
                       payload={"to": NUMBER, "text": TEXT}) is not None
        uow.rollback()

    assert worker.run_once() == 0
    assert _messages(db_url) == []
    assert ovh.received == []


def test_the_same_key_queues_one_message(db_url: str) -> None:
    with UnitOfWork(db_url) as uow:
        first = enqueue(uow.session, channel="sms", event="rdv_created", idempotency_key="rdv:1:sms",
                        payload={"to": NUMBER, "text": TEXT})
        again = enqueue(uow.session, channel="sms", event="rdv_created", idempotency_key="rdv:1:sms",
                        payload={"to": NUMBER, "text": "autre texte"})
        uow.commit()
    with UnitOfWork(db_url) as uow:
        later = enqueue(uow.session, channel="sms", event="rdv_created", idempotency_key="rdv:1:sms",
                        payload={"to": NUMBER, "text": TEXT})
        uow.commit()

    assert first is not None and again is None and later is None
    [message] = _messages(db_url)
    assert message.payload == {"to": NUMBER, "text": TEXT}
    assert (message.status, message.attempts, message.channel, message.event) == ("pending", 0, "sms", "rdv_created")


def test_concurrent_transactions_with_the_same_key_queue_one_message(db_url: str) -> None:
    """The second writer waits for the first one's commit, then finds the key taken."""
    results: dict[str, int | None] = {}
    first_written = threading.Event()

    def second_writer() -> None:
        first_written.wait()
        with UnitOfWork(db_url) as uow:
            results["second"] = enqueue(uow.session, channel="mail", event="rdv_created",
                                        idempotency_key="rdv:1:mail", payload=_mail_payload())
            uow.commit()

    thread = threading.Thread(target=second_writer)
    thread.start()
    with UnitOfWork(db_url) as uow:
        results["first"] = enqueue(uow.session, channel="mail", event="rdv_created", idempotency_key="rdv:1:mail",
                                   payload=_mail_payload())
        first_written.set()
        thread.join(timeout=0.5)  # gives the second writer time to block on the unique key
        uow.commit()
    thread.join()

    assert results["first"] is not None and results["second"] is None
    assert len(_messages(db_url)) == 1


@pytest.mark.parametrize(("channel", "payload"), [
    ("sms", {"to": "0612345678", "text": "x"}),
    ("sms", {"to": NUMBER, "text": ""}),
    ("sms", {"to": NUMBER, "text": "x", "sender": "Un expediteur trop long"}),
    ("mail", {"to": "a@b.fr, c@d.fr", "subject": "s", "text": "t"}),
    ("mail", {"to": "a@b.fr", "subject": "s", "text": "t", "ics": {"content": "BEGIN:VCALENDAR", "method": "ADD",
                                                                   "filename": "rdv.ics"}}),
    ("webhook", {"url": "ftp://x", "secret": "s", "body": "{}"}),
    ("webhook", {"url": "https://x.test", "secret": "s", "body": "not json"}),
])
def test_undeliverable_payloads_are_refused_in_the_causing_transaction(uow: UnitOfWork, channel: str,
                                                                       payload: dict) -> None:
    with pytest.raises(ValueError):
        enqueue(uow.session, channel=channel, event="rdv_created", idempotency_key="k", payload=payload)


# ------------------------------------------------------------------------------------------- SMS


def test_an_sms_goes_through_the_signed_ovh_api_and_leaves_a_receipt(db_url: str, worker: Worker,
                                                                      ovh: FakeOvh) -> None:
    long_text = "RDV " + "x" * 200  # 204 GSM-7 characters: two segments
    short_id = _queue_sms(db_url, "rdv:1:sms")
    long_id = _queue_sms(db_url, "rdv:2:sms", text=long_text, to="+262692123456")

    assert worker.run_once() == 2

    assert ovh.refused_calls == []  # every call carried a valid OVH signature
    first, second = ovh.received
    assert (first.receivers, first.message, first.sender) == ([NUMBER], TEXT, "RDV S.P.")
    assert first.body["noStopClause"] is True and first.body["class"] == "phoneDisplay"
    assert first.body["coding"] == "7bit"
    assert second.receivers == ["+262692123456"]
    messages = {message.id: message for message in _messages(db_url)}
    assert {message.status for message in messages.values()} == {"sent"}
    assert messages[short_id].sent_at is not None and messages[short_id].attempts == 1
    receipts = {receipt.outbox_message_id: receipt for receipt in _receipts(db_url)}
    short, long = receipts[short_id], receipts[long_id]
    assert (short.channel, short.event, short.result, short.sms_provider) == ("sms", "rdv_created", "sent", "ovh")
    # Agents read the text without the usager's key to the RDV.
    assert (short.provider_message_id, short.sms_count) == (str(first.id), 1)
    assert short.content == TEXT.replace("/r/1/AB12CD34", "/r/1/…")
    assert (short.sms_phone_number, short.error_message) == (NUMBER, None)
    assert (long.provider_message_id, long.sms_count) == (str(second.id), 2)


def test_without_ovh_settings_sms_go_to_the_log(db_url: str, smtp: SmtpServer, monkeypatch: pytest.MonkeyPatch,
                                              caplog: pytest.LogCaptureFixture) -> None:
    for name in ("OVH_ENDPOINT", "OVH_APPLICATION_KEY", "OVH_APPLICATION_SECRET", "OVH_CONSUMER_KEY",
                 "RDV_OVH_SMS_SERVICE"):
        monkeypatch.delenv(name, raising=False)
    provider = sms_provider_from_env()
    assert isinstance(provider, ConsoleSmsProvider)
    _queue_sms(db_url, "rdv:1:sms")

    with caplog.at_level("INFO", logger="rdv_app.notify.sms"):
        assert Worker(db_url, sms=provider, smtp=smtp.settings()).run_once() == 1

    assert TEXT in caplog.text
    [receipt] = _receipts(db_url)
    assert (receipt.result, receipt.sms_provider, receipt.sms_count) == ("processed", "console", 1)


def test_a_partial_ovh_configuration_is_an_error_not_a_silent_console(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OVH_ENDPOINT", "ovh-eu")
    monkeypatch.setenv("OVH_APPLICATION_KEY", "ak")
    for name in ("OVH_APPLICATION_SECRET", "OVH_CONSUMER_KEY", "RDV_OVH_SMS_SERVICE"):
        monkeypatch.delenv(name, raising=False)

    with pytest.raises(RuntimeError, match="OVH_APPLICATION_SECRET, OVH_CONSUMER_KEY, RDV_OVH_SMS_SERVICE"):
        sms_provider_from_env()


def test_the_fake_ovh_refuses_a_wrong_signature_and_the_message_waits(db_url: str, ovh: FakeOvh,
                                                                       smtp: SmtpServer) -> None:
    outbox_id = _queue_sms(db_url, "rdv:1:sms")
    misconfigured = Worker(db_url, sms=OvhSmsProvider(ovh.settings(application_secret="ancien-secret")),
                           smtp=smtp.settings())

    assert misconfigured.run_once() == 1

    assert ovh.refused_calls == ["INVALID_SIGNATURE"] and ovh.received == []
    [message] = _messages(db_url)
    assert (message.id, message.status) == (outbox_id, "pending")
    [receipt] = _receipts(db_url)
    assert receipt.result == "failure" and "signature refusée" in receipt.error_message


def test_deliver_now_sends_only_the_given_due_messages(db_url: str, worker: Worker, ovh: FakeOvh) -> None:
    now_id = _queue_sms(db_url, "rdv:1:sms", text="tout de suite")
    other_id = _queue_sms(db_url, "rdv:2:sms", text="par la boucle")
    later_id = _queue_sms(db_url, "rdv:3:sms", text="rappel", not_before=clock.now() + timedelta(hours=2))

    assert worker.deliver([now_id, later_id, now_id]) == 1

    assert [sms.message for sms in ovh.received] == ["tout de suite"]
    statuses = {message.id: message.status for message in _messages(db_url)}
    assert statuses == {now_id: "sent", other_id: "pending", later_id: "pending"}


def test_a_message_past_its_expiry_is_cancelled_not_sent(db_url: str, worker: Worker, ovh: FakeOvh) -> None:
    starts_at = clock.now() + timedelta(minutes=10)
    _queue_sms(db_url, "reminder:1:sms", expires_at=starts_at)

    assert worker.run_once(now=starts_at + timedelta(seconds=1)) == 1

    assert ovh.received == []
    [message] = _messages(db_url)
    assert message.status == "cancelled"
    [receipt] = _receipts(db_url)
    assert (receipt.result, receipt.error_message) == ("failure", "Non envoyé : échéance dépassée.")


def test_at_most_ten_sms_a_day_reach_one_number(db_url: str, worker: Worker, ovh: FakeOvh) -> None:
    for index in range(11):
        _queue_sms(db_url, f"rdv:{index}:sms", text=f"message {index}")
    _queue_sms(db_url, "other:sms", text="autre numéro", to="+33700000001")

    assert worker.run_once() == 12

    assert ovh.count_by_message()["message 10"] == 0
    assert len(ovh.received) == 11
    statuses = [message.status for message in _messages(db_url)]
    assert statuses == ["sent"] * 10 + ["cancelled", "sent"]
    capped = _receipts(db_url)[10]
    assert capped.result == "failure" and "plafond de 10 SMS par jour" in capped.error_message

    # The window slides: a day later the number can be reached again.
    _queue_sms(db_url, "next-day:sms", text="le lendemain")
    assert worker.run_once(now=clock.now() + timedelta(hours=24, minutes=1)) == 1
    assert ovh.count_by_message()["le lendemain"] == 1


# ------------------------------------------------------------------------------------------- email


def _mail_payload(**overrides: object) -> dict:
    payload = {
        "to": "usager@demo.test",
        "subject": "RDV confirmé le vendredi 11 décembre 2026 à 13h10",
        "text": "Bonjour,\nVotre rendez-vous est confirmé.",
        "html": "<p>Bonjour,</p><p>Votre rendez-vous est <strong>confirmé</strong>.</p>",
        "ics": {"content": CALENDAR, "method": "REQUEST",
                "filename": "rdv-5f0c9b5e-2d1c-4c51-9d8e-3d1f5a1e2b7c-2026-12-11.ics"},
    }
    payload.update(overrides)
    return payload


def test_an_email_carries_text_html_and_the_calendar_twice(db_url: str, worker: Worker, smtp: SmtpServer) -> None:
    with UnitOfWork(db_url) as uow:
        # The calendar as `rdv_app.notify.ics` gives it: bytes.
        calendar = {"content": CALENDAR.encode(), "method": "REQUEST",
                    "filename": "rdv-5f0c9b5e-2d1c-4c51-9d8e-3d1f5a1e2b7c-2026-12-11.ics"}
        outbox_id = enqueue(uow.session, channel="mail", event="rdv_created", idempotency_key="rdv:1:mail:agent",
                            payload=_mail_payload(ics=calendar))
        uow.commit()

    assert worker.run_once() == 1

    [(recipients, message)] = smtp.messages
    assert recipients == ["usager@demo.test"]
    assert message["To"] == "usager@demo.test"
    assert message["From"] == "RDV Service Public <ne-pas-repondre@rdv.test>"
    assert message["Subject"] == "RDV confirmé le vendredi 11 décembre 2026 à 13h10"
    assert message.get_content_type() == "multipart/mixed"
    parts = {part.get_content_type(): part for part in message.walk() if not part.is_multipart()}
    assert set(parts) == {"text/plain", "text/html", "text/calendar", "application/ics"}
    assert "Votre rendez-vous est confirmé." in parts["text/plain"].get_content()
    assert "<strong>confirmé</strong>" in parts["text/html"].get_content()
    inline, attached = parts["text/calendar"], parts["application/ics"]
    assert inline.get_param("method") == "REQUEST" and inline.get_param("charset") == "UTF-8"
    assert inline["Content-Transfer-Encoding"] == "base64"
    assert attached.get_content_disposition() == "attachment"
    assert attached.get_filename() == "rdv-5f0c9b5e-2d1c-4c51-9d8e-3d1f5a1e2b7c-2026-12-11.ics"
    for part in (inline, attached):
        assert part.get_payload(decode=True) == CALENDAR.encode()
        calendar = icalendar.Calendar.from_ical(part.get_payload(decode=True))
        assert calendar["METHOD"] == inline.get_param("method")
        [event] = calendar.walk("VEVENT")
        assert str(event["UID"]) == "5f0c9b5e-2d1c-4c51-9d8e-3d1f5a1e2b7c"

    [receipt] = _receipts(db_url)
    assert (receipt.outbox_message_id, receipt.channel, receipt.result) == (outbox_id, "mail", "sent")
    assert (receipt.email_address, receipt.content) == ("usager@demo.test", message["Subject"])
    assert receipt.provider_message_id == message["Message-ID"]
    assert receipt.sms_provider is None and receipt.sms_count is None


def test_an_email_without_calendar_or_html_is_plain_text(db_url: str, worker: Worker, smtp: SmtpServer) -> None:
    with UnitOfWork(db_url) as uow:
        enqueue(uow.session, channel="mail", event="account", idempotency_key="account:1",
                payload={"to": "agent@demo.test", "subject": "Bienvenue", "text": "Bonjour"})
        uow.commit()

    assert worker.run_once() == 1

    [(_, message)] = smtp.messages
    assert message.get_content_type() == "text/plain"
    assert message.get_content().strip() == "Bonjour"


def test_an_address_email_cannot_carry_fails_at_once(db_url: str, worker: Worker, smtp: SmtpServer) -> None:
    with UnitOfWork(db_url) as uow:
        enqueue(uow.session, channel="mail", event="rdv_created", idempotency_key="rdv:1:mail",
                payload=_mail_payload(to="élodie@demo.test"))
        uow.commit()

    assert worker.run_once() == 1

    [message] = _messages(db_url)
    assert message.status == "failed"
    [receipt] = _receipts(db_url)
    assert receipt.error_message.startswith("Échec définitif : message impossible à construire")
    assert smtp.messages == []


def test_smtp_4xx_is_retried_and_5xx_fails_at_once(db_url: str, worker: Worker, smtp: SmtpServer) -> None:
    smtp.refuse["plein@demo.test"] = "452 4.2.2 Mailbox full"
    smtp.refuse["inconnu@demo.test"] = "550 5.1.1 User unknown"
    with UnitOfWork(db_url) as uow:
        full = enqueue(uow.session, channel="mail", event="rdv_created", idempotency_key="rdv:1:mail",
                       payload=_mail_payload(to="plein@demo.test"))
        unknown = enqueue(uow.session, channel="mail", event="rdv_created", idempotency_key="rdv:2:mail",
                          payload=_mail_payload(to="inconnu@demo.test"))
        uow.commit()
    now = clock.now()

    assert worker.run_once(now=now) == 2

    statuses = {message.id: message.status for message in _messages(db_url)}
    assert statuses == {full: "pending", unknown: "failed"}
    receipts = {receipt.outbox_message_id: receipt for receipt in _receipts(db_url)}
    assert receipts[full].error_message.startswith("Échec temporaire, nouvel essai prévu : SMTP")
    assert "452" in receipts[full].error_message
    assert receipts[unknown].error_message.startswith("Échec définitif : SMTP")
    assert "550" in receipts[unknown].error_message

    del smtp.refuse["plein@demo.test"]
    assert worker.run_once(now=now + timedelta(minutes=1)) == 1
    assert [recipients for recipients, _ in smtp.messages] == [["plein@demo.test"]]
    assert worker.run_once(now=now + timedelta(days=3)) == 0
