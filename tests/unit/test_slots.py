"""The slot engine, rule by rule, with the examples of domain.md section 2 and issue 3."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from rdv_app.domain.off_days import holidays_between
from rdv_app.domain.recurrence import Recurrence
from rdv_app.domain.slots import (
    AgentAbsence,
    BusyInterval,
    Plage,
    Searcher,
    Slot,
    SlotMotif,
    SlotSearch,
    available_slots,
    booking_window,
    displayed_slots,
    horizon_last_day,
    next_availability,
    pick_slot_for_booking,
    validate_slot,
)

PARIS = ZoneInfo("Europe/Paris")
REUNION = ZoneInfo("Indian/Reunion")
CAYENNE = ZoneInfo("America/Cayenne")
MOTIF_ID = 1
MON, TUE, WED, THU, FRI, SAT, SUN = range(7)
WORKING_DAYS = Recurrence.weekly((MON, TUE, WED, THU, FRI))
# Monday 2 June 2025 is the first day of most examples; "now" is the evening before unless said.
MONDAY = date(2025, 6, 2)
SUNDAY_EVENING = datetime(2025, 6, 1, 20, 0, tzinfo=PARIS)


def hm(text: str) -> time:
    return time.fromisoformat(text)


def at(day: date, text: str, tz: ZoneInfo = PARIS) -> datetime:
    """A local wall-clock time as an aware datetime."""
    return datetime.combine(day, hm(text), tzinfo=tz)


def plage(
    plage_id: int = 1,
    *,
    agent: int = 1,
    lieu: int | None = 1,
    day: date = MONDAY,
    start: str = "09:00",
    end: str = "12:00",
    recurrence: Recurrence | None = None,
    motifs: tuple[int, ...] = (MOTIF_ID,),
    created: datetime | None = None,
) -> Plage:
    return Plage(
        id=plage_id, agent_id=agent, lieu_id=lieu, motif_ids=frozenset(motifs), first_day=day,
        start_time=hm(start), end_time=hm(end), recurrence=recurrence,
        created_at=created or datetime(2025, 1, 1, tzinfo=UTC) + timedelta(hours=plage_id),
    )


def rdv(day: date, start: str, end: str, agent: int = 1, tz: ZoneInfo = PARIS) -> BusyInterval:
    return BusyInterval(agent, at(day, start, tz).astimezone(UTC), at(day, end, tz).astimezone(UTC))


def absence(day: date, start: str, end: str, *, end_day: date | None = None, agent: int = 1,
            recurrence: Recurrence | None = None) -> AgentAbsence:
    return AgentAbsence(agent, day, hm(start), end_day or day, hm(end), recurrence)


def search(
    *plages: Plage,
    now: datetime = SUNDAY_EVENING,
    busy: tuple[BusyInterval, ...] = (),
    absences: tuple[AgentAbsence, ...] = (),
    holidays: frozenset[date] = frozenset(),
    tz: ZoneInfo = PARIS,
    searcher: Searcher = Searcher.AGENT,
    duration: int = 30,
    min_delay: int = 1800,
    max_delay: int = 7_889_238,
) -> SlotSearch:
    return SlotSearch(
        motif=SlotMotif(MOTIF_ID, duration, min_delay, max_delay), plages=plages, absences=absences,
        busy=busy, holidays=holidays, time_zone=tz, now=now, searcher=searcher,
    )


def times(slots: list[Slot], tz: ZoneInfo = PARIS) -> list[str]:
    """Local start times, as a person reads them on the page."""
    return [s.starts_at.astimezone(tz).strftime("%H:%M") for s in slots]


def days_and_times(slots: list[Slot], tz: ZoneInfo = PARIS) -> list[str]:
    return [s.starts_at.astimezone(tz).strftime("%m-%d %H:%M") for s in slots]


def slot_days(slots: list[Slot], tz: ZoneInfo = PARIS) -> list[date]:
    return sorted({s.starts_at.astimezone(tz).date() for s in slots})


def one_day(s: SlotSearch, day: date = MONDAY, **filters) -> list[Slot]:
    return available_slots(s, day, day, **filters)


# --------------------------------------------------------------------------- layout


def test_todays_first_slot_is_rounded_up_to_the_next_five_minutes_after_now():
    # domain.md 2.1 step 6: now = 15:03 with a free interval from 14:00 gives 15:05.
    s = search(plage(start="14:00", end="18:00"), now=at(MONDAY, "15:03"))
    assert times(one_day(s)) == ["15:05", "15:35", "16:05", "16:35", "17:05"]


def test_now_exactly_on_a_five_minute_step_keeps_that_step():
    assert times(one_day(search(plage(start="14:00", end="16:00"), now=at(MONDAY, "15:05"))))[0] == "15:05"
    later = at(MONDAY, "15:05") + timedelta(microseconds=1)
    assert times(one_day(search(plage(start="14:00", end="16:00"), now=later)))[0] == "15:10"


def test_rounding_is_counted_from_the_start_of_the_free_interval():
    # The free interval starts at 14:02 (after an RDV); 5-minute steps from 14:02 give 15:07.
    s = search(plage(start="14:00", end="18:00"), now=at(MONDAY, "15:03"), busy=(rdv(MONDAY, "13:30", "14:02"),))
    assert times(one_day(s)) == ["15:07", "15:37", "16:07", "16:37", "17:07"]


def test_after_an_rdv_from_9_00_to_9_20_slots_continue_at_9_20_then_9_50():
    s = search(plage(), busy=(rdv(MONDAY, "09:00", "09:20"),))
    assert times(one_day(s)) == ["09:20", "09:50", "10:20", "10:50", "11:20"]


def test_the_grid_starts_at_the_plage_start_and_steps_by_the_motif_duration():
    assert times(one_day(search(plage(), duration=45))) == ["09:00", "09:45", "10:30", "11:15"]
    assert times(one_day(search(plage(start="09:10", end="10:00"), duration=20))) == ["09:10", "09:30"]


def test_a_slot_must_end_inside_its_free_interval():
    assert times(one_day(search(plage(end="10:00"), duration=45))) == ["09:00"]
    s = search(plage(end="10:30"), duration=45, busy=(rdv(MONDAY, "09:45", "10:00"),))
    assert times(one_day(s)) == ["09:00"]  # 10:00-10:30 is too short for 45 minutes


def test_an_rdv_blocks_its_interval_and_slots_resume_at_its_end():
    s = search(plage(), busy=(rdv(MONDAY, "10:10", "10:40"),))
    assert times(one_day(s)) == ["09:00", "09:30", "10:40", "11:10"]


def test_intervals_that_only_touch_do_not_conflict():
    busy = (rdv(MONDAY, "08:30", "09:00"), rdv(MONDAY, "10:00", "10:30"), rdv(MONDAY, "12:00", "12:30"))
    assert times(one_day(search(plage(), busy=busy))) == ["09:00", "09:30", "10:30", "11:00", "11:30"]


def test_overlapping_rdvs_block_their_union():
    busy = (rdv(MONDAY, "09:00", "10:00"), rdv(MONDAY, "09:30", "10:15"), rdv(MONDAY, "09:45", "09:50"))
    assert times(one_day(search(plage(), busy=busy))) == ["10:15", "10:45", "11:15"]


def test_rdvs_of_other_agents_do_not_block():
    s = search(plage(agent=1), busy=(rdv(MONDAY, "09:00", "12:00", agent=2),))
    assert times(one_day(s)) == ["09:00", "09:30", "10:00", "10:30", "11:00", "11:30"]


def test_a_fully_booked_plage_gives_no_slot():
    assert one_day(search(plage(), busy=(rdv(MONDAY, "08:00", "13:00"),))) == []


def test_past_days_and_past_slots_are_never_offered():
    s = search(plage(recurrence=WORKING_DAYS, day=date(2025, 5, 26)), now=at(MONDAY, "10:40"))
    slots = available_slots(s, date(2025, 5, 26), MONDAY)
    assert days_and_times(slots) == ["06-02 10:40", "06-02 11:10"]


def test_slots_are_utc_instants_lasting_the_motif_duration():
    (first, *_) = one_day(search(plage(), duration=20))
    assert first.starts_at == datetime(2025, 6, 2, 7, 0, tzinfo=UTC)
    assert first.starts_at.utcoffset() == timedelta(0)
    assert first.ends_at - first.starts_at == timedelta(minutes=20)
    assert (first.agent_id, first.lieu_id, first.plage_id) == (1, 1, 1)


# --------------------------------------------------------------------------- holidays


def test_a_public_holiday_blocks_the_whole_day():
    # Lundi de Pentecôte, 9 June 2025.
    s = search(plage(recurrence=WORKING_DAYS), holidays=holidays_between("75", MONDAY, date(2025, 6, 30)))
    assert slot_days(available_slots(s, date(2025, 6, 9), date(2025, 6, 10))) == [date(2025, 6, 10)]


@pytest.mark.parametrize(("departement", "blocked"), [("57", True), ("67", True), ("68", True), ("75", False),
                                                      ("974", False)])
def test_good_friday_and_26_december_close_only_alsace_moselle(departement, blocked):
    fridays = plage(day=date(2025, 4, 11), recurrence=Recurrence.weekly((FRI,)))
    now = datetime(2025, 4, 10, 8, 0, tzinfo=PARIS)
    holidays = holidays_between(departement, date(2025, 4, 1), date(2025, 12, 31))
    s = search(fridays, now=now, holidays=holidays)
    good_friday, saint_stephen = date(2025, 4, 18), date(2025, 12, 26)
    assert (one_day(s, good_friday) == []) is blocked
    assert (one_day(s, saint_stephen) == []) is blocked
    assert one_day(s, date(2025, 4, 25)) != []  # an ordinary Friday stays open everywhere


def test_20_december_closes_la_reunion_only():
    saturdays = plage(day=date(2025, 12, 6), recurrence=Recurrence.weekly((SAT,)))
    now = datetime(2025, 12, 1, 8, 0, tzinfo=REUNION)
    window = (date(2025, 12, 1), date(2025, 12, 31))
    reunion = search(saturdays, now=now, tz=REUNION, holidays=holidays_between("974", *window))
    assert slot_days(available_slots(reunion, date(2025, 12, 13), date(2025, 12, 27)), REUNION) == [
        date(2025, 12, 13), date(2025, 12, 27),
    ]
    mainland_calendar = search(saturdays, now=now, tz=REUNION, holidays=holidays_between("75", *window))
    assert date(2025, 12, 20) in slot_days(available_slots(mainland_calendar, *window), REUNION)


# --------------------------------------------------------------------------- absences


def test_a_one_off_absence_blocks_its_interval():
    s = search(plage(), absences=(absence(MONDAY, "10:00", "11:00"),))
    assert times(one_day(s)) == ["09:00", "09:30", "11:00", "11:30"]


def test_a_multi_day_absence_blocks_every_day_it_covers():
    mornings = plage(1, recurrence=WORKING_DAYS)
    afternoons = plage(2, start="14:00", end="16:00", recurrence=WORKING_DAYS)
    away = absence(date(2025, 6, 3), "14:00", "10:00", end_day=date(2025, 6, 5))
    s = search(mornings, afternoons, absences=(away,), duration=60)
    assert days_and_times(available_slots(s, date(2025, 6, 3), date(2025, 6, 5))) == [
        "06-03 09:00", "06-03 10:00", "06-03 11:00",
        "06-05 10:00", "06-05 11:00", "06-05 14:00", "06-05 15:00",
    ]


def test_an_absence_that_began_before_the_range_still_blocks():
    away = absence(date(2025, 5, 28), "08:00", "10:00", end_day=date(2025, 6, 3))
    s = search(plage(recurrence=WORKING_DAYS), absences=(away,), duration=60)
    assert days_and_times(available_slots(s, MONDAY, date(2025, 6, 3))) == [
        "06-03 10:00", "06-03 11:00",
    ]


def test_a_recurring_absence_blocks_each_of_its_occurrences():
    tuesdays = plage(day=date(2025, 6, 3), recurrence=Recurrence.weekly((TUE,)))
    every_other_tuesday = absence(date(2025, 6, 3), "09:00", "10:00", recurrence=Recurrence.weekly(interval=2))
    s = search(tuesdays, absences=(every_other_tuesday,), duration=60)
    assert days_and_times(available_slots(s, date(2025, 6, 3), date(2025, 6, 17))) == [
        "06-03 10:00", "06-03 11:00",
        "06-10 09:00", "06-10 10:00", "06-10 11:00",
        "06-17 10:00", "06-17 11:00",
    ]


def test_a_recurring_absence_stops_after_its_until():
    ended = absence(date(2025, 5, 5), "09:00", "12:00",
                    recurrence=Recurrence.weekly((MON,), until=date(2025, 6, 2)))
    s = search(plage(recurrence=Recurrence.weekly((MON,))), absences=(ended,), duration=60)
    assert slot_days(available_slots(s, MONDAY, date(2025, 6, 9))) == [date(2025, 6, 9)]


def test_the_absence_of_another_agent_does_not_block():
    s = search(plage(agent=1), absences=(absence(MONDAY, "08:00", "13:00", agent=2),))
    assert len(one_day(s)) == 6


# --------------------------------------------------------------------------- recurrence of plages


def test_weekly_plage_every_two_weeks_on_monday_and_thursday():
    s = search(plage(recurrence=Recurrence.weekly((MON, THU), interval=2)))
    assert slot_days(available_slots(s, MONDAY, date(2025, 6, 30))) == [
        date(2025, 6, 2), date(2025, 6, 5), date(2025, 6, 16), date(2025, 6, 19), date(2025, 6, 30),
    ]


def test_monthly_plages_on_the_second_tuesday_and_the_last_friday():
    second_tuesday = plage(1, day=date(2025, 6, 10), recurrence=Recurrence.monthly(TUE, 2))
    last_friday = plage(2, day=date(2025, 6, 27), recurrence=Recurrence.monthly(FRI, -1))
    s = search(second_tuesday, last_friday)
    assert slot_days(available_slots(s, MONDAY, date(2025, 8, 31))) == [
        date(2025, 6, 10), date(2025, 6, 27), date(2025, 7, 8), date(2025, 7, 25), date(2025, 8, 12),
        date(2025, 8, 29),
    ]


def test_a_plage_stops_after_its_until():
    s = search(plage(recurrence=Recurrence.weekly((MON,), until=date(2025, 6, 16))))
    assert slot_days(available_slots(s, MONDAY, date(2025, 7, 31))) == [
        date(2025, 6, 2), date(2025, 6, 9), date(2025, 6, 16),
    ]


def test_a_series_started_years_ago_is_fast_forwarded_to_the_range():
    s = search(plage(day=date(2015, 1, 5), recurrence=Recurrence.weekly((MON,), interval=2)))
    # 5 January 2015 to 2 June 2025 is 543 weeks: an odd week, so 9 June is the active Monday.
    assert slot_days(available_slots(s, MONDAY, date(2025, 6, 15))) == [date(2025, 6, 9)]


def test_every_occurrence_keeps_the_hours_of_the_first():
    s = search(plage(end="10:30", recurrence=Recurrence.weekly((MON,))))
    assert days_and_times(available_slots(s, MONDAY, date(2025, 6, 16))) == [
        "06-02 09:00", "06-02 09:30", "06-02 10:00",
        "06-09 09:00", "06-09 09:30", "06-09 10:00",
        "06-16 09:00", "06-16 09:30", "06-16 10:00",
    ]


def test_expired_plages_are_ignored():
    now = at(MONDAY, "08:00")
    ended_yesterday = plage(1, day=date(2025, 5, 1), recurrence=Recurrence.weekly((MON, SUN), until=date(2025, 6, 1)))
    one_off_yesterday = plage(2, day=date(2025, 6, 1))
    assert available_slots(search(ended_yesterday, one_off_yesterday, now=now), date(2025, 5, 1), date(2025, 6, 30)) == []
    assert times(one_day(search(plage(3), now=now))) == ["09:00", "09:30", "10:00", "10:30", "11:00", "11:30"]


# --------------------------------------------------------------------------- filters


def test_only_plages_listing_the_motif_count():
    s = search(plage(1, motifs=(2, 3)), plage(2, agent=2, motifs=(3, MOTIF_ID)))
    assert {slot.plage_id for slot in one_day(s)} == {2}


def test_lieu_and_agent_filters():
    s = search(plage(1, agent=1, lieu=1), plage(2, agent=2, lieu=2), plage(3, agent=3, lieu=2))
    assert {slot.plage_id for slot in one_day(s, lieu_id=2)} == {2, 3}
    assert {slot.plage_id for slot in one_day(s, agent_ids=[1, 3])} == {1, 3}
    assert {slot.plage_id for slot in one_day(s, lieu_id=2, agent_ids=[1, 3])} == {3}
    assert one_day(s, agent_ids=[]) == []


def test_an_empty_or_reversed_range_gives_nothing():
    assert available_slots(search(plage()), date(2025, 6, 3), MONDAY) == []


# --------------------------------------------------------------------------- booking delays


def test_usagers_and_prescripteurs_respect_the_minimum_delay_agents_do_not():
    now = at(MONDAY, "15:03")
    afternoon = plage(start="14:00", end="18:00")
    for searcher in (Searcher.USAGER, Searcher.PRESCRIPTEUR):
        # 15:05 is less than 30 minutes ahead; the grid stays anchored on the rounded 15:05.
        assert times(one_day(search(afternoon, now=now, searcher=searcher))) == ["15:35", "16:05", "16:35", "17:05"]
    assert times(one_day(search(afternoon, now=now, searcher=Searcher.AGENT))) == [
        "15:05", "15:35", "16:05", "16:35", "17:05",
    ]


def test_a_two_day_minimum_delay_hides_the_first_two_days_from_usagers():
    s = dict(now=at(MONDAY, "10:00"), min_delay=2 * 86400, duration=60)
    weekdays = plage(recurrence=WORKING_DAYS)
    usager = available_slots(search(weekdays, searcher=Searcher.USAGER, **s), MONDAY, date(2025, 6, 4))
    assert days_and_times(usager) == ["06-04 10:00", "06-04 11:00"]
    agent = available_slots(search(weekdays, searcher=Searcher.AGENT, **s), MONDAY, MONDAY)
    assert days_and_times(agent) == ["06-02 10:00", "06-02 11:00"]


def test_the_maximum_delay_closes_later_days_to_usagers_only():
    s = dict(now=at(MONDAY, "10:00"), max_delay=7 * 86400, duration=60)
    weekdays = plage(recurrence=WORKING_DAYS)
    usager = available_slots(search(weekdays, searcher=Searcher.USAGER, **s), date(2025, 6, 9), date(2025, 6, 10))
    assert days_and_times(usager) == ["06-09 09:00", "06-09 10:00"]
    agent = available_slots(search(weekdays, searcher=Searcher.AGENT, **s), date(2025, 6, 9), date(2025, 6, 10))
    assert len(agent) == 6


def test_booking_window():
    now = at(MONDAY, "10:00")
    assert booking_window(search(now=now, searcher=Searcher.USAGER, min_delay=1800, max_delay=86400)) == (
        now + timedelta(minutes=30), now + timedelta(days=1),
    )
    assert booking_window(search(now=now, searcher=Searcher.AGENT)) == (now, None)
    assert booking_window(search(now=now, searcher=Searcher.USAGER, min_delay=0, max_delay=0)) == (now, None)


# --------------------------------------------------------------------------- several agents at the same time


def _two_agents(first_created: int = 1) -> SlotSearch:
    early, late = datetime(2025, 1, 1, tzinfo=UTC), datetime(2025, 3, 1, tzinfo=UTC)
    return search(
        plage(10, agent=1, created=early if first_created == 1 else late),
        plage(20, agent=2, created=early if first_created == 2 else late),
        searcher=Searcher.USAGER,
    )


def test_usagers_see_one_slot_per_time_agents_one_per_agent():
    usager = _two_agents()
    agent = search(*usager.plages, searcher=Searcher.AGENT)
    shown_to_usager = displayed_slots(usager, MONDAY, MONDAY)
    assert times(shown_to_usager) == ["09:00", "09:30", "10:00", "10:30", "11:00", "11:30"]
    shown_to_agent = displayed_slots(agent, MONDAY, MONDAY)
    assert [(t, s.agent_id) for t, s in zip(times(shown_to_agent), shown_to_agent, strict=True)][:4] == [
        ("09:00", 1), ("09:00", 2), ("09:30", 1), ("09:30", 2),
    ]
    assert len(shown_to_agent) == 12


def test_an_agent_with_two_overlapping_plages_appears_once_per_time():
    s = search(plage(1), plage(2, start="10:00", end="12:00"), searcher=Searcher.AGENT)
    assert len(available_slots(s, MONDAY, MONDAY)) == 10
    assert times(displayed_slots(s, MONDAY, MONDAY)) == ["09:00", "09:30", "10:00", "10:30", "11:00", "11:30"]


@pytest.mark.parametrize("first_created", [1, 2])
def test_the_plage_created_first_wins(first_created):
    s = _two_agents(first_created)
    nine = at(MONDAY, "09:00")
    assert {slot.agent_id for slot in displayed_slots(s, MONDAY, MONDAY)} == {first_created}
    picked = pick_slot_for_booking(available_slots(s, MONDAY, MONDAY), s.plages, nine)
    assert picked is not None and picked.agent_id == first_created
    assert validate_slot(s, nine).agent_id == first_created


def test_equal_creation_times_fall_back_to_the_lowest_plage_id():
    same = datetime(2025, 1, 1, tzinfo=UTC)
    s = search(plage(7, agent=1, created=same), plage(5, agent=2, created=same), searcher=Searcher.USAGER)
    assert validate_slot(s, at(MONDAY, "09:00")).plage_id == 5
    assert displayed_slots(s, MONDAY, MONDAY)[0].plage_id == 5


def test_pick_slot_for_booking_honours_the_chosen_agent_and_lieu():
    s = search(plage(1, agent=1, lieu=1), plage(2, agent=2, lieu=2), plage(3, agent=3, lieu=2))
    slots = available_slots(s, MONDAY, MONDAY)
    nine = at(MONDAY, "09:00")
    assert pick_slot_for_booking(slots, s.plages, nine).plage_id == 1
    assert pick_slot_for_booking(slots, s.plages, nine, lieu_id=2).plage_id == 2
    assert pick_slot_for_booking(slots, s.plages, nine, agent_id=3).plage_id == 3
    assert pick_slot_for_booking(slots, s.plages, nine, lieu_id=1, agent_id=3) is None
    assert pick_slot_for_booking(slots, s.plages, at(MONDAY, "09:10")) is None


# --------------------------------------------------------------------------- final validation


def test_validation_falls_back_to_the_next_agent_then_refuses():
    s = _two_agents()
    nine = at(MONDAY, "09:00")
    assert validate_slot(s, nine).agent_id == 1
    first_taken = search(*s.plages, searcher=Searcher.USAGER, busy=(rdv(MONDAY, "09:00", "09:30", agent=1),))
    assert validate_slot(first_taken, nine).agent_id == 2
    both_taken = search(*s.plages, searcher=Searcher.USAGER, busy=(
        rdv(MONDAY, "09:00", "09:30", agent=1), rdv(MONDAY, "08:45", "09:15", agent=2),
    ))
    assert validate_slot(both_taken, nine) is None


def test_validation_returns_the_whole_slot():
    assert validate_slot(search(plage(), duration=20), at(MONDAY, "09:20")) == Slot(
        starts_at=datetime(2025, 6, 2, 7, 20, tzinfo=UTC), ends_at=datetime(2025, 6, 2, 7, 40, tzinfo=UTC),
        agent_id=1, lieu_id=1, plage_id=1,
    )


def test_validation_refuses_what_the_display_would_not_offer():
    # now 9:42: the grid runs from 9:45 (rounded), 30 minutes apart.
    s = search(plage(), now=at(MONDAY, "09:42"), searcher=Searcher.USAGER)
    assert validate_slot(s, at(MONDAY, "09:45")) is None  # on the grid, but inside the 30-minute delay
    assert validate_slot(s, at(MONDAY, "10:15")) is not None
    assert validate_slot(s, at(MONDAY, "10:22")) is None  # not on the 5-minute grid
    assert validate_slot(s, at(MONDAY, "09:00")) is None  # past
    assert validate_slot(s, at(MONDAY, "11:45")) is None  # would end after the plage
    agent = search(plage(), now=at(MONDAY, "09:42"), searcher=Searcher.AGENT)
    assert validate_slot(agent, at(MONDAY, "09:45")) is not None  # no delay for agents
    assert validate_slot(agent, at(MONDAY, "09:45"), agent_id=2) is None
    assert validate_slot(agent, at(MONDAY, "09:45"), lieu_id=2) is None


def test_a_slot_shown_a_moment_ago_stays_bookable_while_it_is_free():
    # At 15:03 today's grid is 15:05, 15:35, 16:05; at 15:06 it has moved to 15:10, 15:40, 16:10.
    shown = search(plage(start="14:00", end="18:00"), now=at(MONDAY, "15:03"), searcher=Searcher.USAGER)
    offered = at(MONDAY, "16:05")
    assert offered in [slot.starts_at for slot in displayed_slots(shown, MONDAY, MONDAY)]
    later = search(*shown.plages, now=at(MONDAY, "15:06"), searcher=Searcher.USAGER)
    assert offered not in [slot.starts_at for slot in displayed_slots(later, MONDAY, MONDAY)]
    assert validate_slot(later, offered) is not None
    taken = search(*shown.plages, now=at(MONDAY, "15:06"), searcher=Searcher.USAGER,
                   busy=(rdv(MONDAY, "16:00", "16:30"),))
    assert validate_slot(taken, offered) is None


# --------------------------------------------------------------------------- next availability


def test_next_availability_skips_an_empty_week():
    holiday_week = absence(MONDAY, "00:00", "23:59", end_day=date(2025, 6, 6))
    s = search(plage(recurrence=WORKING_DAYS), absences=(holiday_week,), searcher=Searcher.USAGER)
    found = next_availability(s)
    assert days_and_times([found]) == ["06-09 09:00"]
    assert found == available_slots(s, MONDAY, date(2025, 6, 30))[0]


def test_next_availability_respects_the_usager_horizon_but_not_for_agents():
    far = plage(day=date(2025, 9, 1), recurrence=WORKING_DAYS)  # three months ahead
    usager = search(far, searcher=Searcher.USAGER, max_delay=30 * 86400)
    assert next_availability(usager) is None
    agent = search(far, searcher=Searcher.AGENT, max_delay=30 * 86400)
    assert days_and_times([next_availability(agent)]) == ["09-01 09:00"]


def test_agents_look_six_months_ahead():
    now = at(MONDAY, "08:00")
    assert horizon_last_day(search(now=now)) == date(2025, 12, 2)
    in_five_months = search(plage(day=date(2025, 11, 3), recurrence=WORKING_DAYS), now=now)
    assert days_and_times([next_availability(in_five_months)]) == ["11-03 09:00"]
    in_seven_months = search(plage(day=date(2026, 1, 5), recurrence=WORKING_DAYS), now=now)
    assert next_availability(in_seven_months) is None


def test_next_availability_finds_a_later_starting_plage_that_is_free_earlier():
    # Agent 1's plage opens first but is booked until 11:00; agent 2 opens at 10:00 and is free.
    s = search(plage(1, agent=1), plage(2, agent=2, start="10:00"), busy=(rdv(MONDAY, "09:00", "11:00"),))
    found = next_availability(s)
    assert (times([found]), found.agent_id) == (["10:00"], 2)


def test_next_availability_prefers_the_plage_created_first_at_equal_times():
    assert next_availability(_two_agents(first_created=2)).agent_id == 2
    assert next_availability(_two_agents(first_created=1)).agent_id == 1


def test_next_availability_today_uses_the_rounded_start_and_the_delay():
    s = search(plage(start="14:00", end="18:00", recurrence=WORKING_DAYS), now=at(MONDAY, "15:03"),
               searcher=Searcher.USAGER)
    assert days_and_times([next_availability(s)]) == ["06-02 15:35"]
    agent = search(*s.plages, now=at(MONDAY, "15:03"))
    assert days_and_times([next_availability(agent)]) == ["06-02 15:05"]


def test_next_availability_from_a_given_day_and_for_one_lieu():
    s = search(plage(1, lieu=1, recurrence=WORKING_DAYS), plage(2, lieu=2, day=date(2025, 6, 4)))
    assert days_and_times([next_availability(s, from_day=date(2025, 6, 3))]) == ["06-03 09:00"]
    assert days_and_times([next_availability(s, lieu_id=2)]) == ["06-04 09:00"]
    assert next_availability(s, lieu_id=3) is None


# --------------------------------------------------------------------------- time zones and DST


@pytest.mark.parametrize(
    ("days", "utc_hours"),
    [
        # Last Sunday of March 2025: clocks go from 2:00 to 3:00; 9:00 local moves from 08:00Z to 07:00Z.
        ((date(2025, 3, 29), date(2025, 3, 30), date(2025, 3, 31)), (8, 7, 7)),
        # Last Sunday of October 2025: clocks go back from 3:00 to 2:00; 9:00 local moves to 08:00Z.
        ((date(2025, 10, 25), date(2025, 10, 26), date(2025, 10, 27)), (7, 8, 8)),
    ],
)
def test_paris_plage_keeps_its_local_hours_across_dst(days, utc_hours):
    every_day = plage(day=days[0], recurrence=Recurrence.weekly((MON, TUE, WED, THU, FRI, SAT, SUN)))
    s = search(every_day, now=datetime.combine(days[0] - timedelta(days=1), time(8), tzinfo=PARIS), duration=60)
    for day, utc_hour in zip(days, utc_hours, strict=True):
        slots = one_day(s, day)
        assert times(slots) == ["09:00", "10:00", "11:00"]
        assert [slot.starts_at.hour for slot in slots] == [utc_hour, utc_hour + 1, utc_hour + 2]
        assert slots[-1].ends_at.astimezone(PARIS).strftime("%H:%M") == "12:00"


def test_paris_plage_spanning_the_change_lasts_the_real_time():
    spring = search(plage(day=date(2025, 3, 30), start="01:00", end="04:00"),
                    now=datetime(2025, 3, 29, 8, 0, tzinfo=PARIS), duration=60)
    # 1:00 CET to 4:00 CEST is two hours: 2:00 does not exist that night.
    assert times(one_day(spring, date(2025, 3, 30))) == ["01:00", "03:00"]
    autumn = search(plage(day=date(2025, 10, 26), start="01:00", end="04:00"),
                    now=datetime(2025, 10, 25, 8, 0, tzinfo=PARIS), duration=60)
    # 1:00 CEST to 4:00 CET is four hours: 2:00 happens twice.
    slots = one_day(autumn, date(2025, 10, 26))
    assert times(slots) == ["01:00", "02:00", "02:00", "03:00"]
    assert [s.starts_at.strftime("%d %H:%M") for s in slots] == ["25 23:00", "26 00:00", "26 01:00", "26 02:00"]


def test_an_rdv_on_the_dst_sunday_blocks_the_right_local_hour():
    sunday = date(2025, 3, 30)
    busy = (BusyInterval(1, datetime(2025, 3, 30, 7, 0, tzinfo=UTC), datetime(2025, 3, 30, 8, 0, tzinfo=UTC)),)
    s = search(plage(day=sunday), now=datetime(2025, 3, 29, 8, 0, tzinfo=PARIS), busy=busy, duration=60)
    assert times(one_day(s, sunday)) == ["10:00", "11:00"]


@pytest.mark.parametrize("day", [date(2025, 3, 30), date(2025, 10, 26), date(2025, 7, 6)])
def test_la_reunion_has_no_dst(day):
    s = search(plage(day=day), tz=REUNION, now=datetime(2025, 1, 1, tzinfo=REUNION), duration=60)
    slots = one_day(s, day)
    assert times(slots, REUNION) == ["09:00", "10:00", "11:00"]
    assert [slot.starts_at.hour for slot in slots] == [5, 6, 7]


def test_guyane_books_in_its_own_time_and_its_local_days():
    mondays = plage(day=date(2025, 7, 7), start="19:00", end="23:00", recurrence=Recurrence.weekly((MON, TUE)))
    now = datetime(2025, 7, 1, 8, 0, tzinfo=CAYENNE)
    s = search(mondays, tz=CAYENNE, now=now, duration=60,
               holidays=holidays_between("973", date(2025, 7, 1), date(2025, 7, 31)))
    # 14 July is a holiday: the Monday evening is closed even though in UTC it ends on 15 July.
    assert one_day(s, date(2025, 7, 14)) == []
    tuesday = one_day(s, date(2025, 7, 15))
    assert times(tuesday, CAYENNE) == ["19:00", "20:00", "21:00", "22:00"]
    assert [slot.starts_at.strftime("%d %H:%M") for slot in tuesday] == [
        "15 22:00", "15 23:00", "16 00:00", "16 01:00",
    ]
    assert validate_slot(s, datetime(2025, 7, 16, 1, 0, tzinfo=UTC)).starts_at == tuesday[-1].starts_at


# --------------------------------------------------------------------------- inputs


def test_naive_instants_are_refused():
    with pytest.raises(ValueError):
        search(now=datetime(2025, 6, 1, 20, 0))
    with pytest.raises(ValueError):
        BusyInterval(1, datetime(2025, 6, 2, 9, 0), datetime(2025, 6, 2, 10, 0))
    with pytest.raises(ValueError):
        SlotMotif(1, 0)
    with pytest.raises(ValueError):
        validate_slot(search(plage()), datetime(2025, 6, 2, 9, 0))


def test_a_start_two_plages_offer_is_booked_on_the_plage_it_was_shown_for():
    # 11:48 is on the 10-minute grid of the plage from 09:38, not on that of the earlier plage from 11:43,
    # which would still accept it (5-minute steps): booking keeps the plage the usager was shown.
    s = search(plage(1, start="11:43", end="11:58"), plage(2, start="09:38", end="11:58"),
               searcher=Searcher.USAGER, duration=10)
    shown = {slot.starts_at: slot for slot in displayed_slots(s, MONDAY, MONDAY)}
    eleven_48 = shown[at(MONDAY, "11:48").astimezone(UTC)]
    assert eleven_48.plage_id == 2
    assert validate_slot(s, eleven_48.starts_at) == eleven_48
    assert validate_slot(s, at(MONDAY, "11:43")).plage_id == 1  # type: ignore[union-attr]
