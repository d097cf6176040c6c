"""Delivering one webhook message (called by the outbox worker for rows of the webhook channel).

- POST of the stored body, `Content-Type: application/json; charset=utf-8`, 10-second timeout,
  redirects not followed (a 3xx is a failure: the endpoint's address must be corrected, not guessed).
- Signatures: `X-Lapin-Signature`, the hex HMAC-SHA256 of the raw body keyed with the endpoint's secret
  (what RDV Service Public's consumers verify), and the Standard Webhooks headers: `webhook-id`, the
  message's id, the same on every attempt; `webhook-timestamp`, the moment of this attempt; and
  `webhook-signature` "v1,<base64>", by the `standardwebhooks` library.
- Every attempt is written to the endpoint's delivery log (attempt, status code, latency, and the start
  of a successful answer; of a refusal only its status code, since an answer can hold anything). The
  endpoint's current address and secret are used, so a corrected address applies to messages still
  waiting.
- Requests go only to public addresses, checked when the connection is made
  (rdv_app.notify.public_http); loopback is allowed only while the app runs without https.
- Retries: after attempt n, n⁴ + 15 seconds (16 s, 31 s, 96 s, ... about 10 h after the 13th), 20
  attempts over about 8 days, as RDV Service Public. An endpoint failing without a single success for
  3 days is disabled at its next failure, and the organisation's admins get an email; its messages
  stop, and "Renvoyer" sends them again once it is enabled.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
import sqlalchemy as sa
from sqlmodel import Session, col, select
from standardwebhooks import Webhook

from rdv_app.config import settings
from rdv_app.db.models import Agent, AgentRole, Organisation, WebhookDelivery, WebhookEndpoint
from rdv_app.db.rows import require_id
from rdv_app.domain import clock
from rdv_app.domain.enums import AccessLevel, Channel, NotificationEvent
from rdv_app.notify.outbox import enqueue
from rdv_app.notify.public_http import InternalAddressRefused, PublicOnlyTransport

TIMEOUT_SECONDS = 10.0
MAX_ATTEMPTS = 20
FAILING_LIMIT = timedelta(days=3)
RESPONSE_EXCERPT_LENGTH = 500
USER_AGENT = "RDV-Services-Publics-Webhooks/1.0"
ADMIN_PAGE = "/admin/webhooks"


@dataclass(frozen=True)
class AttemptResult:
    delivered: bool
    error: str | None = None
    retry_at: datetime | None = None  # None after a failure: no more attempts


def retry_delay(attempt: int) -> timedelta:
    return timedelta(seconds=attempt**4 + 15)


def signed_headers(secret: str, webhook_id: str, body: bytes, sent_at: datetime) -> dict[str, str]:
    lapin = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": USER_AGENT,
        "X-Lapin-Signature": lapin,
        "webhook-id": webhook_id,
        "webhook-timestamp": str(int(sent_at.timestamp())),
        "webhook-signature": Webhook(secret).sign(webhook_id, sent_at, body.decode("utf-8")),
    }


def deliver(engine: sa.Engine, outbox_id: int, attempt: int, payload: dict[str, Any], now: datetime, *,
            transport: httpx.BaseTransport | None = None) -> AttemptResult:
    """One attempt; `now` decides the schedule (retries, the 3-day limit), the wall clock the signature.
    `transport`: by default a PublicOnlyTransport with the app's loopback allowance."""
    with Session(engine) as session:
        endpoint = session.get(WebhookEndpoint, payload["endpoint_id"])
        if endpoint is None:
            return AttemptResult(False, "webhook supprimé, message non envoyé")
        if not endpoint.enabled:
            # In the log all the same, so that "Renvoyer" can send it once the endpoint is enabled again.
            skipped = "non envoyé : webhook désactivé"
            session.add(WebhookDelivery(webhook_endpoint_id=require_id(endpoint), outbox_message_id=outbox_id,
                                        attempt=attempt, error=skipped, created_at=now))
            session.commit()
            return AttemptResult(False, skipped)
        url, secret = endpoint.target_url, endpoint.secret
    body = payload["body"].encode("utf-8")
    headers = signed_headers(secret, payload["webhook_id"], body, clock.now())
    status_code: int | None = None
    excerpt: str | None = None
    started = time.perf_counter()
    transport = transport or PublicOnlyTransport(allow_loopback=settings.loopback_webhooks_allowed)
    try:
        with (httpx.Client(transport=transport, timeout=TIMEOUT_SECONDS, follow_redirects=False) as client,
              client.stream("POST", url, content=body, headers=headers) as response):
            status_code = response.status_code
            excerpt = _excerpt(response) if response.is_success else None
        error = None if response.is_success else _status_error(response)
    except InternalAddressRefused as refused:
        error = str(refused)
    except httpx.TimeoutException:
        error = f"pas de réponse en {TIMEOUT_SECONDS:.0f} secondes"
    except httpx.HTTPError as exc:
        error = f"connexion impossible ({type(exc).__name__})"
    latency_ms = int((time.perf_counter() - started) * 1000)
    return _record(engine, require_id(endpoint), outbox_id, attempt, now,
                   status_code=status_code, latency_ms=latency_ms, excerpt=excerpt, error=error)


def _excerpt(response: httpx.Response) -> str:
    """The start of the answer, read no further (an endpoint may answer with a huge page)."""
    start = b""
    for chunk in response.iter_bytes():
        start += chunk
        if len(start) >= RESPONSE_EXCERPT_LENGTH * 4:
            break
    return start.decode(response.encoding or "utf-8", errors="replace")[:RESPONSE_EXCERPT_LENGTH]


def _status_error(response: httpx.Response) -> str:
    if response.is_redirect:
        return f"réponse HTTP {response.status_code} (redirection non suivie : corrigez l'adresse)"
    return f"réponse HTTP {response.status_code}"


def _record(engine: sa.Engine, endpoint_id: int, outbox_id: int, attempt: int, now: datetime, *,
            status_code: int | None, latency_ms: int, excerpt: str | None, error: str | None) -> AttemptResult:
    with Session(engine) as session:
        session.add(WebhookDelivery(webhook_endpoint_id=endpoint_id, outbox_message_id=outbox_id, attempt=attempt,
                                    status_code=status_code, latency_ms=latency_ms, response_excerpt=excerpt,
                                    error=error, created_at=now))
        endpoint = session.get(WebhookEndpoint, endpoint_id, with_for_update=True)
        if endpoint is None:  # deleted during the attempt: its log goes with it
            session.rollback()
            return AttemptResult(error is None, error)
        if error is None:
            endpoint.failing_since = None
            session.add(endpoint)
            session.commit()
            return AttemptResult(True)
        endpoint.failing_since = endpoint.failing_since or now
        disabled = endpoint.enabled and now - endpoint.failing_since >= FAILING_LIMIT
        if disabled:
            endpoint.enabled, endpoint.disabled_at = False, now
            _tell_admins(session, endpoint, error, now)
        session.add(endpoint)
        session.commit()
    if disabled:
        return AttemptResult(False, f"{error} ; webhook désactivé après 3 jours d'échecs")
    if attempt >= MAX_ATTEMPTS:
        return AttemptResult(False, f"{error} ({attempt} tentatives)")
    return AttemptResult(False, error, now + retry_delay(attempt))


def _tell_admins(session: Session, endpoint: WebhookEndpoint, error: str, now: datetime) -> None:
    """An email to each admin of the organisation, in the transaction that disables the endpoint."""
    organisation = session.get(Organisation, endpoint.organisation_id)
    admins = session.exec(
        select(Agent).join(AgentRole, col(AgentRole.agent_id) == Agent.id)
        .where(AgentRole.organisation_id == endpoint.organisation_id, AgentRole.access_level == AccessLevel.ADMIN,
               col(Agent.email).is_not(None), col(Agent.deleted_at).is_(None))
        .order_by(col(Agent.id))
    ).all()
    name = organisation.name if organisation else "votre organisation"
    text = "\n".join([
        "Bonjour,", "",
        f"Le webhook de {name} vers {endpoint.target_url} ne répond plus correctement depuis le "
        f"{endpoint.failing_since:%d/%m/%Y à %H:%M} (UTC). Il a été désactivé : plus aucun message ne lui est envoyé.",
        f"Dernière erreur : {error}.", "",
        "Une fois le service corrigé, réactivez le webhook et renvoyez les messages manqués depuis son journal :",
        f"{settings.public_url}{ADMIN_PAGE}", "",
    ])
    for admin in admins:
        enqueue(session, channel=Channel.MAIL, event=NotificationEvent.WEBHOOK,
                idempotency_key=f"webhook_disabled:{endpoint.id}:{now.isoformat()}:agent:{admin.id}",
                payload={"to": admin.email, "subject": f"Webhook désactivé : {endpoint.target_url}", "text": text},
                organisation_id=endpoint.organisation_id, agent_id=admin.id)
