"""The usager link's pure rules: the 3-letter check, online cancellation, signed cookie values."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rdv_app.auth.signed import sign, unsign
from rdv_app.domain.enums import RdvStatus
from rdv_app.domain.usager_link import (
    CancelRefusal,
    cancel_rule,
    expected_initials,
    fold,
    initials_match,
    locks_the_link,
    token_is_usable,
    without_link_token,
)

NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(("last_name", "answer"), [
    ("Dupont", "DUP"),
    ("Dupont", "dup"),
    ("Dupont", " d u p "),
    ("De La Fontaine", "DEL"),
    ("De La Fontaine", "del"),
    ("Ôzil", "OZI"),
    ("Ôzil", "ozi"),
    ("Ôzil", "ÖZÍ"),
    ("Xi", "XI"),
    ("Li", "li"),
    ("Œuvray", "OEU"),
    ("D'Artagnan", "D'A"),
    ("D'Artagnan", "DAR"),
    ("Saint-Éloi", "SAI"),
    ("Ng", "NG"),
])
def test_the_first_three_letters_are_accepted_without_spaces_case_or_accents(last_name: str, answer: str) -> None:
    assert initials_match(answer, (last_name,))


@pytest.mark.parametrize(("last_name", "answer"), [
    ("Dupont", "DUR"),
    ("Dupont", "DU"),
    ("Dupont", "DUPO"),
    ("Dupont", ""),
    ("Dupont", "   "),
    ("De La Fontaine", "FON"),
    ("Xi", "X"),
    ("Martin", "DUP"),
])
def test_other_answers_are_refused(last_name: str, answer: str) -> None:
    assert not initials_match(answer, (last_name,))


def test_the_answer_may_be_any_of_the_names_given() -> None:
    assert initials_match("MAR", ("Dupont", "Martin"))


def test_folding_removes_spaces_and_accents_and_upper_cases() -> None:
    assert fold("  Élodie d'Ôzil ") == "ELODIED'OZIL"
    assert expected_initials("De La Fontaine") == {"DEL"}
    assert expected_initials("Xi") == {"XI"}


_FRENCH_LETTERS = "abcdefghijklmnopqrstuvwxyzàâäçéèêëîïôöùûüÿ"


@given(st.text(alphabet=_FRENCH_LETTERS + _FRENCH_LETTERS.upper() + " ", min_size=1, max_size=20))
def test_a_name_accepts_its_first_three_letters_typed_in_any_case_without_accents(name: str) -> None:
    letters = "".join(c for c in name if not c.isspace())
    typed = fold(letters[:3]).lower()
    assert initials_match(typed, (name,)) == bool(letters)


def test_cancellation_is_allowed_until_four_hours_before() -> None:
    def rule(hours: float, **overrides: object) -> CancelRefusal | None:
        values: dict = dict(status=RdvStatus.UNKNOWN, starts_at=NOW + timedelta(hours=hours), now=NOW,
                            motif_allows=True)
        values.update(overrides)
        return cancel_rule(**values).refusal

    assert rule(4.01) is None
    assert rule(48) is None
    assert rule(4) == CancelRefusal.TOO_LATE
    assert rule(1) == CancelRefusal.TOO_LATE
    assert rule(0) == CancelRefusal.PAST
    assert rule(-1) == CancelRefusal.PAST
    assert rule(48, motif_allows=False) == CancelRefusal.MOTIF
    assert rule(48, status=RdvStatus.EXCUSED) == CancelRefusal.ALREADY_CANCELLED
    assert rule(48, status=RdvStatus.REVOKED) == CancelRefusal.ALREADY_CANCELLED
    assert rule(48, status=RdvStatus.SEEN) == CancelRefusal.PAST


def test_the_fifth_wrong_answer_locks_the_link() -> None:
    assert [locks_the_link(n) for n in range(1, 7)] == [False, False, False, False, True, True]


def test_a_token_is_usable_only_before_its_expiry() -> None:
    assert token_is_usable(NOW + timedelta(seconds=1), NOW)
    assert not token_is_usable(NOW, NOW)
    assert not token_is_usable(None, NOW)


def test_signed_values_come_back_only_unaltered_with_the_same_key_and_purpose() -> None:
    value = sign("access", {"r": 12, "e": 1}, "key-1")
    assert unsign("access", value, "key-1") == {"r": 12, "e": 1}
    assert unsign("access", value, "key-2") is None
    assert unsign("verified", value, "key-1") is None
    body, mac = value.split(".")
    forged = sign("access", {"r": 13, "e": 1}, "key-1").split(".")[0]
    assert unsign("access", f"{forged}.{mac}", "key-1") is None
    assert unsign("access", f"{body}x.{mac}", "key-1") is None
    assert unsign("access", "", "key-1") is None
    assert unsign("access", "no-dot", "key-1") is None


def test_a_kept_text_shows_where_the_link_led_without_its_token() -> None:
    text = "Rappel RDV PMI le lundi 07/12 à 09h00.\nInfos et annulation: https://rdv.example.fr/r/42/lH9MAUnz-b_xC / 03 21"
    assert without_link_token(text) == ("Rappel RDV PMI le lundi 07/12 à 09h00.\n"
                                        "Infos et annulation: https://rdv.example.fr/r/42/… / 03 21")
    assert without_link_token("Votre RDV du lundi 07/12 a été annulé.") == "Votre RDV du lundi 07/12 a été annulé."
