"""Typed access to rows and tables where SQLModel's annotations are looser than the data.

`require_id`: SQLModel types every `id` as `int | None` (None until the INSERT is flushed); once a row comes
from the database or has been flushed, its id is known, and this says so to the type checker (and fails
loudly if not). `not_null`: a NOT NULL column typed as such for select(). `referenced`: the row a foreign key points at. `table_of`: the `sa.Table` of a model (SQLModel declares no `__table__`).
"""

from __future__ import annotations

from typing import Protocol, TypeVar, cast

import sqlalchemy as sa
from sqlalchemy.orm import Mapped
from sqlmodel import Session, SQLModel

_T = TypeVar("_T")
_Row = TypeVar("_Row", bound=SQLModel)


class _Identified(Protocol):
    @property
    def id(self) -> int | None: ...


def require_id(row: _Identified) -> int:
    """The row's id; raises if the row has not been flushed yet (a programming error)."""
    if row.id is None:
        raise ValueError(f"{type(row).__name__} has no id yet: flush it before reading its id")
    return row.id


def table_of(model: type[SQLModel]) -> sa.Table:
    """The model's table, the very object SQLAlchemy maps it to (its `__table__`)."""
    table = sa.inspect(model).local_table
    assert isinstance(table, sa.Table)
    return table


def not_null(column: _T | None) -> Mapped[_T]:
    """A column for select() that holds no NULL, such as a primary key, which SQLModel types `X | None`:
    the rows it gives are typed `X`. The column itself, unchanged."""
    return cast("Mapped[_T]", column)


def referenced(session: Session, model: type[_Row], record_id: int) -> _Row:
    """The row a foreign key of a loaded record points at: it exists (NOT NULL, ON DELETE CASCADE)."""
    row = session.get(model, record_id)
    if row is None:
        raise LookupError(f"{model.__name__} {record_id} is referenced but does not exist")
    return row
