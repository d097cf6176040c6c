"""Unit of work: one transaction per use case, and the domain events it publishes (cosmicpython,
chapters 6 to 9, with the handlers running inside the transaction)."""

from __future__ import annotations

from collections.abc import Callable, Hashable
from types import TracebackType
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.orm import SessionTransaction
from sqlmodel import Session

from rdv_app import logs
from rdv_app.db import messagebus
from rdv_app.db.engine import ReadOnlyWrite, _read_only_session_factory, _session_factory, database_url

T = TypeVar("T")


class UnitOfWork:
    """`with UnitOfWork() as uow: ...; uow.record(event); uow.commit()`; anything not committed is
    rolled back, and its recorded events are dropped unpublished.

    `commit` first publishes the recorded events: their handlers run in this transaction, so what they
    write (outbox rows, webhooks) commits or rolls back with the change itself. `publish` does it
    earlier, for a change that must be described before it deletes the rows handlers read.

    On SQLite its first transaction begins IMMEDIATE, taking the write lock with its first statement: a
    transaction that reads and then writes would otherwise fail with "database is locked" as soon as
    another writer (the notification worker) holds the lock, instead of waiting its turn. Later
    transactions (reads after the commit) and `read_only=True` work (page loads, live refreshes) begin
    DEFERRED and never block writers.

    `read_only=True` work writes nothing (`ReadOnlyWrite` otherwise): on PostgreSQL it runs its statements
    without a transaction around them (`ReadOnlySession`).
    """

    session: Session

    def __init__(self, url: str | None = None, *, read_only: bool = False) -> None:
        self.url = url or database_url()
        self.read_only = read_only
        self._events: list[Any] = []
        self._remembered: dict[Hashable, Any] = {}

    def __enter__(self) -> UnitOfWork:
        self.session = (_read_only_session_factory if self.read_only else _session_factory)(self.url)()
        if self.url.startswith("sqlite") and not self.read_only:
            engine = self.session.get_bind()
            self.session.bind = engine.execution_options(sqlite_begin="IMMEDIATE")
            sa.event.listen(self.session, "after_transaction_end", _back_to_deferred(engine))
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._events.clear()
        self._remembered.clear()
        self.session.rollback()
        self.session.close()

    def remembered(self, key: Hashable, compute: Callable[[], T]) -> T:
        """What `compute` returns, computed once per `read_only` unit of work for `key`: the steps of one page
        load ask the same question several times (the offered motifs, the sectors covering the address) within
        a few milliseconds, and one answer serves them all. A unit of work that writes computes it every
        time (its own writes may change the answer)."""
        if not self.read_only:
            return compute()
        if key not in self._remembered:
            self._remembered[key] = compute()
        return self._remembered[key]

    def record(self, event: Any) -> None:
        """Adds a domain event to publish with this transaction."""
        self._events.append(event)

    def publish(self) -> None:
        """Runs the handlers of the events recorded so far, in this transaction."""
        while self._events:
            event = self._events.pop(0)
            organisation_id = getattr(event, "organisation_id", None)
            for handler in messagebus.handlers_for(event):
                with logs.context(organisation_id=organisation_id,
                                  handler=f"{handler.__module__}.{handler.__qualname__}"):
                    handler(self.session, event)

    def commit(self) -> None:
        if self.read_only:
            raise ReadOnlyWrite("read-only work may not commit")
        self.publish()
        self.session.commit()

    def rollback(self) -> None:
        self._events.clear()
        self.session.rollback()


def _back_to_deferred(engine: sa.Engine | sa.Connection) -> Callable[[Session, SessionTransaction], None]:
    def listener(session: Session, transaction: SessionTransaction) -> None:
        if transaction.parent is None:
            session.bind = engine

    return listener
