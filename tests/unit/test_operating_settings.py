"""Settings that must not let a real instance run unsafely: SMS to the log only when said so, SMTP
credentials never sent in clear by default, a secret key long enough."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from rdv_app.config import Settings
from rdv_app.notify import sms
from rdv_app.notify.mailer import SmtpSettings

OVH = ("OVH_ENDPOINT", "OVH_APPLICATION_KEY", "OVH_APPLICATION_SECRET", "OVH_CONSUMER_KEY", "RDV_OVH_SMS_SERVICE")


@pytest.fixture
def no_ovh(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in (*OVH, "RDV_SMS"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_outside_the_demo_sms_without_a_provider_stop_the_start(no_ovh: pytest.MonkeyPatch) -> None:
    no_ovh.delenv("RDV_DEMO", raising=False)
    with pytest.raises(RuntimeError, match="RDV_SMS=console"):
        sms.sms_provider_from_env()
    no_ovh.setenv("RDV_SMS", "console")
    assert isinstance(sms.sms_provider_from_env(), sms.ConsoleSmsProvider)


def test_the_demo_writes_sms_to_the_log(no_ovh: pytest.MonkeyPatch) -> None:
    no_ovh.setenv("RDV_DEMO", "1")
    assert isinstance(sms.sms_provider_from_env(), sms.ConsoleSmsProvider)


@pytest.mark.parametrize(("demo", "text_logged"), [("1", True), ("", False)])
def test_the_console_masks_numbers_and_keeps_texts_for_the_demo_only(
        no_ovh: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, demo: str, text_logged: bool) -> None:
    no_ovh.setenv("RDV_DEMO", demo)
    no_ovh.setenv("RDV_SMS", "console")
    text = "RDV PMI lundi 07/12 à 09h00. Infos et annulation : https://rdv.example.fr/r/12/AbCdEfGhIjKl"
    with caplog.at_level(logging.INFO, logger="rdv_app.notify.sms"):
        sms.sms_provider_from_env().send("+33612345678", text)
    assert "+33612345678" not in caplog.text and "+33******678" in caplog.text
    assert (text in caplog.text) == text_logged
    assert ("AbCdEfGhIjKl" in caplog.text) == text_logged


def test_smtp_credentials_upgrade_to_tls_unless_told_otherwise(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RDV_SMTP_TLS", raising=False)
    monkeypatch.delenv("RDV_SMTP_USER", raising=False)
    assert SmtpSettings.from_env().tls == "none"  # a local relay, no credentials
    monkeypatch.setenv("RDV_SMTP_USER", "rdv")
    monkeypatch.setenv("RDV_SMTP_PASSWORD", "secret")
    assert SmtpSettings.from_env().tls == "starttls"
    monkeypatch.setenv("RDV_SMTP_TLS", "tls")
    assert SmtpSettings.from_env().tls == "tls"


def test_a_short_secret_key_stops_the_start(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RDV_SECRET_KEY", "x" * 31)
    with pytest.raises(ValueError, match="32 caractères"):
        Settings()
    monkeypatch.setenv("RDV_SECRET_KEY", "x" * 32)
    assert Settings().secret_key == "x" * 32
    monkeypatch.delenv("RDV_SECRET_KEY")
    assert len(Settings().secret_key) >= 32


def test_without_a_secret_key_the_processes_of_one_machine_share_one(monkeypatch: pytest.MonkeyPatch,
                                                                     tmp_path: Path) -> None:
    """The demo seeds (and seals its agents' webcal addresses) in one process and serves in another."""
    monkeypatch.delenv("RDV_SECRET_KEY", raising=False)
    monkeypatch.chdir(tmp_path)
    first = Settings().secret_key
    assert len(first) >= 32 and Settings().secret_key == first
    assert (tmp_path / "data" / "secret-key").stat().st_mode & 0o777 == 0o600
