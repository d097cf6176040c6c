"""The weeks and months of the statistics, on an organisation's wall clock.

A week starts on Monday at local midnight (the French convention, where RDV Service Public started on
Sunday). Its bounds are instants computed with `zoneinfo` from the local midnights, so a week that crosses
a DST change lasts 167 or 169 hours and an RDV created at 00:30 on a Monday morning belongs to that week
whatever the offset: the database then groups instants by these bounds (no time-zone arithmetic in SQL,
which SQLite has not). The first and last buckets are cut to the period chosen.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

# Longest period the statistics cover: two years of weekly columns.
MAX_DAYS = 2 * 366
MONTHS = ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre",
          "novembre", "décembre")


@dataclass(frozen=True)
class Bucket:
    """A week (or a month) of the period: its first local day, its label, and its bounds as UTC instants
    (`starts_at` included, `ends_at` excluded)."""

    first_day: date
    label: str
    starts_at: datetime
    ends_at: datetime


class PeriodError(ValueError):
    """A period the statistics refuse; the message is for the person who chose it."""


def check_period(first_day: date, last_day: date) -> None:
    if last_day < first_day:
        raise PeriodError("La date de fin doit être le même jour ou après la date de début.")
    if (last_day - first_day).days >= MAX_DAYS:
        raise PeriodError("La période ne peut pas dépasser deux ans.")


def local_midnight(day: date, time_zone: str) -> datetime:
    """The UTC instant of `day`'s local midnight (a day never starts in a DST gap in the zones we serve)."""
    return datetime.combine(day, time(0), ZoneInfo(time_zone)).astimezone(UTC)


def local_day(instant: datetime, time_zone: str) -> date:
    return instant.astimezone(ZoneInfo(time_zone)).date()


def period_bounds(first_day: date, last_day: date, time_zone: str) -> tuple[datetime, datetime]:
    """From `first_day`'s local midnight to the midnight ending `last_day`."""
    return local_midnight(first_day, time_zone), local_midnight(last_day + timedelta(days=1), time_zone)


def monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def week_label(first_day: date) -> str:
    """"Semaine du 07/12/2026", the way French calendars name a week."""
    return f"Semaine du {first_day:%d/%m/%Y}"


def weeks(first_day: date, last_day: date, time_zone: str) -> list[Bucket]:
    """The weeks from the one holding `first_day` to the one holding `last_day`, each named by its Monday."""
    check_period(first_day, last_day)
    buckets = []
    start = monday(first_day)
    while start <= last_day:
        following = start + timedelta(days=7)
        buckets.append(Bucket(start, week_label(start), local_midnight(max(start, first_day), time_zone),
                              local_midnight(min(following, last_day + timedelta(days=1)), time_zone)))
        start = following
    return buckets


def months(first_day: date, last_day: date, time_zone: str) -> list[Bucket]:
    """The calendar months from the one holding `first_day` to the one holding `last_day`."""
    check_period(first_day, last_day)
    buckets = []
    start = first_day.replace(day=1)
    while start <= last_day:
        following = (start + timedelta(days=32)).replace(day=1)
        buckets.append(Bucket(start, f"{MONTHS[start.month - 1]} {start.year}",
                              local_midnight(max(start, first_day), time_zone),
                              local_midnight(min(following, last_day + timedelta(days=1)), time_zone)))
        start = following
    return buckets


def days(first_day: date, last_day: date, time_zone: str) -> list[Bucket]:
    """Each local day from `first_day` to `last_day`, named "07/12/2026" (a DST day lasts 23 or 25 hours)."""
    check_period(first_day, last_day)
    return [Bucket(day, f"{day:%d/%m/%Y}", local_midnight(day, time_zone),
                   local_midnight(day + timedelta(days=1), time_zone))
            for day in (first_day + timedelta(days=n) for n in range((last_day - first_day).days + 1))]


def shares(counts: list[int]) -> list[float]:
    """Each count as a percentage of their sum, rounded to one decimal (all 0 when the sum is)."""
    total = sum(counts)
    return [round(100 * count / total, 1) if total else 0.0 for count in counts]
