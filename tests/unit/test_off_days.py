"""Public holidays per territory: metropolitan France, Alsace-Moselle, overseas départements."""

from __future__ import annotations

from datetime import date

import pytest

from rdv_app.domain.off_days import holidays_between, holidays_of_year, holidays_subdivision, is_holiday

METROPOLITAN_2025 = {
    date(2025, 1, 1),  # Jour de l'an
    date(2025, 4, 21),  # Lundi de Pâques
    date(2025, 5, 1),  # Fête du travail
    date(2025, 5, 8),  # Victoire 1945
    date(2025, 5, 29),  # Ascension
    date(2025, 6, 9),  # Lundi de Pentecôte
    date(2025, 7, 14),  # Fête nationale
    date(2025, 8, 15),  # Assomption
    date(2025, 11, 1),  # Toussaint
    date(2025, 11, 11),  # Armistice
    date(2025, 12, 25),  # Noël
}
GOOD_FRIDAY_2025 = date(2025, 4, 18)
SAINT_STEPHEN_2025 = date(2025, 12, 26)
YEAR_2025 = (date(2025, 1, 1), date(2025, 12, 31))


@pytest.mark.parametrize("departement", ["75", "13", "2A", "69", "CN"])
def test_metropolitan_territories_have_the_eleven_national_days(departement):
    assert holidays_between(departement, *YEAR_2025) == METROPOLITAN_2025


@pytest.mark.parametrize("departement", ["57", "67", "68"])
def test_alsace_moselle_adds_good_friday_and_26_december(departement):
    assert holidays_between(departement, *YEAR_2025) == METROPOLITAN_2025 | {GOOD_FRIDAY_2025, SAINT_STEPHEN_2025}


@pytest.mark.parametrize("departement", ["75", "54", "88", "90", "971", "972", "973", "974", "976"])
def test_26_december_is_not_a_holiday_outside_alsace_moselle(departement):
    assert not is_holiday(departement, SAINT_STEPHEN_2025)


@pytest.mark.parametrize("departement", ["75", "54", "88", "90", "974", "976"])
def test_good_friday_is_not_a_holiday_in_the_neighbours_of_alsace_moselle_nor_in_la_reunion(departement):
    assert GOOD_FRIDAY_2025 not in holidays_between(departement, *YEAR_2025)


def test_la_reunion_celebrates_the_abolition_of_slavery_on_20_december():
    assert is_holiday("974", date(2025, 12, 20))
    assert is_holiday("974", date(2026, 12, 20))
    assert not is_holiday("75", date(2025, 12, 20))
    assert not is_holiday("971", date(2025, 12, 20))


@pytest.mark.parametrize(
    ("departement", "abolition_day"),
    [("971", date(2025, 5, 27)), ("972", date(2025, 5, 22)), ("973", date(2025, 6, 10)),
     ("976", date(2025, 4, 27))],
)
def test_each_overseas_departement_has_its_own_abolition_day(departement, abolition_day):
    days = holidays_between(departement, *YEAR_2025)
    assert abolition_day in days
    assert days >= METROPOLITAN_2025
    assert abolition_day not in holidays_between("75", *YEAR_2025)


def test_subdivisions_of_the_holidays_package():
    assert holidays_subdivision("57") == "57"
    assert holidays_subdivision("67") == holidays_subdivision("68") == "6AE"
    assert holidays_subdivision("974") == "974"
    assert holidays_subdivision("75") is None


def test_range_is_inclusive_and_may_span_years():
    assert holidays_between("75", date(2025, 12, 25), date(2026, 1, 1)) == {date(2025, 12, 25), date(2026, 1, 1)}
    assert holidays_between("57", date(2025, 12, 24), date(2026, 4, 6)) == {
        date(2025, 12, 25), date(2025, 12, 26), date(2026, 1, 1), date(2026, 4, 3), date(2026, 4, 6),
    }


def test_empty_range():
    assert holidays_between("75", date(2025, 12, 26), date(2025, 12, 24)) == frozenset()
    assert holidays_between("75", date(2025, 12, 26), date(2025, 12, 31)) == frozenset()


def test_years_are_cached_per_departement():
    holidays_of_year("68", 2031)
    before = holidays_of_year.cache_info()
    assert holidays_of_year("68", 2031) is holidays_of_year("68", 2031)
    after = holidays_of_year.cache_info()
    assert after.hits == before.hits + 2
    assert after.misses == before.misses
