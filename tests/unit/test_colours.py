"""Text on motif colours stays readable (WCAG AA asks 4.5:1 for normal text)."""

from __future__ import annotations

import pytest

from rdv_app.domain.colours import DARK_TEXT, LIGHT_TEXT, contrast_ratio, readable_text_colour


def test_contrast_ratio_of_known_pairs() -> None:
    assert contrast_ratio("#ffffff", "#000000") == pytest.approx(21)
    assert contrast_ratio("#fff", "#fff") == pytest.approx(1)
    assert contrast_ratio("#ffffff", "#0288d1") == pytest.approx(3.85, abs=0.01)


@pytest.mark.parametrize(("background", "text"), [
    ("#0288d1", DARK_TEXT),  # a light blue of the demo: white would give 3.85:1
    ("#ffeb3b", DARK_TEXT),
    ("#000091", LIGHT_TEXT),
    ("#6b7280", LIGHT_TEXT),  # the grey of other organisations' RDVs
])
def test_the_more_readable_text_colour_is_chosen(background: str, text: str) -> None:
    chosen = readable_text_colour(background)
    assert chosen == text
    assert contrast_ratio(chosen, background) >= 4.5


def test_every_grey_gets_at_least_aa_contrast() -> None:
    for level in range(256):
        background = f"#{level:02x}{level:02x}{level:02x}"
        assert contrast_ratio(readable_text_colour(background), background) >= 4.5, background
