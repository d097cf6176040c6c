"""The side-by-side figures of a `make bench` run, printed together at its end (tests/bench/conftest.py)."""

from __future__ import annotations

RATIOS: list[tuple[str, str, str, str]] = []


def record_ratio(label: str, measured: str, result: str, goal: str) -> None:
    """One line of the final table: what was compared, the medians, the ratio, the issue's goal."""
    RATIOS.append((label, measured, result, goal))
