"""Unit of work: one transaction per use case (cosmicpython, chapter 6)."""

from __future__ import annotations

from types import TracebackType

from sqlmodel import Session

from rdv_app.db.engine import _session_factory, database_url


class UnitOfWork:
    """`with UnitOfWork() as uow: ...; uow.commit()`; anything not committed is rolled back."""

    session: Session

    def __init__(self, url: str | None = None) -> None:
        self.url = url or database_url()

    def __enter__(self) -> UnitOfWork:
        self.session = _session_factory(self.url)()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.session.rollback()
        self.session.close()

    def commit(self) -> None:
        self.session.commit()

    def rollback(self) -> None:
        self.session.rollback()
