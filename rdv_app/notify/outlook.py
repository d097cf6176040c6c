"""Microsoft 365 (Outlook) sync of agents' RDVs (admin-domain.md section 11): one handler of RDV events
that writes outbox rows, and their delivery to Microsoft Graph by the outbox worker.

Queueing (`on_rdv_changed`, in the transaction of the change). For each agent of the RDV before or after
the change whose Outlook account is connected: the agent's `OutlookEvent` row of the RDV (created if
need be) and one outbox row `{"agent_id", "rdv_uuid"}`, unless one is still waiting for that agent and
RDV: a change made before it leaves is carried by it (coalescing: one delivery per change at most, one
for several changes in a row). Changes to a motif or a lieu alone do not resync (as RDV Service Public).

Delivery (`deliver`, outside any transaction) does what the RDV's state *at that moment* asks, so a
late or repeated row never undoes a newer change, and an update never overtakes its create:
- the agent is no longer connected, or is disconnecting: nothing (the disconnection removes the events);
- the RDV exists, is not cancelled and the agent is still one of its agents: PATCH the event, or POST it
  with its `transactionId` when it has none yet (the id is stored; "creating" is committed before the
  POST, so that a crash between Microsoft's answer and our record is found again);
- otherwise (cancelled, agent removed, RDV deleted): DELETE the event, forget its id, and number the
  next one anew (a cancelled RDV set back to "à venir" gets a new event).
A lease on the `OutlookEvent` row (LEASE) serialises the deliveries of one agent and RDV across workers;
a row found leased is retried later; the lease of a worker found dead (rdv_app.notify.worker hands its
claims back) is free at once, so a killed worker delays nothing.

Graph errors (11.3): 401 → one refresh, then the call once more, never more (no 401 loop); a second 401
is retried later through the outbox. `ErrorItemNotFound` on DELETE: already gone; on PATCH: the agent
deleted it in Outlook, a new one is made. `ErrorDuplicateTransactionId` on POST: the event exists (an
earlier attempt whose answer was lost): it is looked up by its transactionId. 429 and 5xx: retried
through the outbox, not before `Retry-After`. Other errors: retried with the outbox's backoff.
Refresh refused by Microsoft: the connection is marked broken, the agent gets one email, and the row
fails for good (reconnecting sends every RDV again). Every new refresh token is stored at once.

Disconnection (`NotificationEvent.OUTLOOK_DISCONNECT`): every event with an id (or a create in doubt) is
deleted, one by one, errors ignored, progress recorded for the page; then the tokens are cleared,
even when some deletes failed.
"""

from __future__ import annotations

import logging
import secrets
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import quote

import httpx
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, select

from rdv_app import routes
from rdv_app.auth import microsoft
from rdv_app.auth.microsoft import MicrosoftSettings, RefreshRefused, TokenEndpointUnavailable, Tokens
from rdv_app.auth.sealed import seal, unseal
from rdv_app.config import settings as app_settings
from rdv_app.db.models import (
    Agent,
    Lieu,
    Motif,
    Organisation,
    OutboxMessage,
    OutboxWorker,
    OutlookConnection,
    OutlookEvent,
    Rdv,
    RdvAgent,
    Territory,
)
from rdv_app.db.rows import require_id, table_of
from rdv_app.domain import clock, outlook
from rdv_app.domain.enums import (
    CANCELLED_STATUSES,
    Channel,
    LieuAvailability,
    NotificationEvent,
    OutboxStatus,
)
from rdv_app.domain.events import Change, RdvChanged
from rdv_app.notify.outbox import enqueue, enqueue_many

logger = logging.getLogger(__name__)

LEASE = timedelta(minutes=2)
BUSY_RETRY = timedelta(seconds=10)
USER_AGENT = "RDV-Services-Publics"
_CANCELLED = frozenset(status.value for status in CANCELLED_STATUSES)
_EVENTS = table_of(OutlookEvent)
_WORKERS = table_of(OutboxWorker)
_INSERTS: dict[str, Callable[[sa.Table], postgresql.Insert | sqlite.Insert]] = {
    "postgresql": postgresql.insert, "sqlite": sqlite.insert}


# --------------------------------------------------------------------------- queueing


def on_rdv_changed(session: Session, change: RdvChanged) -> None:
    """Handler of `RdvChanged` (rdv_app.wiring): one sync per connected agent of the RDV."""
    agent_ids = set(change.old_agent_ids) | set(change.new_agent_ids)
    if not agent_ids:
        return
    rdv = session.get(Rdv, change.rdv_id)  # a deletion is published before the RDV goes
    if rdv is None:
        return
    connected = session.exec(select(OutlookConnection.agent_id).where(
        col(OutlookConnection.agent_id).in_(agent_ids), col(OutlookConnection.refresh_token_sealed).is_not(None),
        col(OutlookConnection.disconnect_started_at).is_(None), col(OutlookConnection.broken_at).is_(None))).all()
    if change.change == Change.DELETED:
        # The rows of agents with nothing in Outlook for this RDV (removed from it earlier) go with it.
        e = _EVENTS.c
        session.exec(sa.delete(_EVENTS).where(  # type: ignore[call-overload]
            e.rdv_uuid == rdv.uuid, e.outlook_id.is_(None), e.creating.is_(None),
            sa.or_(e.locked_until.is_(None), e.locked_until < clock.now())))
    agents = "-".join(str(a) for a in sorted(set(change.new_agent_ids))) or "none"
    cause = f"{change.action}:{change.version}:{change.status.value}:{agents}:{change.occurred_at.isoformat()}"
    for agent_id in sorted(connected):
        queue_sync(session, agent_id, rdv.uuid, rdv.id, cause, organisation_id=rdv.organisation_id)


def queue_sync(session: Session, agent_id: int, rdv_uuid: str, rdv_id: int | None, cause: str, *,
               organisation_id: int | None = None) -> int | None:
    """Queues the sync of one agent's event of one RDV in the caller's transaction, unless one is already
    waiting; returns the new outbox id, if any."""
    queued = queue_syncs(session, agent_id, [(rdv_uuid, rdv_id, organisation_id)], cause)
    return queued[0] if queued else None


def queue_syncs(session: Session, agent_id: int, rdvs: Sequence[tuple[str, int | None, int | None]],
                cause: str) -> list[int]:
    """`queue_sync` for several RDVs (uuid, id, organisation id) of one agent, in a few statements."""
    if not rdvs:
        return []
    now = clock.now()
    session.execute(_INSERTS[session.get_bind().dialect.name](_EVENTS)
                    .on_conflict_do_nothing(index_elements=["agent_id", "rdv_uuid"]),
                    [{"agent_id": agent_id, "rdv_uuid": rdv_uuid, "rdv_id": rdv_id, "generation": 0, "updated_at": now}
                     for rdv_uuid, rdv_id, _ in rdvs])
    prefix = f"outlook:{agent_id}:"
    waiting = {key.removeprefix(prefix).split(":", 1)[0] for key in session.exec(
        select(OutboxMessage.idempotency_key).where(
            OutboxMessage.channel == Channel.OUTLOOK.value, OutboxMessage.status == OutboxStatus.PENDING.value,
            OutboxMessage.agent_id == agent_id, col(OutboxMessage.idempotency_key).startswith(prefix)))}
    messages = {rdv_uuid: {"idempotency_key": f"{prefix}{rdv_uuid}:{cause}", "agent_id": agent_id,
                           "organisation_id": organisation_id,
                           "payload": {"agent_id": agent_id, "rdv_uuid": rdv_uuid}}
                for rdv_uuid, _rdv_id, organisation_id in rdvs if rdv_uuid not in waiting}
    return enqueue_many(session, channel=Channel.OUTLOOK, event=NotificationEvent.OUTLOOK_SYNC,
                        messages=list(messages.values()))


def queue_backfill(session: Session, agent_id: int, now: datetime) -> int:
    """On connecting: a sync of every RDV of the agent from one month back (cancelled ones excluded);
    returns how many RDVs."""
    rows = session.exec(
        select(Rdv.uuid, Rdv.id, Rdv.organisation_id).join(RdvAgent, col(RdvAgent.rdv_id) == Rdv.id)
        .where(RdvAgent.agent_id == agent_id, Rdv.starts_at >= now - outlook.BACKFILL_WINDOW,
               col(Rdv.status).not_in(_CANCELLED))
        .order_by(col(Rdv.starts_at), col(Rdv.id))).all()
    queue_syncs(session, agent_id, [(rdv_uuid, rdv_id, organisation_id) for rdv_uuid, rdv_id, organisation_id in rows],
                f"connect:{now.isoformat()}")
    return len(rows)


def queue_disconnect(session: Session, agent_id: int, now: datetime) -> int | None:
    return enqueue(session, channel=Channel.OUTLOOK, event=NotificationEvent.OUTLOOK_DISCONNECT,
                   idempotency_key=f"outlook-disconnect:{agent_id}:{now.isoformat()}", payload={"agent_id": agent_id},
                   agent_id=agent_id)


# --------------------------------------------------------------------------- Graph


@dataclass(frozen=True)
class Result:
    delivered: bool
    error: str | None = None
    retry_at: datetime | None = None  # not before (Retry-After, a leased row)
    permanent: bool = False


class GraphError(Exception):
    def __init__(self, status: int, code: str, message: str = "", retry_after: timedelta | None = None) -> None:
        super().__init__(f"Microsoft Graph : HTTP {status} {code} {message}".strip())
        self.status, self.code, self.retry_after = status, code, retry_after


class ConnectionBroken(Exception):
    """Microsoft refused the refresh token."""


class _Graph:
    """Calls Graph as one agent; refreshes the access token when it is due or refused once per call, and
    stores each new pair of tokens at once."""

    def __init__(self, engine: sa.Engine, settings: MicrosoftSettings, connection: OutlookConnection) -> None:
        self.engine, self.settings = engine, settings
        self.agent_id = connection.agent_id
        self.access_token = unseal(connection.access_token_sealed)
        self.refresh_token = unseal(connection.refresh_token_sealed)
        self.expires_at = connection.access_expires_at
        self.http = httpx.Client(timeout=microsoft.TIMEOUT_SECONDS, follow_redirects=False)

    def close(self) -> None:
        self.http.close()

    def call(self, method: str, path: str, payload: dict[str, Any] | None = None,
             params: dict[str, str] | None = None) -> dict[str, Any]:
        if self.access_token is None or self.expires_at is None or self.expires_at <= clock.now():
            self._refresh()
        response = self._send(method, path, payload, params)
        if response.status_code == 401:
            self._refresh()
            response = self._send(method, path, payload, params)
        if response.is_success:
            return response.json() if response.content else {}
        raise _error(response)

    def _send(self, method: str, path: str, payload: dict[str, Any] | None,
              params: dict[str, str] | None) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.access_token}", "Accept": "application/json",
                   "User-Agent": USER_AGENT, "client-request-id": str(uuid.uuid4()),
                   "return-client-request-id": "true"}
        try:
            return self.http.request(method, f"{self.settings.graph_url}{path}", json=payload, params=params,
                                     headers=headers)
        except httpx.TimeoutException as failure:
            raise GraphError(0, "Timeout", f"pas de réponse en {microsoft.TIMEOUT_SECONDS:.0f} secondes") from failure
        except httpx.HTTPError as failure:
            raise GraphError(0, "ConnectionError", type(failure).__name__) from failure

    def _refresh(self) -> None:
        if self.refresh_token is None:
            raise ConnectionBroken
        try:
            tokens = microsoft.refresh(self.settings, self.refresh_token)
        except RefreshRefused as refused:
            raise ConnectionBroken(str(refused)) from refused
        except TokenEndpointUnavailable as failure:
            raise GraphError(0, "TokenEndpointUnavailable", str(failure)) from failure
        self.access_token, self.expires_at = tokens.access_token, tokens.expires_at
        self.refresh_token = tokens.refresh_token or self.refresh_token
        _store_tokens(self.engine, self.agent_id, tokens)


def _store_tokens(engine: sa.Engine, agent_id: int, tokens: Tokens) -> None:
    with Session(engine) as session:
        connection = session.get(OutlookConnection, agent_id, with_for_update=True)
        if connection is None or connection.refresh_token_sealed is None:
            return  # disconnected meanwhile: nothing to keep
        connection.access_token_sealed = seal(tokens.access_token)
        connection.access_expires_at = tokens.expires_at
        if tokens.refresh_token is not None:
            connection.refresh_token_sealed = seal(tokens.refresh_token)
            connection.refresh_issued_at = clock.now()
        session.add(connection)
        session.commit()


def _error(response: httpx.Response) -> GraphError:
    code, message = "", ""
    try:
        error = response.json().get("error") or {}
        code, message = str(error.get("code") or ""), str(error.get("message") or "")[:200]
    except (ValueError, AttributeError):
        pass
    return GraphError(response.status_code, code or f"HTTP{response.status_code}", message,
                      _retry_after(response.headers.get("Retry-After")))


def _retry_after(value: str | None) -> timedelta | None:
    if not value:
        return None
    if value.strip().isdigit():
        return timedelta(seconds=int(value.strip()))
    try:
        return max(parsedate_to_datetime(value) - clock.now(), timedelta())
    except (TypeError, ValueError):
        return None


# --------------------------------------------------------------------------- delivery


def deliver(engine: sa.Engine, event: str, payload: dict[str, Any], now: datetime, *,
            worker_id: int | None = None) -> Result:
    """One attempt of an outlook outbox row; `now` decides the schedule. `worker_id`: the outbox worker
    making it, whose death (its heartbeat row gone, rdv_app.notify.worker) frees its leases at once."""
    settings = MicrosoftSettings.from_env()
    if settings is None:
        return Result(False, "synchronisation Outlook non configurée (RDV_MICROSOFT_CLIENT_ID)", permanent=True)
    agent_id = int(payload["agent_id"])
    with Session(engine) as session:
        connection = session.get(OutlookConnection, agent_id)
        if connection is not None:
            session.expunge(connection)
    if connection is None or connection.refresh_token_sealed is None:
        return Result(True)  # disconnected: nothing to keep up to date
    graph = _Graph(engine, settings, connection)
    try:
        if event == NotificationEvent.OUTLOOK_DISCONNECT:
            return _disconnect(engine, graph, agent_id, now, worker_id)
        if connection.disconnect_started_at is not None or connection.broken_at is not None:
            return Result(True)
        return _sync(engine, graph, agent_id, str(payload["rdv_uuid"]), now, worker_id)
    except ConnectionBroken:
        _mark_broken(engine, agent_id)
        return Result(False, "connexion Outlook refusée par Microsoft : l'agent doit la renouveler", permanent=True)
    except GraphError as failure:
        retry_at = now + failure.retry_after if failure.retry_after else None
        return Result(False, str(failure), retry_at=retry_at)
    finally:
        graph.close()


def _lease(engine: sa.Engine, agent_id: int, rdv_uuid: str, worker_id: int | None = None) -> str | None:
    """Takes the lease of the agent's event of this RDV; None when another delivery holds it (or no row).
    A lease ends with its time, or as soon as the worker holding it is known dead."""
    token, moment = secrets.token_hex(8), clock.now()
    e, w = _EVENTS.c, _WORKERS.c
    holder_alive = sa.exists().where(w.id == e.lock_worker_id)
    with engine.begin() as connection:
        taken = connection.execute(
            sa.update(_EVENTS).where(e.agent_id == agent_id, e.rdv_uuid == rdv_uuid,
                                     sa.or_(e.locked_until.is_(None), e.locked_until < moment,
                                            sa.and_(e.lock_worker_id.is_not(None), ~holder_alive)))
            .values(locked_until=moment + LEASE, lock_token=token, lock_worker_id=worker_id)).rowcount
    return token if taken else None


def _save(engine: sa.Engine, agent_id: int, rdv_uuid: str, token: str, **values: Any) -> None:
    e = _EVENTS.c
    with engine.begin() as connection:
        connection.execute(sa.update(_EVENTS).where(e.agent_id == agent_id, e.rdv_uuid == rdv_uuid,
                                                    e.lock_token == token)
                           .values(**values, updated_at=clock.now()))


def _release(engine: sa.Engine, agent_id: int, rdv_uuid: str, token: str, *, forget: bool = False) -> None:
    e = _EVENTS.c
    held = (e.agent_id == agent_id, e.rdv_uuid == rdv_uuid, e.lock_token == token)
    with engine.begin() as connection:
        if forget:
            connection.execute(sa.delete(_EVENTS).where(*held))
        else:
            connection.execute(sa.update(_EVENTS).where(*held).values(locked_until=None, lock_token=None,
                                                                       lock_worker_id=None))


def _wanted(engine: sa.Engine, agent_id: int, rdv_uuid: str) -> tuple[OutlookEvent | None, outlook.OutlookRdv | None,
                                                                       bool]:
    """The agent's event row, what the event must say (None: it must not exist), and whether the RDV
    still exists."""
    with Session(engine) as session:
        row = session.exec(select(OutlookEvent).where(OutlookEvent.agent_id == agent_id,
                                                      OutlookEvent.rdv_uuid == rdv_uuid)).first()
        found = session.exec(
            # sqlmodel types select() for at most 4 entities.
            select(Rdv, Motif, Organisation, Territory)  # type: ignore[call-overload]
            .join(Motif, col(Motif.id) == Rdv.motif_id)
            .join(Organisation, col(Organisation.id) == Rdv.organisation_id)
            .join(Territory, col(Territory.id) == Organisation.territory_id)
            .where(Rdv.uuid == rdv_uuid)).first()
        if row is not None:
            session.expunge(row)
        if found is None:
            return row, None, False
        rdv, motif, organisation, territory = found
        is_agent = session.get(RdvAgent, (rdv.id, agent_id)) is not None
        if rdv.status in _CANCELLED or not is_agent:
            return row, None, True
        lieu = session.get(Lieu, rdv.lieu_id) if rdv.lieu_id is not None else None
        link = app_settings.public_url + routes.rdv_page(require_id(rdv))
        return row, outlook.OutlookRdv(
            motif_name=motif.name, collectif=motif.collectif, name=rdv.name, users_count=rdv.users_count,
            max_participants_count=rdv.max_participants_count, starts_at=rdv.starts_at, ends_at=rdv.ends_at,
            time_zone=organisation.timezone or territory.timezone or "Europe/Paris",
            location_type=motif.location_type, lieu_name=lieu.name if lieu else None,
            lieu_address=lieu.address if lieu else None, link=link,
            site_name=app_settings.public_url.split("://", 1)[-1],
            lieu_single_use=lieu is not None and lieu.availability == LieuAvailability.SINGLE_USE.value), True


def _sync(engine: sa.Engine, graph: _Graph, agent_id: int, rdv_uuid: str, now: datetime,
          worker_id: int | None) -> Result:
    token = _lease(engine, agent_id, rdv_uuid, worker_id)
    if token is None:
        with Session(engine) as session:
            exists = session.exec(select(OutlookEvent.id).where(OutlookEvent.agent_id == agent_id,
                                                                OutlookEvent.rdv_uuid == rdv_uuid)).first()
        if exists is None:
            return Result(True)
        return Result(False, "une synchronisation de ce rendez-vous est déjà en cours", retry_at=now + BUSY_RETRY)
    forget = False
    try:
        row, wanted, rdv_exists = _wanted(engine, agent_id, rdv_uuid)
        if row is None:
            return Result(True)
        if wanted is None:
            _remove(engine, graph, row, token)
            forget = not rdv_exists
            return Result(True)
        outlook_id = row.outlook_id
        generation = row.generation
        if outlook_id is not None:
            try:
                graph.call("PATCH", f"/me/events/{quote(outlook_id, safe='')}", outlook.event_payload(wanted))
                return Result(True)
            except GraphError as failure:
                if failure.code != "ErrorItemNotFound":
                    raise
            # Deleted in Outlook: a new event, under a new transactionId.
            generation += 1
            _save(engine, agent_id, rdv_uuid, token, outlook_id=None, generation=generation)
        _create(engine, graph, agent_id, rdv_uuid, token, wanted, generation, resume=row.creating)
        return Result(True)
    finally:
        _release(engine, agent_id, rdv_uuid, token, forget=forget)


def _create(engine: sa.Engine, graph: _Graph, agent_id: int, rdv_uuid: str, token: str,
            wanted: outlook.OutlookRdv, generation: int, *, resume: str | None) -> None:
    transaction = outlook.transaction_id(rdv_uuid, agent_id, generation)
    if resume == transaction:
        # A create whose answer was not recorded: the event may exist.
        found = _find(graph, transaction)
        if found is not None:
            graph.call("PATCH", f"/me/events/{quote(found, safe='')}", outlook.event_payload(wanted))
            _save(engine, agent_id, rdv_uuid, token, outlook_id=found, creating=None)
            return
    _save(engine, agent_id, rdv_uuid, token, creating=transaction)
    try:
        created = graph.call("POST", "/me/events", outlook.event_payload(wanted, transaction))
        outlook_id = str(created["id"])
    except GraphError as failure:
        if failure.code != "ErrorDuplicateTransactionId":
            raise
        found = _find(graph, transaction)
        if found is None:
            # Created then deleted in Outlook: the next attempt makes a new one.
            _save(engine, agent_id, rdv_uuid, token, creating=None, generation=generation + 1)
            raise GraphError(409, failure.code, "évènement supprimé dans Outlook, recréé à la prochaine tentative") \
                from failure
        graph.call("PATCH", f"/me/events/{quote(found, safe='')}", outlook.event_payload(wanted))
        outlook_id = found
    _save(engine, agent_id, rdv_uuid, token, outlook_id=outlook_id, creating=None)


def _find(graph: _Graph, transaction: str) -> str | None:
    """The id of the event created with this transactionId, if it exists."""
    answer = graph.call("GET", "/me/events", params={"$filter": f"transactionId eq '{transaction}'",
                                                     "$select": "id"})
    events = answer.get("value") or []
    return str(events[0]["id"]) if events else None


def _remove(engine: sa.Engine, graph: _Graph, row: OutlookEvent, token: str) -> None:
    """Deletes the event (and a create in doubt), then forgets its id; the next one is a new generation."""
    outlook_id = row.outlook_id
    if outlook_id is None and row.creating is not None:
        outlook_id = _find(graph, row.creating)
    if outlook_id is not None:
        try:
            graph.call("DELETE", f"/me/events/{quote(outlook_id, safe='')}")
        except GraphError as failure:
            if failure.code != "ErrorItemNotFound":
                raise
    if row.outlook_id is not None or row.creating is not None:
        _save(engine, row.agent_id, row.rdv_uuid, token, outlook_id=None, creating=None,
              generation=row.generation + 1)


def _disconnect(engine: sa.Engine, graph: _Graph, agent_id: int, now: datetime, worker_id: int | None) -> Result:
    with Session(engine) as session:
        rows = list(session.exec(select(OutlookEvent).where(
            OutlookEvent.agent_id == agent_id,
            sa.or_(col(OutlookEvent.outlook_id).is_not(None), col(OutlookEvent.creating).is_not(None)))
            .order_by(col(OutlookEvent.id))))
        session.expunge_all()
    busy = 0
    for row in rows:
        token = _lease(engine, agent_id, row.rdv_uuid, worker_id)
        if token is None:
            busy += 1
            continue
        try:
            _remove(engine, graph, row, token)
        except GraphError as failure:  # one event left in Outlook must not keep the tokens
            logger.warning("outlook disconnect of agent %s: an event could not be deleted (%s)", agent_id, failure)
        except ConnectionBroken:  # nothing can be deleted any more: the tokens go all the same
            logger.warning("outlook disconnect of agent %s: Microsoft refused the tokens", agent_id)
            _release(engine, agent_id, row.rdv_uuid, token, forget=True)
            break
        _release(engine, agent_id, row.rdv_uuid, token, forget=True)
        _progress(engine, agent_id)
    if busy:
        return Result(False, f"{busy} synchronisation(s) en cours, suite de la déconnexion ensuite",
                      retry_at=now + BUSY_RETRY)
    with Session(engine) as session:
        session.exec(sa.delete(OutlookEvent).where(col(OutlookEvent.agent_id) == agent_id))
        session.exec(sa.delete(OutlookConnection).where(col(OutlookConnection.agent_id) == agent_id))
        session.commit()
    return Result(True)


def _progress(engine: sa.Engine, agent_id: int) -> None:
    with Session(engine) as session:
        session.exec(sa.update(OutlookConnection).where(col(OutlookConnection.agent_id) == agent_id)
                     .values(disconnect_done=OutlookConnection.disconnect_done + 1))
        session.commit()


def _mark_broken(engine: sa.Engine, agent_id: int) -> None:
    """The connection is unusable until the agent connects again; they get one email."""
    now = clock.now()
    with Session(engine) as session:
        connection = session.get(OutlookConnection, agent_id, with_for_update=True)
        agent = session.get(Agent, agent_id)
        if connection is None:
            return
        if connection.broken_at is None:
            connection.broken_at = now
        if connection.broken_notified_at is None and connection.disconnect_started_at is None \
                and agent is not None and agent.email:
            connection.broken_notified_at = now
            enqueue(session, channel=Channel.MAIL, event=NotificationEvent.ACCOUNT,
                    idempotency_key=f"outlook-broken:{agent_id}:{now.isoformat()}", agent_id=agent_id,
                    payload={"to": agent.email, "subject": "Votre agenda Outlook n'est plus synchronisé",
                             "text": "\n".join([
                                 "Bonjour,", "",
                                 "Microsoft a refusé la connexion de votre compte Outlook (elle a expiré ou a été "
                                 "révoquée) : vos rendez-vous ne sont plus copiés dans votre agenda Outlook.", "",
                                 "Pour la rétablir, connectez-vous de nouveau depuis « Mon compte », section "
                                 "« Synchronisation d'agenda » :",
                                 f"{app_settings.public_url}{routes.ACCOUNT}", ""])})
        session.add(connection)
        session.commit()
