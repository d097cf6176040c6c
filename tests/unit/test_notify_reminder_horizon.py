"""The worker looks for due reminders among the RDVs of the next CANDIDATE_HORIZON: every reminder time
(decision 1) of every territory's calendar must fall within it, or some reminders would never leave."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from rdv_app.domain.reminders import reminder_at
from rdv_app.notify.reminders import CANDIDATE_HORIZON

TERRITORIES = [("75", "Europe/Paris"), ("57", "Europe/Paris"), ("67", "Europe/Paris"),
               ("971", "America/Guadeloupe"), ("972", "America/Martinique"), ("973", "America/Cayenne"),
               ("974", "Indian/Reunion"), ("976", "Indian/Mayotte")]


@pytest.mark.parametrize(("departement", "zone"), TERRITORIES)
def test_every_reminder_of_three_years_is_within_the_horizon(departement: str, zone: str) -> None:
    longest = timedelta()
    day = date(2026, 1, 1)
    while day < date(2029, 1, 1):
        for clock in (time(0, 5), time(9, 0), time(23, 55)):
            start = datetime.combine(day, clock, ZoneInfo(zone))
            longest = max(longest, start - reminder_at(start, zone, departement))
        day += timedelta(days=1)
    # The bound holds with room to spare, and is not absurdly loose either.
    assert timedelta(hours=96) <= longest < CANDIDATE_HORIZON
