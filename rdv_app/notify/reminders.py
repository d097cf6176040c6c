"""Reminders (decision 1), computed by the worker from the database.

The worker scans once a minute (`queue_due_reminders`): among the RDVs still to come that start within
`CANDIDATE_HORIZON`, it computes each one's reminder time (`rdv_app.domain.reminders.reminder_at`, 48
hours before counting neither Sundays nor the territory's holidays, in the organisation's zone) and,
once that time has passed, queues the reminder SMS and emails in the outbox, where they leave like any
other message. Nothing is scheduled in memory, so:

- a worker stopped for a while catches up when it starts again, but never once the RDV has started
  (the messages expire at the RDV's start, decision 8);
- a moved RDV gets its reminder at its new time, a cancelled (or already seen) one gets none;
- exactly one reminder per recipient, channel and RDV version: the idempotency key holds the RDV's
  uuid and its `ics_sequence`, which every change of time or lieu and every cancellation or
  re-creation increments. While it queues an RDV's reminders the worker holds the RDV's row
  (PostgreSQL: `FOR UPDATE SKIP LOCKED`; SQLite: an IMMEDIATE transaction), so two workers never both
  issue a new "Infos et annulation" token for the same reminder.

Who gets it follows `rdv_app.domain.recipients` (a motif visible to usagers, participation still to
come, its reminder flag, the recipient's email and SMS flags, a relative's messages to their responsible
person). A recipient whose
confirmation or change message of this version was queued after the reminder time gets no reminder:
they have just been told the same thing.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from rdv_app.db.engine import begin_write
from rdv_app.db.models import Organisation, OutboxMessage, Participation, Rdv, RdvAgent, Territory
from rdv_app.db.uow import UnitOfWork
from rdv_app.domain import recipients
from rdv_app.domain.enums import AuthorType, Channel, NotificationEvent, RdvStatus
from rdv_app.domain.reminders import reminder_at, reminder_due
from rdv_app.domain.sms import rdv_sms
from rdv_app.notify.events import (
    _SMS_SENDER_MAX,
    _existing_keys,
    _fresh_links,
    _ics_rdv,
    _load_agents,
    _load_context,
    _load_participations,
    _sms_rdv,
    _targets,
    _usager_email,
    _usager_key,
)
from rdv_app.notify.ics import Audience, IcsFile, rdv_ics
from rdv_app.notify.outbox import enqueue

logger = logging.getLogger(__name__)

EVENT = NotificationEvent.RDV_UPCOMING_REMINDER
# The farthest a reminder can be from its RDV: 48 counted hours, plus the days that do not count in
# between (a Sunday and holidays: at most three in a row, 25-27 December in Alsace-Moselle). A test
# checks this bound over years of every territory's calendar.
CANDIDATE_HORIZON = timedelta(days=7)
_LIFECYCLE_EVENTS = (NotificationEvent.RDV_CREATED, NotificationEvent.RDV_UPDATED)


def due_rdv_ids(session: Session, now: datetime) -> list[int]:
    """RDVs whose reminder time has passed, still to come, and without any reminder of their current
    version yet, soonest first."""
    reminder_prefix = (sa.literal(f"{EVENT.value}:") + col(Rdv.uuid) + sa.literal(":")
                       + sa.cast(col(Rdv.ics_sequence), sa.String) + sa.literal(":%"))
    already = (select(OutboxMessage.id)
               .where(OutboxMessage.rdv_id == Rdv.id, OutboxMessage.event == EVENT.value,
                      col(OutboxMessage.idempotency_key).like(reminder_prefix))
               .exists())
    rows = session.exec(
        # sqlmodel types select() for at most 4 entities.
        select(Rdv.id, Rdv.starts_at, Organisation.timezone, Territory.timezone,  # type: ignore[call-overload]
               Territory.departement_number)
        .join(Organisation, col(Organisation.id) == Rdv.organisation_id)
        .join(Territory, col(Territory.id) == Organisation.territory_id)
        .where(Rdv.status == RdvStatus.UNKNOWN.value, col(Rdv.starts_at) > now,
               col(Rdv.starts_at) <= now + CANDIDATE_HORIZON, ~already)
        .order_by(col(Rdv.starts_at), col(Rdv.id))
    ).all()
    return [rdv_id for rdv_id, starts_at, org_zone, territory_zone, departement in rows
            if reminder_at(starts_at, org_zone or territory_zone or "Europe/Paris", departement) <= now]


def queue_due_reminders(url: str, now: datetime) -> list[int]:
    """Queues the reminders that are due at `now`, one RDV per transaction; returns the new outbox ids."""
    with UnitOfWork(url) as uow:
        rdv_ids = due_rdv_ids(uow.session, now)
    queued: list[int] = []
    for rdv_id in rdv_ids:
        try:
            with UnitOfWork(url) as uow:
                queued += queue_rdv_reminders(uow.session, rdv_id, now)
                uow.commit()
        except Exception:  # one RDV the messages cannot be written for must not hold back the others
            logger.exception("reminders: RDV %s skipped, tried again at the next scan", rdv_id)
    if queued:
        logger.info("reminders: %d message(s) queued for %d RDV(s)", len(queued), len(rdv_ids))
    return queued


def queue_rdv_reminders(session: Session, rdv_id: int, now: datetime) -> list[int]:
    """Queues one RDV's due reminders in `session`'s transaction (no commit); returns the new outbox ids.

    Does nothing when another worker holds the RDV, when it is no longer due, or when every reminder of
    its version is already queued.
    """
    # SQLite: take the write lock at BEGIN, so that the checks below and the writes are one step.
    begin_write(session)
    rdv = session.exec(select(Rdv).where(Rdv.id == rdv_id).with_for_update(skip_locked=True)).first()
    context = _load_context(session, rdv_id) if rdv is not None else None
    if rdv is None or context is None:
        return []
    territory = context.territory
    timing: dict[str, Any] = {"now": now, "starts_at": rdv.starts_at, "time_zone": context.time_zone,
              "departement_number": territory.departement_number}
    if rdv.status != RdvStatus.UNKNOWN or not reminder_due(scheduled_at=None, **timing):
        return []

    usager_ids = tuple(session.exec(select(Participation.usager_id).where(Participation.rdv_id == rdv_id)
                                    .order_by(col(Participation.id))))
    participations, usagers = _load_participations(session, rdv_id, usager_ids)
    targets = _targets(context, participations, usagers)
    agent_ids = tuple(session.exec(select(RdvAgent.agent_id).where(RdvAgent.rdv_id == rdv_id)
                                   .order_by(col(RdvAgent.agent_id))))
    reminder = recipients.Occasion(event=EVENT, author_type=AuthorType.SYSTEM, starts_at=rdv.starts_at, now=now,
                                   status=RdvStatus(rdv.status), agent_ids=agent_ids)
    messages = recipients.usager_messages(reminder, targets, territory.departement_number)
    keys = {_usager_key(EVENT, rdv, message): message for message in messages}
    told = _told_at(session, rdv, messages)
    existing = _existing_keys(session, list(keys))
    to_send = [m for key, m in keys.items() if key not in existing
               and reminder_due(scheduled_at=told.get((m.channel, m.usager_id)), **timing)]
    if not to_send:
        return []

    agents = _load_agents(session, agent_ids)
    links = _fresh_links(session, rdv, {p.usager_id: p for p in participations}, to_send, now)
    ics: IcsFile | None = None
    ids: list[int] = []
    for message in to_send:
        link = links[message.usager_id]
        if message.channel == Channel.SMS:
            payload: dict[str, Any] = {"to": message.address,
                                       "text": rdv_sms(EVENT, _sms_rdv(context, message, usagers, agents,
                                                                       reminder, link))}
            sender = (territory.sms_sender or "").strip()
            if 0 < len(sender) <= _SMS_SENDER_MAX:
                payload["sender"] = sender
        else:
            if ics is None:
                ics = rdv_ics(_ics_rdv(context, reminder, agents, Audience.USAGER), Audience.USAGER, now)
            payload = _usager_email(context, reminder, message, usagers, link, ics)
        outbox_id = enqueue(session, channel=message.channel, event=EVENT,
                            idempotency_key=_usager_key(EVENT, rdv, message), payload=payload,
                            organisation_id=rdv.organisation_id, rdv_id=rdv_id, rdv_version=rdv.ics_sequence,
                            usager_id=message.usager_id, expires_at=rdv.starts_at)
        if outbox_id is not None:
            ids.append(outbox_id)
    return ids


def _told_at(session: Session, rdv: Rdv,
             messages: list[recipients.UsagerMessage]) -> dict[tuple[Channel, int], datetime]:
    """When each (channel, recipient) was told of the RDV's current version: the time its confirmation or
    change message was queued; absent when it was not."""
    lifecycle = {_usager_key(event, rdv, m): (m.channel, m.usager_id)
                 for m in messages for event in _LIFECYCLE_EVENTS}
    if not lifecycle:
        return {}
    told: dict[tuple[Channel, int], datetime] = {}
    for key, created_at in session.exec(select(OutboxMessage.idempotency_key, OutboxMessage.created_at)
                                        .where(col(OutboxMessage.idempotency_key).in_(list(lifecycle)))):
        pair = lifecycle[key]
        told[pair] = max(created_at, told.get(pair, created_at))
    return told
