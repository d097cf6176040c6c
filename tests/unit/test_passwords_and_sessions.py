from datetime import UTC, datetime, timedelta

import pytest

from rdv_app.auth.passwords import hash_password, verify_password
from rdv_app.domain.passwords import password_problems
from rdv_app.domain.sessions import safe_next_path, session_is_active, session_needs_touch


def test_a_strong_password_passes() -> None:
    assert password_problems("Cerisier-Bleu-42") == []


@pytest.mark.parametrize(
    ("password", "expected"),
    [
        ("Court-1!", "au moins 12 caractères"),
        ("Sans-chiffre-ici!", "au moins un chiffre"),
        ("minuscules-42-partout", "au moins une lettre majuscule"),
        ("SansSymbole12345", "caractère spécial"),
        ("Azerty123456!", "trop courant"),
    ],
)
def test_each_rule_is_explained_in_french(password: str, expected: str) -> None:
    problems = password_problems(password)
    assert len(problems) == 1
    assert expected in problems[0]


def test_argon2_hash_verifies_only_the_right_password() -> None:
    hashed = hash_password("Cerisier-Bleu-42")
    assert hashed.startswith("$argon2id$")
    assert verify_password(hashed, "Cerisier-Bleu-42")
    assert not verify_password(hashed, "Cerisier-Bleu-43")
    assert not verify_password(None, "Cerisier-Bleu-42")
    assert not verify_password("pas-un-hash", "Cerisier-Bleu-42")


NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


def test_session_expires_after_14_days_of_inactivity() -> None:
    assert session_is_active(NOW - timedelta(days=13, hours=23), NOW)
    assert not session_is_active(NOW - timedelta(days=14), NOW)
    assert not session_is_active(NOW - timedelta(minutes=1), NOW, revoked=True)


def test_activity_is_recorded_at_most_once_a_minute() -> None:
    assert not session_needs_touch(NOW - timedelta(seconds=59), NOW)
    assert session_needs_touch(NOW - timedelta(minutes=1), NOW)


@pytest.mark.parametrize(
    ("value", "expected"),
    [("/mon-compte", "/mon-compte"), ("//evil.example/x", "/espace"), ("https://evil.example", "/espace"),
     ("/\\evil.example", "/espace"), (None, "/espace"), ("", "/espace")],
)
def test_only_local_paths_follow_a_login(value, expected: str) -> None:
    assert safe_next_path(value) == expected


@pytest.mark.parametrize("value", ["/\t/evil.example", "/\n/evil.example", "/\r//evil.example", "/\x00/x",
                                   "/ok\x7f", "/\u2028/evil.example", "/mes-rdv\t", "///evil.example"])
def test_control_characters_and_disguised_hosts_never_follow_a_login(value: str) -> None:
    """Browsers drop tabs and newlines from addresses: "/\t/evil.example" would become "//evil.example"."""
    assert safe_next_path(value) == "/espace"


def test_local_paths_keep_their_query() -> None:
    assert safe_next_path("/prendre_rdv?departement=62&motif=public_office%3AConsultation&etape=informations") == (
        "/prendre_rdv?departement=62&motif=public_office%3AConsultation&etape=informations")
