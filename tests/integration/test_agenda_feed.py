"""The open agendas' change feed, on SQLite and PostgreSQL: one look at the database per tick wakes the
agendas a change may show on, and no other."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from sqlmodel import select

from rdv_app.blocking import in_thread
from rdv_app.db.models import Agent, AuditLog, Lieu, Motif, Organisation, Usager, UsagerProfile
from rdv_app.db.uow import UnitOfWork
from rdv_app.demo.seed import seed_demo
from rdv_app.services.rdv import lifecycle
from rdv_app.state.agenda_feed import AgendaFeed

TODAY = date(2026, 3, 18)
NOW = datetime(2026, 3, 18, 8, 0, tzinfo=UTC)
PAUSE = 0.05
# Long enough for many ticks of PAUSE on a loaded machine; a wait that gets its news returns at once.
NEWS = 10.0

pytestmark = pytest.mark.clock(NOW)


def _ids(url: str) -> dict[str, int]:
    with UnitOfWork(url) as uow:
        seed_demo(uow, TODAY)
        s = uow.session
        agents = {a.email.split(".")[0]: a.id for a in s.exec(select(Agent)).all() if a.email}
        organisations = {o.name: o.id for o in s.exec(select(Organisation)).all()}
        return {**agents, "pmi": organisations["PMI Arras"], "lens": organisations["Maison Départementale des Solidarités de Lens"]}


def _plan_in_pmi_arras(url: str, ids: dict[str, int]) -> None:
    """Camille books Julien, as on her agenda page."""
    with UnitOfWork(url) as uow:
        s = uow.session
        motif = s.exec(select(Motif.id).where(Motif.organisation_id == ids["pmi"],
                                              Motif.name == "Consultation pédiatrique")).one()
        lieu = s.exec(select(Lieu.id).where(Lieu.organisation_id == ids["pmi"]).order_by(Lieu.id)).first()
        usager = s.exec(select(Usager.id).join(UsagerProfile, UsagerProfile.usager_id == Usager.id)
                        .where(UsagerProfile.organisation_id == ids["pmi"]).order_by(Usager.id)).first()
        starts_at = datetime.combine(TODAY + timedelta(days=5), time(18, 30), ZoneInfo("Europe/Paris"))
        lifecycle.plan_rdv(uow, ids["camille"], ids["pmi"], motif_id=motif, starts_at=starts_at, duration_in_min=30,
                      agent_ids=[ids["julien"]], lieu_id=lieu, usager_ids=[usager], confirm_warnings=True)


def _audit(url: str, row_id: int, organisation_id: int) -> None:
    with UnitOfWork(url) as uow:
        uow.session.add(AuditLog(id=row_id, actor_type="system", organisation_id=organisation_id, action="update",
                                 entity_type="plage_ouverture", entity_id="1"))
        uow.commit()


def _last_audit_id(url: str) -> int:
    with UnitOfWork(url, read_only=True) as uow:
        return uow.session.exec(select(sa.func.max(AuditLog.id))).one() or 0


def test_a_colleagues_rdv_wakes_the_agendas_of_its_organisation_only(db_url: str) -> None:
    ids = _ids(db_url)

    async def scenario() -> None:
        feed = AgendaFeed(db_url, pause=PAUSE)
        async with feed.watch({ids["pmi"]}, ids["julien"]) as pmi, feed.watch({ids["lens"]}, ids["nathalie"]) as lens:
            assert not await pmi.wait(10 * PAUSE), "what was there before the agenda opened is no news"
            await in_thread(_plan_in_pmi_arras, db_url, ids)
            assert await pmi.wait(NEWS)
            assert not await lens.wait(0)
            assert not await pmi.wait(10 * PAUSE), "a change is news once"

    asyncio.run(scenario())


def test_a_display_preference_wakes_that_agents_agenda_only(db_url: str) -> None:
    ids = _ids(db_url)

    async def scenario() -> None:
        feed = AgendaFeed(db_url, pause=PAUSE)
        async with feed.watch({ids["pmi"]}, ids["julien"]) as julien, feed.watch({ids["pmi"]}, ids["camille"]) as camille:
            with UnitOfWork(db_url) as uow:  # straight in the table, as in the browser tests: no audit row
                uow.session.execute(sa.update(Agent).where(Agent.id == ids["julien"]).values(display_saturdays=False))
                uow.commit()
            assert await julien.wait(NEWS)
            assert not await camille.wait(0)

    asyncio.run(scenario())


def test_a_change_committed_after_a_later_one_is_still_news(db_url: str) -> None:
    """On PostgreSQL a transaction keeps the id it took until it commits: rows show up out of order (within
    the feed's LOOKBACK)."""
    ids = _ids(db_url)
    last = _last_audit_id(db_url)

    async def scenario() -> None:
        feed = AgendaFeed(db_url, pause=PAUSE)
        async with feed.watch({ids["pmi"]}, ids["julien"]) as pmi, feed.watch({ids["lens"]}, ids["nathalie"]) as lens:
            await in_thread(_audit, db_url, last + 50, ids["lens"])
            assert await lens.wait(NEWS)
            assert not await pmi.wait(0)
            await in_thread(_audit, db_url, last + 10, ids["pmi"])
            assert await pmi.wait(NEWS)
            assert not await lens.wait(10 * PAUSE)

    asyncio.run(scenario())
