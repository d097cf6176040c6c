"""Masked details of usagers of other organisations (domain.md section 8)."""

from __future__ import annotations

from datetime import date

import pytest

from rdv_app.domain.masking import (
    UsagerPreview,
    mask_birth_date,
    mask_email,
    mask_phone,
    preview,
    reverse_full_name,
)


def test_reverse_full_name() -> None:
    assert reverse_full_name(" Jeanne ", "Dupont-Moreau ") == "DUPONT-MOREAU Jeanne"
    assert reverse_full_name("Éloïse", "d'Argent") == "D'ARGENT Éloïse"


def test_birth_date_hides_the_year() -> None:
    assert mask_birth_date(date(1985, 7, 4)) == "04/07/****"
    assert mask_birth_date(None) is None


@pytest.mark.parametrize(("phone", "masked"), [
    ("0612345678", "06******78"),
    ("06 12 34 56 78", "06******78"),
    ("06.12.34.56.78", "06******78"),
    ("+33612345678", "+33******678"),
    ("+262 692 12 34 56", "+262******456"),
    ("1234", "****"),
    ("  ", None),
    (None, None),
])
def test_phone_hides_the_six_middle_digits(phone: str | None, masked: str | None) -> None:
    assert mask_phone(phone) == masked
    if masked:
        assert masked.count("*") == min(6, sum(c.isdigit() for c in phone or ""))


@pytest.mark.parametrize(("email", "masked"), [
    ("jeanne.dupont@example.fr", "j******t@example.fr"),
    ("ab@x.fr", "a******b@x.fr"),
    ("z@x.fr", "z******z@x.fr"),
    (" Jean@Mail.fr ", "J******n@Mail.fr"),
    ("a.b@c@d.fr", "a******c@d.fr"),
    ("", None),
    (None, None),
])
def test_email_keeps_the_first_and_last_character_of_the_local_part(email: str | None,
                                                                     masked: str | None) -> None:
    assert mask_email(email) == masked


def test_email_length_is_not_revealed() -> None:
    assert len(mask_email("a" * 30 + "@x.fr")) == len(mask_email("ab@x.fr"))  # type: ignore[arg-type]


def test_preview_masks_everything_but_the_name() -> None:
    assert preview(4, first_name="Jeanne", last_name="Dupont", birth_date=date(1990, 1, 31),
                   phone_number="07 56 12 34 56", email="jeanne@example.fr") == UsagerPreview(
        id=4, name="DUPONT Jeanne", birth_date="31/01/****", phone_number="07******56",
        email="j******e@example.fr")
