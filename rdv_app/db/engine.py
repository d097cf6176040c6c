"""Engines and sessions. The URL comes from rxconfig (overridable with REFLEX_DB_URL).

On SQLite a writer waits up to RDV_SQLITE_BUSY_TIMEOUT seconds (30 by default) for the write lock before
the database refuses its transaction."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache

import sqlalchemy as sa
from sqlalchemy.orm import sessionmaker
from sqlmodel import Session


def database_url() -> str:
    from reflex.config import get_config

    url = get_config().db_url
    if not url:
        raise RuntimeError("Aucune base de données configurée (REFLEX_DB_URL).")
    return url


def sqlite_busy_timeout() -> float:
    """Seconds a SQLite writer waits for the write lock (RDV_SQLITE_BUSY_TIMEOUT)."""
    raw = os.environ.get("RDV_SQLITE_BUSY_TIMEOUT", "").strip() or "30"
    try:
        seconds = float(raw)
    except ValueError:
        seconds = -1
    if not 0 < seconds <= 600:
        raise RuntimeError(f"RDV_SQLITE_BUSY_TIMEOUT doit être un nombre de secondes entre 0 et 600 (reçu : {raw!r}).")
    return seconds


# The connections a process keeps open to PostgreSQL: one per thread that runs units of work
# (`rdv_app.blocking.WORKERS`), so that a busy process reuses them instead of opening and closing one per
# unit of work past the fifth (PostgreSQL forks a server process for each); a few more for work outside
# those threads, closed once returned.
POOL_SIZE, POOL_OVERFLOW = 15, 5


@cache
def get_engine(url: str | None = None) -> sa.Engine:
    url = url or database_url()
    if url.startswith("sqlite"):
        engine = sa.create_engine(url, connect_args={"check_same_thread": False,
                                                     "timeout": sqlite_busy_timeout()})

        @sa.event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record):  # pragma: no cover - driver hook
            # Python's sqlite3 opens transactions lazily; we issue BEGIN ourselves (see below) so that
            # write transactions can start IMMEDIATE and serialize cleanly.
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        @sa.event.listens_for(engine, "begin")
        def _sqlite_begin(conn):  # pragma: no cover - driver hook
            # A session asks through its connection's execution options (they are set before BEGIN): a
            # unit of work that writes begins IMMEDIATE (see UnitOfWork), plain reads stay DEFERRED.
            mode = conn.get_execution_options().get("sqlite_begin") or conn.info.pop("sqlite_begin", "DEFERRED")
            conn.exec_driver_sql(f"BEGIN {mode}")

        return engine
    return sa.create_engine(url, pool_pre_ping=True, pool_size=POOL_SIZE, max_overflow=POOL_OVERFLOW)


def begin_write(session: Session) -> None:
    """Makes sure `session`'s transaction holds SQLite's write lock from its BEGIN (IMMEDIATE), before
    it reads anything: checks that read and then write must see the latest state and cannot fail on the
    lock upgrade. A transaction already under way keeps its mode (a unit of work's first one is IMMEDIATE).
    Nothing to do on PostgreSQL, where row locks do that job."""
    if session.get_bind().dialect.name != "sqlite":
        return
    if not session.in_transaction():
        session.connection(execution_options={"sqlite_begin": "IMMEDIATE"})


@cache
def _session_factory(url: str) -> sessionmaker[Session]:
    return sessionmaker(bind=get_engine(url), class_=Session, expire_on_commit=False)


class ReadOnlySession(Session):
    """The session of read-only work (page loads, live refreshes): it writes nothing. On PostgreSQL each of
    its statements runs on its own (autocommit), without the BEGIN and ROLLBACK round trips of a transaction
    that would only have read: under READ COMMITTED each statement sees the rows committed when it starts,
    in a transaction or not."""


class ReadOnlyWrite(RuntimeError):
    """Read-only work tried to write: a programming error, never a person's."""


@sa.event.listens_for(ReadOnlySession, "before_flush")
def _no_flush(session: Session, _context: object, _instances: object) -> None:
    if session.new or session.deleted or any(session.is_modified(row) for row in session.dirty):
        raise ReadOnlyWrite("read-only work may not write rows")


@sa.event.listens_for(ReadOnlySession, "do_orm_execute")
def _no_statement_that_writes(state: sa.orm.ORMExecuteState) -> None:
    if state.is_insert or state.is_update or state.is_delete:
        raise ReadOnlyWrite("read-only work may not write rows")


@cache
def _read_only_session_factory(url: str) -> sessionmaker[ReadOnlySession]:
    engine = get_engine(url)
    bind = engine if engine.dialect.name == "sqlite" else engine.execution_options(isolation_level="AUTOCOMMIT")
    return sessionmaker(bind=bind, class_=ReadOnlySession, expire_on_commit=False)


@contextmanager
def session_scope(url: str | None = None) -> Iterator[Session]:
    """A session committed on success and rolled back on error."""
    session = _session_factory(url or database_url())()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
