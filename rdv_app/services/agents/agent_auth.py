"""Agent sign-in: password check with rate limits, second factor, single-use ticket, HttpOnly session,
sign-out.

Flow: `authenticate` (from the login form) returns a ticket; the browser goes to the HTTP route that
calls `open_session` and sets the session cookie; every agent page resolves the cookie through
`resolve_session`. The cookie never reaches JavaScript and the database keeps only hashes.

When the agent has a second factor, or must set one up (rdv_app.services.rights.mfa_required_for), the
ticket of the password carries that pending step and opens no session: `verify_second_factor` (a TOTP
or recovery code) or `finish_enrolment` (once set up) exchange it for a plain ticket. `begin_sign_in`
starts the same steps for a flow that checked the agent otherwise (an invitation that sets a password).

Lockout (rdv_app.domain.sign_in): wrong passwords and wrong codes count on the agent's row with atomic
UPDATEs; the fifth in a row locks the account for an escalating time, logs it and emails its owner. The
sign-in form's answer stays the same for a locked account, a wrong password and an unknown address. Every
IP is also rate limited (rdv_app.auth.rate_limit).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlmodel import col, select

from rdv_app import routes
from rdv_app.auth import rate_limit
from rdv_app.auth.passwords import hash_password, needs_rehash, verify_password
from rdv_app.auth.tokens import hash_token, new_token
from rdv_app.config import settings
from rdv_app.db.models import (
    Agent,
    AgentLoginTicket,
    AgentRole,
    AgentSession,
    AgentTerritorialAccessRight,
    AgentTerritorialRole,
    Organisation,
    Territory,
)
from rdv_app.db.rows import require_id, table_of
from rdv_app.db.uow import UnitOfWork
from rdv_app.domain import clock, datefmt
from rdv_app.domain.enums import AccessLevel, Channel, NotificationEvent, SecurityEventKind, SignInStep
from rdv_app.domain.passwords import password_problems
from rdv_app.domain.sessions import (
    AGENT_SESSION_IDLE_TIMEOUT,
    LOGIN_TICKET_LIFETIME,
    safe_next_path,
    session_is_active,
    session_needs_touch,
)
from rdv_app.domain.sign_in import SECOND_STEP_LIFETIME, duration_text, lock_duration, locks_the_account
from rdv_app.notify.outbox import enqueue
from rdv_app.services import security_log
from rdv_app.services.agents import agent_mfa
from rdv_app.services.boundary import boundary
from rdv_app.services.errors import DomainError, FieldErrors, require_filled
from rdv_app.services.rights import TERRITORY_RIGHTS, mfa_required_for

INVALID_CREDENTIALS = "Adresse email ou mot de passe incorrect."
SIGN_IN_EXPIRED = "Votre connexion a expiré. Saisissez à nouveau votre adresse email et votre mot de passe."


class TooManyAttempts(DomainError):
    def __init__(self, wait_seconds: int) -> None:
        minutes = "une minute" if wait_seconds > 30 else f"{wait_seconds} secondes"
        super().__init__(f"Trop de tentatives de connexion. Veuillez patienter {minutes} avant de réessayer.")
        self.wait_seconds = wait_seconds


class SignInStopped(DomainError):
    """The second step cannot go on (expired, or the account got locked): start again from the password."""


@dataclass(frozen=True)
class SignIn:
    """A login ticket, and the step it still needs before it opens a session (None: none)."""

    ticket: str
    pending_step: SignInStep | None


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
    # The territory access rights held in some territory (rdv_app.services.rights.TERRITORY_RIGHTS).
    territory_rights: tuple[str, ...] = ()

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
                 now: datetime | None = None) -> SignIn:
    """Check the password; return a single-use ticket and the step it still needs. Raises DomainError (the
    same for an unknown address, a wrong password and a locked account) or TooManyAttempts (this IP)."""
    now = now or _now()
    email = _normalise_email(email)
    require_filled({"email": (email, "Saisissez votre adresse email."),
                    "password": (password, "Saisissez votre mot de passe.")})
    keys = (f"login:ip:{ip}",)
    if wait := rate_limit.is_blocked(rate_limit.LOGIN_FAILURES, *keys):
        raise TooManyAttempts(wait)
    agent = uow.session.exec(select(Agent).where(Agent.email == email, col(Agent.deleted_at).is_(None))).first()
    right_password = verify_password(agent.password_hash if agent else None, password)
    locked = agent is not None and agent.locked_until is not None and agent.locked_until > now
    if agent is None or locked or not right_password or not _can_sign_in(uow, agent):
        rate_limit.record(rate_limit.LOGIN_FAILURES, *keys)
        if agent is not None and locked:  # logged for the admins, not counted: the lock runs its time
            security_log.record(uow.session, SecurityEventKind.SIGN_IN_FAILED, agent_id=agent.id, ip=ip, now=now)
            uow.commit()
        elif agent is not None:
            _count_failure(uow, agent, SecurityEventKind.SIGN_IN_FAILED, ip, now)
        raise DomainError(INVALID_CREDENTIALS)
    if agent.password_hash and needs_rehash(agent.password_hash):
        agent.password_hash = hash_password(password)
        uow.session.add(agent)
    return begin_sign_in(uow, agent, next_path, now)


def begin_sign_in(uow: UnitOfWork, agent: Agent, next_path: str | None, now: datetime) -> SignIn:
    """The ticket of an agent whose password (or invitation) was just checked, with the second-factor
    step it still needs; commits."""
    agent_id = require_id(agent)
    if agent_mfa.is_enabled(agent):
        step: SignInStep | None = SignInStep.CODE
    elif mfa_required_for(uow, agent_id):
        step = SignInStep.ENROLMENT
    else:
        step = None
        _signed_in(uow, agent, now)
    # Without a page to come back to, the organisation chooser (it goes on to the workspace when there is
    # only one organisation).
    ticket = _new_ticket(uow, agent_id, safe_next_path(next_path, routes.ORGANISATION_CHOOSER), step, now)
    uow.commit()
    return SignIn(ticket=ticket, pending_step=step)


def _new_ticket(uow: UnitOfWork, agent_id: int, next_path: str, step: SignInStep | None, now: datetime) -> str:
    ticket = new_token()
    lifetime = LOGIN_TICKET_LIFETIME if step is None else SECOND_STEP_LIFETIME
    uow.session.add(AgentLoginTicket(agent_id=agent_id, token_hash=hash_token(ticket), next_path=next_path,
                                     expires_at=now + lifetime, pending_step=step.value if step else None))
    return ticket


def _signed_in(uow: UnitOfWork, agent: Agent, now: datetime) -> None:
    """Every check passed: the lockout scale starts over."""
    agent.last_sign_in_at = now
    agent.failed_sign_ins = 0
    agent.lockouts = 0
    agent.locked_until = None
    uow.session.add(agent)


def _count_failure(uow: UnitOfWork, agent: Agent, kind: SecurityEventKind, ip: str, now: datetime) -> bool:
    """Counts a wrong password or code with one atomic UPDATE (attempts from several processes all
    count), logs it, and locks the account at the fifth in a row; commits. Whether it locked it."""
    table = table_of(Agent).c
    agent_id = require_id(agent)
    security_log.record(uow.session, kind, agent_id=agent_id, ip=ip, now=now)
    row = uow.session.execute(
        update(table_of(Agent)).where(table.id == agent_id)
        .values(failed_sign_ins=table.failed_sign_ins + 1)
        .returning(table.failed_sign_ins, table.lockouts)).one()
    locked = False
    if locks_the_account(row.failed_sign_ins):
        duration = lock_duration(row.lockouts)
        # Only the attempt that reaches the count locks (and emails): a concurrent one finds it reset.
        claimed = uow.session.execute(
            update(table_of(Agent)).where(table.id == agent_id, table.failed_sign_ins >= row.failed_sign_ins)
            .values(failed_sign_ins=0, lockouts=table.lockouts + 1, locked_until=now + duration)
            .returning(table.id)).first()
        if claimed is not None:
            security_log.record(uow.session, SecurityEventKind.ACCOUNT_LOCKED, agent_id=agent_id, ip=ip, now=now)
            _queue_lock_email(uow, agent, now, duration)
            locked = True
    uow.commit()
    return locked


def _queue_lock_email(uow: UnitOfWork, agent: Agent, now: datetime, duration: timedelta) -> None:
    if not agent.email:
        return
    zone = uow.session.exec(
        select(Organisation.timezone, Territory.timezone)
        .join(AgentRole, col(AgentRole.organisation_id) == Organisation.id)
        .join(Territory, col(Territory.id) == Organisation.territory_id)
        .where(AgentRole.agent_id == agent.id).order_by(col(Organisation.id))).first()
    timezone = (zone[0] or zone[1]) if zone else "Europe/Paris"
    until = now + duration
    domain = settings.public_url.split("://", 1)[-1]
    text = "\n".join([
        f"Bonjour {agent.first_name or agent.last_name},", "",
        f"Votre compte agent sur {domain} ({agent.email}) a été bloqué le {datefmt.long_datetime(now, timezone)}, "
        "après plusieurs tentatives de connexion échouées (mot de passe ou code de double authentification "
        "incorrect).",
        f"Il sera débloqué automatiquement dans {duration_text(duration)}, le "
        f"{datefmt.long_datetime(until, timezone)}.", "",
        "Si c'était vous : patientez, puis reconnectez-vous. Si vous avez oublié votre mot de passe, demandez "
        "à un administrateur de votre organisation de le réinitialiser.", "",
        "Si ce n'était pas vous : quelqu'un essaie peut-être d'accéder à votre compte. Dès le déblocage, "
        "connectez-vous, changez votre mot de passe dans « Mon compte », activez la double authentification "
        "si ce n'est pas déjà fait, et prévenez un administrateur de votre organisation.", "",
        f"Se connecter : {settings.public_url}{routes.LOGIN}", "",
    ])
    enqueue(uow.session, channel=Channel.MAIL, event=NotificationEvent.ACCOUNT,
            idempotency_key=f"agent-locked:{agent.id}:{until.isoformat()}", agent_id=agent.id,
            payload={"to": agent.email, "subject": "Votre compte a été bloqué temporairement", "text": text})


def _pending_ticket(uow: UnitOfWork, ticket: str, step: SignInStep, now: datetime) -> AgentLoginTicket:
    row = uow.session.exec(select(AgentLoginTicket).where(
        AgentLoginTicket.token_hash == hash_token(ticket), AgentLoginTicket.pending_step == step.value,
        col(AgentLoginTicket.used_at).is_(None), col(AgentLoginTicket.expires_at) > now)).first()
    if row is None:
        raise SignInStopped(SIGN_IN_EXPIRED)
    return row


def _exchange(uow: UnitOfWork, row: AgentLoginTicket, now: datetime) -> str:
    """Spends the pending ticket (once, atomically) for a plain one."""
    spent = uow.session.execute(
        update(AgentLoginTicket).where(col(AgentLoginTicket.id) == row.id, col(AgentLoginTicket.used_at).is_(None))
        .values(used_at=now).returning(col(AgentLoginTicket.id))).first()
    if spent is None:
        uow.rollback()
        raise SignInStopped(SIGN_IN_EXPIRED)
    return _new_ticket(uow, row.agent_id, row.next_path, None, now)


@boundary
def second_step_agent(uow: UnitOfWork, ticket: str, now: datetime | None = None) -> int:
    """The agent of a ticket waiting for its second factor to be set up (the enrolment step)."""
    return _pending_ticket(uow, ticket, SignInStep.ENROLMENT, now or _now()).agent_id


@boundary
def verify_second_factor(uow: UnitOfWork, ticket: str, code: str, ip: str, now: datetime | None = None) -> str:
    """The plain ticket for a pending one and a right code (TOTP or recovery). A wrong code counts toward
    the lockout; raises DomainError, or SignInStopped when the sign-in must start over."""
    now = now or _now()
    if not code.strip():
        raise DomainError("Saisissez le code à 6 chiffres affiché par votre application, ou un code de secours.",
                          field="code")
    row = _pending_ticket(uow, ticket, SignInStep.CODE, now)
    agent = uow.session.get(Agent, row.agent_id, populate_existing=True)
    if agent is None or agent.deleted_at is not None or (agent.locked_until is not None and agent.locked_until > now):
        raise SignInStopped("Votre compte est temporairement bloqué après plusieurs erreurs. Un email vous a été "
                            "envoyé : réessayez plus tard.")
    kind = agent_mfa.check_code(uow.session, agent, code, now)
    if kind is None:
        if _count_failure(uow, agent, SecurityEventKind.SECOND_FACTOR_FAILED, ip, now):
            raise SignInStopped("Trop d'erreurs : votre compte est temporairement bloqué. Un email vous a été "
                                "envoyé : réessayez plus tard.")
        raise DomainError("Ce code n'est pas valide ou a déjà été utilisé. Saisissez le code à 6 chiffres "
                          "affiché par votre application, ou un code de secours.", field="code")
    if kind is agent_mfa.CodeKind.RECOVERY:
        security_log.record(uow.session, SecurityEventKind.RECOVERY_CODE_USED, agent_id=agent.id, ip=ip, now=now)
    plain = _exchange(uow, row, now)
    _signed_in(uow, agent, now)
    uow.commit()
    return plain


@boundary
def finish_enrolment(uow: UnitOfWork, ticket: str, now: datetime | None = None) -> str:
    """The plain ticket for one waiting for the second factor, once the agent has set it up."""
    now = now or _now()
    row = _pending_ticket(uow, ticket, SignInStep.ENROLMENT, now)
    agent = uow.session.get(Agent, row.agent_id, populate_existing=True)
    if agent is None or not agent_mfa.is_enabled(agent):
        raise DomainError("Activez d'abord la double authentification.")
    plain = _exchange(uow, row, now)
    _signed_in(uow, agent, now)
    uow.commit()
    return plain


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
               col(AgentLoginTicket.expires_at) > now, col(AgentLoginTicket.pending_step).is_(None))
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
    access = uow.session.exec(select(AgentTerritorialAccessRight).where(
        AgentTerritorialAccessRight.agent_id == agent.id)).all()
    return AgentIdentity(
        agent_id=require_id(agent),
        first_name=agent.first_name or "",
        last_name=agent.last_name,
        email=agent.email or "",
        roles=tuple(OrganisationRole(org_id, name, level) for org_id, name, level in rows),
        territorial_admin_of=tuple(territories),
        super_admin=agent.super_admin,
        territory_rights=tuple(right for right in TERRITORY_RIGHTS if any(getattr(row, right) for row in access)),
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


def end_sessions(uow: UnitOfWork, agent_id: int, now: datetime) -> None:
    """Ends every open session of the agent (in the caller's transaction): their tabs go back to sign in."""
    uow.session.execute(update(AgentSession).where(col(AgentSession.agent_id) == agent_id,
                                                   col(AgentSession.revoked_at).is_(None)).values(revoked_at=now))


@boundary
def change_password(uow: UnitOfWork, agent_id: int, current: str, new: str, confirmation: str,
                    session_token: str | None = None, ip: str | None = None) -> None:
    """Sets a new password and ends every other session of the agent (another browser that knew the old
    password, or a forgotten tab); the session `session_token`, the one making the change, stays open."""
    agent = uow.session.get(Agent, agent_id)
    # Every field's error at once, in the form's order (the page lists them all).
    errors: dict[str, str] = {}
    if not current:
        errors["current"] = "Saisissez votre mot de passe actuel."
    elif agent is None or not verify_password(agent.password_hash, current):
        errors["current"] = "Le mot de passe actuel est incorrect."
    if not new:
        errors["new"] = "Saisissez un nouveau mot de passe."
    elif problems := password_problems(new):
        errors["new"] = " ".join(problems)
    if not confirmation:
        errors["confirmation"] = "Saisissez à nouveau le nouveau mot de passe."
    elif new != confirmation:
        errors["confirmation"] = "Les deux nouveaux mots de passe ne sont pas identiques."
    if errors or agent is None:  # no agent: the current password was refused above
        raise FieldErrors(errors)
    now = _now()
    agent.password_hash = hash_password(new)
    agent.password_changed_at = now
    uow.session.add(agent)
    others = [col(AgentSession.agent_id) == agent_id, col(AgentSession.revoked_at).is_(None)]
    if session_token:
        others.append(col(AgentSession.token_hash) != hash_token(session_token))
    uow.session.execute(update(AgentSession).where(*others).values(revoked_at=now))
    security_log.record(uow.session, SecurityEventKind.PASSWORD_CHANGED, agent_id=agent_id, ip=ip,
                        now=agent.password_changed_at)
    uow.commit()
