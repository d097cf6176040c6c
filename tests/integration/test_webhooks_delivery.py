"""Webhooks end to end on SQLite and PostgreSQL: RDV, absence and plage changes queue signed messages in
their transaction, the real outbox worker posts them to a receiver on loopback that verifies both
signatures, retries follow an outage, and an endpoint failing for 3 days is disabled."""

from __future__ import annotations

import time as wall_time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import factories as make
import httpx
import pytest
from fakes.webhook_receiver import WebhookReceiver
from sqlmodel import col, select

from rdv_app.config import Settings
from rdv_app.db.engine import get_engine
from rdv_app.db.models import (
    AgentRole,
    OutboxMessage,
    UsagerProfile,
    WebhookDelivery,
    WebhookEndpoint,
)
from rdv_app.db.uow import UnitOfWork
from rdv_app.domain import clock
from rdv_app.domain.enums import Channel
from rdv_app.notify import webhooks as delivery
from rdv_app.notify.outbox import enqueue
from rdv_app.notify.public_http import PublicOnlyTransport
from rdv_app.notify.worker import Worker
from rdv_app.services.availability import absences, plages
from rdv_app.services.errors import DomainError, NotFound, PermissionDenied
from rdv_app.services.integrations import webhooks
from rdv_app.services.rdv import lifecycle, queries

PARIS = ZoneInfo("Europe/Paris")


@dataclass
class World:
    org: int
    admin: int
    basic: int
    motif: int
    lieu: int
    usager: int


@pytest.fixture
def world(uow: UnitOfWork) -> World:
    s = uow.session
    territory = make.territory(s)
    pmi = make.service(s)
    org = make.organisation(s, territory, timezone="Europe/Paris")
    admin = make.agent(s, "camille@demo.test", "Camille", "Martin", organisation=org, role="admin", services=[pmi])
    basic = make.agent(s, "julien@demo.test", "Julien", "Petit", organisation=org, role="basic", services=[pmi])
    lieu = make.lieu(s, org)
    motif = make.motif(s, org, pmi)
    usager = make.usager(s, "Jeanne", "Dupont", email="jeanne@example.fr", organisations=[org])
    uow.commit()
    return World(org.id, admin.id, basic.id, motif.id, lieu.id, usager.id)  # type: ignore[arg-type]


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    with WebhookReceiver() as server:
        yield server


def _endpoint(uow: UnitOfWork, world: World, receiver: WebhookReceiver,
              subscriptions: tuple[str, ...] = ("rdv", "absence", "plage_ouverture")) -> int:
    created = webhooks.create_endpoint(uow, world.admin, world.org, target_url=receiver.url,
                                       subscriptions=subscriptions)
    receiver.secret = created.secret
    return created.id


def _webhook_ids(db_url: str) -> list[int]:
    with UnitOfWork(db_url) as uow:
        return list(uow.session.exec(select(OutboxMessage.id).where(OutboxMessage.channel == Channel.WEBHOOK)
                                     .order_by(OutboxMessage.id)))


def _message(db_url: str, outbox_id: int) -> OutboxMessage:
    with UnitOfWork(db_url) as uow:
        message = uow.session.get(OutboxMessage, outbox_id)
        uow.session.expunge(message)
        return message  # type: ignore[return-value]


def _deliveries(db_url: str, endpoint_id: int) -> list[WebhookDelivery]:
    with UnitOfWork(db_url) as uow:
        rows = list(uow.session.exec(select(WebhookDelivery).where(WebhookDelivery.webhook_endpoint_id == endpoint_id)
                                     .order_by(WebhookDelivery.id)))
        uow.session.expunge_all()
        return rows


def _next_monday_nine() -> datetime:
    return datetime.combine(make.quiet_monday(), time(9), PARIS).astimezone(UTC)


def test_rdv_created_updated_destroyed_reach_the_receiver_signed(db_url: str, uow: UnitOfWork, world: World,
                                                                   receiver: WebhookReceiver) -> None:
    _endpoint(uow, world, receiver)
    starts_at = _next_monday_nine()
    rdv_id = lifecycle.plan_rdv(uow, world.admin, world.org, motif_id=world.motif, starts_at=starts_at, duration_in_min=30,
                           agent_ids=[world.basic], lieu_id=world.lieu, usager_ids=[world.usager],
                           confirm_warnings=True)
    lifecycle.update_rdv(uow, world.admin, world.org, rdv_id, starts_at=starts_at + timedelta(hours=1), duration_in_min=45,
                    lieu_id=world.lieu, agent_ids=[world.basic], confirm_warnings=True)
    lifecycle.cancel_rdv(uow, world.admin, world.org, rdv_id)
    lifecycle.delete_rdv(uow, world.admin, world.org, rdv_id)

    ids = _webhook_ids(db_url)
    assert len(ids) == 4
    assert Worker(db_url).deliver(ids) == 4

    assert [r.payload["meta"]["event"] for r in receiver.received] == ["created", "updated", "updated", "destroyed"]
    for request in receiver.received:
        assert request.standard_signature_ok and request.lapin_signature_ok
        assert request.headers["content-type"] == "application/json; charset=utf-8"
        meta = request.payload["meta"]
        assert meta["model"] == "Rdv" and meta["webhook_reason"] is None
        assert datetime.fromisoformat(meta["timestamp"]).tzinfo is not None
        data = request.payload["data"]
        assert data["id"] == rdv_id
        assert data["organisation"]["name"] == "PMI Arras"
        assert data["motif"]["name"] == "Consultation"
        assert data["lieu"]["address"] == "1 rue A, 62000 Arras"
        assert [a["last_name"] for a in data["agents"]] == ["Petit"]
        assert [p["user"]["last_name"] for p in data["participations"]] == ["Dupont"]
    created, updated, cancelled, destroyed = (r.payload["data"] for r in receiver.received)
    assert created["duration_in_min"] == 30 and updated["duration_in_min"] == 45
    assert datetime.fromisoformat(updated["starts_at"]) == starts_at + timedelta(hours=1)
    assert created["status"] == "unknown" and created["cancelled_at"] is None
    assert cancelled["status"] == "revoked" and cancelled["cancelled_at"] is not None
    assert destroyed["uuid"] == created["uuid"] and destroyed["status"] == "revoked"  # built before deletion
    assert len({r.headers["webhook-id"] for r in receiver.received}) == 4
    assert all(_message(db_url, i).status == "sent" for i in ids)


def test_a_receiver_down_then_back_gets_the_message_with_the_same_id_and_a_new_timestamp(
        db_url: str, uow: UnitOfWork, world: World, receiver: WebhookReceiver) -> None:
    endpoint_id = _endpoint(uow, world, receiver)
    absences.create_absence(uow, world.admin, world.org, agent_id=world.basic, title="Formation",
                            first_day=date.today() + timedelta(days=10), start_time=time(9), end_time=time(12))
    [outbox_id] = _webhook_ids(db_url)
    worker = Worker(db_url)

    receiver.answer(503)
    start = clock.now()
    worker.deliver([outbox_id], now=start)
    first = _message(db_url, outbox_id)
    assert first.status == "pending" and first.next_attempt_at == start + timedelta(seconds=16)

    receiver.stop()
    worker.deliver([outbox_id], now=start + timedelta(seconds=20))
    second = _message(db_url, outbox_id)
    assert second.status == "pending"

    wall_time.sleep(1.1)  # the Standard Webhooks timestamp counts whole seconds
    receiver.start()
    receiver.answer(200)
    assert worker.deliver([outbox_id], now=start + timedelta(minutes=5)) == 1
    assert _message(db_url, outbox_id).status == "sent"

    first_try, last_try = receiver.received
    assert first_try.headers["webhook-id"] == last_try.headers["webhook-id"]
    assert int(last_try.headers["webhook-timestamp"]) > int(first_try.headers["webhook-timestamp"])
    assert first_try.body == last_try.body
    assert last_try.standard_signature_ok and last_try.lapin_signature_ok
    assert last_try.payload["meta"] == {**last_try.payload["meta"], "model": "Absence", "event": "created"}
    assert last_try.payload["data"]["title"] == "Formation"

    log = _deliveries(db_url, endpoint_id)
    assert [(d.attempt, d.status_code) for d in log] == [(1, 503), (2, None), (3, 200)]
    assert "connexion impossible" in (log[1].error or "")
    assert log[0].response_excerpt is None and log[2].error is None  # of a refusal, only its status code
    assert all(d.latency_ms is not None and d.latency_ms >= 0 for d in log)
    with UnitOfWork(db_url) as check:
        assert check.session.get(WebhookEndpoint, endpoint_id).failing_since is None  # type: ignore[union-attr]


def test_an_endpoint_failing_for_three_days_is_disabled_and_its_admins_told(
        db_url: str, uow: UnitOfWork, world: World, receiver: WebhookReceiver) -> None:
    endpoint_id = _endpoint(uow, world, receiver)
    receiver.stop()
    absence_id = absences.create_absence(uow, world.admin, world.org, agent_id=world.basic, title="Congés",
                                         first_day=date.today() + timedelta(days=10), start_time=time(9),
                                         end_time=time(12))
    [outbox_id] = _webhook_ids(db_url)
    worker = Worker(db_url)
    start = clock.now()
    for day in (0, 1, 2):
        worker.deliver([outbox_id], now=start + timedelta(days=day))
        assert _message(db_url, outbox_id).status == "pending"
    # A change while it fails: its message waits for its first attempt when the endpoint is disabled.
    absences.update_absence(uow, world.admin, world.org, absence_id, agent_id=world.basic, title="Congés d'hiver",
                            first_day=date.today() + timedelta(days=10), start_time=time(9), end_time=time(12))
    [_, waiting_id] = _webhook_ids(db_url)
    with UnitOfWork(db_url) as check:
        endpoint = check.session.get(WebhookEndpoint, endpoint_id)
        assert endpoint.enabled and endpoint.failing_since == start  # type: ignore[union-attr]

    worker.deliver([outbox_id], now=start + timedelta(days=3))
    message = _message(db_url, outbox_id)
    assert message.status == "failed" and "désactivé après 3 jours" in (message.last_error or "")
    with UnitOfWork(db_url) as check:
        endpoint = check.session.get(WebhookEndpoint, endpoint_id)
        assert not endpoint.enabled and endpoint.disabled_at == start + timedelta(days=3)  # type: ignore[union-attr]
        mails = check.session.exec(select(OutboxMessage).where(OutboxMessage.channel == Channel.MAIL,
                                                               col(OutboxMessage.idempotency_key).startswith(
                                                                   "webhook_disabled:"))).all()
        mails = [(m.payload["to"], m.payload["subject"], m.payload["text"]) for m in mails]
    assert [to for to, _, _ in mails] == ["camille@demo.test"]  # the admin, not the basic agent
    assert "désactivé" in mails[0][1] and receiver.url in mails[0][2]
    assert [v.state.startswith("Désactivé") for v in webhooks.list_endpoints(uow, world.admin, world.org)] == [True]
    uow.rollback()  # end the read, as a page's unit of work does, before the worker writes again

    # Disabled: the waiting message is not sent but shows in the log; later changes queue nothing.
    worker.deliver([waiting_id], now=start + timedelta(days=3, minutes=1))
    assert _message(db_url, waiting_id).status == "failed"
    absences.delete_absence(uow, world.admin, world.org, absence_id)
    assert _webhook_ids(db_url) == [outbox_id, waiting_id]
    with pytest.raises(DomainError):
        webhooks.resend(uow, world.admin, world.org, waiting_id)

    # Enabled again and "Renvoyer": the missed messages arrive, with their original ids.
    receiver.start()
    webhooks.update_endpoint(uow, world.admin, world.org, endpoint_id, target_url=receiver.url,
                             subscriptions=["absence"], enabled=True)
    later = start + timedelta(days=4)
    for message_id in (outbox_id, waiting_id):
        assert webhooks.resend(uow, world.admin, world.org, message_id, now=later) == message_id
    assert worker.deliver([outbox_id, waiting_id], now=later) == 2
    assert {_message(db_url, i).status for i in (outbox_id, waiting_id)} == {"sent"}
    assert [r.payload["data"]["title"] for r in receiver.received] == ["Congés", "Congés d'hiver"]
    assert all(r.standard_signature_ok and r.lapin_signature_ok for r in receiver.received)
    assert receiver.received[0].headers["webhook-id"] == _message(db_url, outbox_id).payload["webhook_id"]
    log = webhooks.list_deliveries(uow, world.admin, world.org, endpoint_id)
    assert [(d.model, d.event, d.attempt, d.succeeded) for d in log[:3]] == [
        ("Absence", "updated", 1, True), ("Absence", "created", 1, True), ("Absence", "updated", 1, False)]
    assert log[2].error == "non envoyé : webhook désactivé"
    assert [d.attempt for d in log[3:]] == [4, 3, 2, 1]


def test_redirects_are_not_followed(db_url: str, uow: UnitOfWork, world: World, receiver: WebhookReceiver) -> None:
    endpoint_id = _endpoint(uow, world, receiver)
    receiver.answer(302)
    absences.create_absence(uow, world.admin, world.org, agent_id=world.basic, title="Réunion",
                            first_day=date.today() + timedelta(days=3), start_time=time(14), end_time=time(15))
    [outbox_id] = _webhook_ids(db_url)
    Worker(db_url).deliver([outbox_id])
    assert len(receiver.received) == 1
    assert _message(db_url, outbox_id).status == "pending"
    [delivery] = _deliveries(db_url, endpoint_id)
    assert delivery.status_code == 302 and "redirection non suivie" in (delivery.error or "")


def test_a_receiver_slower_than_ten_seconds_is_a_failure(db_url: str, uow: UnitOfWork, world: World,
                                                         receiver: WebhookReceiver) -> None:
    endpoint_id = _endpoint(uow, world, receiver)
    receiver.delay = 12
    absences.create_absence(uow, world.admin, world.org, agent_id=world.basic, title="Réunion",
                            first_day=date.today() + timedelta(days=3), start_time=time(14), end_time=time(15))
    [outbox_id] = _webhook_ids(db_url)
    Worker(db_url).deliver([outbox_id])
    assert _message(db_url, outbox_id).status == "pending"
    [delivery] = _deliveries(db_url, endpoint_id)
    assert delivery.error == "pas de réponse en 10 secondes" and delivery.status_code is None
    assert 10_000 <= (delivery.latency_ms or 0) < 12_000


def test_only_admins_delete_an_rdv(uow: UnitOfWork, world: World) -> None:
    rdv_id = lifecycle.plan_rdv(uow, world.admin, world.org, motif_id=world.motif, starts_at=_next_monday_nine(),
                           duration_in_min=30, agent_ids=[world.basic], lieu_id=world.lieu, usager_ids=[world.usager],
                           confirm_warnings=True)
    with pytest.raises(PermissionDenied):
        lifecycle.delete_rdv(uow, world.basic, world.org, rdv_id)
    assert queries.get_rdv(uow, world.admin, world.org, rdv_id).id == rdv_id


def test_plage_payloads_carry_their_calendar_and_only_subscribed_models_are_sent(
        db_url: str, uow: UnitOfWork, world: World, receiver: WebhookReceiver) -> None:
    _endpoint(uow, world, receiver, subscriptions=("plage_ouverture",))
    first_day = make.quiet_monday()
    plage_id = plages.create_plage(uow, world.admin, world.org, title="Consultations du lundi", agent_id=world.basic,
                                   lieu_id=world.lieu, motif_ids=[world.motif], first_day=first_day,
                                   start_time=time(9), end_time=time(12),
                                   recurrence={"every": "week", "interval": 1, "on": ["monday"]},
                                   confirm_warnings=True)
    absences.create_absence(uow, world.admin, world.org, agent_id=world.basic, title="Congés",
                            first_day=first_day + timedelta(days=1), start_time=time(9), end_time=time(12))
    plages.delete_plage(uow, world.admin, world.org, plage_id)
    ids = _webhook_ids(db_url)
    assert Worker(db_url).deliver(ids) == 2
    created, destroyed = (r.payload for r in receiver.received)
    assert [created["meta"]["event"], destroyed["meta"]["event"]] == ["created", "destroyed"]
    assert created["meta"]["model"] == "PlageOuverture"
    data = destroyed["data"]
    assert data["id"] == plage_id and data["title"] == "Consultations du lundi"
    assert data["rrule"].startswith("FREQ=WEEKLY") and "BYDAY=MO" in data["rrule"]
    assert "BEGIN:VCALENDAR" in data["ical"] and data["ical_uid"] in data["ical"]
    assert [m["name"] for m in data["motifs"]] == ["Consultation"] and data["lieu"]["name"] == "Centre Arras"
    assert data["first_day"] == first_day.isoformat() and data["start_time"] == "09:00:00"


def test_every_model_has_a_payload(db_url: str, uow: UnitOfWork, world: World, receiver: WebhookReceiver) -> None:
    _endpoint(uow, world, receiver, subscriptions=tuple(label for label, _ in webhooks.subscription_choices()))
    s = uow.session
    records = {
        "user": (world.usager, "User"),
        "user_profile": (s.exec(select(UsagerProfile.id)).one(), "UserProfile"),
        "organisation": (world.org, "Organisation"),
        "motif": (world.motif, "Motif"),
        "lieu": (world.lieu, "Lieu"),
        "agent": (world.basic, "Agent"),
        "agent_role": (s.exec(select(AgentRole.id).where(AgentRole.agent_id == world.basic)).one(), "AgentRole"),
    }
    for model, (record_id, _) in records.items():
        webhooks.emit(s, model, record_id, "updated")
    uow.commit()
    Worker(db_url).deliver(_webhook_ids(db_url))
    got = {r.payload["meta"]["model"]: r.payload["data"] for r in receiver.received}
    assert set(got) == {name for _, name in records.values()}
    for _, (record_id, name) in records.items():
        assert got[name]["id"] == record_id
    assert got["User"]["last_name"] == "Dupont" and got["User"]["user_profiles"] is None
    assert got["AgentRole"]["access_level"] == "basic" and got["AgentRole"]["agent"]["last_name"] == "Petit"


def test_only_the_organisations_admins_manage_endpoints(uow: UnitOfWork, world: World) -> None:
    for call in (lambda: webhooks.list_endpoints(uow, world.basic, world.org),
                 lambda: webhooks.create_endpoint(uow, world.basic, world.org, target_url="https://a.example/h",
                                                  subscriptions=["rdv"])):
        with pytest.raises(PermissionDenied):
            call()
    created = webhooks.create_endpoint(uow, world.admin, world.org, target_url=" https://si.example/rdv ",
                                       subscriptions=["rdv", "absence"])
    assert created.secret.startswith("whsec_") and len(created.secret) > 40
    [view] = webhooks.list_endpoints(uow, world.admin, world.org)
    assert view.target_url == "https://si.example/rdv"
    assert view.masked_secret.endswith(created.secret[-3:]) and created.secret[:-3] not in view.masked_secret
    assert view.subscription_labels == "Rendez-vous, Indisponibilités" and view.state == "Actif"
    with pytest.raises(PermissionDenied):
        webhooks.delete_endpoint(uow, world.basic, world.org, created.id)
    with pytest.raises(NotFound):
        webhooks.get_endpoint(uow, world.admin, world.org, created.id + 1000)


@pytest.mark.parametrize(("url", "message"), [
    ("", "Indiquez l'adresse"),
    ("si.example/rdv", "commence par https://"),
    ("ftp://si.example/rdv", "commence par https://"),
    ("http://si.example/rdv", "doit commencer par https://"),
    ("https://user:pass@si.example/rdv", "identifiant"),
    ("https://si.example/rdv#x", "fragment"),
    ("https://si.example:99999/", "pas valide"),
    ("https://si example/", "pas valide"),
])
def test_bad_addresses_get_a_clear_message_and_change_nothing(uow: UnitOfWork, world: World, url: str,
                                                              message: str) -> None:
    with pytest.raises(DomainError) as error:
        webhooks.create_endpoint(uow, world.admin, world.org, target_url=url, subscriptions=["rdv"])
    assert message in error.value.message and error.value.field == "target_url"
    assert webhooks.list_endpoints(uow, world.admin, world.org) == []


def test_subscriptions_and_duplicates_are_checked(uow: UnitOfWork, world: World) -> None:
    with pytest.raises(DomainError) as error:
        webhooks.create_endpoint(uow, world.admin, world.org, target_url="https://si.example/a", subscriptions=[])
    assert error.value.field == "subscriptions"
    with pytest.raises(DomainError):
        webhooks.create_endpoint(uow, world.admin, world.org, target_url="https://si.example/a",
                                 subscriptions=["rdvs"])
    webhooks.create_endpoint(uow, world.admin, world.org, target_url="https://si.example/a", subscriptions=["rdv"])
    with pytest.raises(DomainError) as error:
        webhooks.create_endpoint(uow, world.admin, world.org, target_url="https://si.example/a",
                                 subscriptions=["lieu"])
    assert "déjà" in error.value.message


def test_deleting_an_endpoint_drops_its_waiting_messages(db_url: str, uow: UnitOfWork, world: World,
                                                         receiver: WebhookReceiver) -> None:
    endpoint_id = _endpoint(uow, world, receiver)
    absences.create_absence(uow, world.admin, world.org, agent_id=world.basic, title="Congés",
                            first_day=date.today() + timedelta(days=5), start_time=time(9), end_time=time(12))
    assert len(_webhook_ids(db_url)) == 1
    webhooks.delete_endpoint(uow, world.admin, world.org, endpoint_id)
    assert _webhook_ids(db_url) == []
    assert webhooks.list_endpoints(uow, world.admin, world.org) == []


def test_a_rolled_back_change_sends_nothing(db_url: str, uow: UnitOfWork, world: World,
                                           receiver: WebhookReceiver) -> None:
    _endpoint(uow, world, receiver)
    with pytest.raises(DomainError):
        absences.create_absence(uow, world.admin, world.org, agent_id=world.basic, title="",
                                first_day=date.today() + timedelta(days=5), start_time=time(9), end_time=time(12))
    uow.rollback()
    assert _webhook_ids(db_url) == []


@pytest.mark.parametrize("url", ["http://127.0.0.1:8080/h", "https://127.0.0.1/h", "https://10.1.2.3/h",
                                 "https://[::1]/h", "https://169.254.169.254/latest", "https://localhost/h"])
def test_in_production_internal_addresses_are_refused(uow: UnitOfWork, world: World, url: str,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(webhooks, "settings", Settings(public_url="https://rdv.example.fr"))
    with pytest.raises(DomainError) as error:
        webhooks.create_endpoint(uow, world.admin, world.org, target_url=url, subscriptions=["rdv"])
    assert error.value.field == "target_url"
    created = webhooks.create_endpoint(uow, world.admin, world.org, target_url="https://si.departement.fr/rdv",
                                       subscriptions=["rdv"])
    assert created.id


PRODUCTION = Settings(public_url="https://rdv.example.fr")


@pytest.mark.parametrize("url", ["https://127.1/h", "https://2130706433/h", "https://0x7f000001/h",
                                 "https://0177.0.0.1/h", "https://0/h", "https://localhost./h",
                                 "https://[::ffff:127.0.0.1]/h", "https://0xa9.254.169.254/latest"])
def test_in_production_internal_addresses_in_disguise_are_refused(uow: UnitOfWork, world: World, url: str,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(webhooks, "settings", PRODUCTION)
    with pytest.raises(DomainError) as error:
        webhooks.create_endpoint(uow, world.admin, world.org, target_url=url, subscriptions=["rdv"])
    assert "réseau interne" in error.value.message and error.value.field == "target_url"
    assert webhooks.list_endpoints(uow, world.admin, world.org) == []


@pytest.mark.parametrize("url", ["https://10.1.2.3/h", "https://169.254.169.254/latest", "https://192.168.1.1/h"])
def test_without_https_only_loopback_is_allowed_among_internal_addresses(uow: UnitOfWork, world: World,
                                                                         url: str) -> None:
    with pytest.raises(DomainError) as error:
        webhooks.create_endpoint(uow, world.admin, world.org, target_url=url, subscriptions=["rdv"])
    assert "réseau interne" in error.value.message


def _absence_webhook(db_url: str, uow: UnitOfWork, world: World) -> int:
    absences.create_absence(uow, world.admin, world.org, agent_id=world.basic, title="Réunion",
                            first_day=date.today() + timedelta(days=3), start_time=time(14), end_time=time(15))
    [outbox_id] = _webhook_ids(db_url)
    return outbox_id


def test_in_production_a_loopback_address_is_refused_when_connecting(
        db_url: str, uow: UnitOfWork, world: World, receiver: WebhookReceiver, monkeypatch: pytest.MonkeyPatch) -> None:
    """An endpoint saved while the app ran without https, then the app served under https."""
    endpoint_id = _endpoint(uow, world, receiver)
    outbox_id = _absence_webhook(db_url, uow, world)
    monkeypatch.setattr(delivery, "settings", PRODUCTION)
    Worker(db_url).deliver([outbox_id])
    assert receiver.connections == 0 and receiver.received == []
    [attempt] = _deliveries(db_url, endpoint_id)
    assert attempt.status_code is None and attempt.response_excerpt is None
    assert attempt.error == "adresse refusée : 127.0.0.1 mène à une adresse de réseau interne (127.0.0.1)"
    assert _message(db_url, outbox_id).status == "pending"


@pytest.mark.parametrize("resolved", ["127.0.0.1", "169.254.169.254", "10.0.0.7", "::1"])
def test_in_production_a_name_resolving_to_an_internal_address_is_refused_when_connecting(
        db_url: str, uow: UnitOfWork, world: World, receiver: WebhookReceiver, monkeypatch: pytest.MonkeyPatch,
        resolved: str) -> None:
    monkeypatch.setattr(webhooks, "settings", PRODUCTION)
    created = webhooks.create_endpoint(uow, world.admin, world.org, subscriptions=["absence"],
                                       target_url=f"https://intranet.rdv.test:{receiver.port}/h")
    outbox_id = _absence_webhook(db_url, uow, world)
    lookups: list[str] = []

    def resolver(host: str, port: int, **_options: object) -> list[tuple[object, ...]]:
        lookups.append(host)
        return [(None, None, None, "", (resolved, port))]

    transport = PublicOnlyTransport(allow_loopback=False, resolve=resolver)
    result = delivery.deliver(get_engine(db_url), outbox_id, 1, _message(db_url, outbox_id).payload, clock.now(),
                              transport=transport)
    assert not result.delivered and result.error == (
        f"adresse refusée : intranet.rdv.test mène à une adresse de réseau interne ({resolved})")
    assert lookups == ["intranet.rdv.test"] and receiver.connections == 0
    [attempt] = _deliveries(db_url, created.id)
    assert attempt.error == result.error and attempt.status_code is None


def test_the_connection_goes_to_the_address_that_was_checked(receiver: WebhookReceiver) -> None:
    """A name unknown to the system's resolver: only the checked resolution can lead to the receiver, so a
    second lookup (which DNS rebinding would answer differently) is never made."""
    receiver.secret = "whsec_" + "A" * 44
    lookups: list[str] = []

    def resolver(host: str, port: int, **_options: object) -> list[tuple[object, ...]]:
        lookups.append(host)
        return [(None, None, None, "", ("127.0.0.1", port))]

    with httpx.Client(transport=PublicOnlyTransport(allow_loopback=True, resolve=resolver)) as client:
        response = client.post(f"http://rebind.rdv.test:{receiver.port}/webhooks/rdv", content=b"{}")
    assert response.status_code == 401  # reached, and refused for its missing signatures
    assert receiver.connections == 1 and lookups == ["rebind.rdv.test"]
    assert receiver.received[0].headers["host"] == f"rebind.rdv.test:{receiver.port}"


def test_outbox_rows_hold_no_secret_nor_address_only_what_delivery_needs(db_url: str, uow: UnitOfWork,
                                                                        world: World, receiver: WebhookReceiver) -> None:
    _endpoint(uow, world, receiver)
    outbox_id = _absence_webhook(db_url, uow, world)
    payload = _message(db_url, outbox_id).payload
    assert set(payload) == {"endpoint_id", "webhook_id", "body"}
    assert receiver.secret not in str(payload)
    with pytest.raises(ValueError):
        enqueue(uow.session, channel="webhook", event="webhook", idempotency_key="k",
                payload={**payload, "secret": receiver.secret})


def test_an_edit_of_an_endpoint_changed_since_the_form_loaded_it_is_refused_and_changes_nothing(
        uow: UnitOfWork, world: World) -> None:
    """Issue 25: the second of two saves made on the same loaded webhook (another admin's tab) is refused
    instead of undoing the first."""
    endpoint_id = webhooks.create_endpoint(uow, world.admin, world.org, target_url="https://crm.exemple.fr/rdv",
                                           subscriptions=["rdv"]).id
    loaded = webhooks.get_endpoint(uow, world.admin, world.org, endpoint_id).version
    webhooks.update_endpoint(uow, world.admin, world.org, endpoint_id, target_url="https://crm.exemple.fr/v2",
                             subscriptions=["rdv", "absence"], enabled=True, expected_version=loaded)

    with pytest.raises(DomainError) as refused:
        webhooks.update_endpoint(uow, world.admin, world.org, endpoint_id, target_url="https://crm.exemple.fr/rdv",
                                 subscriptions=["rdv"], enabled=False, expected_version=loaded)

    assert refused.value.message == "Ces informations ont été modifiées entre-temps. Rechargez la page."
    stored = webhooks.get_endpoint(uow, world.admin, world.org, endpoint_id)
    assert (stored.target_url, stored.subscriptions, stored.enabled) == (
        "https://crm.exemple.fr/v2", ("rdv", "absence"), True)
    webhooks.update_endpoint(uow, world.admin, world.org, endpoint_id, target_url="https://crm.exemple.fr/v3",
                             subscriptions=["rdv"], enabled=True, expected_version=stored.version)
    assert webhooks.get_endpoint(uow, world.admin, world.org, endpoint_id).target_url == "https://crm.exemple.fr/v3"
