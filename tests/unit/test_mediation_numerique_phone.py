"""Phone numbers in the "Lieux de médiation numérique" export follow the schema's pattern, or stay empty."""

from __future__ import annotations

import pytest

from rdv_app.domain.mediation_numerique import telephone


@pytest.mark.parametrize(("typed", "exported"), [
    ("03 21 00 00 00", "+33321000000"),
    ("03.21.00.00.00", "+33321000000"),
    ("+590 590 12 34 56", "+590590123456"),
    ("321000000", ""),  # no country: the schema refuses it, so it is left out
    ("accueil", ""),
    (None, ""),
])
def test_a_phone_number_is_exported_as_the_schema_writes_it(typed: str | None, exported: str) -> None:
    assert telephone(typed) == exported
