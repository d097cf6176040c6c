"""The outbox: every SMS, email and webhook is first a row written in the transaction that causes it.

A service calls `enqueue` with its own session before committing; if the transaction rolls back, the
message never existed. The worker (`rdv_app.notify.worker`) delivers the rows afterwards.

Payloads, already rendered (texts by `rdv_app.domain.sms`, calendars by `rdv_app.notify.ics`):

- sms: `{"to": "+33612345678", "text": "...", "sender": "RDV S.P."}` (sender optional);
- mail: `{"to": "a@b.fr", "subject": "...", "text": "...", "html": "...",
  "ics": {"content": "BEGIN:VCALENDAR...", "method": "REQUEST", "filename": "rdv-<uuid>-<date>.ics"}}`
  (html and ics optional; the fields of an `rdv_app.notify.ics.IcsFile` fit, its bytes are stored as text);
- webhook: `{"body": "<raw JSON>", "endpoint_id": 12, "webhook_id": "msg_..."}` (the Standard Webhooks
  message id, the same on every attempt); the endpoint's address and secret are read when sending, so
  neither rests in the outbox;
- ants: `{"rdv_id": 12, "appointment": {...}, "application_ids": [...], ...}`: bring the ANTS coordination
  API up to date for that RDV (rdv_app.notify.ants).
- outlook: `{"agent_id": 12, "rdv_uuid": "..."}` (bring that agent's Outlook event of that RDV up to date) or
  `{"agent_id": 12}` (remove all their events, then their tokens): what to send is read when sending
  (rdv_app.notify.outlook).

Delivery right after the commit: the session remembers the ids it queued; once its transaction commits
they move to a "committed" list (a rollback forgets them), which `committed_ids` hands over once to
whoever triggers the delivery (in the app: `rdv_app.state.notifications.deliver_after_commit(uow)`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session

from rdv_app.db.models import OutboxMessage
from rdv_app.db.rows import table_of
from rdv_app.domain import clock
from rdv_app.domain.enums import Channel, NotificationEvent, OutboxStatus

_E164 = re.compile(r"\+[1-9]\d{7,14}")
_ICS_METHODS = frozenset({"PUBLISH", "REQUEST", "CANCEL"})
_SENDER_MAX_LENGTH = 11  # alphanumeric sender IDs (OVH, GSM networks)

EXPIRES_AT = "expires_at"
# Keys of `Session.info`: ids queued in the open transaction, and ids committed not yet handed over.
_QUEUED_IDS = "rdv_outbox_queued_ids"
_COMMITTED_IDS = "rdv_outbox_committed_ids"

# INSERT builders by dialect name: both give `on_conflict_do_nothing`.
_INSERTS: dict[str, Callable[[sa.Table], postgresql.Insert | sqlite.Insert]] = {
    "postgresql": postgresql.insert, "sqlite": sqlite.insert}


def enqueue(
    session: Session,
    *,
    channel: Channel | str,
    event: NotificationEvent | str,
    idempotency_key: str,
    payload: dict[str, Any],
    organisation_id: int | None = None,
    rdv_id: int | None = None,
    usager_id: int | None = None,
    agent_id: int | None = None,
    not_before: datetime | None = None,
    expires_at: datetime | None = None,
    webhook_endpoint_id: int | None = None,
    rdv_version: int | None = None,
) -> int | None:
    """Adds a message to the caller's transaction (no commit) and returns its id.

    Returns None when a message with this `idempotency_key` already exists (or is being written by a
    concurrent transaction that then commits): the unique constraint decides, so the same message is
    queued once however many times, and from however many processes, the cause is replayed. Build the
    key from what makes the message unique, e.g. `f"rdv_created:{rdv.uuid}:{rdv.ics_sequence}:sms:{usager_id}"`.

    `not_before` delays the first attempt (a reminder); `expires_at` is the instant after which the
    message is pointless (the RDV's start): the worker then cancels it instead of sending it late.
    """
    channel = Channel(channel)
    event = NotificationEvent(event)
    if not idempotency_key:
        raise ValueError("idempotency_key is required")
    stored = dict(payload)
    ics = payload.get("ics")
    if channel is Channel.MAIL and isinstance(ics, dict) and isinstance(ics.get("content"), bytes):
        stored["ics"] = {**ics, "content": ics["content"].decode("utf-8")}  # JSON holds text, not bytes
    _check_payload(channel, stored)
    for name, instant in (("not_before", not_before), ("expires_at", expires_at)):
        if instant is not None and instant.utcoffset() is None:
            raise ValueError(f"{name} must be timezone-aware")
    if expires_at is not None:
        stored[EXPIRES_AT] = expires_at.isoformat()
    now = clock.now()
    values = {
        "idempotency_key": idempotency_key,
        "channel": channel.value,
        "event": event.value,
        "payload": stored,
        "status": OutboxStatus.PENDING.value,
        "attempts": 0,
        "next_attempt_at": not_before or now,
        "organisation_id": organisation_id,
        "rdv_id": rdv_id,
        "usager_id": usager_id,
        "agent_id": agent_id,
        "webhook_endpoint_id": webhook_endpoint_id,
        "rdv_version": rdv_version,
        "created_at": now,
    }
    dialect = session.get_bind().dialect.name
    insert = _INSERTS[dialect]
    statement = (
        insert(table_of(OutboxMessage))
        .values(**values)
        .on_conflict_do_nothing(index_elements=["idempotency_key"])
        .returning(table_of(OutboxMessage).c.id)
    )
    outbox_id = session.exec(statement).scalar_one_or_none()
    if outbox_id is not None:
        session.info.setdefault(_QUEUED_IDS, []).append(outbox_id)
    return outbox_id


def enqueue_many(session: Session, *, channel: Channel | str, event: NotificationEvent | str,
                 messages: Sequence[Mapping[str, Any]]) -> list[int]:
    """`enqueue` of many messages of one channel and event, a few statements for all (a batch such as the
    Outlook sync of every RDV of an agent who connects). Each mapping holds `idempotency_key` and
    `payload`, and may hold `organisation_id`, `rdv_id`, `usager_id` and `agent_id`; keys already queued
    are skipped, as by `enqueue`. Returns the ids of the new messages."""
    channel, event = Channel(channel), NotificationEvent(event)
    now = clock.now()
    rows: list[dict[str, Any]] = []
    for message in messages:
        if not message.get("idempotency_key"):
            raise ValueError("idempotency_key is required")
        payload = dict(message["payload"])
        _check_payload(channel, payload)
        rows.append({"idempotency_key": message["idempotency_key"], "channel": channel.value, "event": event.value,
                     "payload": payload, "status": OutboxStatus.PENDING.value, "attempts": 0, "next_attempt_at": now,
                     "organisation_id": message.get("organisation_id"), "rdv_id": message.get("rdv_id"),
                     "usager_id": message.get("usager_id"), "agent_id": message.get("agent_id"),
                     "webhook_endpoint_id": None, "rdv_version": None, "created_at": now})
    if not rows:
        return []
    # One statement run for many parameter sets: SQLAlchemy batches them ("insertmanyvalues"), compiled once.
    statement = (_INSERTS[session.get_bind().dialect.name](table_of(OutboxMessage))
                 .on_conflict_do_nothing(index_elements=["idempotency_key"])
                 .returning(table_of(OutboxMessage).c.id))
    ids = sorted(session.execute(statement, rows).scalars())
    if ids:
        session.info.setdefault(_QUEUED_IDS, []).extend(ids)
    return ids


def committed_ids(session: Session) -> list[int]:
    """The ids of the messages this session queued in transactions that have committed since the last
    call, in order; each id is handed over once."""
    return session.info.pop(_COMMITTED_IDS, [])


@sa.event.listens_for(Session, "after_commit")
def _remember_committed(session: Session) -> None:
    if queued := session.info.pop(_QUEUED_IDS, None):
        session.info.setdefault(_COMMITTED_IDS, []).extend(queued)


@sa.event.listens_for(Session, "after_rollback")
def _forget_rolled_back(session: Session) -> None:
    session.info.pop(_QUEUED_IDS, None)


def _check_payload(channel: Channel, payload: dict[str, Any]) -> None:
    """Refuses payloads the worker could not deliver: a bug is better caught in the causing transaction."""
    if channel is Channel.SMS:
        _require_text(payload, "to", "text")
        if not _E164.fullmatch(payload["to"]):
            raise ValueError(f"sms 'to' must be an E.164 number, got {payload['to']!r}")
        sender = payload.get("sender")
        if sender is not None and not (isinstance(sender, str) and 0 < len(sender) <= _SENDER_MAX_LENGTH):
            raise ValueError(f"sms 'sender' must have 1 to {_SENDER_MAX_LENGTH} characters, got {sender!r}")
    elif channel is Channel.MAIL:
        _require_text(payload, "to", "subject", "text")
        if payload["to"].count("@") != 1 or any(char in payload["to"] for char in "\r\n <>,"):
            raise ValueError(f"mail 'to' must be one bare address, got {payload['to']!r}")
        if payload.get("html") is not None:
            _require_text(payload, "html")
        if (ics := payload.get("ics")) is not None:
            if not isinstance(ics, dict):
                raise ValueError("mail 'ics' must be a dict")
            _require_text(ics, "content", "method", "filename")
            if ics["method"] not in _ICS_METHODS:
                raise ValueError(f"ics 'method' must be one of {sorted(_ICS_METHODS)}, got {ics['method']!r}")
            if not ics["content"].startswith("BEGIN:VCALENDAR"):
                raise ValueError("ics 'content' must be the calendar text")
            if not ics["filename"].endswith(".ics"):
                raise ValueError("ics 'filename' must end with .ics")
    elif channel is Channel.ANTS:
        if not isinstance(payload.get("rdv_id"), int) or not isinstance(payload.get("appointment"), dict):
            raise ValueError("ants payloads hold the RDV's id and its appointment (rdv_app.notify.ants)")
    elif channel is Channel.OUTLOOK:
        if not isinstance(payload.get("agent_id"), int) or set(payload) - {"agent_id", "rdv_uuid"}:
            raise ValueError("outlook payloads hold only 'agent_id' and 'rdv_uuid'")
        if "rdv_uuid" in payload:
            _require_text(payload, "rdv_uuid")
    else:
        _require_text(payload, "body", "webhook_id")
        if not isinstance(payload.get("endpoint_id"), int) or set(payload) - {"body", "webhook_id", "endpoint_id"}:
            raise ValueError("webhook payloads hold only 'body', 'webhook_id' and 'endpoint_id'")
        json.loads(payload["body"])


def _require_text(payload: dict[str, Any], *keys: str) -> None:
    for key in keys:
        value = payload.get(key)
        if not isinstance(value, str) or not value:
            raise ValueError(f"payload field {key!r} must be a non-empty string")
