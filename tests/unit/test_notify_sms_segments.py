"""The providers' segment count (the receipt's sms_count): GSM-7 160/153 with escaped characters counting 2,
UCS-2 70/67 as soon as one character is outside GSM-7."""

from __future__ import annotations

import pytest

from rdv_app.notify.sms import segment_count


@pytest.mark.parametrize(("text", "segments"), [
    ("a" * 160, 1),
    ("a" * 161, 2),
    ("a" * 306, 2),
    ("a" * 307, 3),
    ("é è à ù " + "a" * 152, 1),  # é è à ù are GSM-7
    ("€" * 80, 1),  # 160 septets: each € is escape + code
    ("€" * 81, 2),
    ("ê" + "a" * 69, 1),  # one non GSM-7 character: the whole text is UCS-2
    ("ê" + "a" * 70, 2),
    ("œ" * 134, 2),
    ("œ" * 135, 3),
])
def test_segments(text: str, segments: int) -> None:
    assert segment_count(text) == segments

