"""Booking delays typed in a unit and shown back in the largest exact one; organisation slugs; the public link."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rdv_app.domain import contact
from rdv_app.domain.motif_rules import (
    DELAY_UNITS,
    MotifRuleError,
    delay_in_seconds,
    delay_parts,
    describe_delay,
)
from rdv_app.services.organisation import public_links


@pytest.mark.parametrize(("amount", "unit", "seconds", "shown"), [
    ("30", "minutes", 1800, "30 minutes"),
    ("2", "hours", 7200, "2 heures"),
    ("1", "days", 86_400, "1 jour"),
    ("14", "days", 14 * 86_400, "2 semaines"),
    ("3", "months", 7_889_238, "3 mois"),
    ("90", "minutes", 5400, "90 minutes"),
])
def test_a_delay_typed_in_a_unit_is_stored_in_seconds_and_shown_in_the_largest_exact_unit(
        amount: str, unit: str, seconds: int, shown: str) -> None:
    assert delay_in_seconds(amount, unit, "min_public_booking_delay") == seconds
    assert describe_delay(seconds) == shown


@pytest.mark.parametrize(("amount", "unit", "message"), [
    ("", "days", "Indiquez une durée"),
    ("1,5", "days", "nombre entier positif"),
    ("-2", "days", "nombre entier positif"),
    ("2", "years", "Choisissez une unité"),
])
def test_a_bad_amount_or_unit_is_refused_on_its_field(amount: str, unit: str, message: str) -> None:
    with pytest.raises(MotifRuleError) as error:
        delay_in_seconds(amount, unit, "max_public_booking_delay")
    assert error.value.field == "max_public_booking_delay"
    assert message in error.value.message


@given(st.integers(min_value=1, max_value=10_000), st.sampled_from(list(DELAY_UNITS)))
def test_what_the_form_shows_gives_back_the_same_delay(amount: int, unit: str) -> None:
    seconds = delay_in_seconds(str(amount), unit, "min_public_booking_delay")
    shown_amount, shown_unit = delay_parts(seconds)
    assert delay_in_seconds(str(shown_amount), shown_unit, "min_public_booking_delay") == seconds


def test_an_organisation_slug_is_readable_ascii() -> None:
    assert contact.slug("Maison Départementale des Solidarités de Lens") == (
        "maison-departementale-des-solidarites-de-lens")
    assert contact.slug("Mairie d'Œuf-en-Ternois") == "mairie-d-oeuf-en-ternois"


def test_the_public_link_carries_the_id_read_back_by_the_public_pages() -> None:
    path = public_links.organisation_booking_path(12, "pmi-arras")
    assert path == "/org/12/pmi-arras"
    assert public_links.organisation_id_from_path(path) == 12
    assert public_links.organisation_id_from_path("/org/12") == 12
    assert public_links.organisation_id_from_path("/org/pmi-arras") is None
    assert public_links.organisation_id_from_path("/prendre_rdv") is None
    snippet = public_links.embed_snippet("https://rdv.example.fr/org/12/pmi-arras", 'PMI "Arras"')
    assert snippet.startswith('<iframe src="https://rdv.example.fr/org/12/pmi-arras" '
                              'title="Prendre rendez-vous en ligne : PMI &quot;Arras&quot;"')
