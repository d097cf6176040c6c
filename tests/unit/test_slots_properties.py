"""Properties of the slot engine over random agendas (hypothesis).

Each property is checked against definitions written here independently of the engine: occurrence days
by scanning every day, busy time by brute-force comparison with every RDV and absence occurrence.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import example, given, settings
from hypothesis import strategies as st

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
    from_microseconds,
    horizon_last_day,
    next_availabilities,
    next_availability,
    slot_starts,
    validate_slot,
)

MOTIF_ID = 1
ZONES = [ZoneInfo("Europe/Paris"), ZoneInfo("Indian/Reunion"), ZoneInfo("America/Cayenne")]
# Mondays before the DST changes of 2025, plus any day of the year.
BASE_DAYS = st.sampled_from([date(2025, 3, 24), date(2025, 10, 20)]) | st.dates(date(2025, 1, 1), date(2025, 12, 31))
PROPERTY_SETTINGS = settings(max_examples=120, deadline=None)


def _minutes(low: int, high: int) -> st.SearchStrategy[time]:
    return st.integers(low, high).map(lambda m: time(m // 60, m % 60))


def _recurrence(first_day: date, allow: bool = True) -> st.SearchStrategy[Recurrence | None]:
    until = st.none() | st.integers(0, 60).map(lambda n: first_day + timedelta(days=n))
    if not allow:
        return st.none()
    weekly = st.builds(Recurrence.weekly, weekdays=st.lists(st.integers(0, 6), max_size=4),
                       interval=st.integers(1, 3), until=until)
    monthly = st.builds(Recurrence.monthly, weekday=st.integers(0, 6), ordinal=st.sampled_from((1, 2, 5, -1)),
                        until=until)
    return st.one_of(st.none(), weekly, weekly, monthly)


@st.composite
def plages(draw, base: date, agents: int) -> tuple[Plage, ...]:
    count = draw(st.integers(1, 4))
    created = [datetime(2025, 1, 1, tzinfo=UTC) + timedelta(days=draw(st.integers(0, 2))) for _ in range(count)]
    result = []
    # The first plage drawn recurs most days from before the searched days, so that most agendas
    # have slots to check; the others are anything.
    dense = st.builds(Recurrence.weekly, weekdays=st.lists(st.integers(0, 6), min_size=3, max_size=7))
    for index, plage_id in enumerate(draw(st.permutations(range(1, count + 1)))):
        first_day = base + timedelta(days=draw(st.integers(-10, 3)))
        start = draw(_minutes(0, 22 * 60))
        end_minutes = start.hour * 60 + start.minute + 5 * draw(st.integers(1, 72))
        end = time(min(end_minutes, 23 * 60 + 59) // 60, min(end_minutes, 23 * 60 + 59) % 60)
        result.append(Plage(
            id=plage_id, agent_id=draw(st.integers(1, agents)), lieu_id=draw(st.sampled_from((1, 2, None))),
            motif_ids=frozenset(draw(st.sampled_from(((MOTIF_ID,), (MOTIF_ID, 2), (2,))))),
            first_day=first_day, start_time=start, end_time=end,
            recurrence=draw(dense if index == 0 else _recurrence(first_day)), created_at=created[plage_id - 1],
        ))
    return tuple(result)


@st.composite
def absences(draw, base: date, agents: int) -> tuple[AgentAbsence, ...]:
    result = []
    for _ in range(draw(st.integers(0, 4))):
        first_day = base + timedelta(days=draw(st.integers(-5, 15)))
        span = draw(st.integers(0, 2))
        start = draw(_minutes(0, 23 * 60))
        end = draw(_minutes(start.hour * 60 + start.minute + 1, 23 * 60 + 59) if span == 0 else _minutes(0, 23 * 60 + 59))
        result.append(AgentAbsence(
            agent_id=draw(st.integers(1, agents)), first_day=first_day, start_time=start,
            end_day=first_day + timedelta(days=span), end_time=end,
            recurrence=draw(_recurrence(first_day, allow=span == 0)),
        ))
    return tuple(result)


@st.composite
def busy_intervals(draw, base: date, agents: int, tz: ZoneInfo) -> tuple[BusyInterval, ...]:
    origin = datetime.combine(base, time(0), tzinfo=tz).astimezone(UTC)
    result = []
    for _ in range(draw(st.integers(0, 10))):
        # Any minute, not only 5-minute steps: RDVs created by agents need not be on the grid.
        start = origin + timedelta(minutes=draw(st.integers(-24 * 60, 16 * 24 * 60)))
        result.append(BusyInterval(draw(st.integers(1, agents)), start,
                                   start + timedelta(minutes=draw(st.integers(1, 240)))))
    return tuple(result)


@st.composite
def searches(draw) -> tuple[SlotSearch, date, date]:
    tz = draw(st.sampled_from(ZONES))
    base = draw(BASE_DAYS)
    agents = draw(st.integers(1, 3))
    now = datetime.combine(base, time(0), tzinfo=tz) + timedelta(minutes=draw(st.integers(-2 * 24 * 60, 2 * 24 * 60)))
    holidays = frozenset(base + timedelta(days=n) for n in draw(st.sets(st.integers(-3, 20), max_size=4)))
    min_delay = draw(st.sampled_from((0, 1800, 86400)))
    max_delay = draw(st.sampled_from((0, 3 * 86400, 30 * 86400)))
    search = SlotSearch(
        motif=SlotMotif(MOTIF_ID, draw(st.sampled_from((5, 10, 15, 20, 30, 45, 60, 90))), min_delay, max_delay),
        plages=draw(plages(base, agents)),
        absences=draw(absences(base, agents)),
        busy=draw(busy_intervals(base, agents, tz)),
        holidays=holidays,
        time_zone=tz,
        now=now,
        searcher=draw(st.sampled_from(list(Searcher))),
    )
    first_day = base + timedelta(days=draw(st.integers(-2, 5)))
    return search, first_day, first_day + timedelta(days=draw(st.integers(0, 20)))


# --------------------------------------------------------------------------- independent definitions


def occurrence_days(first_day: date, rec: Recurrence | None, start: date, end: date) -> list[date]:
    """Days of a series between start and end, by testing every day against the rule."""
    if rec is None:
        return [first_day] if start <= first_day <= end else []
    found = []
    day = max(start, first_day)
    while day <= end and (rec.until is None or day <= rec.until):
        if rec.every == "week":
            monday = first_day - timedelta(days=first_day.weekday())
            active_week = ((day - monday).days // 7) % rec.interval == 0
            if active_week and day.weekday() in (rec.weekdays or (first_day.weekday(),)):
                found.append(day)
        else:
            months = (day.year - first_day.year) * 12 + day.month - first_day.month
            last_of_month = (day + timedelta(days=7)).month != day.month
            nth = -1 if rec.month_ordinal == -1 and last_of_month else (day.day - 1) // 7 + 1
            if months % rec.interval == 0 and day.weekday() == rec.month_weekday and nth == rec.month_ordinal:
                found.append(day)
        day += timedelta(days=1)
    return found


def local(day: date, at: time, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, at, tzinfo=tz).astimezone(UTC)


def absence_intervals(search: SlotSearch, agent_id: int, start: date, end: date) -> list[tuple[datetime, datetime]]:
    tz = search.time_zone
    result = []
    for a in search.absences:
        if a.agent_id != agent_id:
            continue
        span = a.end_day - a.first_day
        for day in occurrence_days(a.first_day, a.recurrence, start - timedelta(days=3), end + timedelta(days=3)):
            result.append((local(day, a.start_time, tz), local(day + span, a.end_time, tz)))
    return result


def overlaps(slot: Slot, start: datetime, end: datetime) -> bool:
    return slot.starts_at < end and start < slot.ends_at


def plage_of(search: SlotSearch, slot: Slot) -> Plage:
    (plage,) = [p for p in search.plages if p.id == slot.plage_id]
    return plage


def with_busy(search: SlotSearch, extra: BusyInterval) -> SlotSearch:
    return replace(search, busy=(*search.busy, extra))


def local_day(instant: datetime, search: SlotSearch) -> date:
    return instant.astimezone(search.time_zone).date()


# --------------------------------------------------------------------------- properties


@PROPERTY_SETTINGS
@given(searches())
def test_no_slot_overlaps_an_rdv_an_absence_or_a_holiday(case):
    search, first_day, last_day = case
    for slot in available_slots(search, first_day, last_day):
        for busy in search.busy:
            assert busy.agent_id != slot.agent_id or not overlaps(slot, busy.starts_at, busy.ends_at)
        for start, end in absence_intervals(search, slot.agent_id, first_day, last_day):
            assert not overlaps(slot, start, end)
        assert local_day(slot.starts_at, search) not in search.holidays
        assert local_day(slot.ends_at - timedelta(microseconds=1), search) not in search.holidays


@PROPERTY_SETTINGS
@given(searches())
def test_every_slot_lies_inside_an_occurrence_of_its_plage_and_the_booking_window(case):
    search, first_day, last_day = case
    duration = timedelta(minutes=search.motif.duration_in_min)
    earliest, latest = booking_window(search)
    for slot in available_slots(search, first_day, last_day):
        assert slot.starts_at.utcoffset() == timedelta(0)
        assert slot.starts_at >= search.now
        assert slot.starts_at >= earliest
        assert latest is None or slot.starts_at <= latest
        plage = plage_of(search, slot)
        assert MOTIF_ID in plage.motif_ids
        assert (slot.agent_id, slot.lieu_id) == (plage.agent_id, plage.lieu_id)
        assert slot.ends_at - slot.starts_at == duration
        day = local_day(slot.starts_at, search)
        assert first_day <= day <= last_day
        assert occurrence_days(plage.first_day, plage.recurrence, day, day) == [day]
        tz = search.time_zone
        assert local(day, plage.start_time, tz) <= slot.starts_at
        assert slot.ends_at <= local(day, plage.end_time, tz)


@PROPERTY_SETTINGS
@given(searches())
def test_every_displayed_slot_passes_the_final_validation(case):
    search, first_day, last_day = case
    per_agent = search.searcher is Searcher.AGENT
    shown = displayed_slots(search, first_day, last_day)
    keys = [(s.starts_at, s.agent_id) if per_agent else s.starts_at for s in shown]
    assert len(keys) == len(set(keys))
    for slot in shown:
        assert validate_slot(search, slot.starts_at, agent_id=slot.agent_id if per_agent else None) == slot
        assert validate_slot(search, slot.starts_at, lieu_id=slot.lieu_id, agent_id=slot.agent_id) is not None


@PROPERTY_SETTINGS
@given(searches())
def test_the_starts_alone_are_the_distinct_starts_a_usager_is_shown(case):
    search, first_day, last_day = case
    usager = replace(search, searcher=Searcher.USAGER)
    starts = [from_microseconds(start) for start in slot_starts(usager, first_day, last_day)]
    assert starts == [slot.starts_at for slot in displayed_slots(usager, first_day, last_day)]
    lieu_id = next((plage.lieu_id for plage in search.plages), None)
    assert ([from_microseconds(start) for start in slot_starts(usager, first_day, last_day, lieu_id=lieu_id)]
            == [slot.starts_at for slot in displayed_slots(usager, first_day, last_day, lieu_id=lieu_id)])


def fits(search: SlotSearch, plage: Plage, starts_at: datetime) -> bool:
    """Brute-force definition of a bookable start: the whole slot inside an occurrence of the plage, on
    no holiday, free of the agent's RDVs and absences, inside the booking window, and on the 5-minute
    grid counted from the start of its free interval."""
    duration = timedelta(minutes=search.motif.duration_in_min)
    ends_at = starts_at + duration
    day = local_day(starts_at, search)
    tz = search.time_zone
    occ_start, occ_end = local(day, plage.start_time, tz), local(day, plage.end_time, tz)
    if (MOTIF_ID not in plage.motif_ids or day in search.holidays
            or occurrence_days(plage.first_day, plage.recurrence, day, day) != [day]
            or not occ_start <= starts_at < ends_at <= occ_end):
        return False
    earliest, latest = booking_window(search)
    if starts_at < earliest or (latest is not None and starts_at > latest):
        return False
    blocked = [(b.starts_at, b.ends_at) for b in search.busy if b.agent_id == plage.agent_id]
    blocked += absence_intervals(search, plage.agent_id, day, day)
    if any(start < ends_at and starts_at < end for start, end in blocked):
        return False
    free_from = max([occ_start, *(end for _, end in blocked if occ_start < end <= starts_at)])
    step = timedelta(minutes=math.gcd(5, search.motif.duration_in_min))
    return (starts_at - free_from) % step == timedelta(0)


@PROPERTY_SETTINGS
@given(searches(), st.integers(0, 14 * 24 * 60))
def test_validation_accepts_exactly_the_starts_that_fit(case, offset_minutes):
    """Validation accepts a start iff a plage can hold it (so a slot shown a moment ago, on a grid that
    has since moved with the clock, is still accepted), and then the plage created first wins."""
    search, first_day, _last_day = case
    starts_at = datetime.combine(first_day, time(0), tzinfo=search.time_zone) + timedelta(minutes=offset_minutes)
    validated = validate_slot(search, starts_at)
    holders = sorted((p for p in search.plages if fits(search, p, starts_at)), key=lambda p: (p.created_at, p.id))
    assert (validated is None) == (not holders)
    if validated is not None:
        assert validated.plage_id == holders[0].id
        assert validated.starts_at == starts_at


@PROPERTY_SETTINGS
@given(searches(), st.data())
def test_booking_an_offered_slot_never_adds_a_slot(case, data):
    """Someone books a slot on the page: the other slots stay exactly as they were, none appears.

    Checked for agents with a single plage for the motif: overlapping plages of one agent each keep
    their own grid, and a booking in one may re-anchor the other's grid (rule 3)."""
    search, first_day, last_day = case
    before = available_slots(search, first_day, last_day)
    plage_count = {a: sum(1 for p in search.plages if p.agent_id == a and MOTIF_ID in p.motif_ids) for a in (1, 2, 3)}
    bookable = [s for s in before if plage_count[s.agent_id] == 1]
    if not bookable:
        return
    booked = data.draw(st.sampled_from(bookable))
    after = available_slots(with_busy(search, BusyInterval(booked.agent_id, booked.starts_at, booked.ends_at)),
                            first_day, last_day)
    assert after == [s for s in before if s != booked]


@PROPERTY_SETTINGS
@given(searches(), st.integers(1, 3), st.integers(-24 * 60, 16 * 24 * 60), st.integers(1, 300))
def test_adding_a_busy_interval_never_adds_a_slot(case, agent_id, offset_minutes, minutes):
    """Any new RDV: it never gives more slots to a plage on a day, never appears inside a slot, and
    leaves the other agents' slots untouched.

    The count is compared without "now" rounding nor delays (an agent searching future days): a new RDV
    re-anchors the grid of the free time after it (after an RDV 9:00-9:20 the slots become 9:20, 9:50),
    so the slots may move, but free time only shrinks and a free interval cut in two holds no more
    whole slots. With the rounding of rule 3 counted from the interval start, or the minimum delay
    counted in whole steps from it, a re-anchored grid can fit one more slot: hence the count is taken
    with "now" before the searched days."""
    search, first_day, last_day = case
    start = datetime.combine(first_day, time(0), tzinfo=search.time_zone) + timedelta(minutes=offset_minutes)
    extra = BusyInterval(agent_id, start, start + timedelta(minutes=minutes))
    before = available_slots(search, first_day, last_day)
    after = available_slots(with_busy(search, extra), first_day, last_day)
    assert [s for s in after if s.agent_id != agent_id] == [s for s in before if s.agent_id != agent_id]
    assert not any(overlaps(s, extra.starts_at, extra.ends_at) for s in after if s.agent_id == agent_id)

    future = replace(search, now=datetime.combine(first_day, time(0), tzinfo=search.time_zone) - timedelta(days=1),
                     searcher=Searcher.AGENT)
    before_counts = Counter((s.plage_id, local_day(s.starts_at, search)) for s in
                            available_slots(future, first_day, last_day))
    after_counts = Counter((s.plage_id, local_day(s.starts_at, search)) for s in
                           available_slots(with_busy(future, extra), first_day, last_day))
    assert all(count <= before_counts[key] for key, count in after_counts.items())


@PROPERTY_SETTINGS
@given(searches())
def test_next_availability_is_the_first_slot_of_the_horizon(case):
    search, first_day, _ = case
    today = local_day(search.now, search)
    everything = available_slots(search, min(first_day, today), horizon_last_day(search))
    assert next_availability(search) == (everything[0] if everything else None)
    from_first_day = available_slots(search, first_day, horizon_last_day(search))
    assert next_availability(search, from_day=first_day) == (from_first_day[0] if from_first_day else None)


@PROPERTY_SETTINGS
@given(searches())
def test_next_availabilities_are_each_lieus_first_slot_of_the_horizon(case):
    """The many-lieux path (one grouping for all) finds, for each lieu and for "any lieu" (None), the
    first slot a search of that lieu alone lists; lieux without a slot (3 has no plage) are left out."""
    search, first_day, last_day = case
    found = next_availabilities(search, [1, 2, 3, None], from_day=first_day)
    expected = {}
    for lieu_id in (1, 2, 3, None):
        everything = available_slots(search, first_day, horizon_last_day(search), lieu_id=lieu_id)
        if everything:
            expected[lieu_id] = everything[0]
    assert found == expected
    bounded = next_availabilities(search, [2, 1], from_day=first_day, to_day=last_day)
    assert bounded == {lieu_id: slots[0] for lieu_id in (2, 1)
                       if (slots := available_slots(search, first_day, last_day, lieu_id=lieu_id))}


@PROPERTY_SETTINGS
@given(searches())
@example((
    SlotSearch(
        motif=SlotMotif(MOTIF_ID, 30, 0, 0),
        plages=(Plage(1, 1, 1, frozenset({MOTIF_ID}), date(2025, 6, 2), time(14), time(18), None,
                      datetime(2025, 1, 1, tzinfo=UTC)),),
        absences=(), busy=(), holidays=frozenset(), time_zone=ZONES[0],
        now=datetime(2025, 6, 2, 15, 3, tzinfo=ZONES[0]), searcher=Searcher.AGENT,
    ),
    date(2025, 6, 2), date(2025, 6, 2),
))
def test_slots_are_laid_out_from_each_free_interval_and_ordered(case):
    """Within each free interval the slots follow one another without gaps, the first one starting at
    the interval start, or, when that is past, on the first 5-minute step from it that is not before now
    (then skipping whole steps up to the minimum delay). All slots come ordered by start, then by the
    creation of their plage."""
    search, first_day, last_day = case
    all_slots = available_slots(search, first_day, last_day)
    order = [(s.starts_at, plage_of(search, s).created_at, s.plage_id) for s in all_slots]
    assert order == sorted(order)
    assert len(set(order)) == len(order)
    duration = timedelta(minutes=search.motif.duration_in_min)
    earliest, latest = booking_window(search)
    five = timedelta(minutes=5)
    for plage in {p.id: p for p in search.plages}.values():
        if MOTIF_ID not in plage.motif_ids:
            continue
        slots = [s for s in all_slots if s.plage_id == plage.id]
        expected = []
        tz = search.time_zone
        busy = [(b.starts_at, b.ends_at) for b in search.busy if b.agent_id == plage.agent_id]
        busy += absence_intervals(search, plage.agent_id, first_day, last_day)
        for day in occurrence_days(plage.first_day, plage.recurrence, first_day, last_day):
            if day in search.holidays or day < local_day(search.now, search):
                continue
            free = [(local(day, plage.start_time, tz), local(day, plage.end_time, tz))]
            for busy_start, busy_end in busy:  # subtract one by one, as in domain.md 2.1 step 5
                free = [piece for b, e in free
                        for piece in ((b, min(e, busy_start)), (max(b, busy_end), e)) if piece[0] < piece[1]]
            for b, e in sorted(free):
                start = b
                if start < search.now:
                    start = b + five * math.ceil((search.now - b) / five)
                while start + duration <= e:
                    if start >= earliest and (latest is None or start <= latest):
                        expected.append(start)
                    start += duration
        assert [s.starts_at for s in slots] == sorted(expected)
