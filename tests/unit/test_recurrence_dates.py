"""Occurrence days of a recurrence (`Recurrence.dates`), as the slot engine expands plages and absences."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from rdv_app.domain.recurrence import Recurrence

MON, TUE, WED, THU, FRI, SAT, SUN = range(7)


def days(recurrence: Recurrence, first_day: date, start: date, end: date) -> list[date]:
    return list(recurrence.dates(first_day, start, end))


def test_weekly_every_two_weeks_on_monday_and_thursday():
    rec = Recurrence.weekly((MON, THU), interval=2)
    assert days(rec, date(2025, 1, 6), date(2025, 1, 1), date(2025, 2, 15)) == [
        date(2025, 1, 6), date(2025, 1, 9),
        date(2025, 1, 20), date(2025, 1, 23),
        date(2025, 2, 3), date(2025, 2, 6),
    ]


def test_weekly_weeks_are_counted_from_the_week_of_the_first_day():
    # First day on a Wednesday: that week's Monday is before the series starts, its Friday is in it,
    # and the next active week is two weeks later.
    rec = Recurrence.weekly((MON, FRI), interval=2)
    assert days(rec, date(2025, 1, 8), date(2025, 1, 1), date(2025, 1, 31)) == [
        date(2025, 1, 10), date(2025, 1, 20), date(2025, 1, 24),
    ]


def test_weekly_without_chosen_days_repeats_the_weekday_of_the_first_day():
    rec = Recurrence.weekly(interval=1)
    assert days(rec, date(2025, 3, 12), date(2025, 3, 1), date(2025, 3, 31)) == [
        date(2025, 3, 12), date(2025, 3, 19), date(2025, 3, 26),
    ]


def test_monthly_second_tuesday():
    rec = Recurrence.monthly(TUE, 2)
    assert days(rec, date(2025, 1, 14), date(2025, 1, 1), date(2025, 5, 31)) == [
        date(2025, 1, 14), date(2025, 2, 11), date(2025, 3, 11), date(2025, 4, 8), date(2025, 5, 13),
    ]


def test_monthly_last_friday():
    rec = Recurrence.monthly(FRI, -1)
    assert days(rec, date(2025, 1, 31), date(2025, 1, 1), date(2025, 6, 30)) == [
        date(2025, 1, 31), date(2025, 2, 28), date(2025, 3, 28), date(2025, 4, 25), date(2025, 5, 30),
        date(2025, 6, 27),
    ]


def test_monthly_fifth_monday_skips_months_without_one():
    rec = Recurrence.monthly(MON, 5)
    assert days(rec, date(2025, 3, 31), date(2025, 1, 1), date(2025, 12, 31)) == [
        date(2025, 3, 31), date(2025, 6, 30), date(2025, 9, 29), date(2025, 12, 29),
    ]


def test_monthly_every_three_months():
    rec = Recurrence.monthly(WED, 1, interval=3)
    assert days(rec, date(2025, 1, 1), date(2025, 1, 1), date(2025, 12, 31)) == [
        date(2025, 1, 1), date(2025, 4, 2), date(2025, 7, 2), date(2025, 10, 1),
    ]


def test_until_is_the_last_day_included():
    rec = Recurrence.weekly((MON,), until=date(2025, 1, 20))
    assert days(rec, date(2025, 1, 6), date(2025, 1, 1), date(2025, 3, 31)) == [
        date(2025, 1, 6), date(2025, 1, 13), date(2025, 1, 20),
    ]
    monthly = Recurrence.monthly(TUE, 2, until=date(2025, 3, 10))
    assert days(monthly, date(2025, 1, 14), date(2025, 1, 1), date(2025, 12, 31)) == [
        date(2025, 1, 14), date(2025, 2, 11),
    ]


def test_nothing_before_the_first_day_nor_after_the_range():
    rec = Recurrence.weekly((MON, TUE, WED, THU, FRI))
    assert days(rec, date(2025, 6, 11), date(2025, 6, 9), date(2025, 6, 12)) == [
        date(2025, 6, 11), date(2025, 6, 12),
    ]
    assert days(rec, date(2025, 6, 11), date(2025, 6, 1), date(2025, 6, 10)) == []


def test_fast_forward_to_a_range_far_from_the_first_day():
    # A series started 25 years earlier on Tuesday 4 January 2000: the range is reached directly, in
    # phase (every 21 days from the first day).
    weekly = Recurrence.weekly((TUE,), interval=3)
    assert days(weekly, date(2000, 1, 4), date(2025, 6, 1), date(2025, 7, 31)) == [
        date(2025, 6, 3), date(2025, 6, 24), date(2025, 7, 15),
    ]

    monthly = Recurrence.monthly(FRI, -1, interval=2)
    assert days(monthly, date(2001, 1, 26), date(2025, 5, 1), date(2025, 9, 30)) == [
        date(2025, 5, 30), date(2025, 7, 25), date(2025, 9, 26),
    ]


def _oracle(rec: Recurrence, first_day: date, start: date, end: date) -> list[date]:
    """Day-by-day definition of the docstring of rdv_app.domain.recurrence."""
    found = []
    day = max(start, first_day)
    while day <= end and (rec.until is None or day <= rec.until):
        if rec.every == "week":
            monday = first_day - timedelta(days=first_day.weekday())
            weekdays = rec.weekdays or (first_day.weekday(),)
            if ((day - monday).days // 7) % rec.interval == 0 and day.weekday() in weekdays:
                found.append(day)
        else:
            months = (day.year - first_day.year) * 12 + day.month - first_day.month
            if rec.month_ordinal == -1:
                ordinal_matches = (day + timedelta(days=7)).month != day.month
            else:
                ordinal_matches = (day.day - 1) // 7 + 1 == rec.month_ordinal
            if months % rec.interval == 0 and day.weekday() == rec.month_weekday and ordinal_matches:
                found.append(day)
        day += timedelta(days=1)
    return found


recurrences = st.one_of(
    st.builds(
        Recurrence.weekly,
        weekdays=st.lists(st.integers(0, 6), max_size=7),
        interval=st.integers(1, 5),
        until=st.none() | st.dates(date(2025, 1, 1), date(2026, 12, 31)),
    ),
    st.builds(
        Recurrence.monthly,
        weekday=st.integers(0, 6),
        ordinal=st.sampled_from((1, 2, 3, 4, 5, -1)),
        interval=st.integers(1, 12),
        until=st.none() | st.dates(date(2025, 1, 1), date(2026, 12, 31)),
    ),
)


@settings(max_examples=300, deadline=None)
@given(
    rec=recurrences,
    first_day=st.dates(date(2024, 1, 1), date(2025, 12, 31)),
    start=st.dates(date(2024, 1, 1), date(2026, 6, 30)),
    length=st.integers(0, 200),
)
def test_dates_match_the_day_by_day_definition(rec, first_day, start, length):
    end = start + timedelta(days=length)
    assert days(rec, first_day, start, end) == _oracle(rec, first_day, start, end)
