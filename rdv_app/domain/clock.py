"""The one reader of the system clock.

Everything in `rdv_app` asks this module for "now"; nothing else calls `datetime.now`, `date.today`,
`datetime.utcnow` or `time.time` (a ruff rule, TID251 in pyproject.toml, refuses them elsewhere). Tests
freeze or move it with time-machine, which patches the calls below, and the suite also runs under
libfaketime a year ahead, on a DST change and on New Year's Eve (`make test-future`).

Durations measured inside one process (deadlines, timeouts) use `time.monotonic`, which is not "now"
and is left alone.
"""

from __future__ import annotations

import time
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo


def now() -> datetime:
    """The current instant, timezone-aware, in UTC."""
    return datetime.now(UTC)


def today(time_zone: str) -> date:
    """Today's date on the wall clocks of `time_zone` (an IANA name such as "Indian/Reunion")."""
    return now().astimezone(ZoneInfo(time_zone)).date()


def timestamp() -> float:
    """Seconds since the epoch, for libraries that count in them (rate-limit windows, JWT times)."""
    return time.time()
