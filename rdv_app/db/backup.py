"""Backups that restore: `python -m rdv_app.cli backup [FILE]` and `restore FILE` (`make backup`).

- SQLite: the online backup API of sqlite3 copies a consistent snapshot while the app keeps serving
  (WAL readers and writers are not stopped); restoring copies the snapshot into the configured file
  with the same API.
- PostgreSQL: `pg_dump --format=custom` (one consistent snapshot, compressed, restorable table by table)
  and `pg_restore --exit-on-error --no-owner` into an empty database.

A restore refuses a database that already holds tables: it never mixes two states. `fingerprints` gives,
per table, the row count and a checksum of every row in primary-key order; the test suite proves a
round trip gives the same fingerprints and an app that serves from the restored database.
"""

from __future__ import annotations

import hashlib
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlmodel import SQLModel

import rdv_app.db.models  # noqa: F401  (the tables to fingerprint)
from rdv_app.db.engine import get_engine


class BackupError(RuntimeError):
    """Said to the operator as is (French)."""


@dataclass(frozen=True)
class TableFingerprint:
    rows: int
    checksum: str


def backup(url: str, destination: Path) -> Path:
    """Writes a snapshot of the database at `url` to `destination` and returns it."""
    destination.parent.mkdir(parents=True, exist_ok=True)
    if url.startswith("sqlite"):
        with sqlite3.connect(_sqlite_path(url)) as source, sqlite3.connect(destination) as target:
            source.backup(target)
        return destination
    _run([_pg_tool("pg_dump"), "--format=custom", "--no-owner", f"--file={destination}", _libpq_url(url)])
    return destination


def restore(url: str, source: Path) -> None:
    """Restores the snapshot `source` into the empty database at `url`."""
    if not source.is_file():
        raise BackupError(f"Sauvegarde introuvable : {source}")
    if _has_tables(url):
        raise BackupError("La base de destination contient déjà des tables : restaurez dans une base vide.")
    if url.startswith("sqlite"):
        path = _sqlite_path(url)
        path.parent.mkdir(parents=True, exist_ok=True)
        with sqlite3.connect(source) as snapshot, sqlite3.connect(path) as target:
            snapshot.backup(target)
        return
    _run([_pg_tool("pg_restore"), "--exit-on-error", "--no-owner", f"--dbname={_libpq_url(url)}", str(source)])


def fingerprints(url: str) -> dict[str, TableFingerprint]:
    """Per table of the application (and alembic's version), its rows and a checksum of their values."""
    engine = get_engine(url)
    tables = [*SQLModel.metadata.sorted_tables, sa.Table("alembic_version", sa.MetaData(),
                                                          sa.Column("version_num", sa.String, primary_key=True))]
    found: dict[str, TableFingerprint] = {}
    with engine.connect() as conn:
        for table in tables:
            order = list(table.primary_key.columns) or list(table.columns)
            digest = hashlib.sha256()
            count = 0
            for row in conn.execute(sa.select(table).order_by(*order)):
                digest.update("\x1f".join(_canonical(value) for value in row).encode())
                digest.update(b"\x1e")
                count += 1
            found[table.name] = TableFingerprint(count, digest.hexdigest())
    return found


def _canonical(value: Any) -> str:
    """One text per value, the same whatever the driver gave (SQLite keeps instants without zone)."""
    if isinstance(value, datetime):
        return value.replace(tzinfo=None).isoformat() if value.tzinfo is None else value.isoformat()
    if isinstance(value, date | time):
        return value.isoformat()
    return repr(value)


def _has_tables(url: str) -> bool:
    if url.startswith("sqlite") and not _sqlite_path(url).exists():
        return False
    return bool(sa.inspect(get_engine(url)).get_table_names())


def _sqlite_path(url: str) -> Path:
    database = make_url(url).database
    if not database:
        raise BackupError("Une base SQLite en mémoire ne se sauvegarde pas.")
    return Path(database)


def _libpq_url(url: str) -> str:
    """The URL without SQLAlchemy's driver name, as pg_dump and pg_restore read it."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _pg_tool(name: str) -> str:
    found = shutil.which(name) or next((str(p) for p in sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"),
                                                                reverse=True)), None)
    if found is None:
        raise BackupError(f"{name} est introuvable : installez le client PostgreSQL (paquet postgresql-client).")
    return found


def _run(command: list[str]) -> None:
    done = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603 - fixed tools
    if done.returncode != 0:
        raise BackupError(f"{Path(command[0]).name} a échoué : {done.stderr.strip()[:500]}")
