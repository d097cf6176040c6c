"""Our engine and the port of RDV Service Public's algorithm used by the side-by-side benchmarks
(tests/bench/rdvsp_port.py) find exactly the same slots on the benchmarks' data: the speed ratios that
`make bench` prints compare equal work."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from bench.rdvsp_port import PeerInputs
from bench.test_bench_slots import FIRST_DAY, LAST_DAY, build_search

from rdv_app.domain.slots import Searcher, available_slots


def test_same_slots_as_rdv_service_public_on_the_benchmark_data():
    search = build_search(20, 5000)
    ours = {(s.starts_at, s.agent_id, s.lieu_id) for s in available_slots(search, FIRST_DAY, LAST_DAY)}
    peer = {(s.starts_at, s.agent_id, s.lieu_id) for s in PeerInputs.of(search).slots(search, FIRST_DAY, LAST_DAY)}
    assert len(ours) > 1000
    assert ours == peer


def test_same_slots_when_the_search_starts_today_with_rounding_and_on_the_dst_change():
    # The bench data's now (Sunday 8:00) moved to Monday 10:03: today's slots start on 5-minute steps
    # after now; the 31 days cross no DST change, so a second range covers 26 October 2025.
    search = build_search(8, 2000, Searcher.AGENT, absence_count=40)
    monday = search.now + timedelta(days=1, hours=2, minutes=3)
    for now, first_day, last_day in ((monday, FIRST_DAY, LAST_DAY),
                                     (search.now, FIRST_DAY + timedelta(days=140), FIRST_DAY + timedelta(days=150))):
        moved = replace(search, now=now)
        ours = {(s.starts_at, s.agent_id) for s in available_slots(moved, first_day, last_day)}
        peer = {(s.starts_at, s.agent_id) for s in PeerInputs.of(moved).slots(moved, first_day, last_day)}
        assert ours and ours == peer
