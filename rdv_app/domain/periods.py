"""Periods of plages d'ouverture and indisponibilités: when a one-off or a series is over, and years
counted on the calendar."""

from __future__ import annotations

from datetime import date
from typing import Any


def shift_years(day: date, years: int) -> date:
    """The same calendar day `years` later (a 29 February becomes the 28th)."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def is_expired(last_day: date, recurrence: dict[str, Any] | None, until: date | None, today: date) -> bool:
    """A one-off whose last day is before today, or a series ended before today."""
    if recurrence is None:
        return last_day < today
    return until is not None and until < today
