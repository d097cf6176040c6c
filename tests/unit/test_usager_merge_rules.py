"""The pure rules of merging usagers and spotting duplicates (rdv_app.domain.usager_merge)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rdv_app.domain.enums import RdvStatus
from rdv_app.domain.usager_merge import (
    FIELDS_BY_NAME,
    MERGEABLE_FIELDS,
    TOGGLES,
    RowKind,
    Side,
    forced_side,
    kept_side,
    most_informative,
    one_edit_apart,
    row_kind,
    shown_fields,
)


def _distance(left: str, right: str) -> int:
    """Levenshtein's distance, the plain dynamic programme, as the reference."""
    previous = list(range(len(right) + 1))
    for i, a in enumerate(left, 1):
        current = [i]
        for j, b in enumerate(right, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a != b)))
        previous = current
    return previous[-1]


@settings(max_examples=300)
@given(st.text("abé ", max_size=7), st.text("abé ", max_size=7))
def test_one_edit_apart_is_a_distance_of_exactly_one(left: str, right: str) -> None:
    assert one_edit_apart(left, right) == (_distance(left, right) == 1)


def test_a_relative_is_merged_into_a_responsible_else_the_email_decides() -> None:
    assert kept_side(a_is_relative=False, b_is_relative=True, email_choice=Side.B) == Side.A
    assert kept_side(a_is_relative=True, b_is_relative=False, email_choice=Side.A) == Side.B
    assert kept_side(a_is_relative=True, b_is_relative=True, email_choice=Side.B) == Side.A
    assert kept_side(a_is_relative=False, b_is_relative=False, email_choice=Side.B) == Side.B


@pytest.mark.parametrize(("a", "b", "kept"), [
    (RdvStatus.UNKNOWN, RdvStatus.SEEN, RdvStatus.SEEN),
    (RdvStatus.NOSHOW, RdvStatus.SEEN, RdvStatus.SEEN),
    (RdvStatus.EXCUSED, RdvStatus.NOSHOW, RdvStatus.NOSHOW),
    (RdvStatus.REVOKED, RdvStatus.EXCUSED, RdvStatus.EXCUSED),
    (RdvStatus.UNKNOWN, RdvStatus.REVOKED, RdvStatus.REVOKED),
    (RdvStatus.SEEN, RdvStatus.UNKNOWN, RdvStatus.SEEN),
])
def test_the_participation_kept_has_the_most_informative_status(a: RdvStatus, b: RdvStatus, kept: RdvStatus) -> None:
    assert most_informative(a.value, b.value) == kept.value


def test_rows_shown_follow_relatives_and_territory_toggles() -> None:
    assert [f.name for f in shown_fields(any_relative=True, toggles=frozenset())] == [
        "first_name", "last_name", "birth_date", "responsible_id"]
    everything = [f.name for f in shown_fields(any_relative=False, toggles=frozenset(TOGGLES))]
    assert everything == [f.name for f in MERGEABLE_FIELDS]
    untoggled = [f.name for f in shown_fields(any_relative=False, toggles=frozenset())]
    assert not {"notes", "logement", "caisse_affiliation", "case_number", "address_details"} & set(untoggled)
    assert {"email", "phone_number", "address"} <= set(untoggled)
    assert FIELDS_BY_NAME["phone_number"].written == ("phone_number", "phone_number_formatted")


def test_row_kinds_and_franceconnect_fields() -> None:
    assert row_kind(None, "") == RowKind.BOTH_EMPTY
    assert row_kind("Anna", "Anna") == RowKind.IDENTICAL
    assert row_kind("Anna", None) == RowKind.DIFFERENT
    assert forced_side("first_name", franceconnect_a=False, franceconnect_b=True) == Side.B
    assert forced_side("email", franceconnect_a=True, franceconnect_b=False) is None
    assert forced_side("birth_date", franceconnect_a=False, franceconnect_b=False) is None
