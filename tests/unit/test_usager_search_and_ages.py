"""Issue 18: the words an usager is found by, how a typed text is read, and ages as agents read them.
Dates are built from the clock's today, so the tests hold on any day."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from rdv_app.domain import clock
from rdv_app.domain.ages import age_label, birth_date_and_age
from rdv_app.domain.periods import shift_years
from rdv_app.domain.usager_search import fold, parse_query, search_terms


def test_words_are_folded_and_cut_at_anything_but_letters_and_digits() -> None:
    assert fold("Œuvre Éloïse ÅBERG Straße") == "oeuvre eloise aberg strasse"
    assert search_terms(first_name="Jean-Marc", last_name="N'Diaye de la Tour", birth_name=None,
                        email="jm.ndiaye@exemple.fr", phone_number_formatted="+33612345678") == (
        " n diaye de la tour jean marc jm ndiaye exemple fr 33612345678")


@pytest.mark.parametrize(("typed", "email", "prefixes"), [
    ("06 12 34", None, ("3361234",)),
    ("+33 6 12", None, ("33612",)),
    ("0612345678", None, ("33612345678",)),
    ("+590 690 12", None, ("59069012",)),
    ("12", None, ("12",)),  # too short for a phone: a word
    ("Jean-Marc  DUR jean", None, ("jean", "marc", "dur")),
    ("Jean.Dupont@EX", "jean.dupont@ex", ()),
    ("  ", None, ()),
    ("%_", None, ()),
])
def test_what_is_typed(typed: str, email: str | None, prefixes: tuple[str, ...]) -> None:
    query = parse_query(typed)
    assert (query.email_prefix, query.prefixes) == (email, prefixes)
    assert query.is_empty == (email is None and not prefixes)


def _today() -> date:
    return clock.today("Europe/Paris")


def test_ages_in_years_from_three() -> None:
    today = _today()
    assert age_label(shift_years(today, -40), today) == "40 ans"
    assert age_label(shift_years(today, -3), today) == "3 ans"
    assert age_label(shift_years(today, -40) + timedelta(days=1), today) == "39 ans"


def test_ages_in_months_then_days() -> None:
    today = _today()
    just_under_three = shift_years(today, -3) + timedelta(days=1)
    assert age_label(just_under_three, today) == "35 mois"
    assert age_label(today - timedelta(days=3), today) == "3 jours"
    assert age_label(today, today) == "0 jours"
    assert age_label(today - timedelta(days=70), today) == "2 mois"


def test_month_boundaries_and_leap_days() -> None:
    assert age_label(date(2024, 1, 31), date(2024, 2, 29)) == "29 jours"
    assert age_label(date(2024, 1, 31), date(2024, 3, 1)) == "1 mois"
    assert age_label(date(2020, 2, 29), date(2023, 2, 28)) == "35 mois"
    assert age_label(date(2020, 2, 29), date(2023, 3, 1)) == "3 ans"


def test_birth_date_column() -> None:
    today = _today()
    born = shift_years(today, -41)
    assert birth_date_and_age(born, today) == f"{born:%d/%m/%Y} - 41 ans"
    assert birth_date_and_age(None, today) is None
