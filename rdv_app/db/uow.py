"""Unit of work: one transaction per use case (cosmicpython, chapter 6)."""

from __future__ import annotations

from collections.abc import Callable
from types import TracebackType

import sqlalchemy as sa
from sqlalchemy.orm import SessionTransaction
from sqlmodel import Session

from rdv_app.db.engine import _session_factory, database_url


class UnitOfWork:
    """`with UnitOfWork() as uow: ...; uow.commit()`; anything not committed is rolled back.

    On SQLite its first transaction begins IMMEDIATE, taking the write lock with its first statement: a
    transaction that reads and then writes would otherwise fail with "database is locked" as soon as
    another writer (the notification worker) holds the lock, instead of waiting its turn. Later
    transactions (reads after the commit) and `read_only=True` work (page loads, live refreshes) begin
    DEFERRED and never block writers.
    """

    session: Session

    def __init__(self, url: str | None = None, *, read_only: bool = False) -> None:
        self.url = url or database_url()
        self.read_only = read_only

    def __enter__(self) -> UnitOfWork:
        self.session = _session_factory(self.url)()
        if self.url.startswith("sqlite") and not self.read_only:
            engine = self.session.get_bind()
            self.session.bind = engine.execution_options(sqlite_begin="IMMEDIATE")
            sa.event.listen(self.session, "after_transaction_end", _back_to_deferred(engine))
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.session.rollback()
        self.session.close()

    def commit(self) -> None:
        self.session.commit()

    def rollback(self) -> None:
        self.session.rollback()


def _back_to_deferred(engine: sa.Engine) -> Callable[[Session, SessionTransaction], None]:
    def listener(session: Session, transaction: SessionTransaction) -> None:
        if transaction.parent is None:
            session.bind = engine

    return listener
