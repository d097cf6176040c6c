"""The migrated schema is exactly the models' schema, on SQLite and on PostgreSQL."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlmodel import SQLModel

from rdv_app.db.engine import get_engine
from rdv_app.db.migrate import upgrade
from rdv_app.db.models import PlageOuverture


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_migrations_apply_on_empty_database_and_match_models(database: str, fresh_url: str) -> None:
    upgrade(fresh_url)
    engine = get_engine(fresh_url)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}),
                                SQLModel.metadata)
        tables = set(sa.inspect(conn).get_table_names())
    assert diff == []
    assert {"rdv", "participation", "plage_ouverture", "outbox_message", "audit_log"} <= tables


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_upgrade_twice_is_a_no_op(database: str, fresh_url: str) -> None:
    upgrade(fresh_url)
    upgrade(fresh_url)
    with get_engine(fresh_url).connect() as conn:
        assert conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar_one() == "0001"


def test_database_refuses_inconsistent_rows(db_url: str) -> None:
    """CHECK constraints stand behind the services: a plage ending before it starts never lands."""
    engine = get_engine(db_url)
    with engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO territory (departement_number, name, timezone, sms_provider, "
                             "has_own_sms_provider, visible_users_throughout_the_territory, enable_context_field,"
                             " enable_notes_field, created_at) VALUES ('62', 'Pas-de-Calais', 'Europe/Paris', "
                             "'ovh', false, false, false, false, CURRENT_TIMESTAMP)"))
    with pytest.raises(sa.exc.IntegrityError), engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO territory (departement_number, name, timezone, sms_provider, "
                             "has_own_sms_provider, visible_users_throughout_the_territory, enable_context_field,"
                             " enable_notes_field, created_at) VALUES ('62', 'Doublon', 'Europe/Paris', "
                             "'ovh', false, false, false, false, CURRENT_TIMESTAMP)"))
    assert PlageOuverture.__table__.c.recurrence_until is not None
