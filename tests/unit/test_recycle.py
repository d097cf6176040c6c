"""When a serving process hands over to a fresh one (rdv_app.recycle): only after a quiet spell with no tab
connected and no long job under way, and only if it kept memory beyond its start; only where that is safe
(the only worker of a master started by rdv_app.serve_built)."""

from __future__ import annotations

import os

import pytest

from rdv_app import recycle
from rdv_app.recycle import IdleWatch

MIB = 2**20


def watch() -> IdleWatch:
    return IdleWatch(start_rss=170 * MIB, idle_seconds=60, growth_percent=5)


def test_a_process_that_kept_a_rushs_memory_hands_over_after_a_minute_with_no_tab() -> None:
    watcher = watch()
    assert not watcher.due(1000, tabs=0, busy=False, rss=210 * MIB)  # the last tab has just left
    assert not watcher.due(1059, tabs=0, busy=False, rss=210 * MIB)
    assert watcher.due(1060, tabs=0, busy=False, rss=210 * MIB)


def test_never_while_a_tab_is_connected_however_long_and_however_big() -> None:
    watcher = watch()
    for now in range(0, 3600, 5):
        assert not watcher.due(now, tabs=1, busy=False, rss=240 * MIB)


def test_a_tab_or_a_long_job_in_between_starts_the_quiet_spell_again() -> None:
    watcher = watch()
    watcher.due(1000, tabs=0, busy=False, rss=210 * MIB)
    assert not watcher.due(1030, tabs=2, busy=False, rss=210 * MIB)
    assert not watcher.due(1031, tabs=0, busy=False, rss=210 * MIB)
    assert not watcher.due(1060, tabs=0, busy=True, rss=210 * MIB)  # an export under way
    assert not watcher.due(1061, tabs=0, busy=False, rss=210 * MIB)
    assert not watcher.due(1120, tabs=0, busy=False, rss=210 * MIB)
    assert watcher.due(1121, tabs=0, busy=False, rss=210 * MIB)


def test_a_process_near_its_start_keeps_serving() -> None:
    watcher = watch()
    watcher.due(0, tabs=0, busy=False, rss=178 * MIB)
    assert not watcher.due(600, tabs=0, busy=False, rss=178 * MIB)  # 4.7 % above its start
    assert watcher.due(605, tabs=0, busy=False, rss=179 * MIB)  # 5.3 %


def test_only_the_only_worker_of_the_master_that_started_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GRANIAN_WORKERS", "1")
    monkeypatch.setenv("RDV_SERVER_MASTER_PID", str(os.getppid()))
    assert recycle.server_master() == os.getppid()
    monkeypatch.setenv("RDV_SERVER_MASTER_PID", str(os.getpid()))  # the master itself, not a worker
    assert recycle.server_master() is None
    monkeypatch.setenv("RDV_SERVER_MASTER_PID", str(os.getppid()))
    monkeypatch.setenv("GRANIAN_WORKERS", "3")  # a SIGHUP would also restart the others and their tabs
    assert recycle.server_master() is None
    monkeypatch.delenv("RDV_SERVER_MASTER_PID")
    assert recycle.server_master() is None


def test_settings_are_checked_with_a_french_message(monkeypatch: pytest.MonkeyPatch) -> None:
    assert (recycle.idle_seconds(), recycle.growth_percent()) == (60, 5)
    monkeypatch.setenv("RDV_RECYCLE_IDLE_SECONDS", "300")
    monkeypatch.setenv("RDV_RECYCLE_GROWTH_PERCENT", "0")
    assert (recycle.idle_seconds(), recycle.growth_percent()) == (300, 0)
    for name, raw in (("RDV_RECYCLE_IDLE_SECONDS", "une minute"), ("RDV_RECYCLE_IDLE_SECONDS", "0"),
                      ("RDV_RECYCLE_GROWTH_PERCENT", "-5")):
        monkeypatch.setenv(name, raw)
        with pytest.raises(RuntimeError, match=f"^{name} doit être"):
            recycle.idle_seconds() if "IDLE" in name else recycle.growth_percent()
        monkeypatch.delenv(name)
