"""Refusals change nothing: every row of every table, before and after."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest
import sqlalchemy as sa
from sqlmodel import SQLModel

from rdv_app.db.uow import UnitOfWork
from rdv_app.services.errors import DomainError

Snapshot = dict[str, list[tuple[str, ...]]]


def snapshot(db_url: str, ignored: Mapping[str, set[str]] | None = None) -> Snapshot:
    """Every row of every table, read from the database (but the `ignored` columns of some tables; "*" for
    a whole table)."""
    ignored = ignored or {}
    with UnitOfWork(db_url, read_only=True) as uow:
        return {table.name: sorted(tuple(map(str, row)) for row in uow.session.execute(sa.select(
                    *(c for c in table.columns if c.name not in ignored.get(table.name, set())))))
                for table in SQLModel.metadata.sorted_tables if "*" not in ignored.get(table.name, set())}


def refused(db_url: str, call: Any, match: str) -> DomainError:
    """Runs `call(uow)`: it must raise DomainError matching `match` and leave every table as it was."""
    before = snapshot(db_url)
    with UnitOfWork(db_url) as uow, pytest.raises(DomainError, match=match) as caught:
        call(uow)
    assert snapshot(db_url) == before
    return caught.value
