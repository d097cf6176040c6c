"""Who is told what about an RDV change (domain.md 3.1, issue 6), as plain data.

Usagers (`usager_messages`):
- nothing about an RDV whose motif is invisible to usagers (`usagers_see`), whatever the participation's
  flags: the RDV does not exist for them (child protection: a parent must not learn of it);
- nothing once the RDV has started, and nothing when it is marked "absence non excusée" (noshow);
- created: the participations still to come; updated: the same, and only when the time or the lieu
  changed; cancelled: the participations this change cancelled (not those already cancelled before);
  reminder: see `reminders.should_send_reminder`; created, updated and cancelled also need the
  participation's `send_lifecycle_notifications`;
- the messages of a relative go to their responsible person, one message per person and channel even
  when several of their relatives take part;
- email to those who have an address and accept email; SMS to those who accept SMS and whose number
  can receive one (a mobile, in France, overseas or abroad); the cancellation SMS only when an agent
  cancelled (an usager who cancels gets the email only).

Agents (`agent_messages`): each agent of the RDV by their level (all, others, soon, none); when an
update moves the RDV between agents, a removed agent gets "cancelled", an added one "created", one who
stays "updated" (only when the time or the lieu changed). Agents never get reminders.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import phonenumbers
from phonenumbers import PhoneNumberType

from rdv_app.domain.enums import (
    CANCELLED_STATUSES,
    AuthorType,
    Channel,
    NotificationEvent,
    RdvNotificationLevel,
    RdvStatus,
    VisibilityType,
)
from rdv_app.domain.events import RdvChanged
from rdv_app.domain.reminders import should_send_reminder

RDV_EVENTS = frozenset({
    NotificationEvent.RDV_CREATED,
    NotificationEvent.RDV_UPDATED,
    NotificationEvent.RDV_CANCELLED,
    NotificationEvent.RDV_UPCOMING_REMINDER,
})

# Phone regions of the overseas départements and collectivités, by département number. Their numbers
# are written nationally like metropolitan ones ("0690 12 34 56") but dial +590, +262...
_PHONE_REGIONS = {
    "971": "GP", "972": "MQ", "973": "GF", "974": "RE", "975": "PM", "976": "YT",
    "977": "BL", "978": "MF", "986": "WF", "987": "PF", "988": "NC",
}
# National numbers are tried in the territory's region, then these: an usager of La Réunion booking in
# Paris still types "0692...". Their national prefixes do not overlap (Saint-Barthélemy and
# Saint-Martin share Guadeloupe's +590), so the first region where the number is valid is its own.
_FRENCH_REGIONS = ("FR", "GP", "MQ", "GF", "RE", "YT", "PM")
# FIXED_LINE_OR_MOBILE is what the metadata says when a country's numbering cannot tell (the United
# States, for example): the number may well be a mobile, and a failed SMS leaves a receipt.
_SMS_TYPES = frozenset({PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE})


def usagers_see(visibility_type: str) -> bool:
    """Whether usagers may see or hear of the RDVs of a motif of this visibility (domain.md, Motif):
    "visible_and_notified" and "visible_and_not_notified" (whose participations are notified only when
    an agent asks for it), never "invisible"."""
    return visibility_type != VisibilityType.INVISIBLE


def phone_region(departement_number: str) -> str:
    """The phonenumbers region used to read national numbers typed in a territory."""
    return _PHONE_REGIONS.get(departement_number.strip(), "FR")


def sms_number(phone_number: str | None, region: str = "FR") -> str | None:
    """The E.164 form of a number that can receive SMS, or None (empty, invalid, landline, VoIP...)."""
    if not phone_number or not phone_number.strip():
        return None
    for candidate in dict.fromkeys((region, *_FRENCH_REGIONS)):
        try:
            number = phonenumbers.parse(phone_number, candidate)
        except phonenumbers.NumberParseException:
            return None  # not a phone number in any region
        if phonenumbers.is_valid_number(number):
            if phonenumbers.number_type(number) not in _SMS_TYPES:
                return None
            return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return None


@dataclass(frozen=True, slots=True)
class UsagerContact:
    usager_id: int
    email: str | None = None
    notify_by_email: bool = True
    phone_number: str | None = None  # as typed or formatted; `sms_number` decides
    notify_by_sms: bool = True


@dataclass(frozen=True, slots=True)
class ParticipationTarget:
    """A participation concerned by the change, with the contacts of whoever gets its messages."""

    participant: UsagerContact
    responsible: UsagerContact | None = None  # set when the participant is a relative ("proche")
    status: RdvStatus = RdvStatus.UNKNOWN  # after the change
    was_cancelled: bool = False  # already excused or revoked before the change
    send_lifecycle_notifications: bool = True
    send_reminder_notification: bool = True

    @property
    def recipient(self) -> UsagerContact:
        return self.responsible or self.participant


@dataclass(frozen=True, slots=True)
class Occasion:
    """Why people are told about an RDV now: one of its changes (an `RdvChanged` event), or its reminder."""

    event: NotificationEvent  # one of RDV_EVENTS
    author_type: AuthorType
    starts_at: datetime  # the start after the change
    now: datetime
    status: RdvStatus  # the RDV's status after the change
    author_agent_id: int | None = None
    time_or_lieu_changed: bool = False  # updates: the start, the lieu, or its name or address changed
    old_starts_at: datetime | None = None  # updates: the start before the change
    agent_ids: tuple[int, ...] = ()  # the RDV's agents after the change

    def __post_init__(self) -> None:
        if self.event not in RDV_EVENTS:
            raise ValueError(f"{self.event} n'est pas un événement de RDV")

    @classmethod
    def of_change(cls, change: RdvChanged, now: datetime) -> Occasion:
        if change.event is None:
            raise ValueError("a silent change tells nobody anything")
        return cls(event=change.event, author_type=change.actor.type, starts_at=change.starts_at, now=now,
                   status=change.status, author_agent_id=change.actor.agent_id,
                   time_or_lieu_changed=change.time_or_lieu_changed, old_starts_at=change.old_starts_at,
                   agent_ids=change.new_agent_ids)


@dataclass(frozen=True, slots=True)
class UsagerMessage:
    channel: Channel
    usager_id: int  # the recipient
    address: str  # email address, or E.164 number
    participant_ids: tuple[int, ...]  # whom the message is about, in participation order

    @property
    def for_relatives(self) -> bool:
        """The recipient gets it for someone else (the SMS then names the participants)."""
        return any(participant != self.usager_id for participant in self.participant_ids)


def _usager_is_concerned(change: Occasion, target: ParticipationTarget) -> bool:
    if change.event == NotificationEvent.RDV_UPCOMING_REMINDER:
        return should_send_reminder(
            now=change.now, starts_at=change.starts_at, rdv_status=change.status,
            participation_status=target.status,
            send_reminder_notification=target.send_reminder_notification,
        )
    if not target.send_lifecycle_notifications:
        return False
    if change.event == NotificationEvent.RDV_CANCELLED:
        return target.status in CANCELLED_STATUSES and not target.was_cancelled
    return target.status not in CANCELLED_STATUSES and target.status != RdvStatus.NOSHOW


def usager_messages(change: Occasion, targets: Sequence[ParticipationTarget],
                    departement_number: str) -> list[UsagerMessage]:
    """The emails and SMS to send to usagers, in participation order, email before SMS per person."""
    if change.starts_at <= change.now or change.status == RdvStatus.NOSHOW:
        return []
    if change.event == NotificationEvent.RDV_UPDATED and not change.time_or_lieu_changed:
        return []
    sms_allowed = change.event != NotificationEvent.RDV_CANCELLED or change.author_type == AuthorType.AGENT
    region = phone_region(departement_number)
    # (channel, recipient) -> (address, participants), insertion-ordered.
    found: dict[tuple[Channel, int], tuple[str, list[int]]] = {}
    for target in targets:
        if not _usager_is_concerned(change, target):
            continue
        contact = target.recipient
        addresses = []
        if contact.notify_by_email and contact.email and contact.email.strip():
            addresses.append((Channel.MAIL, contact.email.strip()))
        number = sms_number(contact.phone_number, region) if contact.notify_by_sms and sms_allowed else None
        if number:
            addresses.append((Channel.SMS, number))
        for channel, address in addresses:
            participants = found.setdefault((channel, contact.usager_id), (address, []))[1]
            if target.participant.usager_id not in participants:
                participants.append(target.participant.usager_id)
    return [
        UsagerMessage(channel, usager_id, address, tuple(participants))
        for (channel, usager_id), (address, participants) in found.items()
    ]


def agents_to_notify(level: RdvNotificationLevel, author_agent_id: int | None, agent_id: int,
                     old_start: datetime | None, new_start: datetime, now: datetime, time_zone: str) -> bool:
    """Whether one agent's level lets through an email about a change of one of their RDVs.

    all: always, even for their own changes; none: never; others: when someone else made the change;
    soon: like others, and only when the new or the old start is today or tomorrow in the
    organisation's time zone.
    """
    if level == RdvNotificationLevel.ALL:
        return True
    if level == RdvNotificationLevel.NONE or author_agent_id == agent_id:
        return False
    if level == RdvNotificationLevel.OTHERS:
        return True
    zone = ZoneInfo(time_zone)
    today = now.astimezone(zone).date()
    soon = {today, today + timedelta(days=1)}
    return any(start is not None and start.astimezone(zone).date() in soon for start in (new_start, old_start))


def agent_events(event: NotificationEvent, old_agent_ids: Sequence[int], new_agent_ids: Sequence[int],
                 time_or_lieu_changed: bool) -> list[tuple[int, NotificationEvent]]:
    """What each agent is told, before their level applies, in agent order (new agents, then removed).

    An update tells a removed agent "cancelled" and an added one "created" whatever changed; the agents
    who stay hear "updated" only when the time or the lieu changed.
    """
    if event == NotificationEvent.RDV_UPCOMING_REMINDER:
        return []
    if event != NotificationEvent.RDV_UPDATED:
        return [(agent_id, event) for agent_id in dict.fromkeys(new_agent_ids)]
    old = set(old_agent_ids)
    events = []
    for agent_id in dict.fromkeys(new_agent_ids):
        if agent_id not in old:
            events.append((agent_id, NotificationEvent.RDV_CREATED))
        elif time_or_lieu_changed:
            events.append((agent_id, NotificationEvent.RDV_UPDATED))
    new = set(new_agent_ids)
    events += [(agent_id, NotificationEvent.RDV_CANCELLED)
               for agent_id in dict.fromkeys(old_agent_ids) if agent_id not in new]
    return events


@dataclass(frozen=True, slots=True)
class AgentContact:
    agent_id: int
    email: str | None
    level: RdvNotificationLevel


@dataclass(frozen=True, slots=True)
class AgentMessage:
    agent_id: int
    address: str
    event: NotificationEvent


def agent_messages(change: Occasion, agents: Sequence[AgentContact], old_agent_ids: Sequence[int],
                   new_agent_ids: Sequence[int], old_starts_at: datetime | None,
                   time_zone: str) -> list[AgentMessage]:
    """The agents' emails: `agent_events` filtered by each agent's level; `agents` holds the contacts of
    every agent before and after the change, `old_starts_at` the start before it (None on creation)."""
    if change.starts_at <= change.now or change.status == RdvStatus.NOSHOW:
        return []
    contacts = {agent.agent_id: agent for agent in agents}
    messages = []
    for agent_id, event in agent_events(change.event, old_agent_ids, new_agent_ids,
                                        change.time_or_lieu_changed):
        contact = contacts.get(agent_id)
        if contact is None or not contact.email:
            continue
        if agents_to_notify(contact.level, change.author_agent_id, agent_id, old_starts_at,
                            change.starts_at, change.now, time_zone):
            messages.append(AgentMessage(agent_id, contact.email, event))
    return messages
