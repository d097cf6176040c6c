"""The worker's daily maintenance (rdv_app.notify.daily_jobs), on SQLite and PostgreSQL: plages d'ouverture
that ended more than a year ago are deleted once a day, however many workers run."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, time, timedelta

import factories as make
from sqlmodel import col, select

from rdv_app.db.models import (
    AuditLog,
    DailyJobRun,
    PlageOuverture,
    PlageOuvertureMotif,
)
from rdv_app.db.uow import UnitOfWork
from rdv_app.notify.daily_jobs import run_daily_jobs
from rdv_app.notify.sms import ConsoleSmsProvider
from rdv_app.notify.worker import Worker

# 10 December 2026, 02:00 in Paris: already the 10th there, still the 9th in UTC.
NOW = datetime(2026, 12, 10, 1, 0, tzinfo=UTC)


def _plages(uow: UnitOfWork) -> dict[str, int]:
    s = uow.session
    territory = make.territory(s)
    service = make.service(s, "PMI")
    agent = make.agent(s, "agent@demo.test", None, "Petit")
    org = make.organisation(s, territory)
    lieu = make.lieu(s, org, "Centre", "1 rue A")
    motif = make.motif(s, org, service)

    def plage(title: str, first_day: date, recurrence: dict | None = None) -> PlageOuverture:
        return PlageOuverture(agent_id=agent.id, organisation_id=org.id, lieu_id=lieu.id, title=title,
                              first_day=first_day, start_time=time(9), end_time=time(12), recurrence=recurrence)

    rows = [
        plage("one-off, 9 December 2025: ended a year and a day ago", date(2025, 12, 9)),
        plage("one-off, 10 December 2025: exactly a year", date(2025, 12, 10)),
        plage("series ended 30 November 2025", date(2025, 1, 6), {"every": "week", "until": "2025-11-30"}),
        plage("series ended 15 December 2025", date(2025, 1, 6), {"every": "week", "until": "2025-12-15"}),
        plage("series without end", date(2020, 1, 6), {"every": "week"}),
    ]
    s.add_all(rows)
    s.flush()
    s.add_all([PlageOuvertureMotif(plage_ouverture_id=p.id, motif_id=motif.id) for p in rows])
    uow.commit()
    return {p.title: p.id for p in rows}  # type: ignore[misc]


def _remaining(db_url: str) -> set[str]:
    with UnitOfWork(db_url) as uow:
        return set(uow.session.exec(select(PlageOuverture.title)))


def test_the_purge_runs_once_a_day_with_two_workers_racing(uow: UnitOfWork, db_url: str) -> None:
    ids = _plages(uow)
    barrier = threading.Barrier(2)
    results: list[dict[str, int]] = [{}, {}]

    def run(index: int) -> None:
        barrier.wait()
        results[index] = run_daily_jobs(db_url, NOW)

    threads = [threading.Thread(target=run, args=(index,)) for index in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    # Each job runs in one of the two workers (the retention jobs of rdv_app.services.retention as well).
    assert [result["purge_plages"] for result in results if "purge_plages" in result] == [2]
    assert _remaining(db_url) == {"one-off, 10 December 2025: exactly a year", "series ended 15 December 2025",
                                  "series without end"}
    with UnitOfWork(db_url) as check:
        runs = check.session.exec(select(DailyJobRun.job, DailyJobRun.day)
                                  .where(DailyJobRun.job == "purge_plages")).all()
        purged = check.session.exec(select(AuditLog.entity_id).where(AuditLog.action == "purge")).all()
        links = check.session.exec(select(PlageOuvertureMotif.plage_ouverture_id)).all()
    assert runs == [("purge_plages", date(2026, 12, 10))]
    assert sorted(purged) == sorted(str(ids[t]) for t in ("one-off, 9 December 2025: ended a year and a day ago",
                                                          "series ended 30 November 2025"))
    assert set(links) == {ids[t] for t in _remaining(db_url)}

    # Later the same day: nothing. The next days: the plages that have now passed the year go.
    assert run_daily_jobs(db_url, NOW + timedelta(hours=20)) == {}
    assert run_daily_jobs(db_url, NOW + timedelta(days=1))["purge_plages"] == 1
    assert run_daily_jobs(db_url, NOW + timedelta(days=6))["purge_plages"] == 1
    assert _remaining(db_url) == {"series without end"}


def test_the_worker_loop_runs_it_with_the_reminders(uow: UnitOfWork, db_url: str) -> None:
    _plages(uow)
    worker = Worker(db_url, sms=ConsoleSmsProvider())
    assert worker.run_scheduled(now=NOW) == []
    assert len(_remaining(db_url)) == 3
    with UnitOfWork(db_url) as check:
        assert check.session.exec(select(DailyJobRun.day).where(col(DailyJobRun.job) == "purge_plages")).all() == [
            date(2026, 12, 10)]
