"""Shared fixtures: a real PostgreSQL cluster, per-database counts in the summary."""

from __future__ import annotations

import os
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
import time_machine
from hypothesis import settings

sys.path.insert(0, str(Path(__file__).parent))

os.environ.setdefault("REFLEX_TELEMETRY_ENABLED", "false")
os.environ.setdefault("REFLEX_CHECK_LATEST_VERSION", "false")
# The suite runs as `make run` serves: the demo (console SMS, demo mailbox). The tests of a real instance
# (tests/integration/test_production_mode.py and others) take it away.
os.environ.setdefault("RDV_DEMO", "1")

from pg import Cluster, start_cluster  # noqa: E402

from rdv_app import wiring  # noqa: E402

# The test process is one more process of the application: its handlers of domain events are wired.
wiring.configure()

DATABASES = ("sqlite", "postgresql")

# Speed is measured by the benchmarks, never asserted by a test: no per-example deadline, which a loaded
# machine (two cores, the browser ring next door) would turn into failures.
settings.register_profile("rdv", deadline=None)
settings.load_profile("rdv")


@pytest.fixture(scope="session")
def pg_cluster() -> Cluster:
    """Starts a throwaway PostgreSQL; a failure here fails the tests, it never skips them."""
    cluster = start_cluster()
    yield cluster
    cluster.stop()


@pytest.fixture(autouse=True)
def _clock(request: pytest.FixtureRequest) -> Iterator[None]:
    """`@pytest.mark.clock(instant)` (or `pytestmark`): the whole process, threads and loopback servers
    included, sees "now" start at `instant` and move on from there, whatever the day the test runs on;
    `tick=False` stops it there. Tests written on fixed dates use it; the others build their data from
    `clock.now()`."""
    marker = request.node.get_closest_marker("clock")
    if marker is None:
        yield
        return
    with time_machine.travel(marker.args[0], tick=marker.kwargs.get("tick", True)):
        yield


_passed_by_database: Counter[str] = Counter()


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.when == "call" and report.passed:
        for name in DATABASES:
            if f"[{name}" in report.nodeid or f"-{name}]" in report.nodeid or f"-{name}-" in report.nodeid:
                _passed_by_database[name] += 1


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:
    counts = ", ".join(f"{name}: {_passed_by_database[name]}" for name in DATABASES)
    terminalreporter.write_line(f"tests passed per database: {counts}")
