"""TOTP codes (window, replay), recovery codes, QR code and the lockout scale of the agents' sign-in."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta

import pyotp

from rdv_app.auth import totp
from rdv_app.domain.sign_in import duration_text, lock_duration, locks_the_account

NOW = datetime(2026, 12, 7, 9, 0, 10, tzinfo=UTC)


def test_a_current_code_matches_its_time_step() -> None:
    secret = totp.new_secret()
    step = pyotp.TOTP(secret).timecode(NOW)
    assert totp.matching_step(secret, pyotp.TOTP(secret).at(NOW), NOW, None) == step
    assert totp.matching_step(secret, " " + pyotp.TOTP(secret).at(NOW)[:3] + " " + pyotp.TOTP(secret).at(NOW)[3:],
                              NOW, None) == step


def test_codes_one_step_away_are_accepted_two_steps_away_refused() -> None:
    secret = totp.new_secret()
    code_of = pyotp.TOTP(secret).at
    assert totp.matching_step(secret, code_of(NOW - timedelta(seconds=30)), NOW, None) is not None
    assert totp.matching_step(secret, code_of(NOW + timedelta(seconds=30)), NOW, None) is not None
    assert totp.matching_step(secret, code_of(NOW - timedelta(seconds=60)), NOW, None) is None
    assert totp.matching_step(secret, code_of(NOW + timedelta(seconds=60)), NOW, None) is None


def test_a_code_of_a_step_already_used_is_refused() -> None:
    secret = totp.new_secret()
    step = totp.matching_step(secret, pyotp.TOTP(secret).at(NOW), NOW, None)
    assert step is not None
    assert totp.matching_step(secret, pyotp.TOTP(secret).at(NOW), NOW, step) is None  # replay
    earlier = pyotp.TOTP(secret).at(NOW - timedelta(seconds=30))
    assert totp.matching_step(secret, earlier, NOW, step) is None
    later = pyotp.TOTP(secret).at(NOW + timedelta(seconds=30))
    assert totp.matching_step(secret, later, NOW, step) == step + 1


def test_wrong_or_malformed_codes_are_refused() -> None:
    secret = totp.new_secret()
    right = pyotp.TOTP(secret).at(NOW)
    wrong = f"{(int(right) + 1) % 1_000_000:06d}"
    for code in (wrong, "", "12345", "1234567", "abcdef", "١٢٣٤٥٦"):
        assert totp.matching_step(secret, code, NOW, None) is None


def test_recovery_codes_are_distinct_readable_and_hashed_whatever_their_typing() -> None:
    codes = totp.new_recovery_codes(10)
    assert len(set(codes)) == 10
    assert all(len(code) == 11 and code[5] == "-" for code in codes)
    assert not any(set(code) & set("01IOL") for code in codes)
    code = codes[0]
    stored = totp.recovery_code_hash(code)
    assert stored != code and len(stored) == 64
    assert totp.recovery_code_hash(code.lower().replace("-", " ")) == stored
    assert totp.recovery_code_hash(codes[1]) != stored


def test_the_qr_code_is_an_svg_of_the_provisioning_address() -> None:
    secret = totp.new_secret()
    uri = totp.provisioning_uri(secret, "lea.durand@demo.test")
    assert uri.startswith("otpauth://totp/") and f"secret={secret}" in uri
    data = totp.qr_code_data_uri(uri)
    assert data.startswith("data:image/svg+xml;base64,")
    assert base64.b64decode(data.split(",", 1)[1]).startswith(b"<svg")
    assert totp.grouped("ABCDEFGHIJ") == "ABCD EFGH IJ"


def test_the_lockout_escalates_then_stays_at_an_hour() -> None:
    assert not locks_the_account(4) and locks_the_account(5)
    assert [lock_duration(n) for n in range(6)] == [timedelta(minutes=m) for m in (1, 5, 15, 60, 60, 60)]
    assert [duration_text(lock_duration(n)) for n in range(4)] == ["1 minute", "5 minutes", "15 minutes", "1 heure"]
