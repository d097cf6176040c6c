"""Shared fixtures: a real PostgreSQL cluster, per-database counts in the summary."""

from __future__ import annotations

import os
import sys
from collections import Counter
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

os.environ.setdefault("REFLEX_TELEMETRY_ENABLED", "false")
os.environ.setdefault("REFLEX_CHECK_LATEST_VERSION", "false")

from pg import Cluster, start_cluster  # noqa: E402

DATABASES = ("sqlite", "postgresql")


@pytest.fixture(scope="session")
def pg_cluster() -> Cluster:
    """Starts a throwaway PostgreSQL; a failure here fails the tests, it never skips them."""
    cluster = start_cluster()
    yield cluster
    cluster.stop()


_passed_by_database: Counter[str] = Counter()


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.when == "call" and report.passed:
        for name in DATABASES:
            if f"[{name}" in report.nodeid or f"-{name}]" in report.nodeid or f"-{name}-" in report.nodeid:
                _passed_by_database[name] += 1


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:
    counts = ", ".join(f"{name}: {_passed_by_database[name]}" for name in DATABASES)
    terminalreporter.write_line(f"tests passed per database: {counts}")
