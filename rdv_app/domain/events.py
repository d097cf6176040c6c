"""Domain events: what happened, as plain data.

A service changes the model, then records the event on its unit of work (`uow.record(event)`); when the
unit of work commits, the handlers registered for the event's type (rdv_app.wiring) run in the same
transaction, before the commit: notifications into the outbox, webhooks, and whatever reacts to RDV
changes later (Microsoft 365, ANTS). A rollback runs none of them. A new reaction is a new handler and
one registration line, never an edit of the services.

Events carry ids and facts, never ORM objects: a handler reads what else it needs in the transaction.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, ClassVar

from rdv_app.domain.enums import AuthorType, NotificationEvent, RdvStatus


class Change(StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    DELETED = "deleted"


@dataclass(frozen=True, slots=True)
class Actor:
    """Who made the change: an agent, an usager (or a parent for their relative), or the system."""

    type: AuthorType
    agent_id: int | None = None
    usager_id: int | None = None

    SYSTEM: ClassVar[Actor]

    @classmethod
    def agent(cls, agent_id: int) -> Actor:
        return cls(AuthorType.AGENT, agent_id=agent_id)

    @classmethod
    def usager(cls, usager_id: int) -> Actor:
        return cls(AuthorType.USAGER, usager_id=usager_id)


Actor.SYSTEM = Actor(AuthorType.SYSTEM)


@dataclass(frozen=True, slots=True, kw_only=True)
class RdvChanged:
    """An RDV was created, moved (time, duration, lieu, agents), had a status changed, or was deleted.

    `event` is what its participants and agents hear of it (rdv_created, rdv_updated, rdv_cancelled),
    None when the change is silent (a status noted after the RDV, a deletion). `version` is the RDV's
    `ics_sequence` after the change: calendars and queued messages are about one version.
    """

    rdv_id: int
    organisation_id: int
    change: Change
    action: str  # what the history says: created, updated, status_changed, deleted
    actor: Actor
    occurred_at: datetime
    version: int
    event: NotificationEvent | None
    status: RdvStatus  # after the change
    starts_at: datetime  # after the change
    old_starts_at: datetime | None  # None on creation
    time_or_lieu_changed: bool  # usagers hear of an update only when the start or the lieu changed
    old_agent_ids: tuple[int, ...]
    new_agent_ids: tuple[int, ...]
    usager_ids: tuple[int, ...]  # the participations concerned (created, cancelled or still to come)
    changes: Mapping[str, Any] = field(default_factory=dict)  # {field: [old, new]}, as the history keeps it

    @property
    def author_type(self) -> AuthorType:
        return self.actor.type

    @property
    def author_agent_id(self) -> int | None:
        return self.actor.agent_id


@dataclass(frozen=True, slots=True, kw_only=True)
class AvailabilityChanged:
    """A plage d'ouverture or an indisponibilité was created, changed or deleted.

    Published before a deletion, so that handlers still read the record. `notify` is False when the
    agent is told nothing (an update that changed nothing, the yearly purge)."""

    model: str  # "plage_ouverture" or "absence", as webhooks name them
    record_id: int
    organisation_id: int  # where the change was made (an absence's times are read in its time zone)
    change: Change
    actor: Actor
    occurred_at: datetime
    previous_agent_id: int | None = None  # the record's agent before an update
    notify: bool = True
    reason: str | None = None  # "rgpd" for the purge (webhooks' meta.webhook_reason)


@dataclass(frozen=True, slots=True, kw_only=True)
class RecordChanged:
    """Any other record that other systems follow (usagers, their organisation profiles, motifs, lieux,
    organisations): `model` is the webhook model name (rdv_app.domain.enums.WebhookSubscription)."""

    model: str
    record_id: int
    change: Change
    occurred_at: datetime
    reason: str | None = None


Event = RdvChanged | AvailabilityChanged | RecordChanged
