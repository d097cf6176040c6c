"""One clock: `rdv_app.domain.clock` is the only reader of the system clock, in Python and in SQL."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from pathlib import Path

import time_machine

from rdv_app.domain import clock

ROOT = Path(__file__).resolve().parents[2]
SQL_CLOCKS = re.compile(r"func\.now|current_timestamp|current_date|localtimestamp|clock_timestamp|"
                        r"statement_timestamp|transaction_timestamp", re.IGNORECASE)


def test_now_is_an_aware_utc_instant_that_follows_a_frozen_clock() -> None:
    with time_machine.travel(datetime(2031, 3, 30, 0, 30, tzinfo=UTC), tick=False):
        assert clock.now() == datetime(2031, 3, 30, 0, 30, tzinfo=UTC)
        assert clock.timestamp() == datetime(2031, 3, 30, 0, 30, tzinfo=UTC).timestamp()


def test_today_is_the_date_on_the_wall_clocks_of_the_zone() -> None:
    # 23:30 UTC on 31 December: already the new year in Paris and in Réunion, not yet in Guyane.
    with time_machine.travel(datetime(2030, 12, 31, 23, 30, tzinfo=UTC), tick=False):
        assert clock.today("Europe/Paris") == date(2031, 1, 1)
        assert clock.today("Indian/Reunion") == date(2031, 1, 1)
        assert clock.today("America/Cayenne") == date(2030, 12, 31)


def test_no_query_or_migration_reads_the_database_servers_clock() -> None:
    """Times are written by the application from `clock.now()`, so a frozen or moved clock in the tests
    (and libfaketime in `make test-future`) governs every stored instant."""
    offenders = [f"{path.relative_to(ROOT)}:{number}"
                 for folder in ("rdv_app", "alembic") for path in sorted((ROOT / folder).rglob("*.py"))
                 for number, line in enumerate(path.read_text().splitlines(), 1) if SQL_CLOCKS.search(line)]
    assert offenders == []
