"""SIGTERM to `python -m rdv_app.cli serve` (issue 27), as a service manager stops it: the signal reaches the
server, which drains before it exits 0. Here the in-app worker holds an SMS at OVH (the loopback server
holds the call) when SIGTERM comes: the server waits for it, the SMS is recorded as sent with its receipt,
once, and nothing is left claimed; the server's log is JSON lines without the number. The server also answers `/metrics` with its token, adding up its
processes (PROMETHEUS_MULTIPROC_DIR set by `serve`); with RDV_METRICS_SCRAPE_DIR set, the scrape is kept."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from app_server import ROOT
from fakes.ovh_server import FakeOvh
from pg import free_port
from prometheus_client.parser import text_string_to_metric_families
from sqlmodel import select

from rdv_app.db.models import OutboxMessage, Receipt
from rdv_app.db.uow import UnitOfWork
from rdv_app.notify.outbox import enqueue

pytestmark = pytest.mark.own_server(builds=True)

TOKEN = "jeton-de-supervision-de-test-0123456789"
HELD_TEXT = "Rappel : votre RDV de demain (SMS en vol pendant l'arret)"


@pytest.fixture
def ovh() -> Iterator[FakeOvh]:
    with FakeOvh() as server:
        yield server


def test_sigterm_lets_the_message_in_flight_finish_and_exits_0(tmp_path: Path, ovh: FakeOvh) -> None:
    port = free_port()
    base_url = f"http://localhost:{port}"
    db_url = f"sqlite:///{tmp_path / 'rdv.db'}"
    # A real instance (no demo data, whose reminders would go through OVH too; its log in JSON lines).
    env = {**os.environ, "REFLEX_DB_URL": db_url, "RDV_PUBLIC_URL": base_url, "RDV_DEMO": "",
           "RDV_METRICS_TOKEN": TOKEN, "PYTHONUNBUFFERED": "1",
           "OVH_ENDPOINT": ovh.endpoint, "OVH_APPLICATION_KEY": ovh.application_key,
           "OVH_APPLICATION_SECRET": ovh.application_secret, "OVH_CONSUMER_KEY": ovh.consumer_key,
           "RDV_OVH_SMS_SERVICE": ovh.service_name, "RDV_SMS_SENDER": "RDV S.P."}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    log = tmp_path / "serve.log"
    with log.open("w") as out:
        server = subprocess.Popen([sys.executable, "-m", "rdv_app.cli", "serve", "--port", str(port)], cwd=ROOT,
                                  env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 600
        while True:
            assert server.poll() is None and time.monotonic() < deadline, log.read_text()[-4000:]
            try:
                if httpx.get(f"http://127.0.0.1:{port}/_health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.5)

        ovh.hang_on(HELD_TEXT)
        with UnitOfWork(db_url) as uow:
            message_id = enqueue(uow.session, channel="sms", event="rdv_upcoming_reminder",
                                 idempotency_key="arret-en-douceur", payload={"to": "+33612345678", "text": HELD_TEXT})
            uow.commit()
        assert ovh.hung.wait(30), "the in-app worker did not take the SMS"

        scrape = httpx.get(f"http://127.0.0.1:{port}/metrics", headers={"Authorization": f"Bearer {TOKEN}"},
                           timeout=30)
        assert scrape.status_code == 200
        if folder := os.environ.get("RDV_METRICS_SCRAPE_DIR"):
            Path(folder, "scrape-serveur-sms-en-vol.txt").write_text(scrape.text)
        outbox = {(sample.labels.get("channel"), sample.labels.get("status")): sample.value
                  for family in text_string_to_metric_families(scrape.text) for sample in family.samples
                  if sample.name == "rdv_outbox_messages"}
        assert outbox[("sms", "sending")] == 1, scrape.text
        assert "rdv_outbox_workers_alive" in scrape.text
        assert httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=30).status_code == 401

        server.send_signal(signal.SIGTERM)  # the supervisor only, as a service manager does
        time.sleep(3)
        assert server.poll() is None, "the server stopped with a message in flight"
        ovh.release(accept=True)
        assert server.wait(timeout=120) == 0, log.read_text()[-4000:]
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()

    assert ovh.count_by_message() == {HELD_TEXT: 1}
    with UnitOfWork(db_url, read_only=True) as uow:
        message = uow.session.get(OutboxMessage, message_id)
        assert message is not None
        assert (message.status, message.claimed_by, message.in_flight_tag) == ("sent", None, None)
        receipts = uow.session.exec(select(Receipt.result).where(Receipt.outbox_message_id == message_id)).all()
    assert receipts == ["sent"]
    logged = [json.loads(line) for line in log.read_text().splitlines() if line.startswith('{"time"')]
    assert any(line["message"].startswith("outbox worker: stopped") for line in logged), log.read_text()[-4000:]
    assert "+33612345678" not in log.read_text()
    with pytest.raises(httpx.TransportError):
        httpx.get(f"http://127.0.0.1:{port}/_health", timeout=2)
