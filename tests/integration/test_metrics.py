"""`/metrics` (issue 27): off by default, behind its bearer token, and moving as things happen: a slot search
and a booking, an OVH outage (the SMS is retried, the queue waits and ages), the recovery (it leaves, the
queue empties), the workers' heartbeats and the daily jobs. The routes served in process (Starlette's test
client), the real worker against the loopback OVH and SMTP servers, on SQLite and PostgreSQL.

With RDV_METRICS_SCRAPE_DIR set, the scrapes are written there (the operator's note quotes them)."""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterator
from datetime import time, timedelta
from pathlib import Path

import factories as make
import pytest
from factories import at_paris
from fakes.ovh_server import FakeOvh
from fakes.smtp_server import SmtpServer
from prometheus_client import CollectorRegistry
from prometheus_client.parser import text_string_to_metric_families
from sqlmodel import select
from starlette.exceptions import StarletteDeprecationWarning

from rdv_app.api import metrics as metrics_api
from rdv_app.api.http import http_routes
from rdv_app.auth import rate_limit
from rdv_app.db.models import OutboxMessage
from rdv_app.db.uow import UnitOfWork
from rdv_app.domain import clock
from rdv_app.notify.sms import OvhSmsProvider
from rdv_app.notify.worker import Worker
from rdv_app.services.online_booking import public_search
from rdv_app.services.rdv.lifecycle import SlotTaken, book_rdv

with warnings.catch_warnings():
    # Starlette would rather use httpx2; the project pins httpx, with which its test client works the same.
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from starlette.testclient import TestClient

TOKEN = "jeton-de-supervision-de-test-0123456789"
Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


@pytest.fixture
def client(db_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    """The HTTP routes with metrics on, the database gauges read from the test's database."""
    registry = CollectorRegistry()
    registry.register(metrics_api.DatabaseCollector(db_url))
    monkeypatch.setattr(metrics_api, "_database", registry)
    monkeypatch.setenv("RDV_METRICS_TOKEN", TOKEN)
    rate_limit.reset_all()
    with TestClient(http_routes) as test_client:
        yield test_client
    rate_limit.reset_all()


def scrape(client: TestClient, step: str = "", database: str = "") -> Samples:
    response = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    if step and (folder := os.environ.get("RDV_METRICS_SCRAPE_DIR")):
        Path(folder, f"scrape-{database}-{step}.txt").write_text(response.text)
    return {(sample.name, frozenset(sample.labels.items())): sample.value
            for family in text_string_to_metric_families(response.text) for sample in family.samples}


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def moved(before: Samples, after: Samples, name: str, **labels: str) -> float:
    return value(after, name, **labels) - value(before, name, **labels)


def test_metrics_are_off_by_default_and_need_their_token(db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RDV_METRICS_TOKEN", raising=False)
    with TestClient(http_routes) as client:
        assert client.get("/metrics").status_code == 404
        assert client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 404
        monkeypatch.setenv("RDV_METRICS_TOKEN", TOKEN)
        missing = client.get("/metrics")
        assert (missing.status_code, missing.headers["www-authenticate"]) == (401, "Bearer")
        assert client.get("/metrics", headers={"Authorization": "Bearer mauvais-jeton"}).status_code == 401
        assert client.get("/metrics", headers={"Authorization": f"Basic {TOKEN}"}).status_code == 401
        assert client.get("/metrics", params={"token": TOKEN}).status_code == 401
        assert "rdv_outbox_messages" not in missing.text


def test_metrics_follow_a_booking_an_sms_outage_and_the_recovery(db_url: str, client: TestClient,
                                                                  uow: UnitOfWork) -> None:
    database = "postgresql" if db_url.startswith("postgresql") else "sqlite"
    s = uow.session
    territory = make.territory(s)
    service = make.service(s, "PMI")
    org = make.organisation(s, territory, phone_number="03 21 00 00 00")
    agent = make.agent(s, "julien.petit@demo.test", "Julien", "Petit", organisation=org, services=[service])
    lieu = make.lieu(s, org)
    motif = make.motif(s, org, service, default_duration_in_min=30, bookable_by="everyone",
                       min_public_booking_delay=1800, max_public_booking_delay=60 * 86400)
    first, second = (make.usager(s, name, "Durand", email=f"{name.lower()}@demo.test", phone_number=phone,
                                 created_through="user_sign_up")
                     for name, phone in (("Camille", "06 12 34 56 78"), ("Sacha", "06 98 76 54 32")))
    monday = make.quiet_monday(2)
    make.plage(s, agent, org, lieu, [motif], title="Permanence", first_day=monday, start_time=time(9),
               end_time=time(12), recurrence=None, created_at=clock.now() - timedelta(days=3))
    uow.commit()
    lieu_id, motif_id, first_id, second_id = lieu.id, motif.id, first.id, second.id

    before = scrape(client, "0-avant", database)
    assert value(before, "rdv_database_up") == 1
    assert value(before, "rdv_outbox_messages", channel="sms", status="pending") == 0

    with UnitOfWork(db_url, read_only=True) as read:
        week = public_search.week(read, motif_id, lieu_id, monday)
    assert not week.is_empty
    starts_at = at_paris(monday, 9, 30)
    with UnitOfWork(db_url) as booking:
        book_rdv(booking, first_id, motif_id=motif_id, starts_at=starts_at, lieu_id=lieu_id, booking_key="k-1")
    with pytest.raises(SlotTaken), UnitOfWork(db_url) as booking:
        book_rdv(booking, second_id, motif_id=motif_id, starts_at=starts_at, lieu_id=lieu_id, booking_key="k-2")

    booked = scrape(client, "1-reserve", database)
    assert moved(before, booked, "rdv_bookings_total", result="booked") == 1
    assert moved(before, booked, "rdv_bookings_total", result="slot_taken") == 1
    assert moved(before, booked, "rdv_slot_search_seconds_count", kind="public") == 1
    assert value(booked, "rdv_outbox_messages", channel="sms", status="pending") == 1
    assert value(booked, "rdv_outbox_messages", channel="mail", status="pending") == 2  # the usager, the agent

    with FakeOvh() as ovh, SmtpServer() as smtp:
        worker = Worker(db_url, sms=OvhSmsProvider(ovh.settings(), timeout=(2.0, 1.0)), smtp=smtp.settings())
        ovh.go_down("http500")
        assert worker.run_once() == 3
        outage = scrape(client, "2-panne-ovh", database)
        assert moved(booked, outage, "rdv_deliveries_total", channel="sms", result="retry") == 1
        assert moved(booked, outage, "rdv_deliveries_total", channel="mail", result="sent") == 2
        # The failing call: OVH's clock, asked first (`prepare`), answered 500.
        assert moved(booked, outage, "rdv_provider_latency_seconds_count", channel="sms", provider="ovh") >= 1
        assert moved(booked, outage, "rdv_provider_latency_seconds_count", channel="mail", provider="smtp") == 2
        assert value(outage, "rdv_outbox_messages", channel="sms", status="pending") == 1
        assert value(outage, "rdv_outbox_messages", channel="mail", status="pending") == 0
        assert value(outage, "rdv_outbox_oldest_undelivered_age_seconds", channel="sms") > 0
        assert value(outage, "rdv_outbox_oldest_undelivered_age_seconds", channel="mail") == 0
        assert value(outage, "rdv_outbox_workers_alive") == 1

        ovh.come_back()
        with UnitOfWork(db_url, read_only=True) as read:
            retry_at = read.session.exec(select(OutboxMessage.next_attempt_at)
                                         .where(OutboxMessage.channel == "sms")).one()
        assert worker.run_once(now=retry_at) == 1
        worker.run_scheduled(now=clock.now())
        recovered = scrape(client, "3-reprise", database)
        worker.retire()

    assert moved(outage, recovered, "rdv_deliveries_total", channel="sms", result="sent") == 1
    assert moved(outage, recovered, "rdv_provider_latency_seconds_count", channel="sms", provider="ovh") >= 1
    assert ovh.count_by_message().total() == 1
    for channel in ("sms", "mail", "webhook"):
        assert value(recovered, "rdv_outbox_messages", channel=channel, status="pending") == 0
        assert value(recovered, "rdv_outbox_oldest_undelivered_age_seconds", channel=channel) == 0
    assert value(recovered, "rdv_daily_job_last_success_timestamp_seconds", job="purge_plages") > 0
    assert value(recovered, "rdv_webhook_endpoints", state="disabled") == 0
    gone = scrape(client)
    assert value(gone, "rdv_outbox_workers_alive") == 0
