"""Who gets which message about an RDV change: usagers (channels, relatives, flags) and agents (levels)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from rdv_app.domain.enums import AuthorType, Channel, NotificationEvent, RdvNotificationLevel, RdvStatus
from rdv_app.domain.recipients import (
    AgentContact,
    AgentMessage,
    Occasion,
    ParticipationTarget,
    UsagerContact,
    UsagerMessage,
    agent_events,
    agent_messages,
    agents_to_notify,
    phone_region,
    sms_number,
    usager_messages,
)

CREATED = NotificationEvent.RDV_CREATED
UPDATED = NotificationEvent.RDV_UPDATED
CANCELLED = NotificationEvent.RDV_CANCELLED
REMINDER = NotificationEvent.RDV_UPCOMING_REMINDER
MAIL, SMS = Channel.MAIL, Channel.SMS

NOW = datetime(2025, 6, 13, 10, 0, tzinfo=UTC)  # a Friday, noon in Paris
FUTURE = NOW + timedelta(days=5)

ALICE = UsagerContact(1, email="alice@example.fr", phone_number="06 12 34 56 78")
ALICE_SMS = "+33612345678"
BOB = UsagerContact(2, email="bob@example.fr", phone_number="+33 7 56 12 34 56")
BOB_SMS = "+33756123456"
# Alice's children: no contact of their own, their messages go to Alice.
LEA = UsagerContact(3)
TOM = UsagerContact(4, email="tom@example.fr", phone_number="0698765432")


def change(event=CREATED, author=AuthorType.AGENT, status=RdvStatus.UNKNOWN, starts_at=FUTURE, **fields):
    return Occasion(event=event, author_type=author, starts_at=starts_at, now=NOW, status=status, **fields)


def target(contact, responsible=None, **fields):
    return ParticipationTarget(participant=contact, responsible=responsible, **fields)


def cancelled(contact, responsible=None, status=RdvStatus.REVOKED, **fields):
    return target(contact, responsible, status=status, **fields)


def sent(messages):
    return [(m.channel, m.usager_id, m.address, m.participant_ids) for m in messages]


# --------------------------------------------------------------------------- usagers: the matrix


def test_created_goes_by_email_and_sms():
    assert sent(usager_messages(change(), [target(ALICE)], "75")) == [
        (MAIL, 1, "alice@example.fr", (1,)),
        (SMS, 1, ALICE_SMS, (1,)),
    ]


def test_every_participant_of_a_collective_rdv_gets_their_own():
    messages = usager_messages(change(), [target(ALICE), target(BOB)], "75")
    assert sent(messages) == [
        (MAIL, 1, "alice@example.fr", (1,)),
        (SMS, 1, ALICE_SMS, (1,)),
        (MAIL, 2, "bob@example.fr", (2,)),
        (SMS, 2, BOB_SMS, (2,)),
    ]


@pytest.mark.parametrize("event", [CREATED, UPDATED, CANCELLED, REMINDER])
@pytest.mark.parametrize("delta", [timedelta(0), -timedelta(minutes=1), -timedelta(days=3)])
def test_nothing_once_the_rdv_has_started(event, delta):
    participation = cancelled(ALICE) if event == CANCELLED else target(ALICE)
    rdv_change = change(event, starts_at=NOW + delta, time_or_lieu_changed=True)
    assert usager_messages(rdv_change, [participation], "75") == []


def test_updated_only_when_time_or_lieu_changed():
    assert usager_messages(change(UPDATED), [target(ALICE)], "75") == []
    assert sent(usager_messages(change(UPDATED, time_or_lieu_changed=True), [target(ALICE)], "75")) == [
        (MAIL, 1, "alice@example.fr", (1,)),
        (SMS, 1, ALICE_SMS, (1,)),
    ]


def test_cancellation_by_an_agent_goes_by_email_and_sms():
    assert sent(usager_messages(change(CANCELLED, status=RdvStatus.REVOKED), [cancelled(ALICE)], "75")) == [
        (MAIL, 1, "alice@example.fr", (1,)),
        (SMS, 1, ALICE_SMS, (1,)),
    ]


@pytest.mark.parametrize("author", [AuthorType.USAGER, AuthorType.PRESCRIPTEUR, AuthorType.SYSTEM])
def test_cancellation_by_anyone_else_goes_by_email_only(author):
    rdv_change = change(CANCELLED, author=author, status=RdvStatus.EXCUSED)
    assert sent(usager_messages(rdv_change, [cancelled(ALICE, status=RdvStatus.EXCUSED)], "75")) == [
        (MAIL, 1, "alice@example.fr", (1,)),
    ]


def test_cancellation_skips_those_who_had_cancelled_already():
    targets = [cancelled(ALICE), cancelled(BOB, status=RdvStatus.EXCUSED, was_cancelled=True)]
    assert [m.usager_id for m in usager_messages(change(CANCELLED, status=RdvStatus.REVOKED), targets, "75")] == [1, 1]


def test_leaving_a_collective_rdv_cancels_for_that_participant_only():
    # The RDV goes on (unknown); Bob's participation is the one this change cancelled.
    targets = [target(ALICE), cancelled(BOB, status=RdvStatus.EXCUSED)]
    messages = usager_messages(change(CANCELLED, author=AuthorType.USAGER), targets, "75")
    assert sent(messages) == [(MAIL, 2, "bob@example.fr", (2,))]


@pytest.mark.parametrize("event", [CREATED, UPDATED, CANCELLED, REMINDER])
def test_nothing_on_noshow(event):
    rdv_change = change(event, status=RdvStatus.NOSHOW, time_or_lieu_changed=True)
    assert usager_messages(rdv_change, [target(ALICE, status=RdvStatus.NOSHOW)], "75") == []


@pytest.mark.parametrize("event", [CREATED, UPDATED])
@pytest.mark.parametrize("status", [RdvStatus.EXCUSED, RdvStatus.REVOKED, RdvStatus.NOSHOW])
def test_created_and_updated_skip_participations_no_longer_expected(event, status):
    targets = [target(ALICE), target(BOB, status=status)]
    assert {m.usager_id for m in usager_messages(change(event, time_or_lieu_changed=True), targets, "75")} == {1}


def test_reminder_goes_to_the_opted_in_participations_still_to_come():
    targets = [
        target(ALICE),
        target(BOB, send_reminder_notification=False),
        target(TOM, status=RdvStatus.EXCUSED),
    ]
    assert sent(usager_messages(change(REMINDER), targets, "75")) == [
        (MAIL, 1, "alice@example.fr", (1,)),
        (SMS, 1, ALICE_SMS, (1,)),
    ]


def test_reminder_ignores_the_lifecycle_flag_and_lifecycle_ignores_the_reminder_flag():
    quiet = target(ALICE, send_lifecycle_notifications=False)
    assert len(usager_messages(change(REMINDER), [quiet], "75")) == 2
    no_reminder = target(ALICE, send_reminder_notification=False)
    assert len(usager_messages(change(CREATED), [no_reminder], "75")) == 2


@pytest.mark.parametrize("event", [CREATED, UPDATED, CANCELLED])
def test_lifecycle_flag_off_sends_nothing(event):
    participation = target(ALICE, send_lifecycle_notifications=False,
                           status=RdvStatus.REVOKED if event == CANCELLED else RdvStatus.UNKNOWN)
    rdv_change = change(event, time_or_lieu_changed=True,
                        status=RdvStatus.REVOKED if event == CANCELLED else RdvStatus.UNKNOWN)
    assert usager_messages(rdv_change, [participation], "75") == []


def test_no_reminder_when_the_rdv_is_cancelled():
    assert usager_messages(change(REMINDER, status=RdvStatus.REVOKED), [target(ALICE)], "75") == []


# --------------------------------------------------------------------------- relatives


def test_relatives_messages_go_to_the_responsible_once():
    targets = [target(LEA, responsible=ALICE), target(TOM, responsible=ALICE)]
    messages = usager_messages(change(), targets, "75")
    assert sent(messages) == [
        (MAIL, 1, "alice@example.fr", (3, 4)),
        (SMS, 1, ALICE_SMS, (3, 4)),
    ]
    assert all(m.for_relatives for m in messages)


def test_the_responsible_and_a_relative_in_the_same_rdv():
    messages = usager_messages(change(), [target(ALICE), target(LEA, responsible=ALICE)], "75")
    assert sent(messages) == [
        (MAIL, 1, "alice@example.fr", (1, 3)),
        (SMS, 1, ALICE_SMS, (1, 3)),
    ]
    assert all(m.for_relatives for m in messages)


def test_for_relatives_is_false_for_oneself():
    assert UsagerMessage(MAIL, 1, "alice@example.fr", (1,)).for_relatives is False


def test_a_relative_with_its_own_contact_still_goes_through_the_responsible():
    messages = usager_messages(change(), [target(TOM, responsible=BOB)], "75")
    assert sent(messages) == [(MAIL, 2, "bob@example.fr", (4,)), (SMS, 2, BOB_SMS, (4,))]


def test_relatives_follow_their_own_flags():
    targets = [target(LEA, responsible=ALICE, send_lifecycle_notifications=False), target(TOM, responsible=ALICE)]
    assert {m.participant_ids for m in usager_messages(change(), targets, "75")} == {(4,)}


# --------------------------------------------------------------------------- channels


def test_email_needs_an_address_and_consent():
    no_email = replace(ALICE, email=None)
    blank = replace(ALICE, email="  ")
    refused = replace(ALICE, notify_by_email=False)
    for contact in (no_email, blank, refused):
        assert [m.channel for m in usager_messages(change(), [target(contact)], "75")] == [SMS]


def test_sms_needs_a_mobile_and_consent():
    landline = replace(ALICE, phone_number="01 23 45 67 89")
    refused = replace(ALICE, notify_by_sms=False)
    no_phone = replace(ALICE, phone_number=None)
    for contact in (landline, refused, no_phone):
        assert [m.channel for m in usager_messages(change(), [target(contact)], "75")] == [MAIL]


def test_nobody_reachable_gets_nothing():
    assert usager_messages(change(), [target(LEA)], "75") == []


def test_overseas_numbers_are_read_in_the_territory():
    guadeloupe = replace(ALICE, email=None, phone_number="0690 00 12 34")
    assert sent(usager_messages(change(), [target(guadeloupe)], "971")) == [(SMS, 1, "+590690001234", (1,))]


# --------------------------------------------------------------------------- phone numbers


@pytest.mark.parametrize(
    ("phone", "region", "expected"),
    [
        ("06 12 34 56 78", "FR", "+33612345678"),
        ("07.56.12.34.56", "FR", "+33756123456"),
        ("+33 6 12 34 56 78", "FR", "+33612345678"),
        ("0033612345678", "FR", "+33612345678"),
        ("01 23 45 67 89", "FR", None),  # landline
        ("09 12 34 56 78", "FR", None),  # VoIP
        ("08 00 12 34 56", "FR", None),  # toll-free
        ("06 12", "FR", None),
        ("pas de téléphone", "FR", None),
        ("", "FR", None),
        ("   ", "FR", None),
        (None, "FR", None),
        # Overseas mobiles, typed nationally, in their territory or from anywhere in France.
        ("0690 00 12 34", "GP", "+590690001234"),
        ("0690 00 12 34", "FR", "+590690001234"),
        ("0696 20 12 34", "FR", "+596696201234"),
        ("0694 20 12 34", "FR", "+594694201234"),
        ("0692 12 34 56", "FR", "+262692123456"),
        ("0639 01 23 45", "FR", "+262639012345"),  # Mayotte shares +262 with La Réunion
        ("0639 01 23 45", "YT", "+262639012345"),
        ("055 12 34", "PM", "+508551234"),
        ("+262 692 12 34 56", "FR", "+262692123456"),
        ("0590 20 12 34", "GP", None),  # a Guadeloupe landline
        ("0262 16 12 34", "FR", None),  # a Réunion landline
        ("0612345678", "GP", "+33612345678"),  # a metropolitan mobile used overseas
        # Abroad: mobiles are accepted; where the numbering cannot tell, the number is given a chance.
        ("+32 470 12 34 56", "FR", "+32470123456"),
        ("+1 201 555 0123", "FR", "+12015550123"),  # FIXED_LINE_OR_MOBILE
        ("+32 2 123 45 67", "FR", None),  # a Brussels landline
    ],
)
def test_sms_number(phone, region, expected):
    assert sms_number(phone, region) == expected


@pytest.mark.parametrize(
    ("departement", "region"),
    [("75", "FR"), ("2A", "FR"), ("CN", "FR"), ("971", "GP"), ("972", "MQ"), ("973", "GF"), ("974", "RE"),
     ("975", "PM"), ("976", "YT")],
)
def test_phone_region(departement, region):
    assert phone_region(departement) == region


def test_only_rdv_events_are_accepted():
    with pytest.raises(ValueError, match="événement"):
        change(NotificationEvent.PLAGE_NOTICE)


# --------------------------------------------------------------------------- agents: levels

TZ = "Europe/Paris"
# NOW is Friday 13 June 2025 at noon in Paris: "soon" means Friday 13 or Saturday 14 (local).
TODAY_LATE = datetime(2025, 6, 13, 21, 30, tzinfo=UTC)  # 23:30 Friday in Paris
TOMORROW_LATE = datetime(2025, 6, 14, 21, 59, tzinfo=UTC)  # 23:59 Saturday in Paris
AFTER_TOMORROW = datetime(2025, 6, 14, 22, 0, tzinfo=UTC)  # 00:00 Sunday in Paris (still Saturday in UTC)
NEXT_WEEK = datetime(2025, 6, 20, 8, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("level", "author", "old_start", "new_start", "expected"),
    [
        (RdvNotificationLevel.ALL, 7, None, NEXT_WEEK, True),  # even their own change
        (RdvNotificationLevel.ALL, 8, None, NEXT_WEEK, True),
        (RdvNotificationLevel.NONE, 8, None, TODAY_LATE, False),
        (RdvNotificationLevel.NONE, None, None, TODAY_LATE, False),
        (RdvNotificationLevel.OTHERS, 7, None, NEXT_WEEK, False),  # their own change
        (RdvNotificationLevel.OTHERS, 8, None, NEXT_WEEK, True),
        (RdvNotificationLevel.OTHERS, None, None, NEXT_WEEK, True),  # booked by an usager
        (RdvNotificationLevel.SOON, 8, None, NEXT_WEEK, False),
        (RdvNotificationLevel.SOON, 8, None, TODAY_LATE, True),
        (RdvNotificationLevel.SOON, 8, None, TOMORROW_LATE, True),
        (RdvNotificationLevel.SOON, 8, None, AFTER_TOMORROW, False),  # Sunday in Paris
        (RdvNotificationLevel.SOON, 8, TODAY_LATE, NEXT_WEEK, True),  # moved away from today
        (RdvNotificationLevel.SOON, 8, NEXT_WEEK, TOMORROW_LATE, True),  # moved to tomorrow
        (RdvNotificationLevel.SOON, 7, TODAY_LATE, TODAY_LATE, False),  # their own change
        (RdvNotificationLevel.SOON, None, None, TODAY_LATE, True),
    ],
)
def test_agents_to_notify(level, author, old_start, new_start, expected):
    assert agents_to_notify(level, author, 7, old_start, new_start, NOW, TZ) is expected


def test_soon_uses_the_organisation_time_zone():
    # 21:30 UTC on Saturday is already Sunday 01:30 in La Réunion, and not soon from Friday there.
    saturday_evening_utc = datetime(2025, 6, 14, 21, 30, tzinfo=UTC)
    assert agents_to_notify(RdvNotificationLevel.SOON, 8, 7, None, saturday_evening_utc, NOW, TZ) is True
    assert agents_to_notify(RdvNotificationLevel.SOON, 8, 7, None, saturday_evening_utc, NOW,
                            "Indian/Reunion") is False


# --------------------------------------------------------------------------- agents: who hears what


def test_moved_between_agents():
    assert agent_events(UPDATED, [1, 2], [2, 3], time_or_lieu_changed=True) == [
        (2, UPDATED), (3, CREATED), (1, CANCELLED),
    ]


def test_agents_changed_without_time_or_lieu_change():
    assert agent_events(UPDATED, [1, 2], [2, 3], time_or_lieu_changed=False) == [(3, CREATED), (1, CANCELLED)]


@pytest.mark.parametrize("event", [CREATED, CANCELLED])
def test_created_and_cancelled_go_to_the_rdv_agents(event):
    assert agent_events(event, [], [1, 2, 1], time_or_lieu_changed=False) == [(1, event), (2, event)]


def test_agents_never_get_reminders():
    assert agent_events(REMINDER, [1], [1], time_or_lieu_changed=False) == []


AGENTS = [
    AgentContact(1, "un@example.fr", RdvNotificationLevel.OTHERS),
    AgentContact(2, "deux@example.fr", RdvNotificationLevel.ALL),
    AgentContact(3, "trois@example.fr", RdvNotificationLevel.NONE),
    AgentContact(4, None, RdvNotificationLevel.ALL),  # no account email (intervenant)
    AgentContact(5, "cinq@example.fr", RdvNotificationLevel.SOON),
]


def test_agent_messages_apply_events_and_levels():
    rdv_change = change(UPDATED, author_agent_id=2, time_or_lieu_changed=True)
    messages = agent_messages(rdv_change, AGENTS, old_agent_ids=[1, 2, 3], new_agent_ids=[2, 3, 4, 5],
                              old_starts_at=NEXT_WEEK, time_zone=TZ)
    assert messages == [
        AgentMessage(2, "deux@example.fr", UPDATED),  # level all: even the author
        AgentMessage(1, "un@example.fr", CANCELLED),  # removed
    ]


def test_agent_messages_soon_level_sees_a_move_to_tomorrow():
    rdv_change = change(UPDATED, author=AuthorType.USAGER, starts_at=TOMORROW_LATE, time_or_lieu_changed=True)
    messages = agent_messages(rdv_change, AGENTS, [5], [5], old_starts_at=NEXT_WEEK, time_zone=TZ)
    assert messages == [AgentMessage(5, "cinq@example.fr", UPDATED)]


def test_agent_messages_nothing_on_noshow():
    assert agent_messages(change(CANCELLED, status=RdvStatus.NOSHOW), AGENTS, [1], [1], FUTURE, TZ) == []


def test_agent_messages_nothing_for_past_rdvs():
    rdv_change = change(CANCELLED, status=RdvStatus.REVOKED, starts_at=NOW - timedelta(hours=1))
    assert agent_messages(rdv_change, AGENTS, [1], [1], NOW - timedelta(hours=1), TZ) == []


def test_agent_messages_on_cancellation_by_an_usager():
    rdv_change = change(CANCELLED, author=AuthorType.USAGER, status=RdvStatus.EXCUSED)
    assert agent_messages(rdv_change, AGENTS, [1, 3], [1, 3], FUTURE, TZ) == [
        AgentMessage(1, "un@example.fr", CANCELLED),
    ]
