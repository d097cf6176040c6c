"""When an usager's reminder goes out (decision 1), and whether it still should.

The reminder goes out 48 hours before the RDV, counting only time that is not on a Sunday or on a
public holiday of the organisation's territory: RDV Monday 10:00 -> reminder Friday 10:00 (Saturday
10:00 to Monday 10:00 counts 24 hours, Sunday excluded). It therefore never goes out on a Sunday or a
holiday.

How time is counted: the days are the local calendar days of the organisation's time zone; a counted
day contributes its real elapsed time, so a day with a daylight-saving change counts 23 or 25 hours
(the wall clock is not what is counted). Metropolitan and overseas French zones change their clocks on
Sundays, which never count, so there the reminder keeps the RDV's wall-clock time; in a zone that
changes on a counted day it moves by the hour gained or lost.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from rdv_app.domain.enums import RdvStatus
from rdv_app.domain.off_days import is_holiday

REMINDER_LEAD = timedelta(hours=48)
SUNDAY = 6


def is_counted_day(departement_number: str, day: date) -> bool:
    """Whether a local day's time counts towards the 48 hours: neither a Sunday nor a holiday."""
    return day.weekday() != SUNDAY and not is_holiday(departement_number, day)


def _day_start(day: date, zone: ZoneInfo) -> datetime:
    # fold=0 on a non-existent local midnight (a zone that springs forward at 00:00) gives the instant of
    # the change itself, which is when that day starts.
    return datetime.combine(day, time.min, tzinfo=zone).astimezone(UTC)


def reminder_at(starts_at: datetime, time_zone: str, departement_number: str) -> datetime:
    """The instant of the reminder, in the organisation's time zone.

    Walks back from the RDV through the local days, each counted day giving the real time between its
    start and the cursor, until 48 hours are gathered. The result lies inside a counted day, so never on
    a Sunday or a holiday. An RDV on a Sunday or a holiday itself gathers nothing on its own day.
    """
    if starts_at.tzinfo is None:
        raise ValueError("starts_at doit porter un fuseau horaire")
    zone = ZoneInfo(time_zone)
    remaining = REMINDER_LEAD
    end = starts_at.astimezone(UTC)  # all arithmetic in UTC: aware subtraction in one zone is wall-clock
    day = starts_at.astimezone(zone).date()
    while True:
        start = _day_start(day, zone)
        if is_counted_day(departement_number, day):
            if end - start >= remaining:
                return (end - remaining).astimezone(zone)
            remaining -= end - start
        end, day = start, day - timedelta(days=1)


def should_send_reminder(*, now: datetime, starts_at: datetime, rdv_status: RdvStatus,
                         participation_status: RdvStatus, send_reminder_notification: bool) -> bool:
    """Whether a participant may get the reminder: the RDV and the participation are still to come
    (status "unknown": neither cancelled nor already marked seen or absent), the RDV has not started,
    and the participant did not opt out."""
    return (
        send_reminder_notification
        and rdv_status == RdvStatus.UNKNOWN
        and participation_status == RdvStatus.UNKNOWN
        and now < starts_at
    )


def reminder_due(*, now: datetime, starts_at: datetime, scheduled_at: datetime | None, time_zone: str,
                 departement_number: str) -> bool:
    """Whether a recipient's reminder of an RDV is due now.

    `scheduled_at` is when the recipient was told of the RDV's current start time (its confirmation, or
    the message of its last move), None when they were not. Told after the reminder time, they get no
    reminder: they have just received the same information. A reminder late because the worker was
    stopped still goes out, but never once the RDV has started (decision 8).
    """
    at = reminder_at(starts_at, time_zone, departement_number)
    return (scheduled_at is None or scheduled_at < at) and at <= now < starts_at
