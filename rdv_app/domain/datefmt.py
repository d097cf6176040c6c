"""French date and time wording, independent of the server's locale."""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

WEEKDAYS = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")
MONTHS = ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre",
          "novembre", "décembre")


def local(instant: datetime, timezone: str) -> datetime:
    return instant.astimezone(ZoneInfo(timezone))


def long_date(day: date) -> str:
    """'lundi 24 novembre 2026' ('1er' for the first day of the month)."""
    number = "1er" if day.day == 1 else str(day.day)
    return f"{WEEKDAYS[day.weekday()]} {number} {MONTHS[day.month - 1]} {day.year}"


def hour(moment: datetime) -> str:
    """'09h30'."""
    return f"{moment.hour:02d}h{moment.minute:02d}"


def short_hour(moment: time | datetime) -> str:
    """'9h00', '14h30'."""
    return f"{moment.hour}h{moment.minute:02d}"


def long_datetime(instant: datetime, timezone: str) -> str:
    moment = local(instant, timezone)
    return f"{long_date(moment.date())} à {hour(moment)}"
