"""A database built once, a template, and a working copy of it that each test starts from.

The services commit their own units of work: a transaction rolled back at the end of a test could not undo
what they wrote. The working copy is made again from the template instead (SQLite: a copy of the file;
PostgreSQL: `CREATE DATABASE ... TEMPLATE`), after every test that sent the database anything but a read:
an insert rolled back still moves a PostgreSQL sequence on, so even a write that did not commit counts."""

from __future__ import annotations

import re
import shutil
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from pg import Cluster

from rdv_app.db.engine import get_engine
from rdv_app.db.migrate import upgrade

# Statements that change nothing in the database; anything else marks the working copy as written.
_READS = re.compile(r"\s*(SELECT|BEGIN|COMMIT|ROLLBACK|SAVEPOINT|RELEASE|PRAGMA|SHOW)\b", re.IGNORECASE)


class DatabaseCopy:
    """`build(url)` runs once, on a migrated, empty database that becomes the template; `url` is the working
    copy; `restore_if_written()` makes it the template again if anything but a read reached it."""

    def __init__(self, kind: str, directory: Path, name: str, build: Callable[[str], Any],
                 cluster: Cluster | None = None) -> None:
        self.cluster = cluster
        if kind == "sqlite":
            self._template_path, self._path = directory / f"{name}_template.db", directory / f"{name}.db"
            template_url, self.url = f"sqlite:///{self._template_path}", f"sqlite:///{self._path}"
        else:
            assert cluster is not None
            self._template, self._name = f"{name}_template", name
            template_url, self.url = cluster.copy_database("template0", self._template), cluster.url(name)
        upgrade(template_url)
        self.built = build(template_url)
        # Nobody may stay connected to a PostgreSQL template; a SQLite template leaves its write-ahead log.
        get_engine(template_url).dispose()
        if kind == "sqlite":
            with sqlite3.connect(self._template_path) as conn:
                conn.execute("PRAGMA journal_mode=DELETE")
            conn.close()
        self.written = False
        sa.event.listen(get_engine(self.url), "before_cursor_execute", self._watch)
        self._copy()

    def _watch(self, _conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if not _READS.match(statement):
            self.written = True

    def _copy(self) -> None:
        get_engine(self.url).dispose()
        if self.cluster is None:
            for suffix in ("-wal", "-shm"):
                self._path.with_name(self._path.name + suffix).unlink(missing_ok=True)
            shutil.copyfile(self._template_path, self._path)
        else:
            self.cluster.copy_database(self._template, self._name)
        self.written = False

    def restore_if_written(self) -> None:
        if self.written:
            self._copy()

    def close(self) -> None:
        sa.event.remove(get_engine(self.url), "before_cursor_execute", self._watch)
        get_engine(self.url).dispose()
