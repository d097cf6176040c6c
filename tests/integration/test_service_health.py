""""Santé du service" (issue 27) on SQLite and PostgreSQL: what the page shows (queues, errors without
personal data, workers, daily jobs, disabled webhook endpoints, sizes), "Relancer" putting back only a
channel's dead letters (audited), and both refused to anyone but a super admin, changing nothing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import factories as make
import pytest
from db_snapshot import refused, snapshot
from sqlmodel import select

from rdv_app.db.models import AuditLog, DailyJobRun, OutboxMessage, OutboxWorker, Receipt
from rdv_app.db.uow import UnitOfWork
from rdv_app.domain import clock
from rdv_app.notify import daily_jobs
from rdv_app.notify.outbox import enqueue
from rdv_app.services.errors import DomainError
from rdv_app.services.instance.health import requeue_dead_letters, service_health


@dataclass
class World:
    root: int
    admin: int
    failed_sms: list[int]
    others: list[int]


def _message(uow: UnitOfWork, key: str, channel: str, status: str, **values: object) -> int:
    payload = ({"to": "+33612345678", "text": "Bonjour Marie Dupont"} if channel == "sms"
               else {"to": "marie.dupont@exemple.fr", "subject": "Votre RDV", "text": "Bonjour"})
    message_id = enqueue(uow.session, channel=channel, event="rdv_created", idempotency_key=key, payload=payload)
    assert message_id is not None
    message = uow.session.get(OutboxMessage, message_id)
    assert message is not None
    message.status = status
    for name, value in values.items():
        setattr(message, name, value)
    return message_id


@pytest.fixture
def world(uow: UnitOfWork) -> World:
    s = uow.session
    now = clock.now()
    territory = make.territory(s)
    org = make.organisation(s, territory)
    root = make.agent(s, "root@exemple.fr", "Aline", "Roche", super_admin=True)
    admin = make.agent(s, "admin@exemple.fr", "Paul", "Martin", organisation=org, role="admin")
    failed_sms = [_message(uow, f"f{i}", "sms", "failed", attempts=17, last_error="Échec définitif : x")
                  for i in range(2)]
    others = [
        _message(uow, "p1", "sms", "pending", next_attempt_at=now - timedelta(minutes=12)),
        _message(uow, "p2", "sms", "pending", next_attempt_at=now + timedelta(hours=30)),  # a reminder, not due
        _message(uow, "m1", "mail", "failed", attempts=17),
        _message(uow, "m2", "mail", "sent"),
    ]
    s.add(OutboxWorker(name="hote:1234", started_at=now - timedelta(hours=1), heartbeat_at=now - timedelta(seconds=1)))
    s.add(OutboxWorker(name="hote:999", started_at=now - timedelta(hours=2), heartbeat_at=now - timedelta(minutes=5)))
    s.add(DailyJobRun(job="purge_plages", day=daily_jobs.jobs_day(now), ran_at=now - timedelta(hours=2)))
    make.webhook(s, org, target_url="https://sih.exemple.fr/rdv?cle=secrete", enabled=False, disabled_at=now,
                 failing_since=now - timedelta(days=3))
    make.webhook(s, org, target_url="https://autre.exemple.fr/rdv", failing_since=now - timedelta(hours=1))
    s.add(Receipt(outbox_message_id=others[0], organisation_id=org.id, event="rdv_created", channel="sms",
                  result="failure", created_at=now,
                  error_message="Échec temporaire, nouvel essai prévu : OVH : numéro +33612345678 (Marie)"))
    uow.commit()
    return World(root.id, admin.id, failed_sms, others)  # type: ignore[arg-type]


def test_the_page_shows_queues_errors_workers_jobs_and_sizes(db_url: str, world: World) -> None:
    with UnitOfWork(db_url, read_only=True) as uow:
        health = service_health(uow, world.root)
    queues = {q.channel: q for q in health.queues}
    assert (queues["sms"].pending, queues["sms"].sending, queues["sms"].failed) == (2, 0, 2)
    assert (queues["mail"].pending, queues["mail"].failed) == (0, 1)
    assert 12 * 60 <= queues["sms"].oldest_age_seconds < 13 * 60  # the reminder due tomorrow does not count
    assert queues["mail"].oldest_age_seconds == queues["webhook"].oldest_age_seconds == 0
    [error] = health.errors
    assert (error.channel, error.event, error.kind) == ("sms", "rdv_created", "Échec temporaire, nouvel essai prévu")
    assert [(w.name, w.alive) for w in health.workers] == [("hote:1234", True), ("hote:999", False)]
    jobs = {job.job: job for job in health.jobs}
    assert not jobs["purge_plages"].late and jobs["purge_plages"].last_success is not None
    assert all(job.late and job.last_success is None for name, job in jobs.items() if name != "purge_plages")
    assert health.failing_endpoints == 1
    [disabled] = health.disabled_endpoints
    assert (disabled.organisation, disabled.host) == ("PMI Arras", "sih.exemple.fr")
    assert health.database_bytes and health.database_bytes > 0
    assert health.disk_free_bytes and health.disk_total_bytes and health.disk_free_bytes <= health.disk_total_bytes


def test_relancer_puts_back_only_the_channels_dead_letters(db_url: str, world: World) -> None:
    before = snapshot(db_url, {"outbox_message": {"status", "attempts", "next_attempt_at"}, "audit_log": {"*"}})
    with UnitOfWork(db_url) as uow:
        assert requeue_dead_letters(uow, world.root, "sms") == 2
    with UnitOfWork(db_url, read_only=True) as uow:
        rows = {m.id: m for m in uow.session.exec(select(OutboxMessage))}
        audit = uow.session.exec(select(AuditLog)).one()
        uow.session.expunge_all()
    for message_id in world.failed_sms:
        assert (rows[message_id].status, rows[message_id].attempts) == ("pending", 0)
        assert rows[message_id].next_attempt_at <= clock.now()
    assert [rows[i].status for i in world.others] == ["pending", "pending", "failed", "sent"]
    assert (audit.action, audit.actor_agent_id, audit.entity_id, audit.changes) == (
        "requeue_dead_letters", world.root, "sms", {"count": 2, "ids": sorted(world.failed_sms)})
    assert snapshot(db_url, {"outbox_message": {"status", "attempts", "next_attempt_at"},
                             "audit_log": {"*"}}) == before
    with UnitOfWork(db_url) as uow:
        assert requeue_dead_letters(uow, world.root, "sms") == 0  # nothing left to put back


def test_anyone_but_a_super_admin_is_refused_and_nothing_changes(db_url: str, world: World) -> None:
    refused(db_url, lambda uow: requeue_dead_letters(uow, world.admin, "sms"), "super administrateurs")
    refused(db_url, lambda uow: service_health(uow, world.admin), "super administrateurs")
    refused(db_url, lambda uow: requeue_dead_letters(uow, world.root, "pigeon"), "canal")
    with pytest.raises(DomainError), UnitOfWork(db_url) as uow:
        requeue_dead_letters(uow, world.root, "x" * 10_000)
