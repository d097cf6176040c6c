"""Reminder timing (decision 1): 48 counted hours before the RDV, Sundays and holidays excluded."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rdv_app.domain.enums import RdvStatus
from rdv_app.domain.off_days import is_holiday
from rdv_app.domain.reminders import is_counted_day, reminder_at, reminder_due, should_send_reminder


def _local(zone: str, *fields: int) -> datetime:
    return datetime(*fields, tzinfo=ZoneInfo(zone))


# (zone, département, RDV local start, expected reminder local time)
TIMING = [
    # An ordinary week in Paris: Sunday is skipped, Saturday counts.
    ("Europe/Paris", "75", (2025, 6, 16, 10, 0), (2025, 6, 13, 10, 0)),  # Monday -> Friday
    ("Europe/Paris", "75", (2025, 6, 17, 10, 0), (2025, 6, 14, 10, 0)),  # Tuesday -> Saturday
    ("Europe/Paris", "75", (2025, 6, 18, 10, 0), (2025, 6, 16, 10, 0)),  # Wednesday -> Monday
    ("Europe/Paris", "75", (2025, 6, 19, 10, 0), (2025, 6, 17, 10, 0)),  # Thursday -> Tuesday
    ("Europe/Paris", "75", (2025, 6, 20, 10, 0), (2025, 6, 18, 10, 0)),  # Friday -> Wednesday
    ("Europe/Paris", "75", (2025, 6, 21, 10, 0), (2025, 6, 19, 10, 0)),  # Saturday -> Thursday
    # An RDV on a Sunday gathers nothing on its own day: Saturday and Friday count whole.
    ("Europe/Paris", "75", (2025, 6, 22, 10, 0), (2025, 6, 20, 0, 0)),
    ("Europe/Paris", "75", (2025, 6, 17, 0, 0), (2025, 6, 14, 0, 0)),  # Tuesday midnight -> Saturday 00:00
    ("Europe/Paris", "75", (2025, 6, 16, 0, 30), (2025, 6, 13, 0, 30)),  # Monday 00:30 -> Friday 00:30
    # Holiday Mondays: Easter Monday 21 April 2025, Whit Monday 9 June 2025.
    ("Europe/Paris", "75", (2025, 4, 22, 10, 0), (2025, 4, 18, 10, 0)),
    ("Europe/Paris", "75", (2025, 6, 11, 10, 0), (2025, 6, 7, 10, 0)),
    # Alsace-Moselle also skips Good Friday (18 April 2025) and 26 December.
    ("Europe/Paris", "57", (2025, 4, 22, 10, 0), (2025, 4, 17, 10, 0)),
    ("Europe/Paris", "75", (2025, 12, 27, 10, 0), (2025, 12, 24, 10, 0)),
    ("Europe/Paris", "57", (2025, 12, 27, 10, 0), (2025, 12, 23, 10, 0)),
    ("Europe/Paris", "75", (2025, 12, 26, 10, 0), (2025, 12, 23, 10, 0)),  # 25 December skipped
    ("Europe/Paris", "75", (2026, 5, 4, 10, 0), (2026, 4, 30, 10, 0)),  # Friday 1 May 2026 skipped
    # Daylight-saving weekends in Paris: the change is on a Sunday, which does not count, so the reminder
    # keeps the wall-clock time (71 and 73 real hours before).
    ("Europe/Paris", "75", (2025, 3, 31, 10, 0), (2025, 3, 28, 10, 0)),
    ("Europe/Paris", "75", (2025, 10, 27, 10, 0), (2025, 10, 24, 10, 0)),
    ("Europe/Paris", "75", (2025, 3, 30, 12, 0), (2025, 3, 28, 0, 0)),  # on the short Sunday itself
    # Overseas: their own holidays, their own clock.
    ("Indian/Reunion", "974", (2025, 12, 22, 10, 0), (2025, 12, 18, 10, 0)),  # Saturday 20 December
    ("Europe/Paris", "75", (2025, 12, 22, 10, 0), (2025, 12, 19, 10, 0)),  # the same dates in Paris
    ("America/Guadeloupe", "971", (2026, 4, 7, 10, 0), (2026, 4, 2, 10, 0)),  # Good Friday, Easter Monday
    ("Europe/Paris", "75", (2026, 4, 7, 10, 0), (2026, 4, 3, 10, 0)),
    ("Indian/Mayotte", "976", (2026, 4, 28, 10, 0), (2026, 4, 24, 10, 0)),  # Monday 27 April
    ("Europe/Paris", "75", (2026, 4, 28, 10, 0), (2026, 4, 25, 10, 0)),
    # A zone that changes its clock on a counted day (the rule is zone-generic): that day's real length
    # counts. Santiago: Saturday 5 April 2025 lasts 25 hours, so the reminder is one wall-clock hour later.
    ("America/Santiago", "75", (2025, 4, 7, 10, 0), (2025, 4, 4, 11, 0)),
    # Jerusalem: Friday 28 March 2025 lasts 23 hours; 23 counted hours are left for it, its whole length.
    ("Asia/Jerusalem", "75", (2025, 3, 31, 1, 0), (2025, 3, 28, 0, 0)),
]


@pytest.mark.parametrize(("zone", "departement", "starts", "expected"), TIMING)
def test_reminder_timing(zone, departement, starts, expected):
    at = reminder_at(_local(zone, *starts), zone, departement)
    assert at == _local(zone, *expected)
    assert at.replace(tzinfo=None) == datetime(*expected)  # the local wall-clock time too
    assert at.tzinfo == ZoneInfo(zone)


def test_the_example_of_decision_1_takes_72_real_hours():
    starts = _local("Europe/Paris", 2025, 6, 16, 10, 0)
    assert starts - reminder_at(starts, "Europe/Paris", "75") == timedelta(hours=72)


@pytest.mark.parametrize(
    ("starts", "real_hours"),
    [((2025, 3, 31, 10, 0), 71), ((2025, 10, 27, 10, 0), 73)],
)
def test_paris_dst_weekends_count_real_time_of_saturday_and_friday(starts, real_hours):
    start = _local("Europe/Paris", *starts)
    at = reminder_at(start, "Europe/Paris", "75")
    assert start.astimezone(UTC) - at.astimezone(UTC) == timedelta(hours=real_hours)


def test_the_start_must_be_aware():
    with pytest.raises(ValueError, match="fuseau"):
        reminder_at(datetime(2025, 6, 16, 10, 0), "Europe/Paris", "75")


def test_counted_days():
    assert is_counted_day("75", date(2025, 6, 14))  # a Saturday
    assert not is_counted_day("75", date(2025, 6, 15))  # a Sunday
    assert not is_counted_day("75", date(2025, 7, 14))  # a holiday
    assert is_counted_day("75", date(2025, 12, 26))
    assert not is_counted_day("57", date(2025, 12, 26))


# --------------------------------------------------------------------------- properties

ZONES = ["Europe/Paris", "Indian/Reunion", "America/Cayenne", "America/Martinique", "Indian/Mayotte",
         "America/Miquelon", "America/Santiago", "Asia/Jerusalem"]
DEPARTEMENTS = ["75", "57", "971", "972", "973", "974", "976"]


def _counted_time(begin: datetime, end: datetime, zone: ZoneInfo, departement: str) -> timedelta:
    """Counted time in [begin, end), computed forward day by day as overlaps (not the engine's walk)."""
    total = timedelta()
    day = begin.astimezone(zone).date()
    while True:
        day_begin = datetime.combine(day, datetime.min.time(), tzinfo=zone).astimezone(UTC)
        following = day + timedelta(days=1)
        day_end = datetime.combine(following, datetime.min.time(), tzinfo=zone).astimezone(UTC)
        if day_begin >= end:
            return total
        if day.weekday() != 6 and not is_holiday(departement, day):
            overlap = min(day_end, end) - max(day_begin, begin)
            total += max(overlap, timedelta())
        day = following


@given(
    starts=st.datetimes(min_value=datetime(2024, 1, 1), max_value=datetime(2027, 12, 31), timezones=st.just(UTC)),
    zone=st.sampled_from(ZONES),
    departement=st.sampled_from(DEPARTEMENTS),
)
def test_reminder_is_48_counted_hours_before_on_a_counted_day(starts, zone, departement):
    at = reminder_at(starts, zone, departement)
    tz = ZoneInfo(zone)
    assert at < starts
    assert is_counted_day(departement, at.astimezone(tz).date())  # never on a Sunday or a holiday
    assert _counted_time(at.astimezone(UTC), starts, tz, departement) == timedelta(hours=48)


# --------------------------------------------------------------------------- should it go out

NOW = datetime(2025, 6, 13, 10, 0, tzinfo=UTC)
LATER = NOW + timedelta(days=3)


@pytest.mark.parametrize(
    ("starts_at", "rdv_status", "participation_status", "opted_in", "expected"),
    [
        (LATER, RdvStatus.UNKNOWN, RdvStatus.UNKNOWN, True, True),
        (LATER, RdvStatus.UNKNOWN, RdvStatus.UNKNOWN, False, False),  # opted out
        (LATER, RdvStatus.REVOKED, RdvStatus.REVOKED, True, False),  # cancelled by the service
        (LATER, RdvStatus.EXCUSED, RdvStatus.EXCUSED, True, False),  # cancelled by the usager
        (LATER, RdvStatus.UNKNOWN, RdvStatus.EXCUSED, True, False),  # left a collective RDV
        (LATER, RdvStatus.NOSHOW, RdvStatus.NOSHOW, True, False),
        (LATER, RdvStatus.SEEN, RdvStatus.SEEN, True, False),
        (NOW, RdvStatus.UNKNOWN, RdvStatus.UNKNOWN, True, False),  # starting now: started
        (NOW - timedelta(minutes=1), RdvStatus.UNKNOWN, RdvStatus.UNKNOWN, True, False),
        (NOW + timedelta(minutes=1), RdvStatus.UNKNOWN, RdvStatus.UNKNOWN, True, True),
    ],
)
def test_should_send_reminder(starts_at, rdv_status, participation_status, opted_in, expected):
    assert should_send_reminder(
        now=NOW, starts_at=starts_at, rdv_status=rdv_status, participation_status=participation_status,
        send_reminder_notification=opted_in,
    ) is expected


MONDAY_10 = _local("Europe/Paris", 2025, 6, 16, 10, 0)
FRIDAY_10 = _local("Europe/Paris", 2025, 6, 13, 10, 0)  # its reminder


@pytest.mark.parametrize(
    ("now", "scheduled_at", "expected"),
    [
        (FRIDAY_10, FRIDAY_10 - timedelta(days=10), True),  # on time
        (FRIDAY_10 - timedelta(seconds=1), FRIDAY_10 - timedelta(days=10), False),  # not yet
        (MONDAY_10 - timedelta(minutes=5), FRIDAY_10 - timedelta(days=10), True),  # late, still before
        (MONDAY_10, FRIDAY_10 - timedelta(days=10), False),  # started: never after
        (FRIDAY_10 + timedelta(hours=2), FRIDAY_10 + timedelta(hours=1), False),  # booked after the time
        (FRIDAY_10 + timedelta(hours=2), FRIDAY_10, False),  # booked exactly at it
        (FRIDAY_10 + timedelta(hours=2), FRIDAY_10 - timedelta(seconds=1), True),
        (FRIDAY_10, None, True),  # never told (no confirmation asked): the reminder is all they get
        (FRIDAY_10 - timedelta(seconds=1), None, False),
        (MONDAY_10, None, False),
    ],
)
def test_reminder_due(now, scheduled_at, expected):
    assert reminder_due(now=now, starts_at=MONDAY_10, scheduled_at=scheduled_at, time_zone="Europe/Paris",
                        departement_number="75") is expected
