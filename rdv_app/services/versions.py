"""Optimistic versions of what an agent's form edits (issue 25, "forms are born loaded").

A form carries the version of the values it loaded; the service saving it locks the record, computes the
version of the values stored now, and refuses the save with `STALE` when they differ, changing nothing.
So a form that showed other values than the stored ones (another tab saved since, or the form was
submitted before its values arrived) never overwrites what its agent did not see.

A version is a fingerprint of the values the form edits, not the record's `updated_at`: an agent's row
also moves when its colour or its webcal link change (forms of their own), and two writes may share a
clock reading (a frozen clock in tests, a coarse one). Values changed and changed back give the version
the form loaded: saving over them loses nothing the agent did not see.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from sqlmodel import SQLModel

from rdv_app.db.uow import UnitOfWork
from rdv_app.services.errors import DomainError

STALE = "Ces informations ont été modifiées entre-temps. Rechargez la page."


def version_of(values: Mapping[str, Any]) -> str:
    """The version of a form's values (dates, times and sets written as text)."""
    text = json.dumps(values, sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def lock(uow: UnitOfWork, row: SQLModel) -> None:
    """Reads `row` again, locked until the transaction ends (PostgreSQL; a SQLite writer holds the whole
    database already): two saves of one record check their versions one after the other."""
    uow.session.refresh(row, with_for_update=True)


def check_version(expected: str | None, current: Mapping[str, Any]) -> None:
    """DomainError(STALE) unless the form's version is that of the `current` values; `None` is a save that
    comes from no form (a script, the demo data)."""
    if expected is not None and expected != version_of(current):
        raise DomainError(STALE)
