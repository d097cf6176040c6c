"""Daily maintenance jobs, run by the outbox worker: once a day, even with several workers.

A job's day is the calendar day in Europe/Paris. The worker that first inserts the row (job, day) of
`daily_job_run` runs the job, in the same transaction as that row: a second worker's insert waits for
that transaction and then finds the row (PostgreSQL; on SQLite writers take turns), so it does nothing;
a job that fails rolls its row back and is tried again at the next scan.

Jobs are registered by the composition root (rdv_app.wiring), e.g. `purge_plages`, which deletes the
plages d'ouverture that ended more than a year ago (RGPD, domain.md section 10), and the personal data
retention jobs of rdv_app.services.retention.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date, datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, select

from rdv_app.db.engine import begin_write
from rdv_app.db.models import DailyJobRun
from rdv_app.db.rows import table_of
from rdv_app.db.uow import UnitOfWork

logger = logging.getLogger(__name__)

JOBS_ZONE = ZoneInfo("Europe/Paris")
Job = Callable[[UnitOfWork, date], int]
# name -> job(uow, day): does its work and commits `uow`, returns how many rows it handled.
DAILY_JOBS: dict[str, Job] = {}


def register(name: str, job: Job) -> None:
    DAILY_JOBS[name] = job


def jobs_day(now: datetime) -> date:
    return now.astimezone(JOBS_ZONE).date()


def run_daily_jobs(url: str, now: datetime) -> dict[str, int]:
    """Runs the jobs not yet done for `now`'s day; returns what each job run here handled.

    A job that raises is logged and left for the next call; the others still run.
    """
    day = jobs_day(now)
    with UnitOfWork(url) as uow:
        finished = set(uow.session.exec(select(DailyJobRun.job).where(DailyJobRun.day == day)))
    done: dict[str, int] = {}
    for name, job in DAILY_JOBS.items():
        if name in finished:
            continue
        try:
            with UnitOfWork(url) as uow:
                if not _claim(uow.session, name, day, now):
                    continue
                done[name] = job(uow, day)
        except Exception:
            logger.exception("daily job %s of %s failed; it will be tried again", name, day)
            continue
        logger.info("daily job %s of %s: %d row(s)", name, day, done[name])
    return done




# INSERT builders by dialect name: both give `on_conflict_do_nothing`.
_INSERTS: dict[str, Callable[[sa.Table], postgresql.Insert | sqlite.Insert]] = {
    "postgresql": postgresql.insert, "sqlite": sqlite.insert}


def _claim(session: Session, job: str, day: date, now: datetime) -> bool:
    """Adds (job, day) to the caller's transaction; False when another transaction already has it."""
    begin_write(session)
    insert = _INSERTS[session.get_bind().dialect.name]
    statement = (insert(table_of(DailyJobRun)).values(job=job, day=day, ran_at=now)
                 .on_conflict_do_nothing(index_elements=["job", "day"])
                 .returning(table_of(DailyJobRun).c.id))
    return session.exec(statement).scalar_one_or_none() is not None
