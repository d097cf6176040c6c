"""The agenda's cost in SQL statements, on SQLite and PostgreSQL: one agenda call reads its rights, RDVs,
plages and indisponibilités in a fixed number of statements, whether it shows one agent or all of them, a
week or a month. A query per agent, per RDV or per plage would make these counts differ."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime

import sqlalchemy as sa
from sqlmodel import select

from rdv_app.db.models import Agent, Organisation
from rdv_app.db.uow import UnitOfWork
from rdv_app.demo.seed import seed_demo
from rdv_app.services.availability import agenda

TODAY = date(2026, 3, 18)
NOW = datetime(2026, 3, 18, 8, 0, tzinfo=UTC)
WEEK = (date(2026, 3, 16), date(2026, 3, 22))
MONTH = (date(2026, 2, 23), date(2026, 4, 5))


@contextmanager
def _statements(uow: UnitOfWork) -> Iterator[list[str]]:
    """The SQL statements sent to the database inside the block."""
    sent: list[str] = []

    def record(_conn, _cursor, statement, _parameters, _context, _executemany) -> None:
        sent.append(statement)

    engine = uow.session.get_bind()
    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        yield sent
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)


def _counted(uow: UnitOfWork, actor: int, organisation: int, agent_ids: list[int],
             days: tuple[date, date]) -> tuple[int, agenda.Agenda]:
    with _statements(uow) as sent:
        shown = agenda.agenda(uow, actor, organisation, agent_ids, *days, now=NOW)
    return len(sent), shown


def test_one_agenda_call_costs_the_same_statements_for_one_agent_or_all(uow: UnitOfWork) -> None:
    seed_demo(uow, TODAY)
    camille = uow.session.exec(select(Agent.id).where(Agent.email == "camille.martin@demo.test")).one()
    julien = uow.session.exec(select(Agent.id).where(Agent.email == "julien.petit@demo.test")).one()
    pmi = uow.session.exec(select(Organisation.id).where(Organisation.name == "PMI Arras")).one()
    everyone = [a.id for a in agenda.visible_agents(uow, camille, pmi)]
    assert len(everyone) >= 4 and julien in everyone

    alone, julien_week = _counted(uow, camille, pmi, [julien], WEEK)
    together, team_week = _counted(uow, camille, pmi, everyone, WEEK)
    month, team_month = _counted(uow, camille, pmi, everyone, MONTH)

    # The calls do show more when asked more: more agents, then more days.
    kinds = {e.kind for e in julien_week.events}
    assert {"rdv", "plage"} <= kinds
    rdvs_shown = [sum(e.kind == "rdv" for e in view.events) for view in (julien_week, team_week, team_month)]
    assert rdvs_shown[0] < rdvs_shown[1] < rdvs_shown[2]
    assert sum(e.kind == "plage" for e in julien_week.events) < sum(e.kind == "plage" for e in team_week.events)
    # ... for the same number of statements: the rights (3), the colours the agents chose (1), the actor's
    # preferences (1), the RDVs with their agents and usagers (1), the agents' RDVs elsewhere (1), the plages
    # (1), the indisponibilités (1).
    assert alone == together == month <= 9
    # The count does not depend on what an earlier call left in the session either.
    again, _ = _counted(uow, camille, pmi, [julien], WEEK)
    assert again == alone
