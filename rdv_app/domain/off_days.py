"""French public holidays ("jours fériés") of a territory.

A territory is named by its département number, as stored on `Territory.departement_number`:

- metropolitan France (and any number not listed below, including the virtual territories such as
  "CN"): the 11 national days;
- Alsace-Moselle (57, 67, 68): the national days plus Good Friday and 26 December;
- overseas départements (971 Guadeloupe, 972 Martinique, 973 Guyane, 974 La Réunion, 976 Mayotte):
  the national days plus their own, such as the abolition of slavery (20 December in La Réunion).

The calendar itself comes from the `holidays` package (its France subdivisions); this module only maps
département numbers onto those subdivisions and caches one year of days per département.
"""

from __future__ import annotations

from datetime import date
from functools import lru_cache

import holidays

# holidays names Moselle after its département but groups Bas-Rhin and Haut-Rhin under "6AE" (Alsace).
_SUBDIVISIONS = {
    "57": "57",
    "67": "6AE",
    "68": "6AE",
    "971": "971",
    "972": "972",
    "973": "973",
    "974": "974",
    "976": "976",
}


def holidays_subdivision(departement_number: str) -> str | None:
    """The `holidays` France subdivision of a département, or None for the national calendar."""
    return _SUBDIVISIONS.get(departement_number.strip())


@lru_cache(maxsize=512)
def holidays_of_year(departement_number: str, year: int) -> frozenset[date]:
    """Every public holiday of the département in `year`."""
    calendar = holidays.France(subdiv=holidays_subdivision(departement_number), years=year)
    return frozenset(calendar.keys())


def holidays_between(departement_number: str, start: date, end: date) -> frozenset[date]:
    """Public holidays d of the département with start <= d <= end (empty when end < start)."""
    days: set[date] = set()
    for year in range(start.year, end.year + 1):
        days.update(d for d in holidays_of_year(departement_number, year) if start <= d <= end)
    return frozenset(days)


def is_holiday(departement_number: str, day: date) -> bool:
    return day in holidays_of_year(departement_number, day.year)
