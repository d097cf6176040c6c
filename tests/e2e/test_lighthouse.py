"""Lighthouse CI on the production build (issue 24): the booking start, an organisation's link and a week of
slots, each audited three times on a phone (Lighthouse's mobile settings). Accessibility must score 100 and
best practices at least 95 (tests/js/lighthouserc.json); the performance figures (target: 90, LCP ≤ 2.5 s,
CLS ≤ 0.05) are printed, never asserted: they depend on the machine's load."""

from __future__ import annotations

from pathlib import Path

import lighthouse
import pytest
from conftest import open_booking_week
from playwright.sync_api import Page


def test_lighthouse_scores_of_the_public_pages(phone: Page, app_url: str, tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    open_booking_week(phone, app_url, "Consultation pédiatrique")
    week_url = phone.url
    urls = [f"{app_url}/prendre_rdv", f"{app_url}/org/1/pmi-arras", week_url]

    collected = lighthouse.collect(urls, tmp_path)
    assert collected.returncode == 0, collected.stdout[-4000:] + collected.stderr[-4000:]
    figures = lighthouse.report(tmp_path)
    with capsys.disabled():
        print(f"\nLighthouse, mobile, median of the runs ({app_url}):\n{lighthouse.table(figures, app_url)}\n")

    assert [(f.url, f.runs) for f in figures] == [(url, 3) for url in urls]
    checked = lighthouse.assert_scores(tmp_path)
    assert checked.returncode == 0, checked.stdout[-4000:] + checked.stderr[-4000:]
