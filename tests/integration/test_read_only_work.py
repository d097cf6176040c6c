"""Read-only units of work (page loads, live refreshes): they write nothing, on both databases, and on
PostgreSQL their statements run without a transaction block around them (no BEGIN and ROLLBACK round trips
for work that only reads)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlmodel import func, select

from rdv_app.db.engine import ReadOnlyWrite
from rdv_app.db.models import Territory
from rdv_app.db.uow import UnitOfWork


def _territories(db_url: str) -> list[str]:
    with UnitOfWork(db_url, read_only=True) as uow:
        return list(uow.session.exec(select(Territory.name).order_by(Territory.name)).all())


def test_read_only_work_refuses_to_write_and_writes_nothing(db_url: str) -> None:
    with UnitOfWork(db_url) as uow:
        uow.session.add(Territory(departement_number="62", name="Pas-de-Calais"))
        uow.commit()

    with UnitOfWork(db_url, read_only=True) as uow:
        uow.session.add(Territory(departement_number="59", name="Nord"))
        with pytest.raises(ReadOnlyWrite):
            uow.session.flush()
    with UnitOfWork(db_url, read_only=True) as uow:
        territory = uow.session.exec(select(Territory)).one()
        territory.name = "Renommé"
        with pytest.raises(ReadOnlyWrite):
            uow.session.exec(select(func.count()).select_from(Territory)).one()  # autoflush first
    with UnitOfWork(db_url, read_only=True) as uow, pytest.raises(ReadOnlyWrite):
        uow.session.execute(sa.update(Territory).values(name="Renommé"))
    with UnitOfWork(db_url, read_only=True) as uow, pytest.raises(ReadOnlyWrite):
        uow.commit()
    assert _territories(db_url) == ["Pas-de-Calais"]

    with UnitOfWork(db_url, read_only=True) as uow:  # reading a row and leaving it unchanged is reading
        territory = uow.session.exec(select(Territory)).one()
        territory.name = territory.name
        assert uow.session.exec(select(func.count()).select_from(Territory)).one() == 1


@pytest.mark.postgresql_only
def test_read_only_work_on_postgresql_runs_each_statement_on_its_own(db_url: str) -> None:
    """In a transaction block, `now()` is when the block began: a second statement started later. Each
    statement of read-only work is its own transaction, begun with it."""
    def second_statement_began_with_its_transaction(read_only: bool) -> bool:
        with UnitOfWork(db_url, read_only=read_only) as uow:
            uow.session.execute(sa.text("SELECT pg_sleep(0.02)"))
            return bool(uow.session.execute(sa.text("SELECT now() = statement_timestamp()")).scalar_one())

    assert second_statement_began_with_its_transaction(read_only=True)
    assert not second_statement_began_with_its_transaction(read_only=False)
