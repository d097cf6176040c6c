"""Lighthouse CI (`@lhci/cli`, installed in tests/js by `scripts/setup.sh jstools`) with Debian's chromium:
`lhci collect` runs Lighthouse's mobile audit three times on each address, `lhci assert` checks the
accessibility and best-practices scores of tests/js/lighthouserc.json, and `report` reads the runs'
figures (median of the runs) into a table. Used by tests/e2e/test_lighthouse.py (`make test`, `make bench`)."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
from dataclasses import dataclass
from pathlib import Path

JS_TOOLS = Path(__file__).resolve().parent / "js"
LHCI = JS_TOOLS / "node_modules" / ".bin" / "lhci"
CONFIG = JS_TOOLS / "lighthouserc.json"


@dataclass(frozen=True)
class Figures:
    """One address's figures, each the median of its runs."""

    url: str
    runs: int
    performance: float
    accessibility: float
    best_practices: float
    lcp_ms: float
    cls: float
    tbt_ms: float
    js_transfer_kib: float
    js_resource_kib: float
    transfer_kib: float
    # Lighthouse's measure of the machine's CPU (about 1,000 on a loaded CI machine, 2,000 on a quiet laptop):
    # the performance figures of two runs compare only at a like index.
    benchmark_index: float


def _environment() -> dict[str, str]:
    return {**os.environ, "CHROME_PATH": os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"), "CI": "1"}


def collect(urls: list[str], workdir: Path) -> subprocess.CompletedProcess[str]:
    """`lhci collect` of every address into `workdir`/.lighthouseci."""
    command = [str(LHCI), "collect", f"--config={CONFIG}", *(f"--url={url}" for url in urls)]
    return subprocess.run(command, cwd=workdir, env=_environment(), capture_output=True, text=True,  # noqa: S603
                          timeout=1800, check=False)


def assert_scores(workdir: Path) -> subprocess.CompletedProcess[str]:
    """`lhci assert` of tests/js/lighthouserc.json on the runs in `workdir`."""
    return subprocess.run([str(LHCI), "assert", f"--config={CONFIG}"], cwd=workdir,  # noqa: S603
                          env=_environment(), capture_output=True, text=True, timeout=120, check=False)


def _script_kib(lhr: dict, key: str) -> float:
    items = lhr["audits"]["network-requests"]["details"]["items"]
    return sum(item.get(key, 0) for item in items if item.get("resourceType") == "Script") / 1024


def report(workdir: Path) -> list[Figures]:
    """The median figures of each address audited in `workdir`, in the order the addresses were given."""
    runs: dict[str, list[dict]] = {}
    for file in sorted((workdir / ".lighthouseci").glob("lhr-*.json")):
        lhr = json.loads(file.read_text())
        runs.setdefault(lhr["requestedUrl"], []).append(lhr)

    def median(lhrs: list[dict], read) -> float:
        return statistics.median(read(lhr) for lhr in lhrs)

    figures = []
    for url, lhrs in sorted(runs.items(), key=lambda item: min(lhr["fetchTime"] for lhr in item[1])):
        figures.append(Figures(
            url=url, runs=len(lhrs),
            performance=median(lhrs, lambda r: r["categories"]["performance"]["score"] * 100),
            accessibility=median(lhrs, lambda r: r["categories"]["accessibility"]["score"] * 100),
            best_practices=median(lhrs, lambda r: r["categories"]["best-practices"]["score"] * 100),
            lcp_ms=median(lhrs, lambda r: r["audits"]["largest-contentful-paint"]["numericValue"]),
            cls=median(lhrs, lambda r: r["audits"]["cumulative-layout-shift"]["numericValue"]),
            tbt_ms=median(lhrs, lambda r: r["audits"]["total-blocking-time"]["numericValue"]),
            js_transfer_kib=median(lhrs, lambda r: _script_kib(r, "transferSize")),
            js_resource_kib=median(lhrs, lambda r: _script_kib(r, "resourceSize")),
            transfer_kib=median(lhrs, lambda r: r["audits"]["total-byte-weight"]["numericValue"] / 1024),
            benchmark_index=median(lhrs, lambda r: r["environment"]["benchmarkIndex"]),
        ))
    return figures


def table(figures: list[Figures], base_url: str) -> str:
    """The figures as a Markdown table (addresses relative to `base_url`)."""
    lines = ["| page | runs | performance | LCP | CLS | TBT | JS transferred / uncompressed | all transferred "
             "| accessibility | best practices | CPU index |",
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    lines += [
        f"| {f.url.removeprefix(base_url) or '/'} | {f.runs} | {f.performance:.0f} | {f.lcp_ms / 1000:.2f} s "
        f"| {f.cls:.3f} | {f.tbt_ms:.0f} ms | {f.js_transfer_kib:.0f} / {f.js_resource_kib:.0f} KiB "
        f"| {f.transfer_kib:.0f} KiB | {f.accessibility:.0f} | {f.best_practices:.0f} | {f.benchmark_index:.0f} |"
        for f in figures
    ]
    return "\n".join(lines)
