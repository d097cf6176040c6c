"""Following an RDV from its page (issue 4): the organisation a link to the RDV opens in, the choices of
its edit form, and the receipts of the notifications sent about it (domain.md section 1, "Receipt").

Rights are those of services.rdvs (`visible_rdv`): another organisation's RDV is NotFound, one outside
the agent's scope PermissionDenied.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from sqlmodel import col, select

from rdv_app.db.models import Agent, AgentRole, Lieu, Organisation, Rdv, RdvAgent, Receipt, Usager
from rdv_app.db.rows import require_id
from rdv_app.db.uow import UnitOfWork
from rdv_app.domain import datefmt
from rdv_app.domain.enums import Channel, LieuAvailability, LocationType, NotificationEvent, ReceiptResult
from rdv_app.domain.names import agent_name, usager_name
from rdv_app.services.boundary import boundary
from rdv_app.services.errors import DomainError, NotFound, require_filled
from rdv_app.services.organisation.admin_lieux import SingleUseLieu
from rdv_app.services.rdv.lifecycle import RdvChange, SessionSettings, update_rdv
from rdv_app.services.rdv.queries import visible_rdv
from rdv_app.services.rights import agent_scope, visible_agent_ids

RECEIPT_CHANNEL_LABELS: dict[str, str] = {Channel.SMS: "SMS", Channel.MAIL: "Email", Channel.WEBHOOK: "Webhook"}
RECEIPT_EVENT_LABELS: dict[str, str] = {
    NotificationEvent.RDV_CREATED: "Confirmation du RDV",
    NotificationEvent.RDV_UPDATED: "RDV modifié",
    NotificationEvent.RDV_CANCELLED: "RDV annulé",
    NotificationEvent.RDV_UPCOMING_REMINDER: "Rappel",
    NotificationEvent.WEBHOOK: "Webhook",
}
RECEIPT_RESULT_LABELS: dict[str, str] = {
    ReceiptResult.PROCESSED: "Traité",
    ReceiptResult.SENT: "Envoyé",
    ReceiptResult.DELIVERED: "Délivré",
    ReceiptResult.FAILURE: "Échec",
}
NOT_FOUND = "Ce rendez-vous est introuvable : il n'existe pas ou ne concerne pas vos organisations."


@dataclass(frozen=True)
class ReceiptView:
    id: int
    created_at: datetime
    when: str  # in the organisation's time zone, in words
    channel: str
    event: str
    result: str
    failed: bool
    recipient: str  # the usager's name, the agent's name, or the address when neither is known
    destination: str  # the phone number or email address used
    sms_count: int | None
    error: str | None


@dataclass(frozen=True)
class Choice:
    id: int
    label: str


@dataclass(frozen=True)
class EditChoices:
    agents: list[Choice]
    lieux: list[Choice]  # empty when the motif takes place without a lieu


@boundary
def rdv_organisation(uow: UnitOfWork, actor_agent_id: int, rdv_id: int) -> int:
    """The organisation a link to this RDV opens in: its own, when the agent holds a role there.

    NotFound, with the same message, whether the RDV does not exist or belongs to an organisation the
    agent has no role in: a link must not tell which ids exist elsewhere.
    """
    organisation_id = uow.session.exec(
        select(Rdv.organisation_id).join(AgentRole, col(AgentRole.organisation_id) == Rdv.organisation_id)
        .where(Rdv.id == rdv_id, AgentRole.agent_id == actor_agent_id)).first()
    if organisation_id is None:
        raise NotFound(NOT_FOUND)
    return organisation_id


@boundary
def list_receipts(uow: UnitOfWork, actor_agent_id: int, organisation_id: int, rdv_id: int) -> list[ReceiptView]:
    """The notification receipts of an RDV the actor may follow, newest first."""
    visible_rdv(uow, actor_agent_id, organisation_id, rdv_id)
    organisation = uow.session.get(Organisation, organisation_id)
    assert organisation is not None
    tz = organisation.time_zone
    receipts = list(uow.session.exec(select(Receipt).where(Receipt.rdv_id == rdv_id)
                                     .order_by(col(Receipt.created_at).desc(), col(Receipt.id).desc())).all())
    usagers = {u.id: usager_name(u.first_name, u.last_name) for u in uow.session.exec(select(Usager).where(
        col(Usager.id).in_({r.usager_id for r in receipts if r.usager_id is not None}))).all()}
    # Agents' emails carry no usager: they are named from their address, as long as it is still theirs.
    agents = {a.email: agent_name(a.first_name, a.last_name) for a in uow.session.exec(select(Agent).where(
        col(Agent.email).in_({r.email_address for r in receipts if r.usager_id is None and r.email_address}))).all()}
    views = []
    for receipt in receipts:
        destination = receipt.sms_phone_number or receipt.email_address or ""
        recipient = (usagers.get(receipt.usager_id, "Usager supprimé") if receipt.usager_id is not None
                     else agents.get(receipt.email_address, destination or "Destinataire inconnu"))
        views.append(ReceiptView(
            id=require_id(receipt), created_at=receipt.created_at,
            when=datefmt.long_datetime(receipt.created_at, tz),
            channel=RECEIPT_CHANNEL_LABELS.get(receipt.channel, receipt.channel),
            event=RECEIPT_EVENT_LABELS.get(receipt.event, receipt.event),
            result=RECEIPT_RESULT_LABELS.get(receipt.result, receipt.result),
            failed=receipt.result == ReceiptResult.FAILURE, recipient=recipient, destination=destination,
            sms_count=receipt.sms_count, error=receipt.error_message))
    return views


@boundary
def edit_choices(uow: UnitOfWork, actor_agent_id: int, organisation_id: int, rdv_id: int) -> EditChoices:
    """What the edit form offers: the agents the actor may plan for (those already on the RDV may stay),
    and the open lieux of the organisation (the RDV's own lieu stays offered even when closed)."""
    rdv, motif = visible_rdv(uow, actor_agent_id, organisation_id, rdv_id)
    on_rdv = set(uow.session.exec(select(RdvAgent.agent_id).where(RdvAgent.rdv_id == rdv_id)).all())
    allowed = visible_agent_ids(uow, agent_scope(uow, actor_agent_id, organisation_id))
    agents = uow.session.exec(
        select(Agent).where(col(Agent.id).in_(allowed | on_rdv), col(Agent.deleted_at).is_(None))
        .order_by(col(Agent.last_name), col(Agent.first_name), col(Agent.id))).all()
    lieux: list[Choice] = []
    if motif.location_type == LocationType.PUBLIC_OFFICE:
        rows = uow.session.exec(select(Lieu).where(Lieu.organisation_id == organisation_id).order_by(Lieu.name)).all()
        lieux = [Choice(require_id(lieu), lieu.name) for lieu in rows
                 if lieu.availability == LieuAvailability.ENABLED or lieu.id == rdv.lieu_id]
    return EditChoices(
        agents=[Choice(require_id(a), agent_name(a.first_name, a.last_name)) for a in agents],
        lieux=lieux)


@boundary
def edit_rdv(uow: UnitOfWork, actor_agent_id: int, organisation_id: int, rdv_id: int, *, day: date | None,
             start_time: time | None, duration_in_min: int | None, lieu_id: int | None, agent_ids: Sequence[int],
             session: SessionSettings | None = None, single_use_lieu: SingleUseLieu | None = None,
             confirm_warnings: bool = False, expected_version: str | None = None,
             now: datetime | None = None) -> RdvChange | None:
    """The edit form of the RDV page: a local day and time of the organisation, then `lifecycle.update_rdv`
    (its warnings, rules and notifications; a collective session's name and seats in `session`; a new lieu
    ponctuel in `single_use_lieu`; the RDV's version as the page loaded it in `expected_version`). Rights are checked before anything is read from the input."""
    visible_rdv(uow, actor_agent_id, organisation_id, rdv_id)
    require_filled({"day": (day, "Indiquez la date du rendez-vous."),
                    "start_time": (start_time, "Indiquez l'heure de début."),
                    "duration_in_min": (duration_in_min, "Indiquez la durée du rendez-vous, en minutes."),
                    "agent_ids": (agent_ids, "Choisissez au moins un agent.")})
    assert day is not None and start_time is not None and duration_in_min is not None  # require_filled
    organisation = uow.session.get(Organisation, organisation_id)
    assert organisation is not None
    zone = ZoneInfo(organisation.time_zone)
    wall = datetime.combine(day, start_time)
    starts_at = wall.replace(tzinfo=zone)
    if starts_at.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != wall:
        raise DomainError("Cette heure n'existe pas ce jour-là (passage à l'heure d'été) : choisissez-en une autre.",
                          "start_time")
    return update_rdv(uow, actor_agent_id, organisation_id, rdv_id, starts_at=starts_at.astimezone(UTC),
                      duration_in_min=duration_in_min, lieu_id=lieu_id, agent_ids=agent_ids, session=session,
                      single_use_lieu=single_use_lieu, confirm_warnings=confirm_warnings,
                      expected_version=expected_version, now=now)
