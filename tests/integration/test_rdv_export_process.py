"""An export built by the real worker process (`python -m rdv_app.cli worker`), on SQLite and PostgreSQL:
killed with SIGKILL in the middle of a file, then a new worker started: no file is offered meanwhile, the
export is built again from the start once the dead worker's lease has ended, complete, and its email
reaches the loopback SMTP server once. Stopped with SIGTERM instead, the worker hands the export back and
the next worker builds it at once."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import factories as make
import pytest
from fakes.smtp_server import SmtpServer
from openpyxl import load_workbook
from sqlmodel import select

from rdv_app.db.engine import get_engine
from rdv_app.db.models import Export, OutboxMessage, Participation, Rdv, RdvAgent
from rdv_app.db.uow import UnitOfWork
from rdv_app.domain import clock
from rdv_app.domain.rdv_list import RdvFilters
from rdv_app.services.rdv import rdv_export

ROOT = Path(__file__).resolve().parents[2]
RDVS = 10_000  # twenty batches: the worker is caught between two
ADMIN = "admin@demo.test"


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    with SmtpServer() as server:
        yield server


@pytest.fixture
def start_worker(db_url: str, smtp: SmtpServer, tmp_path: Path) -> Iterator[Callable[[], subprocess.Popen]]:
    processes: list[subprocess.Popen] = []

    def start() -> subprocess.Popen:
        log = (tmp_path / f"worker-{len(processes)}.log").open("w")
        process = subprocess.Popen(
            [sys.executable, "-m", "rdv_app.cli", "worker", db_url], cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
            env=os.environ | {"RDV_SMTP_HOST": "127.0.0.1", "RDV_SMTP_PORT": str(smtp.port),
                              "RDV_MAIL_FROM": "RDV Service Public <ne-pas-repondre@rdv.test>"})
        processes.append(process)
        return process

    yield start
    for process in processes:
        if process.poll() is None:
            process.kill()
            process.wait()


def _requested_export(db_url: str) -> str:
    """An admin's organisation with RDVS RDVs in the last weeks, and their export asked."""
    with UnitOfWork(db_url) as uow:
        s = uow.session
        org = make.organisation(s, make.territory(s))
        pmi = make.service(s)
        admin = make.agent(s, ADMIN, "Alice", "Admin", organisation=org, role="admin", services=[pmi])
        motif = make.motif(s, org, pmi)
        usager = make.usager(s, "Jeanne", "Dupont", organisations=[org])
        uow.commit()
        org_id, admin_id, motif_id, usager_id = org.id, admin.id, motif.id, usager.id
    first = clock.now().replace(microsecond=0) - timedelta(days=30)
    rows = [{"uuid": str(uuid.uuid4()), "organisation_id": org_id, "motif_id": motif_id,
             "starts_at": first + timedelta(minutes=5 * n), "ends_at": first + timedelta(minutes=5 * n + 30),
             "status": "seen", "users_count": 1, "created_by_type": "agent", "ics_sequence": 0,
             "created_at": first, "updated_at": first} for n in range(RDVS)]
    with get_engine(db_url).begin() as conn:
        rdv_ids = make.insert_rows(conn, Rdv, rows, ids=True)
        make.insert_rows(conn, RdvAgent, [{"rdv_id": r, "agent_id": admin_id} for r in rdv_ids])
        make.insert_rows(conn, Participation, [
            {"rdv_id": r, "usager_id": usager_id, "status": "seen", "send_lifecycle_notifications": True,
             "send_reminder_notification": True, "link_failed_attempts": 0, "created_by_type": "agent",
             "created_by_agent_prescripteur": False, "created_at": first} for r in rdv_ids])
    with UnitOfWork(db_url) as uow:
        return rdv_export.request_export(uow, admin_id, org_id, RdvFilters(), "rdv_export", "xlsx").id


def _export(db_url: str, export_id: str) -> Export:
    with UnitOfWork(db_url, read_only=True) as uow:
        export = uow.session.get(Export, export_id)
        assert export is not None
        uow.session.expunge(export)
        return export


def _wait_until(condition: Callable[[], bool], what: str, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"still waiting for {what}"
        time.sleep(0.02)


def _emails(db_url: str) -> list[str]:
    with UnitOfWork(db_url, read_only=True) as uow:
        return list(uow.session.exec(select(OutboxMessage.status).where(OutboxMessage.channel == "mail")).all())


def _check_the_file(db_url: str, export_id: str) -> None:
    export = _export(db_url, export_id)
    assert (export.status, export.progress, export.total) == ("available", 100, RDVS)
    assert export.content is not None
    rows = list(load_workbook(io.BytesIO(export.content), read_only=True).active.iter_rows(values_only=True))
    assert len(rows) == 1 + RDVS


def test_a_worker_killed_mid_export_is_replaced_and_the_export_completes_once(
        db_url: str, smtp: SmtpServer, start_worker: Callable[[], subprocess.Popen]) -> None:
    export_id = _requested_export(db_url)
    first = start_worker()
    _wait_until(lambda: 0 < _export(db_url, export_id).progress < 100, "the export under way", 60)
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=30)
    killed = _export(db_url, export_id)
    assert (killed.status, killed.content, killed.file_name) == ("running", None, None)
    with UnitOfWork(db_url, read_only=True) as uow:
        assert rdv_export.list_exports(uow, killed.agent_id)[0].download_path == ""

    start_worker()
    _wait_until(lambda: _export(db_url, export_id).status == "available", "the export built again",
                rdv_export.LEASE.total_seconds() + 60)
    _check_the_file(db_url, export_id)
    assert _export(db_url, export_id).attempts == 2
    mail = smtp.wait_for(ADMIN, timeout=30)
    assert mail["Subject"].startswith("Export des RDVs du ")
    _wait_until(lambda: _emails(db_url) == ["sent"], "the email recorded as sent", 30)  # received, then recorded


def test_sigterm_hands_the_export_back_and_the_next_worker_builds_it_at_once(
        db_url: str, smtp: SmtpServer, start_worker: Callable[[], subprocess.Popen]) -> None:
    export_id = _requested_export(db_url)
    first = start_worker()
    _wait_until(lambda: 0 < _export(db_url, export_id).progress < 100, "the export under way", 60)
    first.send_signal(signal.SIGTERM)
    assert first.wait(timeout=30) == 0
    handed_back = _export(db_url, export_id)
    assert (handed_back.status, handed_back.claimed_by, handed_back.content) == ("pending", None, None)

    start_worker()
    # Taken again well before the lease a dead worker's export waits for; then built, however loaded the
    # machine running the suite is.
    _wait_until(lambda: (_export(db_url, export_id).claimed_by is not None
                         or _export(db_url, export_id).status == "available"), "the export taken again", 25)
    _wait_until(lambda: _export(db_url, export_id).status == "available", "the export built", 90)
    assert _export(db_url, export_id).attempts == 1  # handed back, not counted as a failed attempt
    _check_the_file(db_url, export_id)
    smtp.wait_for(ADMIN, timeout=30)
    _wait_until(lambda: _emails(db_url) == ["sent"], "the email recorded as sent", 30)  # received, then recorded
