"""The usager search index next to the `usager` table (rdv_app.domain.usager_search says what it holds).

PostgreSQL: two indexes the models declare: `ix_usager_search_terms`, a GIN index of the folded words as a
tsvector with the `simple` configuration (no stemming, no stop words: the words are already folded and
cut, so its lexemes are exactly them), read with prefix queries (`'dup':*`), whose cost follows the words
that match rather than the table; and `ix_usager_email_prefix`, email prefixes (`varchar_pattern_ops`). SQLite: the FTS5 table `usager_search`, an index over the
`search_terms` column (external content: it stores no second copy of the words), kept by three triggers.
SQLite drops a table's triggers with the table: a migration that rebuilds `usager` in batch mode calls
`create_sqlite_triggers` again (tests/integration/test_migrations.py checks they are there at head).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import sqlalchemy as sa

SQLITE_TABLE = "usager_search"
# FTS5 keeps its index in these tables: they are not in the models, and the schema comparison skips them.
_SQLITE_TABLES = frozenset({SQLITE_TABLE, *(f"{SQLITE_TABLE}_{part}" for part in ("data", "idx", "docsize",
                                                                                  "config", "content"))})
SQLITE_TRIGGERS = ("usager_search_insert", "usager_search_delete", "usager_search_update")
POSTGRESQL_INDEXES = frozenset({"ix_usager_search_terms", "ix_usager_email_prefix"})
# The indexed expression; queries repeat it as is, so that PostgreSQL uses the index.
POSTGRESQL_WORDS = sa.func.to_tsvector(sa.literal_column("'simple'::regconfig"), sa.column("search_terms"))


def in_schema_comparison(dialect_name: str) -> Callable[..., bool]:
    """Alembic's `include_object` for this dialect: the schema comparison (autogenerate, and the migration
    test) leaves out the FTS5 tables, and on SQLite the PostgreSQL-only indexes the models declare."""

    def include(_obj: Any, name: str | None, type_: str, _reflected: bool, _compare_to: Any) -> bool:
        if type_ == "table":
            return name not in _SQLITE_TABLES
        return not (type_ == "index" and dialect_name != "postgresql" and name in POSTGRESQL_INDEXES)

    return include


def create_sqlite_table(connection: sa.Connection) -> None:
    connection.exec_driver_sql("CREATE VIRTUAL TABLE usager_search USING fts5(search_terms, content='usager', "
                               "content_rowid='id', tokenize='ascii')")
    create_sqlite_triggers(connection)
    connection.exec_driver_sql("INSERT INTO usager_search(usager_search) VALUES ('rebuild')")


_ADD = "INSERT INTO usager_search(rowid, search_terms) VALUES (new.id, new.search_terms);"
_REMOVE = "INSERT INTO usager_search(usager_search, rowid, search_terms) VALUES ('delete', old.id, old.search_terms);"


def create_sqlite_triggers(connection: sa.Connection) -> None:
    connection.exec_driver_sql("CREATE TRIGGER IF NOT EXISTS usager_search_insert AFTER INSERT ON usager "
                               "BEGIN " + _ADD + " END")
    connection.exec_driver_sql("CREATE TRIGGER IF NOT EXISTS usager_search_delete AFTER DELETE ON usager "
                               "BEGIN " + _REMOVE + " END")
    connection.exec_driver_sql("CREATE TRIGGER IF NOT EXISTS usager_search_update AFTER UPDATE OF search_terms ON usager "
                               "BEGIN " + _REMOVE + " " + _ADD + " END")


def drop_sqlite_table(connection: sa.Connection) -> None:
    for trigger in SQLITE_TRIGGERS:
        connection.exec_driver_sql(f"DROP TRIGGER IF EXISTS {trigger}")
    connection.exec_driver_sql(f"DROP TABLE IF EXISTS {SQLITE_TABLE}")
