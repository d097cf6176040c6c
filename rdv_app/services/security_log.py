"""The security event log: failed sign-ins and codes, lockouts, password and second-factor changes of the
agents, wrong answers and lockouts of the usagers' links. Written in the transaction of what it records
(a refused sign-in commits its row before it answers); read by territorial admins ("Journal de sécurité")
for the agents and organisations of their territory."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session, col, select

from rdv_app.db.models import Agent, AgentRole, AgentTerritorialRole, Organisation, SecurityEvent, Territory
from rdv_app.db.uow import UnitOfWork
from rdv_app.domain import clock, datefmt
from rdv_app.domain.enums import SecurityEventKind
from rdv_app.domain.labels import SECURITY_EVENT_LABELS
from rdv_app.domain.names import agent_name
from rdv_app.services.boundary import boundary
from rdv_app.services.errors import NotFound
from rdv_app.services.rights import require_territorial_admin

PAGE_SIZE = 50
_IP_LENGTH = 64


def record(session: Session, kind: SecurityEventKind, *, agent_id: int | None = None,
           organisation_id: int | None = None, ip: str | None = None, now: datetime | None = None) -> None:
    """Adds an event to the caller's transaction."""
    session.add(SecurityEvent(occurred_at=now or clock.now(), kind=kind.value, agent_id=agent_id,
                              organisation_id=organisation_id, ip=(ip or None) and ip[:_IP_LENGTH]))


@dataclass(frozen=True)
class EventRow:
    when: str
    event: str
    agent: str
    ip: str


@dataclass(frozen=True)
class TerritoryLog:
    territory_name: str
    rows: list[EventRow]
    has_more: bool


@boundary
def territory_log(uow: UnitOfWork, actor_agent_id: int, organisation_id: int, page: int = 1) -> TerritoryLog:
    """The latest events, newest first, `PAGE_SIZE` a page, of the agents of the territory of the
    organisation shown (a role in one of its organisations, or territorial admin of it) and of the links
    of its organisations; dates in the territory's time zone. Territorial admins of it only."""
    territory = uow.session.exec(
        select(Territory).join(Organisation, col(Organisation.territory_id) == Territory.id)
        .where(Organisation.id == organisation_id)).first()
    if territory is None or territory.id is None:
        raise NotFound("Cette organisation n'existe pas.")
    require_territorial_admin(uow, actor_agent_id, territory.id)
    organisations = select(Organisation.id).where(Organisation.territory_id == territory.id)
    agents = sa.union(
        select(AgentRole.agent_id).where(col(AgentRole.organisation_id).in_(organisations)),
        select(AgentTerritorialRole.agent_id).where(AgentTerritorialRole.territory_id == territory.id))
    page = max(page, 1)
    rows = uow.session.exec(
        select(SecurityEvent, Agent.first_name, Agent.last_name)
        .outerjoin(Agent, col(Agent.id) == SecurityEvent.agent_id)
        .where(sa.or_(col(SecurityEvent.agent_id).in_(agents), col(SecurityEvent.organisation_id).in_(organisations)))
        .order_by(col(SecurityEvent.occurred_at).desc(), col(SecurityEvent.id).desc())
        .offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE + 1)
    ).all()
    return TerritoryLog(
        territory_name=territory.name,
        rows=[EventRow(when=datefmt.local(event.occurred_at, territory.timezone).strftime("%d/%m/%Y %H:%M:%S"),
                       event=SECURITY_EVENT_LABELS[SecurityEventKind(event.kind)],
                       agent=agent_name(first, last) if last is not None else "Usager (lien de rendez-vous)",
                       ip=event.ip or "inconnue")
              for event, first, last in rows[:PAGE_SIZE]],
        has_more=len(rows) > PAGE_SIZE,
    )
