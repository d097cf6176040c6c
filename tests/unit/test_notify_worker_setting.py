"""RDV_NOTIFY_WORKER decides whether the app runs the notification worker itself."""

from __future__ import annotations

import pytest

from rdv_app.notify.worker import WORKER_SETTING, runs_in_app


@pytest.mark.parametrize(("value", "expected"), [(None, True), ("", True), ("app", True), (" APP ", True),
                                                  ("external", False), ("External", False)])
def test_the_app_runs_the_worker_unless_told_it_runs_elsewhere(monkeypatch: pytest.MonkeyPatch, value: str | None,
                                                               expected: bool) -> None:
    if value is None:
        monkeypatch.delenv(WORKER_SETTING, raising=False)
    else:
        monkeypatch.setenv(WORKER_SETTING, value)
    assert runs_in_app() is expected


def test_a_wrong_value_stops_the_start_with_a_french_message(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(WORKER_SETTING, "both")
    with pytest.raises(RuntimeError, match="RDV_NOTIFY_WORKER doit valoir app ou external"):
        runs_in_app()
