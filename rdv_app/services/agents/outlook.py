"""Mon compte, "Synchronisation d'agenda" with Microsoft 365 (admin-domain.md 11.1, 11.2, 11.5): an agent
connects their Outlook account, sees its state, disconnects it. Only their own account
(rights.own_account); the agent's id always comes from the session, never from the browser.

- Connecting stores both tokens sealed with RDV_SECRET_KEY (rdv_app.auth.sealed) and queues the sync of
  every RDV of the agent from one month back (rdv_app.notify.outlook.queue_backfill), in one transaction.
  A new connection replaces the old one (the same account or another one).
- Disconnecting marks the connection, counts the events to remove and queues their removal: the worker
  deletes them one by one (the page shows the progress), then clears the tokens.
- The page says until when the connection works without a new sign-in (Microsoft's refresh tokens
  last 90 days from their issue; every sync renews it), and when Microsoft has refused it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import col, select

from rdv_app.auth.microsoft import MicrosoftSettings
from rdv_app.auth.sealed import seal
from rdv_app.db.models import AgentRole, Organisation, OutlookConnection, OutlookEvent
from rdv_app.db.uow import UnitOfWork
from rdv_app.domain import clock, datefmt, outlook
from rdv_app.notify import outlook as outlook_sync
from rdv_app.services import audit, rights
from rdv_app.services.boundary import boundary
from rdv_app.services.errors import DomainError

DISCONNECTING = ("La déconnexion de votre compte Outlook est en cours : patientez jusqu'à la fin du retrait de "
                 "vos rendez-vous, puis réessayez.")


@dataclass(frozen=True)
class OutlookStatus:
    available: bool  # the instance has an Azure application (RDV_MICROSOFT_CLIENT_ID and secret)
    connected: bool
    broken: bool  # Microsoft refused the connection: connect again
    disconnecting: bool
    removed: int  # events removed so far by the disconnection under way
    to_remove: int
    renew_before: datetime | None
    renew_before_day: str  # the same, "lundi 8 mars 2027", in the time zone of the agent's organisation
    login_hint: str | None  # the agent's email, suggested to Microsoft


@boundary
def outlook_status(uow: UnitOfWork, agent_id: int) -> OutlookStatus:
    agent = rights.own_account(uow, agent_id)
    connection = uow.session.get(OutlookConnection, agent_id)
    available = MicrosoftSettings.from_env() is not None
    if connection is None or connection.refresh_token_sealed is None:
        return OutlookStatus(available, False, False, False, 0, 0, None, "", agent.email)
    renew_before = outlook.renewal_due(connection.refresh_issued_at or connection.connected_at)
    time_zone = uow.session.exec(
        select(Organisation.timezone).join(AgentRole, col(AgentRole.organisation_id) == Organisation.id)
        .where(AgentRole.agent_id == agent_id).order_by(col(AgentRole.id))).first() or "Europe/Paris"
    return OutlookStatus(available=available, connected=True, broken=connection.broken_at is not None,
                         disconnecting=connection.disconnect_started_at is not None,
                         removed=connection.disconnect_done, to_remove=connection.disconnect_total,
                         renew_before=renew_before,
                         renew_before_day=datefmt.long_date(datefmt.local(renew_before, time_zone).date()),
                         login_hint=agent.email)


@boundary
def connect_outlook(uow: UnitOfWork, agent_id: int, access_token: str, refresh_token: str,
                    access_expires_at: datetime, *, now: datetime | None = None) -> int:
    """Stores the agent's tokens and queues their RDVs from one month back; returns how many."""
    now = now or clock.now()
    rights.own_account(uow, agent_id)
    if not access_token or not refresh_token:
        raise DomainError("Microsoft n'a pas transmis l'accès à votre agenda : votre compte Outlook n'a pas pu "
                          "être connecté.")
    connection = uow.session.get(OutlookConnection, agent_id, with_for_update=True)
    if connection is not None and connection.disconnect_started_at is not None:
        raise DomainError(DISCONNECTING)
    connection = connection or OutlookConnection(agent_id=agent_id)
    connection.access_token_sealed, connection.refresh_token_sealed = seal(access_token), seal(refresh_token)
    connection.access_expires_at = access_expires_at
    connection.connected_at = connection.refresh_issued_at = now
    connection.broken_at = connection.broken_notified_at = None
    uow.session.add(connection)
    uow.session.flush()
    queued = outlook_sync.queue_backfill(uow.session, agent_id, now)
    audit.record(uow.session, action="outlook_connected", entity_type="agent", entity_id=agent_id, changes={},
                 actor_agent_id=agent_id)
    uow.commit()
    return queued


@boundary
def disconnect_outlook(uow: UnitOfWork, agent_id: int, *, now: datetime | None = None) -> OutlookStatus:
    """Starts the removal of every Outlook event of the agent; the tokens go once it is done."""
    now = now or clock.now()
    rights.own_account(uow, agent_id)
    if start_disconnection(uow, agent_id, agent_id, now):
        uow.commit()
    return outlook_status(uow, agent_id)


def start_disconnection(uow: UnitOfWork, agent_id: int, actor_agent_id: int, now: datetime) -> bool:
    """Queues the removal of the agent's Outlook events, then of their tokens, unless it is under way or
    there is no connection (the agent disconnecting, or their account being closed). No commit."""
    connection = uow.session.get(OutlookConnection, agent_id, with_for_update=True)
    if connection is None or connection.refresh_token_sealed is None or connection.disconnect_started_at is not None:
        return False
    connection.disconnect_started_at = now
    connection.disconnect_done = 0
    connection.disconnect_total = uow.session.exec(
        select(sa.func.count()).select_from(OutlookEvent).where(
            OutlookEvent.agent_id == agent_id,
            sa.or_(col(OutlookEvent.outlook_id).is_not(None), col(OutlookEvent.creating).is_not(None)))).one()
    uow.session.add(connection)
    outlook_sync.queue_disconnect(uow.session, agent_id, now)
    audit.record(uow.session, action="outlook_disconnected", entity_type="agent", entity_id=agent_id,
                 changes={}, actor_agent_id=actor_agent_id)
    return True
