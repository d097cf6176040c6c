"""ICS of RDVs, plages and absences, parsed back with icalendar and vobject."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from calendar_apps import read_with_vobject
from icalendar import Calendar

from rdv_app.domain.enums import LocationType
from rdv_app.domain.recurrence import Recurrence
from rdv_app.notify.ics import (
    PRODID,
    Audience,
    AvailabilityNotice,
    IcsMethod,
    IcsPerson,
    IcsRdv,
    NoticeKind,
    notice_ics,
    notice_sequence,
    rdv_ics,
    recurrence_rule,
)

PARIS = ZoneInfo("Europe/Paris")
STAMP = datetime(2025, 6, 2, 9, 0, tzinfo=UTC)
UID = "1b4e28ba-2fa1-11d2-883f-0016d3cca427"
AGENTS = (IcsPerson("james.bond@example.fr", "James BOND"), IcsPerson("eve.m@example.fr", "Eve MONEYPENNY"))
RDV = IcsRdv(
    uid=UID,
    sequence=0,
    starts_at=datetime(2025, 6, 20, 13, 10, tzinfo=PARIS),
    ends_at=datetime(2025, 6, 20, 13, 40, tzinfo=PARIS),
    time_zone="Europe/Paris",
    motif_name="Consultation prénatale",
    location_type=LocationType.PUBLIC_OFFICE,
    organizer_email="secretariat@rdv.example.fr",
    link="https://rdv.example.fr/r",
    agents=AGENTS,
    lieu_name="MDS Centre",
    lieu_address="10 rue d'ici, 75001 Paris",
)
AGENT_RDV = replace(RDV, link="https://rdv.example.fr/agents/rdvs/42")


def parse_both(content: bytes):
    calendar = Calendar.from_ical(content)
    (event,) = calendar.walk("VEVENT")
    return calendar, event, read_with_vobject(content.decode())


def event_properties(content: bytes) -> set[str]:
    _, event, _ = parse_both(content)
    return set(event.keys())


# --------------------------------------------------------------------------- usager emails


def test_usager_ics_is_published():
    ics = rdv_ics(RDV, Audience.USAGER, STAMP)
    calendar, event, parsed = parse_both(ics.content)
    assert ics.method == IcsMethod.PUBLISH
    assert ics.content_type == 'text/calendar; charset="utf-8"; method=PUBLISH'
    assert ics.filename == f"rdv-{UID}-2025-06-20.ics"  # domain.md 3.5
    assert ics.content.startswith(b"BEGIN:VCALENDAR\r\n")

    assert calendar["METHOD"] == "PUBLISH"
    assert calendar["PRODID"] == PRODID
    assert calendar["VERSION"] == "2.0"
    assert str(event["UID"]) == UID
    assert event["SEQUENCE"] == 0
    assert event["SUMMARY"] == "RDV Consultation prénatale"
    assert event["LOCATION"] == "MDS Centre (10 rue d'ici, 75001 Paris)"
    assert event["DESCRIPTION"] == "Infos et annulation: https://rdv.example.fr/r"
    assert event["STATUS"] == "CONFIRMED"
    assert str(event["ORGANIZER"]) == "mailto:secretariat@rdv.example.fr"
    assert event.decoded("DTSTAMP") == STAMP
    assert "ATTENDEE" not in event

    assert parsed.method.value == "PUBLISH"
    assert parsed.vevent.uid.value == UID
    assert parsed.vevent.sequence.value == "0"
    assert parsed.vevent.dtstart.value == RDV.starts_at
    assert parsed.vevent.dtend.value == RDV.ends_at


def test_times_carry_the_organisation_tzid_and_a_vtimezone():
    ics = rdv_ics(RDV, Audience.USAGER, STAMP)
    text = ics.content.decode()
    assert "DTSTART;TZID=Europe/Paris:20250620T131000\r\n" in text
    assert "DTEND;TZID=Europe/Paris:20250620T134000\r\n" in text
    calendar, event, parsed = parse_both(ics.content)
    assert [tz["TZID"] for tz in calendar.walk("VTIMEZONE")] == ["Europe/Paris"]
    assert {component.name for component in calendar.walk("VTIMEZONE")[0].subcomponents} == {"STANDARD", "DAYLIGHT"}
    assert calendar.get_missing_tzids() == set()
    assert event["DTSTART"].params["TZID"] == "Europe/Paris"
    assert parsed.vtimezone.tzid.value == "Europe/Paris"
    # vobject builds the zone from the VTIMEZONE itself: summer time, +02:00.
    assert parsed.vevent.dtstart.value.utcoffset() == timedelta(hours=2)
    assert parsed.vevent.dtstart.value.astimezone(UTC) == datetime(2025, 6, 20, 11, 10, tzinfo=UTC)


def test_overseas_rdv_is_in_its_own_zone():
    reunion = ZoneInfo("Indian/Reunion")
    rdv = replace(RDV, time_zone="Indian/Reunion", starts_at=datetime(2025, 12, 2, 5, 0, tzinfo=UTC),
                  ends_at=datetime(2025, 12, 2, 5, 30, tzinfo=UTC))
    ics = rdv_ics(rdv, Audience.USAGER, STAMP)
    assert "DTSTART;TZID=Indian/Reunion:20251202T090000\r\n" in ics.content.decode()
    calendar, _, parsed = parse_both(ics.content)
    assert [tz["TZID"] for tz in calendar.walk("VTIMEZONE")] == ["Indian/Reunion"]
    assert parsed.vevent.dtstart.value == datetime(2025, 12, 2, 9, 0, tzinfo=reunion)
    assert parsed.vevent.dtstart.value.utcoffset() == timedelta(hours=4)


@pytest.mark.parametrize(
    ("location_type", "location", "description"),
    [
        (LocationType.PHONE, None, "RDV téléphonique\nInfos et annulation: https://rdv.example.fr/r"),
        (LocationType.HOME, "3 allée des Tilleuls, 75012 Paris",
         "RDV à votre domicile\nInfos et annulation: https://rdv.example.fr/r"),
        (LocationType.VISIO, "Par visioconférence",
         "RDV par visioconférence\nInfos et annulation: https://rdv.example.fr/r"),
    ],
)
def test_usager_location_and_description_by_location_type(location_type, location, description):
    rdv = replace(RDV, location_type=location_type, lieu_name=None, lieu_address=None,
                  home_address="3 allée des Tilleuls, 75012 Paris")
    _, event, parsed = parse_both(rdv_ics(rdv, Audience.USAGER, STAMP).content)
    assert event.get("LOCATION") == location
    assert event["DESCRIPTION"] == description
    assert parsed.vevent.description.value == description


def test_home_without_a_known_address():
    rdv = replace(RDV, location_type=LocationType.HOME, lieu_name=None, lieu_address=None)
    _, event, _ = parse_both(rdv_ics(rdv, Audience.AGENT, STAMP).content)
    assert event["LOCATION"] == "À domicile"


# --------------------------------------------------------------------------- agent emails


def test_agent_ics_is_a_request_to_every_agent():
    ics = rdv_ics(AGENT_RDV, Audience.AGENT, STAMP)
    calendar, event, parsed = parse_both(ics.content)
    assert ics.method == IcsMethod.REQUEST
    assert ics.content_type.endswith("method=REQUEST")
    assert calendar["METHOD"] == "REQUEST"
    assert [str(a) for a in event["ATTENDEE"]] == ["mailto:james.bond@example.fr", "mailto:eve.m@example.fr"]
    assert [a.params["CN"] for a in event["ATTENDEE"]] == ["James BOND", "Eve MONEYPENNY"]
    assert event["DESCRIPTION"] == "Voir le RDV: https://rdv.example.fr/agents/rdvs/42"
    assert str(event["ORGANIZER"]) == "mailto:secretariat@rdv.example.fr"
    assert sorted(a.value for a in parsed.vevent.attendee_list) == [
        "mailto:eve.m@example.fr", "mailto:james.bond@example.fr",
    ]
    assert parsed.method.value == "REQUEST"


def test_agent_phone_rdv_description():
    rdv = replace(AGENT_RDV, location_type=LocationType.PHONE, lieu_name=None, lieu_address=None)
    _, event, _ = parse_both(rdv_ics(rdv, Audience.AGENT, STAMP).content)
    assert "LOCATION" not in event
    assert event["DESCRIPTION"] == "RDV téléphonique\nVoir le RDV: https://rdv.example.fr/agents/rdvs/42"


# --------------------------------------------------------------------------- privacy


USAGER_PROPERTIES = {"UID", "SEQUENCE", "DTSTAMP", "DTSTART", "DTEND", "SUMMARY", "LOCATION", "DESCRIPTION",
                     "STATUS", "ORGANIZER"}


@pytest.mark.parametrize("audience", list(Audience))
@pytest.mark.parametrize("cancelled", [False, True])
def test_only_the_rdv_fields_and_agents_appear(audience, cancelled):
    content = rdv_ics(replace(RDV, cancelled=cancelled), audience, STAMP).content
    expected = USAGER_PROPERTIES | ({"ATTENDEE"} if audience == Audience.AGENT else set())
    assert event_properties(content) == expected
    # No usager ever appears among the people of the file: the organizer and, for agents, the agents.
    addresses = set(read_with_vobject(content.decode()).vevent.contents) & {"attendee", "organizer", "contact"}
    assert addresses == ({"attendee", "organizer"} if audience == Audience.AGENT else {"organizer"})


def test_phone_rdv_holds_no_phone_number():
    rdv = replace(RDV, location_type=LocationType.PHONE, lieu_name=None, lieu_address=None)
    for audience in Audience:
        _, event, _ = parse_both(rdv_ics(rdv, audience, STAMP).content)
        assert "LOCATION" not in event
        people_and_texts = [str(event[name]) for name in ("SUMMARY", "DESCRIPTION", "ORGANIZER")]
        people_and_texts += [str(attendee) for attendee in event.get("ATTENDEE", [])]
        assert not any(re.search(r"\d{2}\W?\d{2}\W?\d{2}\W?\d{2}\W?\d{2}|tel:", text) for text in people_and_texts)


# --------------------------------------------------------------------------- lifecycle


@pytest.mark.parametrize("audience", list(Audience))
def test_create_update_cancel_keep_the_uid_and_raise_the_sequence(audience):
    created = rdv_ics(RDV, audience, STAMP)
    updated = rdv_ics(replace(RDV, sequence=1, starts_at=RDV.starts_at + timedelta(days=1),
                              ends_at=RDV.ends_at + timedelta(days=1)), audience, STAMP + timedelta(hours=1))
    cancelled = rdv_ics(replace(RDV, sequence=2, cancelled=True), audience, STAMP + timedelta(hours=2))
    parsed = [parse_both(ics.content) for ics in (created, updated, cancelled)]
    assert {str(event["UID"]) for _, event, _ in parsed} == {UID}
    assert [event["SEQUENCE"] for _, event, _ in parsed] == [0, 1, 2]
    assert [int(v.vevent.sequence.value) for _, _, v in parsed] == [0, 1, 2]
    first_method = IcsMethod.REQUEST if audience == Audience.AGENT else IcsMethod.PUBLISH
    assert [ics.method for ics in (created, updated, cancelled)] == [first_method, first_method, IcsMethod.CANCEL]
    for ics, (calendar, _, v) in zip((created, updated, cancelled), parsed, strict=True):
        # The MIME method parameter is the calendar's METHOD.
        assert ics.content_type == f'text/calendar; charset="utf-8"; method={calendar["METHOD"]}'
        assert v.method.value == ics.method
    assert [event["STATUS"] for _, event, _ in parsed] == ["CONFIRMED", "CONFIRMED", "CANCELLED"]


def test_times_must_be_aware_and_on_site_rdvs_need_a_lieu():
    with pytest.raises(ValueError, match="fuseau"):
        replace(RDV, starts_at=datetime(2025, 6, 20, 13, 10))
    with pytest.raises(ValueError, match="lieu"):
        replace(RDV, lieu_address=None)


# --------------------------------------------------------------------------- plages and absences

AGENT = IcsPerson("james.bond@example.fr", "James BOND")


def plage(recurrence=None, first_day=date(2025, 9, 1), **fields):
    values = dict(
        kind=NoticeKind.PLAGE_OUVERTURE, record_id=17, title="Permanence PMI", first_day=first_day,
        start_time=time(9, 0), end_time=time(12, 0), time_zone="Europe/Paris", agent=AGENT,
        organizer_email="secretariat@rdv.example.fr", uid_domain="rdv.example.fr", sequence=3,
        recurrence=recurrence, location="MDS Centre (10 rue d'ici, 75001 Paris)",
    )
    values.update(fields)
    return AvailabilityNotice(**values)


def occurrences(content: bytes, until: datetime) -> list[date]:
    event = read_with_vobject(content.decode()).vevent
    return [moment.date() for moment in event.getrruleset().between(
        datetime(2000, 1, 1, tzinfo=UTC), until, inc=True)]


def test_one_off_plage():
    ics = notice_ics(plage(), STAMP)
    calendar, event, parsed = parse_both(ics.content)
    assert ics.method == IcsMethod.REQUEST
    assert ics.filename == "plage-ouverture-2025-09-01.ics"
    assert str(event["UID"]) == "plage_ouverture_17@rdv.example.fr"
    assert event["SEQUENCE"] == 3
    assert event["SUMMARY"] == "Plage d'ouverture : Permanence PMI"
    assert event["LOCATION"] == "MDS Centre (10 rue d'ici, 75001 Paris)"
    assert [str(a) for a in [event["ATTENDEE"]]] == ["mailto:james.bond@example.fr"]
    assert "RRULE" not in event
    assert "DTSTART;TZID=Europe/Paris:20250901T090000\r\n" in ics.content.decode()
    assert parsed.vevent.dtend.value == datetime(2025, 9, 1, 12, 0, tzinfo=PARIS)
    assert calendar.get_missing_tzids() == set()


def test_weekly_plage_rrule():
    recurrence = Recurrence.weekly((0, 1), interval=2, until=date(2025, 12, 31))
    ics = notice_ics(plage(recurrence), STAMP)
    text = ics.content.decode()
    assert "RRULE:FREQ=WEEKLY;UNTIL=20251231T225959Z;INTERVAL=2;BYDAY=MO,TU;WKST=MO\r\n" in text
    expected = list(recurrence.dates(date(2025, 9, 1), date(2025, 9, 1), date(2026, 12, 31)))
    assert occurrences(ics.content, datetime(2026, 12, 31, tzinfo=UTC)) == expected
    assert expected[-1] == date(2025, 12, 23)  # weeks of 1, 15, 29 September... 8 and 22 December


def test_weekly_plage_starts_on_its_first_occurrence():
    # First day is a Monday, the plage repeats on Wednesdays and Fridays: DTSTART is Wednesday 3.
    recurrence = Recurrence.weekly((2, 4))
    ics = notice_ics(plage(recurrence), STAMP)
    _, event, parsed = parse_both(ics.content)
    assert parsed.vevent.dtstart.value == datetime(2025, 9, 3, 9, 0, tzinfo=PARIS)
    assert parsed.vevent.dtend.value == datetime(2025, 9, 3, 12, 0, tzinfo=PARIS)
    assert "UNTIL" not in event["RRULE"]
    assert ics.filename == "plage-ouverture-2025-09-01.ics"
    expected = list(recurrence.dates(date(2025, 9, 1), date(2025, 9, 1), date(2026, 3, 31)))
    assert occurrences(ics.content, datetime(2026, 3, 31, 23, tzinfo=UTC)) == expected


def test_weekly_without_weekdays_repeats_the_first_day():
    rule = recurrence_rule(Recurrence.weekly(()), date(2025, 9, 4), "Europe/Paris")
    assert rule == {"freq": "WEEKLY", "interval": 1, "byday": ["TH"], "wkst": "MO"}


@pytest.mark.parametrize(
    ("weekday", "ordinal", "byday"),
    [(1, 2, "2TU"), (4, -1, "-1FR"), (0, 5, "5MO")],
)
def test_monthly_plage_rrule(weekday, ordinal, byday):
    recurrence = Recurrence.monthly(weekday, ordinal, until=date(2026, 8, 31))
    ics = notice_ics(plage(recurrence), STAMP)
    assert f"RRULE:FREQ=MONTHLY;UNTIL=20260831T215959Z;INTERVAL=1;BYDAY={byday}\r\n" in ics.content.decode()
    expected = list(recurrence.dates(date(2025, 9, 1), date(2025, 9, 1), date(2027, 12, 31)))
    assert occurrences(ics.content, datetime(2027, 12, 31, tzinfo=UTC)) == expected


def test_monthly_every_three_months():
    recurrence = Recurrence.monthly(1, 2, interval=3)
    assert recurrence_rule(recurrence, date(2025, 9, 1), "Europe/Paris") == {
        "freq": "MONTHLY", "interval": 3, "byday": ["2TU"],
    }


def test_until_is_the_end_of_the_last_local_day_in_utc():
    rule = recurrence_rule(Recurrence.weekly((0,), until=date(2025, 7, 14)), date(2025, 7, 7), "Indian/Reunion")
    assert rule["until"] == datetime(2025, 7, 14, 19, 59, 59, tzinfo=UTC)


def test_series_without_occurrence_keeps_its_first_day():
    # A plage from Monday 1 to Tuesday 2 September repeating on Fridays never occurs.
    recurrence = Recurrence.weekly((4,), until=date(2025, 9, 2))
    _, _, parsed = parse_both(notice_ics(plage(recurrence), STAMP).content)
    assert parsed.vevent.dtstart.value == datetime(2025, 9, 1, 9, 0, tzinfo=PARIS)


def test_multi_day_absence():
    absence = plage(kind=NoticeKind.ABSENCE, record_id=5, title="Congés", end_day=date(2025, 9, 5),
                    location=None, end_time=time(18, 0))
    ics = notice_ics(absence, STAMP)
    _, event, parsed = parse_both(ics.content)
    assert ics.filename == "indisponibilite-2025-09-01.ics"
    assert str(event["UID"]) == "absence_5@rdv.example.fr"
    assert event["SUMMARY"] == "Indisponibilité : Congés"
    assert "LOCATION" not in event
    assert parsed.vevent.dtstart.value == datetime(2025, 9, 1, 9, 0, tzinfo=PARIS)
    assert parsed.vevent.dtend.value == datetime(2025, 9, 5, 18, 0, tzinfo=PARIS)


def test_deleted_plage_is_cancelled():
    ics = notice_ics(plage(Recurrence.weekly((0,)), cancelled=True, sequence=4), STAMP)
    calendar, event, parsed = parse_both(ics.content)
    assert ics.method == IcsMethod.CANCEL
    assert ics.content_type.endswith("method=CANCEL")
    assert calendar["METHOD"] == "CANCEL"
    assert event["STATUS"] == "CANCELLED"
    assert event["SEQUENCE"] == 4
    assert parsed.method.value == "CANCEL"


def test_open_series_vtimezone_covers_twenty_years():
    text = notice_ics(plage(Recurrence.weekly((0,))), STAMP).content.decode()
    zone = text[text.index("BEGIN:VTIMEZONE"):text.index("END:VTIMEZONE")]
    years = {int(year) for year in re.findall(r"(\d{4})\d{4}T\d{6}", zone)}
    assert min(years) == 2025
    assert max(years) == 2045


def test_notice_sequence_grows_with_each_change():
    created = datetime(2025, 6, 1, 8, 0, tzinfo=UTC)
    assert notice_sequence(created, created) == 0
    assert notice_sequence(created, created + timedelta(minutes=2, seconds=5)) == 125
    assert notice_sequence(created, created + timedelta(days=365 * 60)) < 2**31
