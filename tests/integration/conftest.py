"""Integration fixtures: every database test runs on SQLite and on PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from pg import Cluster
from redis_server import running_redis
from sqlmodel import SQLModel

import rdv_app.db.models  # noqa: F401
from rdv_app.db.engine import get_engine
from rdv_app.db.migrate import upgrade
from rdv_app.db.uow import UnitOfWork


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests marked `postgresql_only` are not collected on SQLite (rather than skipped there)."""
    on_sqlite = [item for item in items if item.get_closest_marker("postgresql_only") is not None
                 and getattr(item, "callspec", None) is not None
                 and item.callspec.params.get("migrated_url") == "sqlite"]  # type: ignore[attr-defined]
    if on_sqlite:
        config.hook.pytest_deselected(items=on_sqlite)
        items[:] = [item for item in items if item not in on_sqlite]


@pytest.fixture(scope="session")
def migrated_sqlite_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'rdv.db'}"
    upgrade(url)
    return url


@pytest.fixture(scope="session")
def migrated_postgresql_url(pg_cluster: Cluster) -> str:
    url = pg_cluster.create_database("rdv_integration")
    upgrade(url)
    return url


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def migrated_url(request: pytest.FixtureRequest) -> str:
    """The database of the test's kind, migrated once per process: a process of `pytest -n` (xdist) goes
    from SQLite to PostgreSQL and back, module after module, and this fixture is made again each time."""
    return request.getfixturevalue(f"migrated_{request.param}_url")


def _empty_all_tables(url: str) -> None:
    """Every table emptied, dependent rows first; on PostgreSQL the sequences start again at 1. DELETE and
    not TRUNCATE: on a handful of rows a TRUNCATE of every table, which makes every file of every table and
    index anew and waits for any session still open on them, costs ten times as much."""
    engine = get_engine(url)
    with engine.begin() as conn:
        for table in reversed(SQLModel.metadata.sorted_tables):
            conn.execute(table.delete())
        if engine.dialect.name == "postgresql":
            conn.execute(sa.text("SELECT setval(format('%I.%I', schemaname, sequencename), 1, false) "
                                 "FROM pg_sequences WHERE last_value IS NOT NULL"))


@pytest.fixture
def db_url(migrated_url: str) -> str:
    """A migrated, empty database."""
    _empty_all_tables(migrated_url)
    return migrated_url


@pytest.fixture
def uow(db_url: str) -> Iterator[UnitOfWork]:
    with UnitOfWork(db_url) as unit:
        yield unit


@pytest.fixture
def fresh_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty, unmigrated database of the kind named by the test's `database` parameter."""
    if request.node.callspec.params["database"] == "sqlite":
        return f"sqlite:///{tmp_path / 'fresh.db'}"
    cluster = request.getfixturevalue("pg_cluster")
    return cluster.create_database(f"fresh_{abs(hash(request.node.nodeid)) % 10**9}")


@pytest.fixture
def redis_url(tmp_path: Path) -> Iterator[str]:
    """A real redis-server on a free loopback port, for this test only."""
    with running_redis(tmp_path) as url:
        yield url
