"""Benchmarks: the side-by-side ratios are printed once, after every benchmark has run."""

from __future__ import annotations

from typing import Any

from bench.bench_report import RATIOS


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: Any) -> None:
    if not RATIOS:
        return
    terminalreporter.section("RDV Services Publics vs RDV Service Public (medians)")
    width = max(len(label) for label, *_ in RATIOS)
    for label, measured, result, goal in RATIOS:
        terminalreporter.write_line(f"{label:<{width}}  {result:<24}  goal {goal:<12}  {measured}")
