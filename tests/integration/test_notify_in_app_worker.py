"""The worker inside the real app server (`reflex run --env prod`, backend only: the worker needs no
pages), on SQLite and PostgreSQL: it delivers the outbox and the due reminders, and stops with the
server; with RDV_NOTIFY_WORKER=external it leaves everything to `python -m rdv_app.notify.worker`."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import factories as make
import pytest
from fakes.ovh_server import FakeOvh
from fakes.smtp_server import SmtpServer
from pg import free_port
from sqlmodel import select

from rdv_app.db.models import (
    OutboxMessage,
)
from rdv_app.db.uow import UnitOfWork
from rdv_app.notify.outbox import enqueue
from rdv_app.notify.worker import POLL_INTERVAL
from rdv_app.services.rdv import lifecycle

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def ovh() -> Iterator[FakeOvh]:
    with FakeOvh() as server:
        yield server


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    with SmtpServer() as server:
        yield server


def _environment(db_url: str, ovh: FakeOvh, smtp: SmtpServer) -> dict[str, str]:
    return {
        "REFLEX_DB_URL": db_url,
        "OVH_ENDPOINT": ovh.endpoint,
        "OVH_APPLICATION_KEY": ovh.application_key,
        "OVH_APPLICATION_SECRET": ovh.application_secret,
        "OVH_CONSUMER_KEY": ovh.consumer_key,
        "RDV_OVH_SMS_SERVICE": ovh.service_name,
        "RDV_SMTP_HOST": "127.0.0.1",
        "RDV_SMTP_PORT": str(smtp.port),
        "RDV_MAIL_FROM": "RDV Service Public <ne-pas-repondre@rdv.test>",
        "PYTHONUNBUFFERED": "1",
    }


@pytest.fixture
def serve(db_url: str, ovh: FakeOvh, smtp: SmtpServer,
          tmp_path: Path) -> Iterator[Callable[[str], subprocess.Popen]]:
    """Starts the app server with RDV_NOTIFY_WORKER set to the given value; returns once it answers."""
    processes: list[subprocess.Popen] = []

    def start(worker_setting: str) -> subprocess.Popen:
        port = free_port()
        env = os.environ | _environment(db_url, ovh, smtp) | {
            "RDV_NOTIFY_WORKER": worker_setting, "RDV_PUBLIC_URL": f"http://localhost:{port}"}
        log = tmp_path / f"server-{len(processes)}.log"
        with log.open("w") as out:
            process = subprocess.Popen(
                [sys.executable, "-m", "reflex", "run", "--env", "prod", "--backend-only", "--backend-port", str(port)],
                cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        processes.append(process)
        _wait_until(lambda: _answers(f"http://127.0.0.1:{port}/_health", process, log), "the server", timeout=120)
        return process

    yield start
    for process in processes:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def _answers(url: str, process: subprocess.Popen, log: Path) -> bool:
    assert process.poll() is None, log.read_text()[-3000:]
    try:
        with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - loopback
            return response.status == 200
    except OSError:
        return False


def _wait_until(condition: Callable[[], bool], what: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"still waiting for {what}"
        time.sleep(0.1)


def _statuses(db_url: str) -> list[tuple[str, str]]:
    with UnitOfWork(db_url) as uow:
        return [tuple(row) for row in uow.session.exec(  # type: ignore[misc]
            select(OutboxMessage.event, OutboxMessage.status).order_by(OutboxMessage.id))]


def _queue(db_url: str) -> None:
    with UnitOfWork(db_url) as uow:
        enqueue(uow.session, channel="sms", event="rdv_created", idempotency_key="app:sms",
                payload={"to": "+33612345678", "text": "RDV PMI lundi 07/12 à 09h00."})
        enqueue(uow.session, channel="mail", event="rdv_created", idempotency_key="app:mail",
                payload={"to": "jeanne@example.fr", "subject": "RDV confirmé", "text": "Bonjour,\n"})
        uow.commit()


def _rdv_due_for_its_reminder(db_url: str) -> int:
    """An RDV in 30 hours, so its reminder time has passed, whose usager asked for no confirmation: the
    reminder is the one message the worker owes him."""
    with UnitOfWork(db_url) as uow:
        s = uow.session
        territory = make.territory(s)
        service = make.service(s, name="PMI")
        org = make.organisation(s, territory)
        agent = make.agent(s, "agent@demo.test", None, "Petit", organisation=org, role="admin", services=[service],
                           rdv_notifications_level="none")
        usager = make.usager(s, "Marc", "Leroy", phone_number="06 98 76 54 32", organisations=[org])
        lieu = make.lieu(s, org, name="Centre")
        motif = make.motif(s, org, service)
        uow.commit()
        now = datetime.now(UTC)
        return lifecycle.plan_rdv(uow, agent.id, org.id, motif_id=motif.id, starts_at=now + timedelta(hours=30),  # type: ignore[arg-type]
                             duration_in_min=30, agent_ids=[agent.id], lieu_id=lieu.id,  # type: ignore[list-item]
                             usager_ids=[usager.id], notify={usager.id: (False, True)},  # type: ignore[list-item,dict-item]
                             confirm_warnings=True, now=now)


def test_the_app_runs_the_worker_delivers_and_stops_cleanly(db_url: str, ovh: FakeOvh, smtp: SmtpServer,
                                                            serve: Callable[[str], subprocess.Popen]) -> None:
    _rdv_due_for_its_reminder(db_url)
    server = serve("app")
    _queue(db_url)
    _wait_until(lambda: [status for _, status in _statuses(db_url)] == ["sent"] * 3, "the in-app worker")
    assert sorted(event for event, _ in _statuses(db_url)) == ["rdv_created", "rdv_created", "rdv_upcoming_reminder"]
    texts = {sms.receivers[0]: sms.message for sms in ovh.received}
    assert texts["+33612345678"] == "RDV PMI lundi 07/12 à 09h00."
    assert "\nRappel RDV PMI le " in texts["+33698765432"]
    assert [message["Subject"] for _, message in smtp.messages] == ["RDV confirmé"]

    os.killpg(server.pid, signal.SIGTERM)
    assert server.wait(timeout=30) == 0  # the lifespan stops the worker thread and waits for it


def test_with_an_external_worker_the_app_sends_nothing_itself(db_url: str, ovh: FakeOvh, smtp: SmtpServer,
                                                              serve: Callable[[str], subprocess.Popen]) -> None:
    serve("external")
    _queue(db_url)
    time.sleep(3 * POLL_INTERVAL)  # three polls of an in-app worker
    assert _statuses(db_url) == [("rdv_created", "pending"), ("rdv_created", "pending")]
    assert ovh.received == [] and smtp.messages == []

    worker = subprocess.Popen([sys.executable, "-m", "rdv_app.cli", "worker", db_url], cwd=ROOT,
                              env=os.environ | _environment(db_url, ovh, smtp), stdout=subprocess.DEVNULL,
                              stderr=subprocess.STDOUT)
    try:
        _wait_until(lambda: [s for _, s in _statuses(db_url)] == ["sent", "sent"], "the external worker")
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(timeout=30)
    assert len(ovh.received) == 1 and len(smtp.messages) == 1
