from datetime import date

import pytest

from rdv_app.domain.recurrence import Recurrence, RecurrenceError

MONDAY = date(2026, 11, 23)


def test_weekly_recurrence_round_trips_through_json() -> None:
    data = {"every": "week", "interval": 2, "on": ["thursday", "monday"], "until": "2027-02-28"}
    rec = Recurrence.from_json(data, MONDAY)
    assert rec == Recurrence.weekly((0, 3), 2, date(2027, 2, 28))
    assert rec.to_json() == {"every": "week", "interval": 2, "on": ["monday", "thursday"], "until": "2027-02-28"}
    assert Recurrence.from_json(rec.to_json(), MONDAY) == rec


def test_monthly_nth_weekday_round_trips() -> None:
    rec = Recurrence.from_json({"every": "month", "day": {"tuesday": 2}}, MONDAY)
    assert rec.month_weekday == 1 and rec.month_ordinal == 2 and rec.until is None
    assert rec.describe_fr() == "chaque mois, le 2e mardi"


def test_no_recurrence_is_a_one_off() -> None:
    assert Recurrence.from_json(None, MONDAY) is None


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"every": "day"}, "hebdomadaire ou mensuelle"),
        ({"every": "week", "interval": 0}, "1 à 5 semaines"),
        ({"every": "week", "interval": 6}, "1 à 5 semaines"),
        ({"every": "week", "interval": "2"}, "nombre entier"),
        ({"every": "week", "on": ["lundi"]}, "jours de la semaine"),
        ({"every": "week", "until": "2026-11-01"}, "doit suivre le premier jour"),
        ({"every": "week", "until": "31/12/2026"}, "date de fin de répétition est invalide"),
        ({"every": "month", "day": {"tuesday": 6}}, "1er, 2e, 3e, 4e, 5e ou dernier"),
        ({"every": "month", "day": {}}, "Choisissez un jour du mois"),
        ({"every": "month", "interval": 13, "day": {"friday": -1}}, "1 à 12 mois"),
        ("weekly", "illisible"),
    ],
)
def test_invalid_recurrences_are_refused_in_french(data, message: str) -> None:
    with pytest.raises(RecurrenceError, match=message):
        Recurrence.from_json(data, MONDAY)


def test_describe_weekly_in_french() -> None:
    rec = Recurrence.weekly((0, 2, 4), 2, date(2026, 12, 31))
    assert rec.describe_fr() == "toutes les 2 semaines (lundi, mercredi, vendredi), jusqu'au 31/12/2026"
