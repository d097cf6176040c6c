"""The ANTS coordination API (integrations.md 1b, 1c): its client, the handler that turns RDV changes
into outbox rows, and the delivery of those rows by the worker.

Why through the outbox: a change of an RDV never waits for ANTS, and an ANTS outage delays the
declaration without losing it. The handler (`on_rdv_changed`, registered in rdv_app.wiring) runs in the
transaction of the change and queues one row per change of an RDV whose motif is of an ANTS category,
when RDV_ANTS_API_URL is set. The row says "bring ANTS up to date for this RDV": its payload holds the
RDV as it was at the change (for a deleted RDV) and every pre-demande number ever queued for it, so
that a number removed from the RDV (participant removed, number changed) gets its appointment deleted.

Delivery (`deliver`, called by the worker outside any transaction) reads the RDV as it is now, so that
rows delivered late or out of order all converge to the current state. For each number:
1. GET /status; only a `validated` number is touched (a `consumed` one is never changed, as RDV-SP);
2. the appointment of ours among its appointments (same `management_url`) is deleted, with its own
   fields;
3. unless the RDV is cancelled or deleted, or the number is no longer one of its participants', the
   appointment is created again (ANTS has no update: delete then create).
Repeating these steps after a failure half-way gives the same end state: a retry duplicates nothing.
Any error or timeout is temporary: the worker retries with its backoff (30 s doubling, 24 h).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import httpx
import sqlalchemy as sa
from sqlmodel import Session, col, select

from rdv_app.config import settings
from rdv_app.db.models import (
    Lieu,
    Motif,
    MotifCategory,
    Organisation,
    OutboxMessage,
    Participation,
    Rdv,
    Usager,
)
from rdv_app.domain import ants
from rdv_app.domain.enums import CANCELLED_STATUSES, Channel, NotificationEvent, WebhookSubscription
from rdv_app.domain.events import Change, RdvChanged, RecordChanged
from rdv_app.notify.errors import TemporaryDeliveryError
from rdv_app.notify.outbox import enqueue

logger = logging.getLogger(__name__)

TIMEOUT_SECONDS = 4.0  # RDV-SP's timeout of a status check; a form waits on it
_CANCELLED = frozenset(status.value for status in CANCELLED_STATUSES)


class AntsUnavailable(Exception):
    """The coordination API failed to answer (error status, timeout, connection, unreadable body)."""


@dataclass(frozen=True)
class Appointment:
    meeting_point_id: str
    meeting_point: str
    appointment_date: str
    management_url: str = ""


@dataclass(frozen=True)
class NumberStatus:
    status: str
    appointments: tuple[Appointment, ...]


class CoordinationClient:
    """The ANTS coordination API: every parameter in the query string, the token in a header."""

    def __init__(self, base_url: str, token: str, *, timeout: float = TIMEOUT_SECONDS,
                 transport: httpx.BaseTransport | None = None) -> None:
        self.base_url, self.token, self.timeout, self.transport = base_url.rstrip("/"), token, timeout, transport

    @classmethod
    def from_settings(cls) -> CoordinationClient | None:
        """The configured API, or None when RDV_ANTS_API_URL is empty."""
        return cls(settings.ants_api_url, settings.ants_api_token) if settings.ants_api_url else None

    def status(self, application_id: str) -> NumberStatus:
        body = self._call("GET", "/status", {"application_ids": application_id})
        entry = body.get(application_id) if isinstance(body, dict) else None
        if not isinstance(entry, dict):
            raise AntsUnavailable("réponse de l'ANTS illisible")
        appointments = tuple(
            Appointment(meeting_point_id=str(a.get("meeting_point_id", "")), meeting_point=str(a.get("meeting_point", "")),
                        appointment_date=str(a.get("appointment_date", "")), management_url=str(a.get("management_url", "")))
            for a in entry.get("appointments") or () if isinstance(a, dict))
        return NumberStatus(str(entry.get("status", "")), appointments)

    def create(self, application_id: str, appointment: Appointment) -> None:
        self._call("POST", "/appointments", {
            "application_id": application_id, "meeting_point_id": appointment.meeting_point_id,
            "meeting_point": appointment.meeting_point, "appointment_date": appointment.appointment_date,
            "management_url": appointment.management_url})

    def delete(self, application_id: str, appointment: Appointment) -> None:
        self._call("DELETE", "/appointments", {
            "application_id": application_id, "meeting_point_id": appointment.meeting_point_id,
            "meeting_point": appointment.meeting_point, "appointment_date": appointment.appointment_date})

    def _call(self, method: str, path: str, params: dict[str, str]) -> Any:
        headers = {"Accept": "application/json", "x-rdv-opt-auth-token": self.token}
        try:
            with httpx.Client(timeout=self.timeout, transport=self.transport, follow_redirects=False) as client:
                response = client.request(method, f"{self.base_url}{path}", params=params, headers=headers)
        except httpx.TimeoutException:
            raise AntsUnavailable(f"pas de réponse de l'ANTS en {self.timeout:.0f} secondes") from None
        except httpx.HTTPError as error:
            raise AntsUnavailable(f"connexion à l'ANTS impossible ({type(error).__name__})") from None
        if not response.is_success:
            raise AntsUnavailable(f"réponse HTTP {response.status_code} de l'ANTS ({method} {path})")
        if not response.content.strip():
            return {}
        try:
            return response.json()
        except ValueError:
            raise AntsUnavailable("réponse de l'ANTS illisible") from None


# --------------------------------------------------------------------------- the handler


def management_url(rdv_id: int) -> str:
    """Where the usager manages the RDV (its "Infos et annulation" page): ANTS shows it, and it is the key
    by which we find our appointment among a number's."""
    return f"{settings.api_url or settings.public_url}/r/{rdv_id}"


def on_rdv_changed(session: Session, change: RdvChanged) -> None:
    """Handler of `RdvChanged`: a sync row for an RDV of an ANTS category, when ANTS is configured."""
    if settings.ants_api_url:
        queue_sync(session, change.rdv_id, f"{change.action}:{change.version}:{change.occurred_at.isoformat()}",
                   deleted=change.change is Change.DELETED)


def on_record_changed(session: Session, change: RecordChanged) -> None:
    """Handler of `RecordChanged`: an usager's record changed (maybe their number): their RDVs to come of an
    ANTS category are synced again (the old number is in the previous rows of each RDV). A lieu changed:
    its RDVs to come already declared are synced again when ANTS knows them by another `meeting_point`
    (the lieu was renamed, integrations.md 1c), and only then."""
    if not settings.ants_api_url or change.change is Change.DELETED:
        return
    of_ants = (select(Rdv.id).join(Motif, col(Motif.id) == Rdv.motif_id)
               .join(MotifCategory, col(MotifCategory.id) == Motif.motif_category_id)
               .where(col(Rdv.starts_at) > change.occurred_at, col(MotifCategory.name).in_(ants.ANTS_CATEGORIES)))
    when = change.occurred_at.isoformat()
    if change.model == WebhookSubscription.USER:
        for rdv_id in session.exec(of_ants.join(Participation, col(Participation.rdv_id) == Rdv.id)
                                   .where(Participation.usager_id == change.record_id)).all():
            if rdv_id is not None:
                queue_sync(session, rdv_id, f"user:{change.record_id}:{when}")
    elif change.model == WebhookSubscription.LIEU:
        for rdv_id in session.exec(of_ants.where(Rdv.lieu_id == change.record_id)).all():
            if rdv_id is not None:
                queue_sync(session, rdv_id, f"lieu:{change.record_id}:{when}", only_if_changed=True)


def queue_sync(session: Session, rdv_id: int, cause: str, *, deleted: bool = False,
               only_if_changed: bool = False) -> int | None:
    """Queues the sync of one RDV in `session`'s transaction (nothing for other categories); the same
    cause queues once. `only_if_changed`: only when the RDV was queued before, as ANTS now knows it
    otherwise (its appointment's fields differ from the last row's)."""
    session.flush()
    snapshot = _snapshot(session, rdv_id)
    if snapshot is None:
        return None
    organisation_id, payload = snapshot
    previous = session.exec(
        select(OutboxMessage.payload).where(OutboxMessage.channel == Channel.ANTS.value,
                                            OutboxMessage.organisation_id == organisation_id)
        .where(col(OutboxMessage.payload)["rdv_id"].as_integer() == rdv_id)
        .order_by(col(OutboxMessage.id).desc()).limit(1)).first()
    if only_if_changed and (previous is None or previous.get("appointment") == payload["appointment"]):
        return None
    known = list(dict.fromkeys([*(previous or {}).get("application_ids", []), *payload["current_ids"]]))
    payload |= {"application_ids": known, "deleted": deleted}
    return enqueue(session, channel=Channel.ANTS, event=NotificationEvent.RDV_UPDATED,
                   idempotency_key=f"ants:{rdv_id}:{cause}", payload=payload, organisation_id=organisation_id)


def _snapshot(session: Session, rdv_id: int) -> tuple[int, dict[str, Any]] | None:
    """The RDV as ANTS knows it, if its motif is of an ANTS category: (organisation id, payload)."""
    row = session.exec(
        select(Rdv, Organisation, Lieu)
        .join(Motif, col(Motif.id) == Rdv.motif_id)
        .join(MotifCategory, col(MotifCategory.id) == Motif.motif_category_id)
        .join(Organisation, col(Organisation.id) == Rdv.organisation_id)
        .outerjoin(Lieu, col(Lieu.id) == Rdv.lieu_id)
        .where(Rdv.id == rdv_id, col(MotifCategory.name).in_(ants.ANTS_CATEGORIES))).first()
    if row is None:
        return None
    rdv, organisation, lieu = row
    numbers = session.exec(
        select(Usager.ants_pre_demande_number).join(Participation, col(Participation.usager_id) == Usager.id)
        .where(Participation.rdv_id == rdv_id, col(Participation.status).not_in(_CANCELLED),
               col(Usager.ants_pre_demande_number).is_not(None))
        .order_by(col(Participation.id))).all()
    appointment = {"meeting_point_id": str(lieu.id) if lieu else "", "meeting_point": lieu.name if lieu else "",
                   "appointment_date": ants.appointment_date(rdv.starts_at, organisation.time_zone),
                   "management_url": management_url(rdv_id)}
    return organisation.id or 0, {"rdv_id": rdv_id, "status": rdv.status, "appointment": appointment,
                                  "current_ids": [n for n in numbers if n]}


# --------------------------------------------------------------------------- delivery


def deliver(engine: sa.Engine, payload: dict[str, Any], client: CoordinationClient | None = None) -> str:
    """Brings ANTS up to date for the payload's RDV (module docstring); returns what was done, for the
    receipt. Raises TemporaryDeliveryError when ANTS fails: the worker retries."""
    client = client or CoordinationClient.from_settings()
    if client is None:
        raise TemporaryDeliveryError("ANTS non configurée (RDV_ANTS_API_URL vide)")
    with Session(engine) as session:
        current = None if payload.get("deleted") else _snapshot(session, int(payload["rdv_id"]))
    state = current[1] if current is not None else payload
    wanted = set(state["current_ids"]) if current is not None and state["status"] not in _CANCELLED else set()
    ours = Appointment(**state["appointment"])
    done: list[str] = []
    try:
        for number in list(dict.fromkeys([*payload.get("application_ids", []), *state["current_ids"]])):
            found = client.status(number)
            if found.status != ants.VALIDATED:
                done.append(f"{number} {found.status or 'sans statut'} : inchangé")
                continue
            for existing in found.appointments:
                if existing.management_url == ours.management_url:
                    client.delete(number, existing)
                    done.append(f"{number} : supprimé")
            if number in wanted:
                client.create(number, ours)
                done.append(f"{number} : déclaré")
    except AntsUnavailable as error:
        raise TemporaryDeliveryError(str(error)) from None
    return "; ".join(done) or "aucun numéro de pré-demande"

