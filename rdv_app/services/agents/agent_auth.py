"""Agent sign-in: password check with rate limits, single-use ticket, HttpOnly session, sign-out.

Flow: `authenticate` (from the login form) returns a ticket; the browser goes to the HTTP route that
calls `open_session` and sets the session cookie; every agent page resolves the cookie through
`resolve_session`. The cookie never reaches JavaScript and the database keeps only hashes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlmodel import col, select

from rdv_app.auth import rate_limit
from rdv_app.auth.passwords import hash_password, needs_rehash, verify_password
from rdv_app.auth.tokens import hash_token, new_token
from rdv_app.config import settings
from rdv_app.db.models import (
    Agent,
    AgentLoginTicket,
    AgentRole,
    AgentSession,
    AgentTerritorialRole,
    Organisation,
)
from rdv_app.db.rows import require_id
from rdv_app.db.uow import UnitOfWork
from rdv_app.domain import clock
from rdv_app.domain.enums import AccessLevel
from rdv_app.domain.passwords import password_problems
from rdv_app.domain.sessions import (
    AGENT_SESSION_IDLE_TIMEOUT,
    LOGIN_TICKET_LIFETIME,
    safe_next_path,
    session_is_active,
    session_needs_touch,
)
from rdv_app.services.boundary import boundary
from rdv_app.services.errors import DomainError

INVALID_CREDENTIALS = "Adresse email ou mot de passe incorrect."


class TooManyAttempts(DomainError):
    def __init__(self, wait_seconds: int) -> None:
        minutes = "une minute" if wait_seconds > 30 else f"{wait_seconds} secondes"
        super().__init__(f"Trop de tentatives de connexion. Veuillez patienter {minutes} avant de réessayer.")
        self.wait_seconds = wait_seconds


@dataclass(frozen=True)
class OrganisationRole:
    organisation_id: int
    name: str
    access_level: str


@dataclass(frozen=True)
class AgentIdentity:
    agent_id: int
    first_name: str
    last_name: str
    email: str
    roles: tuple[OrganisationRole, ...]
    territorial_admin_of: tuple[int, ...]
    super_admin: bool = False

    @property
    def display_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    def role_in(self, organisation_id: int) -> OrganisationRole | None:
        return next((r for r in self.roles if r.organisation_id == organisation_id), None)


def _now() -> datetime:
    return clock.now()


def _normalise_email(email: str) -> str:
    return email.strip().lower()


@boundary
def authenticate(uow: UnitOfWork, email: str, password: str, ip: str, next_path: str | None = None,
                 now: datetime | None = None) -> str:
    """Check the password; return a single-use ticket. Raises DomainError or TooManyAttempts."""
    now = now or _now()
    email = _normalise_email(email)
    if not email or not password:
        raise DomainError("Saisissez votre adresse email et votre mot de passe.")
    keys = (f"login:email:{email}", f"login:ip:{ip}")
    if wait := rate_limit.is_blocked(rate_limit.LOGIN_FAILURES, *keys):
        raise TooManyAttempts(wait)
    agent = uow.session.exec(select(Agent).where(Agent.email == email, col(Agent.deleted_at).is_(None))).first()
    if agent is None or not verify_password(agent.password_hash, password) or not _can_sign_in(uow, agent):
        rate_limit.record(rate_limit.LOGIN_FAILURES, *keys)
        raise DomainError(INVALID_CREDENTIALS)
    if agent.password_hash and needs_rehash(agent.password_hash):
        agent.password_hash = hash_password(password)
    return issue_ticket(uow, agent, next_path, now)


def issue_ticket(uow: UnitOfWork, agent: Agent, next_path: str | None, now: datetime) -> str:
    """The single-use ticket that the browser exchanges for its session cookie (`open_session`); commits."""
    ticket = new_token()
    uow.session.add(AgentLoginTicket(agent_id=require_id(agent), token_hash=hash_token(ticket),
                                     next_path=safe_next_path(next_path), expires_at=now + LOGIN_TICKET_LIFETIME))
    agent.last_sign_in_at = now
    uow.session.add(agent)
    uow.commit()
    return ticket


def _can_sign_in(uow: UnitOfWork, agent: Agent) -> bool:
    """Intervenants have no account: an agent whose only roles are intervenant cannot sign in. Super admins
    sign in without belonging to an organisation."""
    if agent.super_admin:
        return True
    levels = uow.session.exec(select(AgentRole.access_level).where(AgentRole.agent_id == agent.id)).all()
    territorial = uow.session.exec(select(AgentTerritorialRole.id).where(AgentTerritorialRole.agent_id == agent.id)).first()
    return territorial is not None or any(level != AccessLevel.INTERVENANT for level in levels)


@dataclass(frozen=True)
class OpenedSession:
    token: str
    next_path: str


@boundary
def open_session(uow: UnitOfWork, ticket: str, ip: str | None = None, user_agent: str | None = None,
                 now: datetime | None = None) -> OpenedSession | None:
    """Exchange a ticket (once, before it expires) for a session token; None if the ticket is not valid."""
    now = now or _now()
    # One atomic UPDATE: two tabs racing with the same ticket cannot both open a session.
    row = uow.session.execute(
        update(AgentLoginTicket)
        .where(col(AgentLoginTicket.token_hash) == hash_token(ticket), col(AgentLoginTicket.used_at).is_(None),
               col(AgentLoginTicket.expires_at) > now)
        .values(used_at=now)
        .returning(col(AgentLoginTicket.agent_id), col(AgentLoginTicket.next_path))
    ).first()
    if row is None:
        return None
    token = new_token()
    uow.session.add(AgentSession(agent_id=row.agent_id, token_hash=hash_token(token), created_at=now,
                                 last_seen_at=now, ip=ip, user_agent=(user_agent or "")[:300]))
    uow.commit()
    return OpenedSession(token=token, next_path=row.next_path)


@boundary
def resolve_session(uow: UnitOfWork, token: str | None, now: datetime | None = None) -> AgentIdentity | None:
    """The signed-in agent behind a session token, or None (unknown, revoked, idle for 14 days, or opened
    more than `session_lifetime()` ago)."""
    if not token:
        return None
    now = now or _now()
    session = uow.session.exec(select(AgentSession).where(AgentSession.token_hash == hash_token(token))).first()
    if session is None or not session_is_active(session.created_at, session.last_seen_at, now,
                                                revoked=session.revoked_at is not None,
                                                idle_timeout=AGENT_SESSION_IDLE_TIMEOUT,
                                                lifetime=session_lifetime()):
        return None
    agent = uow.session.get(Agent, session.agent_id)
    if agent is None or agent.deleted_at is not None:
        return None
    if session_needs_touch(session.last_seen_at, now):
        session.last_seen_at = now
        uow.session.add(session)
        uow.commit()
    return load_identity(uow, agent)


def session_lifetime() -> timedelta:
    """How long after the sign-in an agent's session ends, whatever the activity (RDV_AGENT_SESSION_HOURS)."""
    return timedelta(hours=settings.agent_session_hours)


def load_identity(uow: UnitOfWork, agent: Agent) -> AgentIdentity:
    rows = uow.session.exec(
        select(AgentRole.organisation_id, Organisation.name, AgentRole.access_level)
        .join(Organisation, col(Organisation.id) == AgentRole.organisation_id)
        .where(AgentRole.agent_id == agent.id)
        .order_by(Organisation.name)
    ).all()
    territories = uow.session.exec(
        select(AgentTerritorialRole.territory_id).where(AgentTerritorialRole.agent_id == agent.id)
    ).all()
    return AgentIdentity(
        agent_id=require_id(agent),
        first_name=agent.first_name or "",
        last_name=agent.last_name,
        email=agent.email or "",
        roles=tuple(OrganisationRole(org_id, name, level) for org_id, name, level in rows),
        territorial_admin_of=tuple(territories),
        super_admin=agent.super_admin,
    )


@boundary
def revoke_session(uow: UnitOfWork, token: str | None, now: datetime | None = None) -> None:
    if not token:
        return
    session = uow.session.exec(select(AgentSession).where(AgentSession.token_hash == hash_token(token))).first()
    if session is not None and session.revoked_at is None:
        session.revoked_at = now or _now()
        uow.session.add(session)
        uow.commit()


@boundary
def change_password(uow: UnitOfWork, agent_id: int, current: str, new: str, confirmation: str,
                    session_token: str | None = None) -> None:
    """Sets a new password and ends every other session of the agent (another browser that knew the old
    password, or a forgotten tab); the session `session_token`, the one making the change, stays open."""
    agent = uow.session.get(Agent, agent_id)
    if agent is None or not verify_password(agent.password_hash, current):
        raise DomainError("Le mot de passe actuel est incorrect.", field="current")
    if new != confirmation:
        raise DomainError("Les deux nouveaux mots de passe ne sont pas identiques.", field="confirmation")
    if problems := password_problems(new):
        raise DomainError(" ".join(problems), field="new")
    now = _now()
    agent.password_hash = hash_password(new)
    agent.password_changed_at = now
    uow.session.add(agent)
    others = [col(AgentSession.agent_id) == agent_id, col(AgentSession.revoked_at).is_(None)]
    if session_token:
        others.append(col(AgentSession.token_hash) != hash_token(session_token))
    uow.session.execute(update(AgentSession).where(*others).values(revoked_at=now))
    uow.commit()
