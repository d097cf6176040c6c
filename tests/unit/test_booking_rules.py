"""Booking and planning rules, one object each, and the two policies that compose them (no database)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from rdv_app.domain.booking_rules import (
    AGENT_POLICY,
    USAGER_POLICY,
    InsideOpening,
    MaximumNotice,
    MinimumNotice,
    NoAbsenceOverlap,
    NoRdvOverlap,
    NotInThePast,
    NotOnHoliday,
    Proposal,
    SameMotifSameDay,
    Severity,
)
from rdv_app.domain.recurrence import Recurrence
from rdv_app.domain.slots import AgentAbsence, BusyInterval, Plage, Searcher, SlotMotif, SlotSearch, conflicts

PARIS = ZoneInfo("Europe/Paris")
NOW = datetime(2030, 3, 1, 9, 0, tzinfo=UTC)
START = datetime(2030, 3, 4, 9, 0, tzinfo=UTC)
AGENTS = {1: "Julien Petit", 2: "Inès Roux"}
CLEAR = Proposal(starts_at=START, ends_at=START + timedelta(minutes=30), now=NOW, agents=AGENTS)


@pytest.mark.parametrize(("rule", "proposal", "problems"), [
    (NoRdvOverlap(), CLEAR, []),
    (NoRdvOverlap(), replace(CLEAR, booked_agents=frozenset({2})), ["Inès Roux a déjà un RDV sur ce créneau."]),
    (NoAbsenceOverlap(), replace(CLEAR, absent_agents=frozenset({1, 2})),
     ["Julien Petit est indisponible (absence) sur ce créneau.", "Inès Roux est indisponible (absence) sur ce créneau."]),
    (InsideOpening(), replace(CLEAR, inside_opening=False),
     ["Ce créneau est en dehors des plages d'ouverture des agents pour ce motif."]),
    (NotInThePast(), replace(CLEAR, now=START + timedelta(minutes=1)), ["Ce RDV commence dans le passé."]),
    (NotInThePast(), replace(CLEAR, now=START), []),
    (SameMotifSameDay(), replace(CLEAR, same_motif_same_day=("Léa DUPONT",)),
     ["Léa DUPONT a déjà un RDV pour ce motif ce jour-là."]),
    (NotOnHoliday(), replace(CLEAR, on_holiday=True), ["Ce jour est férié : il n'est pas ouvert à la réservation."]),
    (MinimumNotice(), replace(CLEAR, min_notice=START - NOW), []),
    (MinimumNotice(), replace(CLEAR, min_notice=START - NOW + timedelta(seconds=1)),
     ["Ce créneau est trop proche pour être réservé en ligne."]),
    (MaximumNotice(), replace(CLEAR, max_notice=START - NOW), []),
    (MaximumNotice(), replace(CLEAR, max_notice=START - NOW - timedelta(seconds=1)),
     ["Ce créneau est trop lointain pour être réservé en ligne."]),
    (MaximumNotice(), replace(CLEAR, max_notice=None, starts_at=NOW + timedelta(days=3650)), []),
])
def test_each_rule_says_what_is_wrong_in_french_or_nothing(rule, proposal, problems) -> None:
    assert rule.problems(proposal) == problems


def test_agents_get_warnings_they_may_confirm_where_usagers_get_errors() -> None:
    crowded = replace(CLEAR, booked_agents=frozenset({1}), absent_agents=frozenset({2}), inside_opening=False)
    agent = AGENT_POLICY.verdicts(crowded)
    usager = USAGER_POLICY.verdicts(crowded)
    assert {v.severity for v in agent} == {Severity.WARNING}
    assert {v.severity for v in usager} == {Severity.ERROR}
    # The same facts, the same words, in each policy's order.
    assert [v.message for v in agent] == ["Julien Petit a déjà un RDV sur ce créneau.",
                                          "Inès Roux est indisponible (absence) sur ce créneau.",
                                          "Ce créneau est en dehors des plages d'ouverture des agents pour ce motif."]
    assert sorted(v.message for v in usager) == sorted(v.message for v in agent)


def test_only_some_rules_when_the_change_cannot_break_the_others() -> None:
    moved = replace(CLEAR, booked_agents=frozenset({1}), now=START + timedelta(hours=1))
    assert [v.rule for v in AGENT_POLICY.verdicts(moved, only={NotInThePast})] == ["NotInThePast"]
    assert AGENT_POLICY.verdicts(CLEAR) == []
    assert USAGER_POLICY.verdicts(CLEAR) == []


def test_booking_delays_and_holidays_bind_usagers_only() -> None:
    early_holiday = replace(CLEAR, min_notice=timedelta(days=7), on_holiday=True)
    assert AGENT_POLICY.verdicts(early_holiday) == []
    assert [v.rule for v in USAGER_POLICY.verdicts(early_holiday)] == ["MinimumNotice", "NotOnHoliday"]


def _search(**overrides) -> SlotSearch:
    monday = date(2030, 3, 4)
    values = dict(
        motif=SlotMotif(id=1, duration_in_min=30),
        plages=(Plage(id=1, agent_id=1, lieu_id=1, motif_ids=frozenset({1}), first_day=monday, start_time=time(9),
                      end_time=time(12), recurrence=Recurrence.weekly((0,)), created_at=NOW),),
        absences=(AgentAbsence(agent_id=2, first_day=monday, start_time=time(10), end_day=monday,
                               end_time=time(11), recurrence=Recurrence.weekly((0,))),),
        busy=(BusyInterval(agent_id=1, starts_at=datetime(2030, 3, 11, 9, tzinfo=PARIS),
                           ends_at=datetime(2030, 3, 11, 9, 30, tzinfo=PARIS)),),
        holidays=frozenset({date(2030, 3, 18)}), time_zone=PARIS, now=NOW, searcher=Searcher.AGENT)
    values.update(overrides)
    return SlotSearch(**values)


@pytest.mark.parametrize(("day", "start", "minutes", "booked", "absent", "inside", "holiday"), [
    (date(2030, 3, 4), time(9), 30, set(), set(), True, False),  # a Monday of the weekly plage
    (date(2030, 3, 4), time(11, 45), 30, set(), set(), False, False),  # ends after the plage
    (date(2030, 3, 11), time(9, 15), 30, {1}, set(), True, False),  # meets an RDV of agent 1
    (date(2030, 3, 11), time(9, 30), 30, set(), set(), True, False),  # touches it only
    (date(2030, 3, 25), time(10, 30), 60, set(), {2}, True, False),  # the weekly absence of agent 2
    (date(2030, 3, 18), time(9), 30, set(), set(), False, True),  # a holiday closes the plage
    (date(2030, 3, 5), time(9), 30, set(), set(), False, False),  # a Tuesday: no occurrence
])
def test_the_engine_finds_the_facts_with_the_occurrences_of_the_slots(day, start, minutes, booked, absent, inside,
                                                                       holiday) -> None:
    starts_at = datetime.combine(day, start, PARIS)
    found = conflicts(_search(), starts_at, starts_at + timedelta(minutes=minutes), {1, 2}, lieu_id=1)
    assert (set(found.booked_agents), set(found.absent_agents), found.inside_opening, found.on_holiday) == (
        booked, absent, inside, holiday)
