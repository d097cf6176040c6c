"""Webhooks (domain.md section 5, decision 9): the endpoints an organisation's admins configure, and the
handlers of domain events that queue them (rdv_app.wiring registers `on_rdv_changed`,
`on_availability_changed` and `on_record_changed`).

- `emit(session, model, record_id, event, now=...)` runs inside the change's transaction (before the
  commit; for "destroyed", before the deletion, so that the payload still describes the record) and
  queues one outbox row per enabled endpoint of the record's organisations subscribed to the model.
  Nothing is queued if the transaction rolls back. The payload is RDV Service Public's
  `{"data": ..., "meta": {"model", "event", "webhook_reason", "timestamp"}}`, serialised once, so that
  every attempt sends the same bytes under the same `webhook-id` (rdv_app.notify.webhooks delivers).
- Endpoints: an https address that is not an address of this machine or of an internal network, in any
  spelling (plain http, and this machine, only when the app itself runs without https, as in development
  and tests; names are checked again when each message is sent), a secret generated here and shown once, then only its
  last 3 characters, and subscriptions among the models. Only admins of the organisation manage them.
- The delivery log lists every attempt; "Renvoyer" puts a message back in the outbox with the same
  `webhook-id` (receivers can recognise a message they already processed).
"""

from __future__ import annotations

import base64
import ipaddress
import json
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from urllib.parse import urlsplit

import sqlalchemy as sa
from sqlmodel import Session, col, select

from rdv_app.config import settings
from rdv_app.db.models import OutboxMessage, WebhookDelivery, WebhookEndpoint
from rdv_app.db.rows import require_id
from rdv_app.db.uow import UnitOfWork
from rdv_app.domain import clock, datefmt
from rdv_app.domain.enums import Channel, NotificationEvent, OutboxStatus, WebhookSubscription
from rdv_app.domain.events import AvailabilityChanged, Change, RdvChanged, RecordChanged
from rdv_app.notify.outbox import enqueue
from rdv_app.notify.public_http import address_allowed, numeric_ipv4
from rdv_app.services import audit, versions
from rdv_app.services.boundary import boundary
from rdv_app.services.errors import DomainError, NotFound
from rdv_app.services.integrations.webhook_payloads import MODEL_NAMES, data_for, organisation_ids
from rdv_app.services.rights import require_admin

SECRET_PREFIX = "whsec_"  # noqa: S105 - the Standard Webhooks prefix, not a secret
_SECRET_BYTES = 32
_LOOPBACK_NAMES = frozenset({"localhost"})
_ENTITY = "webhook_endpoint"
DELIVERY_LOG_SIZE = 50

SUBSCRIPTION_LABELS = {
    WebhookSubscription.RDV: "Rendez-vous",
    WebhookSubscription.ABSENCE: "Indisponibilités",
    WebhookSubscription.PLAGE_OUVERTURE: "Plages d'ouverture",
    WebhookSubscription.USER: "Usagers",
    WebhookSubscription.USER_PROFILE: "Usagers de l'organisation (profils)",
    WebhookSubscription.ORGANISATION: "Organisation",
    WebhookSubscription.MOTIF: "Motifs",
    WebhookSubscription.LIEU: "Lieux",
    WebhookSubscription.AGENT: "Agents",
    WebhookSubscription.AGENT_ROLE: "Rôles des agents",
    WebhookSubscription.REFERENT_ASSIGNATION: "Référents des usagers",
}


class WebhookEvent(StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    DESTROYED = "destroyed"


# --------------------------------------------------------------------------- emitting

_EVENTS = {Change.CREATED: WebhookEvent.CREATED, Change.UPDATED: WebhookEvent.UPDATED,
           Change.DELETED: WebhookEvent.DESTROYED}


def on_rdv_changed(session: Session, change: RdvChanged) -> None:
    emit(session, WebhookSubscription.RDV, change.rdv_id, _EVENTS[change.change], now=change.occurred_at)


def on_availability_changed(session: Session, change: AvailabilityChanged) -> None:
    emit(session, change.model, change.record_id, _EVENTS[change.change], now=change.occurred_at,
         reason=change.reason)


def on_record_changed(session: Session, change: RecordChanged) -> None:
    emit(session, change.model, change.record_id, _EVENTS[change.change], now=change.occurred_at,
         reason=change.reason)



def emit(session: Session, model: WebhookSubscription | str, record_id: int, event: WebhookEvent | str, *,
         now: datetime | None = None, reason: str | None = None) -> list[int]:
    """Queues the webhook of one change in `session`'s transaction; returns the new outbox ids.

    Call it after the change is written (created, updated) or before the record is deleted (destroyed).
    `reason` is meta.webhook_reason ("rgpd" for purges).
    """
    model, event = WebhookSubscription(model), WebhookEvent(event)
    session.flush()
    organisations = organisation_ids(session, model, record_id)
    if not organisations:
        return []
    endpoints = [e for e in session.exec(
        select(WebhookEndpoint).where(col(WebhookEndpoint.organisation_id).in_(organisations),
                                      col(WebhookEndpoint.enabled).is_(True)).order_by(col(WebhookEndpoint.id))
    ) if model.value in e.subscriptions]
    if not endpoints:
        return []
    data = data_for(session, model, record_id)
    if data is None:
        return []
    now = now or clock.now()
    body = json.dumps({"data": data, "meta": {"model": MODEL_NAMES[model], "event": event.value,
                                              "webhook_reason": reason, "timestamp": now.isoformat()}},
                      ensure_ascii=False, separators=(",", ":"))
    ids: list[int] = []
    for endpoint in endpoints:
        message_id = f"msg_{secrets.token_hex(16)}"
        outbox_id = enqueue(
            session, channel=Channel.WEBHOOK, event=NotificationEvent.WEBHOOK,
            idempotency_key=f"webhook:{endpoint.id}:{model.value}:{record_id}:{event.value}:{message_id}",
            # The endpoint's address and secret are read when sending: no secret rests in the outbox.
            payload={"body": body, "endpoint_id": endpoint.id, "webhook_id": message_id},
            organisation_id=endpoint.organisation_id, webhook_endpoint_id=endpoint.id)
        if outbox_id is not None:
            ids.append(outbox_id)
    return ids


# --------------------------------------------------------------------------- managing endpoints


@dataclass(frozen=True)
class EndpointView:
    id: int
    target_url: str
    masked_secret: str
    subscriptions: tuple[str, ...]
    subscription_labels: str
    enabled: bool
    state: str  # "Actif", "En échec depuis le ...", "Désactivé le ..."
    created_at: datetime
    version: str  # what the edit form gives back with its save (rdv_app.services.versions)


@dataclass(frozen=True)
class CreatedEndpoint:
    id: int
    secret: str  # shown once


@dataclass(frozen=True)
class DeliveryView:
    id: int
    outbox_message_id: int | None
    at: datetime
    attempt: int
    model: str
    event: str
    status_code: int | None
    latency_ms: int | None
    response_excerpt: str
    error: str
    succeeded: bool
    message_status: str  # the outbox row's status: pending, sending, sent, failed


@boundary
def list_endpoints(uow: UnitOfWork, actor_agent_id: int, organisation_id: int) -> list[EndpointView]:
    require_admin(uow, actor_agent_id, organisation_id)
    endpoints = uow.session.exec(select(WebhookEndpoint).where(WebhookEndpoint.organisation_id == organisation_id)
                                 .order_by(col(WebhookEndpoint.id))).all()
    return [_view(e) for e in endpoints]


@boundary
def get_endpoint(uow: UnitOfWork, actor_agent_id: int, organisation_id: int, endpoint_id: int) -> EndpointView:
    require_admin(uow, actor_agent_id, organisation_id)
    return _view(_endpoint(uow, organisation_id, endpoint_id))


@boundary
def create_endpoint(uow: UnitOfWork, actor_agent_id: int, organisation_id: int, *, target_url: str,
                    subscriptions: Iterable[str]) -> CreatedEndpoint:
    require_admin(uow, actor_agent_id, organisation_id)
    url = validate_url(target_url)
    chosen = _subscriptions(subscriptions)
    _refuse_duplicate(uow, organisation_id, url, None)
    secret = SECRET_PREFIX + base64.b64encode(secrets.token_bytes(_SECRET_BYTES)).decode()
    endpoint = WebhookEndpoint(organisation_id=organisation_id, target_url=url, secret=secret,
                               subscriptions=list(chosen))
    uow.session.add(endpoint)
    uow.session.flush()
    audit.record(uow.session, action="create", entity_type=_ENTITY, entity_id=require_id(endpoint),
                 changes={"target_url": [None, url], "subscriptions": [None, list(chosen)]},
                 organisation_id=organisation_id, actor_agent_id=actor_agent_id)
    uow.commit()
    return CreatedEndpoint(id=require_id(endpoint), secret=secret)


@boundary
def update_endpoint(uow: UnitOfWork, actor_agent_id: int, organisation_id: int, endpoint_id: int, *,
                    target_url: str, subscriptions: Iterable[str], enabled: bool,
                    expected_version: str | None = None) -> EndpointView:
    """Changes the address, the subscriptions and the state; enabling again forgets past failures. The edit
    form gives the `expected_version` it loaded (`EndpointView.version`): an endpoint changed since (by an
    admin, or disabled after its failures) is not saved."""
    require_admin(uow, actor_agent_id, organisation_id)
    endpoint = _endpoint(uow, organisation_id, endpoint_id)
    versions.lock(uow, endpoint)
    versions.check_version(expected_version, _values_of(endpoint))
    url = validate_url(target_url)
    chosen = _subscriptions(subscriptions)
    _refuse_duplicate(uow, organisation_id, url, endpoint_id)
    before = _values_of(endpoint)
    endpoint.target_url, endpoint.subscriptions = url, list(chosen)
    if enabled and not endpoint.enabled:
        endpoint.failing_since = endpoint.disabled_at = None
    elif not enabled and endpoint.enabled:
        endpoint.disabled_at = clock.now()
    endpoint.enabled = enabled
    uow.session.add(endpoint)
    changes = audit.diff(before, {"target_url": url, "subscriptions": list(chosen), "enabled": enabled})
    if changes:
        audit.record(uow.session, action="update", entity_type=_ENTITY, entity_id=endpoint_id, changes=changes,
                     organisation_id=organisation_id, actor_agent_id=actor_agent_id)
    uow.commit()
    return _view(endpoint)


@boundary
def delete_endpoint(uow: UnitOfWork, actor_agent_id: int, organisation_id: int, endpoint_id: int) -> None:
    """Deletes the endpoint, its delivery log and its messages not yet delivered."""
    require_admin(uow, actor_agent_id, organisation_id)
    endpoint = _endpoint(uow, organisation_id, endpoint_id)
    uow.session.exec(sa.delete(WebhookDelivery).where(col(WebhookDelivery.webhook_endpoint_id) == endpoint_id))
    uow.session.exec(sa.delete(OutboxMessage).where(col(OutboxMessage.webhook_endpoint_id) == endpoint_id))
    uow.session.delete(endpoint)
    audit.record(uow.session, action="delete", entity_type=_ENTITY, entity_id=endpoint_id,
                 changes={"target_url": [endpoint.target_url, None]}, organisation_id=organisation_id,
                 actor_agent_id=actor_agent_id)
    uow.commit()


@boundary
def list_deliveries(uow: UnitOfWork, actor_agent_id: int, organisation_id: int, endpoint_id: int, *,
                    limit: int = DELIVERY_LOG_SIZE) -> list[DeliveryView]:
    """The latest attempts, newest first."""
    require_admin(uow, actor_agent_id, organisation_id)
    _endpoint(uow, organisation_id, endpoint_id)
    rows = uow.session.exec(
        select(WebhookDelivery, OutboxMessage.payload, OutboxMessage.status)
        .outerjoin(OutboxMessage, col(OutboxMessage.id) == WebhookDelivery.outbox_message_id)
        .where(WebhookDelivery.webhook_endpoint_id == endpoint_id)
        .order_by(col(WebhookDelivery.created_at).desc(), col(WebhookDelivery.id).desc())
        .limit(limit)
    ).all()
    views = []
    for delivery, payload, status in rows:
        meta = json.loads(payload["body"]).get("meta", {}) if payload else {}
        views.append(DeliveryView(
            id=require_id(delivery), outbox_message_id=delivery.outbox_message_id, at=delivery.created_at,
            attempt=delivery.attempt, model=meta.get("model", ""), event=meta.get("event", ""),
            status_code=delivery.status_code, latency_ms=delivery.latency_ms,
            response_excerpt=delivery.response_excerpt or "", error=delivery.error or "",
            succeeded=delivery.error is None, message_status=status or ""))
    return views


@boundary
def resend(uow: UnitOfWork, actor_agent_id: int, organisation_id: int, outbox_message_id: int, *,
           now: datetime | None = None) -> int:
    """Puts a delivered or failed message back in the outbox, due now, with its retries counted from zero;
    returns its id, for a delivery right after this call."""
    require_admin(uow, actor_agent_id, organisation_id)
    message = uow.session.get(OutboxMessage, outbox_message_id)
    if (message is None or message.channel != Channel.WEBHOOK or message.organisation_id != organisation_id
            or message.webhook_endpoint_id is None):
        raise NotFound("Ce message n'existe plus.")
    endpoint = _endpoint(uow, organisation_id, message.webhook_endpoint_id)
    if not endpoint.enabled:
        raise DomainError("Ce webhook est désactivé : activez-le avant de renvoyer un message.", "enabled")
    if message.status == OutboxStatus.SENDING:
        raise DomainError("Ce message est en cours d'envoi.")
    if not message.payload:  # emptied 30 days after it was sent (rdv_app.services.retention)
        raise DomainError("Ce message est trop ancien pour être renvoyé : son contenu a été effacé.")
    message.status, message.attempts = OutboxStatus.PENDING.value, 0
    message.next_attempt_at, message.locked_until, message.last_error = now or clock.now(), None, None
    uow.session.add(message)
    audit.record(uow.session, action="resend", entity_type=_ENTITY, entity_id=require_id(endpoint),
                 changes={"outbox_message_id": [None, outbox_message_id]}, organisation_id=organisation_id,
                 actor_agent_id=actor_agent_id)
    uow.commit()
    return outbox_message_id


def masked(secret: str) -> str:
    return "•" * 8 + secret[-3:]


def validate_url(value: str) -> str:
    url = (value or "").strip()
    if not url:
        raise DomainError("Indiquez l'adresse qui recevra les webhooks.", "target_url")
    if any(char.isspace() for char in url):
        raise DomainError("Cette adresse n'est pas valide.", "target_url")
    parts = urlsplit(url)
    try:
        host, port = parts.hostname, parts.port
    except ValueError:
        raise DomainError("Cette adresse n'est pas valide.", "target_url") from None
    if parts.scheme not in ("https", "http") or not host or port == 0:
        raise DomainError("Indiquez une adresse complète qui commence par https://.", "target_url")
    if parts.username or parts.password:
        raise DomainError("L'adresse ne doit pas contenir d'identifiant ni de mot de passe.", "target_url")
    if parts.fragment:
        raise DomainError("L'adresse ne doit pas contenir de fragment (#…).", "target_url")
    development = settings.loopback_webhooks_allowed
    address = _ip_literal(host)
    loopback = host.lower().rstrip(".") in _LOOPBACK_NAMES or (address is not None and address.is_loopback)
    if parts.scheme == "http" and not (loopback and development):
        raise DomainError("L'adresse doit commencer par https:// : les webhooks partent chiffrés.", "target_url")
    internal = loopback or (address is not None and not address_allowed(str(address), allow_loopback=False))
    if internal and not (loopback and development):
        raise DomainError("Indiquez l'adresse publique de votre logiciel, pas une adresse de réseau interne.",
                          "target_url")
    return url


def _ip_literal(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The IP address a host is written as, including the forms the system reads as IPv4 ("127.1",
    "2130706433", "0x7f000001"); None for a name. Names are checked when the webhook is sent
    (rdv_app.notify.public_http), since what they resolve to can change."""
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        numeric = numeric_ipv4(host)
        return ipaddress.ip_address(numeric) if numeric else None


def _subscriptions(values: Iterable[str]) -> tuple[str, ...]:
    known = {s.value for s in WebhookSubscription}
    chosen = set(values)
    if not chosen:
        raise DomainError("Choisissez au moins un type d'objet à recevoir.", "subscriptions")
    if chosen - known:
        raise DomainError("Type d'objet inconnu.", "subscriptions")
    return tuple(s.value for s in WebhookSubscription if s.value in chosen)


def _refuse_duplicate(uow: UnitOfWork, organisation_id: int, url: str, endpoint_id: int | None) -> None:
    query = select(WebhookEndpoint.id).where(WebhookEndpoint.organisation_id == organisation_id,
                                             WebhookEndpoint.target_url == url)
    if endpoint_id is not None:
        query = query.where(WebhookEndpoint.id != endpoint_id)
    if uow.session.exec(query).first() is not None:
        raise DomainError("Un webhook de cette organisation utilise déjà cette adresse.", "target_url")


def _endpoint(uow: UnitOfWork, organisation_id: int, endpoint_id: int) -> WebhookEndpoint:
    endpoint = uow.session.get(WebhookEndpoint, endpoint_id)
    if endpoint is None or endpoint.organisation_id != organisation_id:
        raise NotFound("Ce webhook n'existe pas.")
    return endpoint


def _values_of(endpoint: WebhookEndpoint) -> dict[str, object]:
    """What the edit form shows of an endpoint."""
    return {"target_url": endpoint.target_url, "subscriptions": list(endpoint.subscriptions),
            "enabled": endpoint.enabled}


def _view(endpoint: WebhookEndpoint) -> EndpointView:
    if not endpoint.enabled:
        state = (f"Désactivé le {datefmt.long_date(endpoint.disabled_at.date())}" if endpoint.disabled_at
                 else "Désactivé")
    elif endpoint.failing_since is not None:
        state = f"En échec depuis le {datefmt.long_date(endpoint.failing_since.date())}"
    else:
        state = "Actif"
    subscriptions = tuple(endpoint.subscriptions)
    return EndpointView(
        id=require_id(endpoint), target_url=endpoint.target_url, masked_secret=masked(endpoint.secret),
        subscriptions=subscriptions,
        subscription_labels=", ".join(SUBSCRIPTION_LABELS[WebhookSubscription(s)] for s in subscriptions),
        enabled=endpoint.enabled, state=state, created_at=endpoint.created_at,
        version=versions.version_of(_values_of(endpoint)))


def subscription_choices() -> Sequence[tuple[str, str]]:
    return [(s.value, label) for s, label in SUBSCRIPTION_LABELS.items()]
