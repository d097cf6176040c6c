"""The usager search index next to the `usager` table (rdv_app.domain.usager_search says what it holds).

PostgreSQL: two indexes the models declare: `ix_usager_search_terms`, a GIN index of the folded words as a
tsvector with the `simple` configuration (no stemming, no stop words: the words are already folded and
cut, so its lexemes are exactly them), read with prefix queries (`'dup':*`), whose cost follows the words
that match rather than the table; and `ix_usager_email_prefix`, email prefixes (`varchar_pattern_ops`). SQLite: the FTS5 table `usager_search`, an index over the
`search_terms` column (external content: it stores no second copy of the words), kept by three triggers,
with prefix indexes of one and two letters: a query such as "sarah f" reads the words beginning with "f" as
one list rather than merging the lists of thousands of words.
SQLite drops a table's triggers with the table: a migration that rebuilds `usager` in batch mode calls
`create_sqlite_triggers` again (tests/integration/test_migrations.py checks they are there at head).

The organisations an usager has a profile in are copied into `usager.profile_organisations` by triggers on
`usager_profile`, on both databases: the searches filter the usagers they find within their rows instead of
looking up a profile for each (at 4,000 usagers found, that lookup was most of a search's time). Each change
edits the list in place (add " 12 ", remove " 12 "), so two transactions adding profiles to the same usager
at once serialise on its row and both land. A migration that rebuilds `usager_profile` in batch mode on
SQLite calls `create_profile_triggers` again.
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


SQLITE_PREFIXES = "1 2"


def create_sqlite_table(connection: sa.Connection, *, prefixes: str | None = SQLITE_PREFIXES) -> None:
    options = f", prefix='{prefixes}'" if prefixes else ""
    connection.exec_driver_sql("CREATE VIRTUAL TABLE usager_search USING fts5(search_terms, content='usager', "
                               f"content_rowid='id', tokenize='ascii'{options})")
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


_ADD_PROFILE = ("UPDATE usager SET profile_organisations = profile_organisations "
                "|| ' ' || CAST(NEW.organisation_id AS TEXT) || ' ' WHERE id = NEW.usager_id;")
_REMOVE_PROFILE = ("UPDATE usager SET profile_organisations = replace(profile_organisations, "
                   "' ' || CAST(OLD.organisation_id AS TEXT) || ' ', '') WHERE id = OLD.usager_id;")
_PROFILE_TRIGGERS = (("usager_profile_added", "INSERT", _ADD_PROFILE),
                     ("usager_profile_removed", "DELETE", _REMOVE_PROFILE),
                     ("usager_profile_moved", "UPDATE OF usager_id, organisation_id", _REMOVE_PROFILE + " " + _ADD_PROFILE))
PROFILE_TRIGGERS = tuple(name for name, _when, _body in _PROFILE_TRIGGERS)
_FILL_PROFILES = {
    "postgresql": "UPDATE usager SET profile_organisations = coalesce((SELECT string_agg(' ' || "
                  "CAST(organisation_id AS TEXT) || ' ', '') FROM usager_profile WHERE usager_id = usager.id), '')",
    "sqlite": "UPDATE usager SET profile_organisations = coalesce((SELECT group_concat(' ' || "
              "CAST(organisation_id AS TEXT) || ' ', '') FROM usager_profile WHERE usager_id = usager.id), '')",
}


def create_profile_triggers(connection: sa.Connection) -> None:
    """The triggers keeping `usager.profile_organisations` (see the module's docstring)."""
    for name, when, body in _PROFILE_TRIGGERS:
        if connection.dialect.name == "postgresql":
            connection.exec_driver_sql(f"CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS "
                                       f"$$ BEGIN {body} RETURN NULL; END $$")
            connection.exec_driver_sql(f"CREATE TRIGGER {name} AFTER {when} ON usager_profile FOR EACH ROW "
                                       f"EXECUTE FUNCTION {name}()")
        else:
            connection.exec_driver_sql(f"CREATE TRIGGER IF NOT EXISTS {name} AFTER {when} ON usager_profile "
                                       f"BEGIN {body} END")


def drop_profile_triggers(connection: sa.Connection) -> None:
    for name, _when, _body in _PROFILE_TRIGGERS:
        if connection.dialect.name == "postgresql":
            connection.exec_driver_sql(f"DROP TRIGGER IF EXISTS {name} ON usager_profile")
            connection.exec_driver_sql(f"DROP FUNCTION IF EXISTS {name}()")
        else:
            connection.exec_driver_sql(f"DROP TRIGGER IF EXISTS {name}")


def fill_profile_organisations(connection: sa.Connection) -> None:
    """Writes every usager's list from their profiles (the triggers keep it after)."""
    connection.exec_driver_sql(_FILL_PROFILES["postgresql" if connection.dialect.name == "postgresql" else "sqlite"])
