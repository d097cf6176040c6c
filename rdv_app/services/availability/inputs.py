"""What plages d'ouverture and indisponibilités share: the checks of their form fields, the SQL of
"still running", and their agents."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlmodel import col, select

from rdv_app.db.models import Absence, Agent, PlageOuverture
from rdv_app.db.rows import require_id
from rdv_app.db.uow import UnitOfWork
from rdv_app.domain.periods import shift_years
from rdv_app.domain.recurrence import Recurrence, RecurrenceError
from rdv_app.services.errors import DomainError

# A day typed more than a year back or five years ahead is a typo, not a plan.
PAST_LIMIT_YEARS = 1
FUTURE_LIMIT_YEARS = 5


def running(model: type[PlageOuverture] | type[Absence], last_day: Any, today: date) -> sa.ColumnElement[bool]:
    """Not expired: a one-off whose last day is today or later, a series not ended before today."""
    return sa.or_(
        sa.and_(col(model.recurrence).is_(None), last_day >= today),
        sa.and_(col(model.recurrence).is_not(None),
                sa.or_(col(model.recurrence_until).is_(None), col(model.recurrence_until) >= today)),
    )


def check_day(day: date, field: str, today: date, *, is_new: bool) -> date:
    """A realistic day (the form's required days are checked by `require_filled` first): not more than a
    year back when it is new, not five years ahead."""
    if is_new and day < shift_years(today, -PAST_LIMIT_YEARS):
        raise DomainError("Cette date est passée depuis plus d'un an.", field)
    if is_new and day > shift_years(today, FUTURE_LIMIT_YEARS):
        raise DomainError("Cette date est à plus de 5 ans : vérifiez l'année.", field)
    return day


def parse_recurrence(data: dict[str, Any] | None, first_day: date) -> Recurrence | None:
    try:
        return Recurrence.from_json(data, first_day)
    except RecurrenceError as exc:
        raise DomainError(str(exc), "recurrence") from exc


def agents_by_id(uow: UnitOfWork, agent_ids: Iterable[int]) -> dict[int, Agent]:
    return {require_id(agent): agent for agent in uow.session.exec(
        select(Agent).where(col(Agent.id).in_(set(agent_ids)))).all()}
