"""Alembic environment: `python -m rdv_app.db.migrate`, `alembic upgrade head` and `reflex db migrate`."""

from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa
from alembic import context
from sqlmodel import SQLModel

import rdv_app.db.models  # noqa: F401  (registers every table)
from rdv_app.db import search_index
from rdv_app.db.engine import get_engine
from rdv_app.db.types import UTCDateTime

config = context.config
MIGRATION_LOCK = 0x7264765F6D6967  # any number of our own: "rdv_mig"


def render_item(type_, obj, autogen_context):
    if type_ == "type" and isinstance(obj, UTCDateTime):
        autogen_context.imports.add("import rdv_app.db.types")
        return "rdv_app.db.types.UTCDateTime()"
    if type_ == "type" and obj.__class__.__module__.startswith("sqlmodel"):
        autogen_context.imports.add("import sqlmodel")
    return False


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is None:
        url = config.get_main_option("sqlalchemy.url") or None
        with get_engine(url).connect() as connection, _sqlite_batch_mode(connection):
            _run(connection)
            connection.commit()
    else:
        _run(connection)


@contextmanager
def _sqlite_batch_mode(connection: sa.Connection) -> Iterator[None]:
    """SQLite changes a table's constraints by rebuilding it (alembic's batch mode): a new table, the rows
    copied, the old one dropped, the new one renamed. With foreign keys on, dropping the old table would
    delete the rows that refer to it, or cascade: our engine turns them on for every connection, so they
    are off during the migrations (which check them before they commit), and on again after. And the
    rename must not check the other tables' triggers, which name the table being rebuilt while it is
    missing ("error in trigger usager_profile_added: no such table: main.usager"): the legacy rename,
    which leaves them as they are, named by the table's final name. The PRAGMAs work outside a
    transaction only, hence the driver's connection, before the migrations begin one."""
    if connection.dialect.name != "sqlite":
        yield
        return
    driver = connection.connection.driver_connection
    driver.execute("PRAGMA foreign_keys=OFF")
    driver.execute("PRAGMA legacy_alter_table=ON")
    try:
        yield
    except BaseException:
        connection.invalidate()  # never back to the pool with these PRAGMAs
        raise
    driver.execute("PRAGMA legacy_alter_table=OFF")
    driver.execute("PRAGMA foreign_keys=ON")


def _run(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=SQLModel.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        render_item=render_item,
        compare_type=True,
        include_object=search_index.in_schema_comparison(connection.dialect.name),
    )
    with context.begin_transaction():
        if connection.dialect.name == "postgresql":
            # App processes and workers started together each migrate: one does, under this lock (held
            # until the transaction ends); the others then find the schema at head.
            connection.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
        context.run_migrations()


run_migrations_online()
