from datetime import UTC, datetime, timedelta

import pytest

from rdv_app.auth.passwords import hash_password, verify_password
from rdv_app.config import Settings
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


def _active(last_seen_at: datetime, *, created_at: datetime | None = None, revoked: bool = False,
            lifetime: timedelta = timedelta(days=60)) -> bool:
    return session_is_active(created_at or last_seen_at, last_seen_at, NOW, revoked=revoked,
                             idle_timeout=timedelta(days=14), lifetime=lifetime)


def test_session_expires_after_14_days_of_inactivity() -> None:
    assert _active(NOW - timedelta(days=13, hours=23))
    assert not _active(NOW - timedelta(days=14))
    assert not _active(NOW - timedelta(minutes=1), revoked=True)


def test_session_ends_at_its_absolute_lifetime_whatever_the_activity() -> None:
    opened = NOW - timedelta(hours=12)
    assert _active(NOW, created_at=opened + timedelta(seconds=1), lifetime=timedelta(hours=12))
    assert not _active(NOW, created_at=opened, lifetime=timedelta(hours=12))


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


def test_the_agents_session_lifetime_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    assert Settings().agent_session_hours == 12
    monkeypatch.setenv("RDV_AGENT_SESSION_HOURS", "8")
    assert Settings().agent_session_hours == 8
    for wrong in ("0", "huit", "1000"):
        monkeypatch.setenv("RDV_AGENT_SESSION_HOURS", wrong)
        with pytest.raises(ValueError, match="RDV_AGENT_SESSION_HOURS"):
            Settings()
