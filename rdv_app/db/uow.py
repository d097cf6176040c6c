"""Unit of work: one transaction per use case (cosmicpython, chapter 6)."""

from __future__ import annotations

from types import TracebackType

from sqlmodel import Session

from rdv_app.db.engine import _session_factory, database_url


class UnitOfWork:
    """`with UnitOfWork() as uow: ...; uow.commit()`; anything not committed is rolled back.

    On SQLite its first transaction begins IMMEDIATE, taking the write lock at once: a transaction that
    reads and then writes would otherwise fail with "database is locked" as soon as another writer (the
    notification worker) holds the lock, instead of waiting its turn. `read_only=True` work (page loads,
    live refreshes) begins DEFERRED and never blocks writers.
    """

    session: Session

    def __init__(self, url: str | None = None, *, read_only: bool = False) -> None:
        self.url = url or database_url()
        self.read_only = read_only

    def __enter__(self) -> UnitOfWork:
        self.session = _session_factory(self.url)()
        if self.url.startswith("sqlite"):
            mode = "DEFERRED" if self.read_only else "IMMEDIATE"
            self.session.connection(execution_options={"sqlite_begin": mode})
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.session.rollback()
        self.session.close()

    def commit(self) -> None:
        self.session.commit()

    def rollback(self) -> None:
        self.session.rollback()
