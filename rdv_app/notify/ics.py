"""iCalendar files attached to RDV emails and to plage d'ouverture / indisponibilité notices.

Pure: data in, bytes out (icalendar). Decision 5 and domain.md 3.5:
- METHOD: PUBLISH in usager emails, REQUEST in agent emails (every agent of the RDV is an ATTENDEE),
  CANCEL when the RDV is cancelled; the mailer puts the same value in the `method=` parameter of the
  text/calendar part (`IcsFile.content_type`);
- UID: the RDV's uuid, stable across every email of its life, and SEQUENCE: the RDV's `ics_sequence`,
  incremented by each change, so a calendar applies an update or a cancellation to the event it has;
- DTSTART/DTEND carry the TZID of the organisation's IANA zone, defined by a VTIMEZONE in the file;
- privacy: the motif, the place and a link, never an usager's name or phone number. For an RDV at home
  the place is the home address, which the usager already knows and the agent needs.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from enum import StrEnum
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event, vCalAddress

from rdv_app.config import settings
from rdv_app.domain.enums import LocationType
from rdv_app.domain.recurrence import Recurrence

PRODUCT_NAME = settings.product_name
PRODID = f"-//{PRODUCT_NAME}//Rendez-vous//FR"
_BYDAY = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")


class Audience(StrEnum):
    USAGER = "usager"
    AGENT = "agent"


class IcsMethod(StrEnum):
    PUBLISH = "PUBLISH"
    REQUEST = "REQUEST"
    CANCEL = "CANCEL"


@dataclass(frozen=True, slots=True)
class IcsFile:
    content: bytes
    method: IcsMethod
    filename: str

    @property
    def content_type(self) -> str:
        """The MIME type of the text/calendar part, its method equal to the calendar's METHOD."""
        return f'text/calendar; charset="utf-8"; method={self.method}'


@dataclass(frozen=True, slots=True)
class IcsPerson:
    email: str
    name: str


@dataclass(frozen=True, slots=True)
class IcsRdv:
    uid: str  # Rdv.uuid
    sequence: int  # Rdv.ics_sequence
    starts_at: datetime  # aware
    ends_at: datetime
    time_zone: str  # the organisation's IANA zone
    motif_name: str
    location_type: LocationType
    organizer_email: str  # the secretariat address of the platform
    # Usagers: a page that works without a token (a calendar keeps the file long after any token has
    # expired or been replaced). Agents: the RDV's page in the agents' space.
    link: str
    agents: tuple[IcsPerson, ...] = ()  # attendees of agent emails
    cancelled: bool = False
    lieu_name: str | None = None
    lieu_address: str | None = None
    home_address: str | None = None  # RDVs at home

    def __post_init__(self) -> None:
        if self.starts_at.tzinfo is None or self.ends_at.tzinfo is None:
            raise ValueError("starts_at et ends_at doivent porter un fuseau horaire")
        if self.location_type == LocationType.PUBLIC_OFFICE and not (self.lieu_name and self.lieu_address):
            raise ValueError("un RDV sur place a un lieu (nom et adresse)")


_USAGER_PLACE_LINES = {
    LocationType.PHONE: "RDV téléphonique",
    LocationType.HOME: "RDV à votre domicile",
    LocationType.VISIO: "RDV par visioconférence",
}
_AGENT_PLACE_LINES = {
    LocationType.PHONE: "RDV téléphonique",
    LocationType.HOME: "RDV à domicile",
    LocationType.VISIO: "RDV par visioconférence",
}


def _location(rdv: IcsRdv) -> str | None:
    """None for phone RDVs: the only place there would be someone's phone number."""
    if rdv.location_type == LocationType.PUBLIC_OFFICE:
        return f"{rdv.lieu_name} ({rdv.lieu_address})"
    if rdv.location_type == LocationType.HOME:
        return rdv.home_address or "À domicile"
    if rdv.location_type == LocationType.VISIO:
        return "Par visioconférence"
    return None


def _description(rdv: IcsRdv, audience: Audience) -> str:
    if audience == Audience.USAGER:
        place, link = _USAGER_PLACE_LINES.get(rdv.location_type), f"Infos et annulation: {rdv.link}"
    else:
        place, link = _AGENT_PLACE_LINES.get(rdv.location_type), f"Voir le RDV: {rdv.link}"
    return "\n".join(line for line in (place, link) if line)


def _calendar(method: IcsMethod) -> Calendar:
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", method.value)
    return calendar


def _organizer(email: str) -> vCalAddress:
    organizer = vCalAddress(f"mailto:{email}")
    organizer.params["cn"] = PRODUCT_NAME
    return organizer


def _attendee(person: IcsPerson) -> vCalAddress:
    attendee = vCalAddress(f"mailto:{person.email}")
    attendee.params["cn"] = person.name
    attendee.params["role"] = "REQ-PARTICIPANT"
    # The RDV is already in the agent's agenda: nothing to accept or answer.
    attendee.params["partstat"] = "ACCEPTED"
    attendee.params["rsvp"] = "FALSE"
    return attendee


def _finish(calendar: Calendar, first: date, last: date) -> bytes:
    # The VTIMEZONE spells out the zone's offsets and changes from January of the first year to the end
    # of the last one, which is all a client needs to place the events.
    calendar.add_missing_timezones(first_date=date(first.year, 1, 1), last_date=date(last.year + 1, 1, 1))
    return calendar.to_ical()


def rdv_ics(rdv: IcsRdv, audience: Audience, stamp: datetime) -> IcsFile:
    """The calendar of an RDV for an usager email or an agent email; `stamp` is when it is built."""
    if rdv.cancelled:
        method = IcsMethod.CANCEL
    else:
        method = IcsMethod.REQUEST if audience == Audience.AGENT else IcsMethod.PUBLISH
    zone = ZoneInfo(rdv.time_zone)
    start, end = rdv.starts_at.astimezone(zone), rdv.ends_at.astimezone(zone)
    event = Event()
    event.add("uid", rdv.uid)
    event.add("sequence", rdv.sequence)
    event.add("dtstamp", stamp.astimezone(UTC))
    event.add("dtstart", start)
    event.add("dtend", end)
    event.add("summary", f"RDV {rdv.motif_name}")
    location = _location(rdv)
    if location:
        event.add("location", location)
    event.add("description", _description(rdv, audience))
    event.add("status", "CANCELLED" if rdv.cancelled else "CONFIRMED")
    event.add("organizer", _organizer(rdv.organizer_email))
    if audience == Audience.AGENT:
        for agent in rdv.agents:
            event.add("attendee", _attendee(agent))
    calendar = _calendar(method)
    calendar.add_component(event)
    content = _finish(calendar, start.date(), end.date())
    return IcsFile(content, method, f"rdv-{rdv.uid}-{start.date().isoformat()}.ics")


def recurrence_rule(recurrence: Recurrence, first_day: date, time_zone: str) -> dict[str, object]:
    """The RRULE of a plage or an absence, as icalendar values.

    Weekly: FREQ=WEEKLY;INTERVAL=n;BYDAY=MO,TU;WKST=MO (the weeks of `Recurrence` are counted from
    Monday, which WKST makes explicit for intervals above 1); without chosen weekdays, the weekday of
    the first day. Monthly: FREQ=MONTHLY;INTERVAL=n;BYDAY=2TU (or -1FR for the last one). UNTIL is the
    end of the last day, in UTC, as RFC 5545 requires next to a DTSTART with a TZID.
    """
    rule: dict[str, object] = {"freq": "WEEKLY" if recurrence.every == "week" else "MONTHLY",
                               "interval": recurrence.interval}
    if recurrence.every == "week":
        rule["byday"] = [_BYDAY[day] for day in recurrence.weekdays or (first_day.weekday(),)]
        rule["wkst"] = "MO"
    else:
        weekday, ordinal = recurrence.month_day()
        rule["byday"] = [f"{ordinal}{_BYDAY[weekday]}"]
    if recurrence.until is not None:
        last_moment = datetime.combine(recurrence.until, time(23, 59, 59), tzinfo=ZoneInfo(time_zone))
        rule["until"] = last_moment.astimezone(UTC)
    return rule


class NoticeKind(StrEnum):
    PLAGE_OUVERTURE = "plage_ouverture"
    ABSENCE = "absence"


_NOTICE_LABELS = {NoticeKind.PLAGE_OUVERTURE: "Plage d'ouverture", NoticeKind.ABSENCE: "Indisponibilité"}
_NOTICE_FILES = {NoticeKind.PLAGE_OUVERTURE: "plage-ouverture", NoticeKind.ABSENCE: "indisponibilite"}
# How far to look for the first occurrence of a series without an end: a 5th weekday every 12 months
# can wait up to 28 years for a month that has one.
_FIRST_OCCURRENCE_HORIZON_YEARS = 29
_OPEN_SERIES_YEARS = 20


@dataclass(frozen=True, slots=True)
class AvailabilityNotice:
    """A plage d'ouverture or an indisponibilité, for the email its agent gets when it changes."""

    kind: NoticeKind
    record_id: int
    title: str
    first_day: date
    start_time: time  # local wall-clock times of the organisation's zone
    end_time: time
    time_zone: str
    agent: IcsPerson
    organizer_email: str
    uid_domain: str  # the platform's host name: UIDs must be unique worldwide
    sequence: int  # see `notice_sequence`
    recurrence: Recurrence | None = None
    end_day: date | None = None  # multi-day absences; else the first day
    location: str | None = None  # plages at a lieu: "Name (address)"
    cancelled: bool = False


def notice_sequence(created_at: datetime, changed_at: datetime) -> int:
    """A SEQUENCE for records without a counter: whole seconds from creation to the change (its update,
    or its deletion), which grows with each change and fits the 32-bit integer clients expect."""
    return int((changed_at - created_at).total_seconds())


def notice_ics(notice: AvailabilityNotice, stamp: datetime) -> IcsFile:
    """The calendar of a plage or an absence: REQUEST with its agent as ATTENDEE, CANCEL on deletion."""
    method = IcsMethod.CANCEL if notice.cancelled else IcsMethod.REQUEST
    zone = ZoneInfo(notice.time_zone)
    first = notice.first_day
    if notice.recurrence is not None:
        horizon = notice.recurrence.until or date(first.year + _FIRST_OCCURRENCE_HORIZON_YEARS, 12, 31)
        # RFC 5545 counts DTSTART as an occurrence: it must be the series' first day, which is not
        # `first_day` when, say, a plage starting on a Monday repeats on Tuesdays. A series with no
        # occurrence at all keeps its first day.
        first = next(notice.recurrence.dates(notice.first_day, notice.first_day, horizon), first)
    end_day = notice.end_day if notice.recurrence is None and notice.end_day else first
    event = Event()
    event.add("uid", f"{notice.kind.value}_{notice.record_id}@{notice.uid_domain}")
    event.add("sequence", notice.sequence)
    event.add("dtstamp", stamp.astimezone(UTC))
    event.add("dtstart", datetime.combine(first, notice.start_time, tzinfo=zone))
    event.add("dtend", datetime.combine(end_day, notice.end_time, tzinfo=zone))
    if notice.recurrence is not None:
        event.add("rrule", recurrence_rule(notice.recurrence, notice.first_day, notice.time_zone))
    event.add("summary", f"{_NOTICE_LABELS[notice.kind]} : {notice.title}")
    if notice.location:
        event.add("location", notice.location)
    event.add("status", "CANCELLED" if notice.cancelled else "CONFIRMED")
    event.add("organizer", _organizer(notice.organizer_email))
    event.add("attendee", _attendee(notice.agent))
    calendar = _calendar(method)
    calendar.add_component(event)
    covered_until = end_day
    if notice.recurrence is not None:
        # An open series gets twenty years of the zone's rules.
        covered_until = notice.recurrence.until or date(first.year + _OPEN_SERIES_YEARS, 12, 31)
    content = _finish(calendar, first, covered_until)
    return IcsFile(content, method, f"{_NOTICE_FILES[notice.kind]}-{notice.first_day.isoformat()}.ics")
