"""The migrated schema is exactly the models' schema, on SQLite and on PostgreSQL."""

from __future__ import annotations

import re
import subprocess
import sys
from datetime import UTC, date, datetime, time
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from processes import python_env
from sqlmodel import SQLModel

from rdv_app.db import search_index
from rdv_app.db.engine import get_engine
from rdv_app.db.migrate import alembic_config, upgrade
from rdv_app.db.models import Agent, Organisation, PlageOuverture, Territory, Usager
from rdv_app.db.uow import UnitOfWork
from rdv_app.domain import limits
from rdv_app.domain.recurrence import RecurrenceError
from rdv_app.services.agents import webcal

NOW = datetime(2026, 12, 6, 8, 0, tzinfo=UTC)


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_migrations_apply_on_empty_database_and_match_models(database: str, fresh_url: str) -> None:
    upgrade(fresh_url)
    engine = get_engine(fresh_url)
    with engine.connect() as conn:
        include = search_index.in_schema_comparison(conn.dialect.name)
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True, "include_object": include}),
                                SQLModel.metadata)
        tables = set(sa.inspect(conn).get_table_names())
    assert diff == []
    assert {"rdv", "participation", "plage_ouverture", "outbox_message", "audit_log"} <= tables


def _head() -> str:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(Path(__file__).resolve().parents[2] / "alembic"))
    return ScriptDirectory.from_config(config).get_current_head()


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_upgrade_twice_is_a_no_op(database: str, fresh_url: str) -> None:
    upgrade(fresh_url)
    upgrade(fresh_url)
    with get_engine(fresh_url).connect() as conn:
        assert conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar_one() == _head()


@pytest.mark.parametrize("database", ["postgresql"])
def test_app_processes_starting_together_migrate_once(database: str, fresh_url: str) -> None:
    """Several app processes (or workers) started at once on an empty PostgreSQL each migrate it: one
    does, the others wait for it and find nothing left to do."""
    command_line = [sys.executable, "-m", "rdv_app.db.migrate", fresh_url]
    starting = [subprocess.Popen(command_line, env=python_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                 text=True) for _ in range(3)]
    outputs = [process.communicate(timeout=120)[0] for process in starting]
    assert [process.returncode for process in starting] == [0, 0, 0], outputs
    with get_engine(fresh_url).connect() as conn:
        assert conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar_one() == _head()


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



def test_recurrences_are_validated_and_normalised_on_write(uow) -> None:
    territory = Territory(departement_number="974", name="La Réunion", timezone="Indian/Reunion")
    uow.session.add(territory)
    uow.session.flush()
    organisation = Organisation(territory_id=territory.id, name="PMI Saint-Denis", slug="pmi-saint-denis")
    agent = Agent(last_name="Payet")
    uow.session.add_all([organisation, agent])
    uow.commit()
    assert organisation.timezone == "Indian/Reunion"  # defaults to its territory's zone

    def plage(recurrence: dict | None) -> PlageOuverture:
        return PlageOuverture(agent_id=agent.id, organisation_id=organisation.id, title="Consultations",
                              first_day=date(2026, 12, 7), start_time=time(8), end_time=time(11),
                              recurrence=recurrence)

    uow.session.add(plage({"every": "week", "interval": 9}))
    with pytest.raises(RecurrenceError, match="1 à 5 semaines"):
        uow.commit()
    uow.rollback()
    assert uow.session.exec(sa.select(sa.func.count()).select_from(PlageOuverture)).scalar_one() == 0

    weekly, one_off = plage({"every": "week", "on": ["monday"], "until": "2027-03-01"}), plage(None)
    uow.session.add_all([weekly, one_off])
    uow.commit()
    assert weekly.recurrence == {"every": "week", "interval": 1, "on": ["monday"], "until": "2027-03-01"}
    assert weekly.recurrence_until == date(2027, 3, 1)
    # A one-off plage stores SQL NULL (not the JSON value null): "IS NULL" queries rely on it.
    nulls = sa.select(sa.func.count()).select_from(PlageOuverture).where(PlageOuverture.recurrence.is_(None))
    assert uow.session.exec(nulls).scalar_one() == 1


def _max_length(check: str) -> int | None:
    """The bound of a `length(column) <= n` CHECK, as the models or the database spell it."""
    found = re.search(r"length\(.*\)\s*<=\s*(\d+)", check)
    return int(found.group(1)) if found else None


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_migrated_check_constraints_are_the_models(database: str, fresh_url: str) -> None:
    """compare_metadata leaves CHECK constraints out: the free texts' maximum lengths are compared here."""
    upgrade(fresh_url)
    with get_engine(fresh_url).connect() as conn:
        inspector = sa.inspect(conn)
        migrated = {(table, check["name"]): _max_length(check["sqltext"])
                    for table in inspector.get_table_names() for check in inspector.get_check_constraints(table)}
    expected = {(table.name, check.name): _max_length(str(check.sqltext)) for table in SQLModel.metadata.sorted_tables
                for check in table.constraints if isinstance(check, sa.CheckConstraint)}
    assert migrated == expected
    assert expected[("absence", "ck_absence_title_length")] == limits.LABEL
    assert expected[("rdv", "ck_rdv_context_length")] == limits.NOTE
    assert expected[("usager", "ck_usager_address_length")] == limits.ADDRESS


USAGER_COLUMNS_0004 = ("id", "first_name", "last_name", "email", "address", "responsible_id", "notify_by_sms",
                       "notify_by_email", "logged_once_with_franceconnect", "created_through", "created_at",
                       "updated_at")


def _as_of_revision(model: type[SQLModel], *columns: str) -> sa.TableClause:
    """The model's table with only the columns an older revision had (the model's other defaults would name
    columns that do not exist yet)."""
    return sa.table(model.__tablename__, *(sa.column(name, model.__table__.c[name].type) for name in columns))


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_the_limits_revision_cuts_what_is_already_too_long(database: str, fresh_url: str) -> None:
    """Rows stored before the limits existed are cut to them (an email address that long is cleared), and
    every row, with what refers to it, stays."""
    command.upgrade(alembic_config(fresh_url), "0004")
    engine = get_engine(fresh_url)
    with engine.begin() as conn:
        territory = {"departement_number": "62", "name": "Pas-de-Calais", "timezone": "Europe/Paris",
                     "sms_provider": "ovh", "has_own_sms_provider": False,
                     "visible_users_throughout_the_territory": False, "enable_context_field": False,
                     "enable_notes_field": False, "created_at": NOW}
        conn.execute(sa.insert(_as_of_revision(Territory, *territory)).values(**territory))
        conn.execute(sa.insert(_as_of_revision(Usager, *USAGER_COLUMNS_0004)).values(
            id=1, first_name="Jeanne", last_name="Dupont", email="j" * 300 + "@exemple.fr", address="x" * 1_000_000,
            notify_by_sms=True, notify_by_email=True, logged_once_with_franceconnect=False,
            created_through="user_sign_up", created_at=NOW, updated_at=NOW))
        conn.execute(sa.insert(_as_of_revision(Usager, *USAGER_COLUMNS_0004)).values(
            id=2, first_name="Léo", last_name="Dupont", responsible_id=1, notify_by_sms=True, notify_by_email=True,
            logged_once_with_franceconnect=False, created_through="user_relative_creation", created_at=NOW,
            updated_at=NOW))
    upgrade(fresh_url)
    with engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT id, email, length(address), responsible_id FROM usager ORDER BY id")).all()
        assert [tuple(row) for row in rows] == [(1, None, limits.ADDRESS, None), (2, None, None, 1)]
        assert conn.execute(sa.text("SELECT count(*) FROM territory")).scalar_one() == 1


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_the_webcal_revision_keeps_no_secret_in_clear_and_every_address_working(database: str,
                                                                               fresh_url: str) -> None:
    command.upgrade(alembic_config(fresh_url), "0006")
    engine = get_engine(fresh_url)
    secret = "s" * 32
    with engine.begin() as conn:
        for agent_id, calendar_uid in ((1, secret), (2, None)):
            conn.execute(sa.text(
                "INSERT INTO agent (id, email, last_name, calendar_uid, rdv_notifications_level, "
                "plage_ouverture_notification_level, absence_notification_level, display_saturdays, "
                "display_cancelled_rdv, created_at, updated_at) VALUES (:id, :email, 'Petit', :uid, 'others', "
                "'all', 'all', false, true, :now, :now)"),
                {"id": agent_id, "email": f"agent{agent_id}@demo.test", "uid": calendar_uid, "now": NOW})
    upgrade(fresh_url)
    with engine.connect() as conn:
        columns = {c["name"] for c in sa.inspect(conn).get_columns("agent")}
        rows = conn.execute(sa.text("SELECT * FROM agent ORDER BY id")).mappings().all()
    assert "calendar_uid" not in columns
    assert all(secret not in str(value) for row in rows for value in row.values())
    assert rows[1]["calendar_uid_hash"] is None and rows[1]["calendar_uid_sealed"] is None
    with UnitOfWork(fresh_url) as uow:
        assert webcal.agent_feed(uow, secret).body.startswith(b"BEGIN:VCALENDAR")  # subscribed calendars go on
        assert webcal.feed_links(uow, 1).https_url.endswith(f"/calendrier/{secret}.ics")  # and it shows as before


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_the_search_revision_indexes_the_usagers_already_there(database: str, fresh_url: str) -> None:
    """Usagers stored before the search index are found by it; on SQLite its triggers are in place at head
    (a rebuild of the `usager` table in batch mode drops them: rdv_app.db.search_index)."""
    command.upgrade(alembic_config(fresh_url), "0009")
    engine = get_engine(fresh_url)
    with engine.begin() as conn:
        conn.execute(sa.text(
            "INSERT INTO usager (id, first_name, last_name, email, phone_number_formatted, notify_by_sms, "
            "notify_by_email, logged_once_with_franceconnect, created_through, created_at, updated_at) VALUES "
            "(1, 'Éloïse', 'Lœuvre', 'eloise@exemple.fr', '+33612345678', true, true, false, 'agent_creation', "
            ":now, :now)"), {"now": NOW})
    upgrade(fresh_url)
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT search_terms FROM usager")).scalar_one() == (
            " loeuvre eloise eloise exemple fr 33612345678")
        if database == "sqlite":
            triggers = set(conn.execute(sa.text("SELECT name FROM sqlite_master WHERE type = 'trigger'")).scalars())
            assert set(search_index.SQLITE_TRIGGERS) <= triggers
            assert set(search_index.PROFILE_TRIGGERS) <= triggers
            assert conn.execute(sa.text("SELECT rowid FROM usager_search WHERE usager_search MATCH '\"loeu\"*'"))\
                .scalars().all() == [1]
        else:
            assert "to_tsvector('simple'::regconfig, (search_terms)::text)" in conn.execute(sa.text(
                "SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_usager_search_terms'")).scalar_one()
            assert conn.execute(sa.text("SELECT id FROM usager WHERE to_tsvector('simple'::regconfig, search_terms) "
                                        "@@ to_tsquery('simple'::regconfig, 'loeu:* & 3361:*')")).scalars().all() == [1]
