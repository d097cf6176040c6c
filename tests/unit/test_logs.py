"""The production log's filter and format (rdv_app.logs): what is kept, what is masked, the context."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from rdv_app import logs


@pytest.fixture
def logged() -> Iterator[tuple[logging.Logger, io.StringIO]]:
    stream = io.StringIO()
    logger = logging.getLogger("rdv_app.test_logs")
    logger.handlers[:] = [logs.production_handler(stream=stream)]
    logger.propagate, logger.level = False, logging.DEBUG
    yield logger, stream
    logger.handlers.clear()


def _lines(stream: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_arguments_keep_numbers_identifiers_and_vouched_texts_and_mask_the_rest(logged) -> None:
    logger, stream = logged
    logger.info("rdv %d of %s by %s on %s: %s", 42, "purge_plages", "Marie Dupont", "sms",
                logs.technical("OVH : HTTP 500"))
    [line] = _lines(stream)
    assert line["message"] == "rdv 42 of purge_plages by [masqué] on sms: OVH : HTTP 500"


@pytest.mark.parametrize(("text", "expected"), [
    ("to marie.dupont@exemple.fr now", "to [email] now"),
    ("phone 06 12 34 56 78, +33612345678 or 0612345678", "phone [téléphone], [téléphone] or [téléphone]"),
    ("GET /r/12/AB12CD34?x=1 and /prendre_rdv?tkn=XYZ12345&a=b", "GET /r/12/[masqué]?x=1 and /prendre_rdv?tkn=[masqué]&a=b"),
    ("Authorization: Bearer abc.def", "Authorization: Bearer [masqué]"),
    ("client 192.168.1.20 asked", "client [ip] asked"),
    ("secret 3f2a9c0d8e7b6a5f4e3d2c1b0a998877 end", "secret [masqué] end"),
    ("rdv 1234 at 2026-12-05 09:30, 0.25 s, réf. A1B2C3D4", "rdv 1234 at 2026-12-05 09:30, 0.25 s, réf. A1B2C3D4"),
])
def test_the_message_itself_is_masked(logged, text: str, expected: str) -> None:
    logger, stream = logged
    logger.warning(f"{text}")
    assert _lines(stream)[0]["message"] == expected


def test_an_exception_keeps_its_type_and_stack_never_its_message(logged) -> None:
    logger, stream = logged
    try:
        try:
            raise ValueError("duplicate key (last_name)=(Dupont), phone 0612345678")
        except ValueError as error:
            raise RuntimeError("Marie Dupont") from error
    except RuntimeError:
        logger.exception("booking failed")
    [line] = _lines(stream)
    assert "Dupont" not in line["exception"] and "0612345678" not in line["exception"]
    assert "builtins.ValueError (message non journalisé)" in line["exception"]
    assert "builtins.RuntimeError (message non journalisé)" in line["exception"]
    assert "test_an_exception_keeps_its_type_and_stack_never_its_message" in line["exception"]


def test_lines_carry_the_context_of_what_runs(logged) -> None:
    logger, stream = logged
    with logs.context(event_id="abc123", organisation_id=7, handler="PlageState.save"):
        with logs.context(handler="rdv_app.notify.events.on_rdv_changed"):
            logger.info("inner")
        logger.info("outer")
    logger.info("outside")
    inner, outer, outside = _lines(stream)
    assert (inner["event_id"], inner["organisation_id"], inner["handler"]) == (
        "abc123", 7, "rdv_app.notify.events.on_rdv_changed")
    assert outer["handler"] == "PlageState.save"
    assert "event_id" not in outside and "handler" not in outside


def test_the_demo_keeps_its_log_unless_told(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(logs.FORMAT_SETTING, raising=False)
    assert logs.wanted_format(demo=True) is None
    assert logs.wanted_format(demo=False) == "json"
    monkeypatch.setenv(logs.FORMAT_SETTING, "text")
    assert logs.wanted_format(demo=True) == "text"
    monkeypatch.setenv(logs.FORMAT_SETTING, "yaml")
    with pytest.raises(RuntimeError):
        logs.wanted_format(demo=False)
