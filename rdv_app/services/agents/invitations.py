"""One-time invitation links by which an agent sets their name and password, and the instance's first
super admin (`python -m rdv_app.cli bootstrap --email ...`).

The link carries a random token; the database keeps its SHA-256. A link works once, until it expires; a new
invitation of the same agent replaces the links not yet used. Accepting is one atomic UPDATE, so two tabs
opening the same link cannot both set a password. No password ever goes through the command line.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import func, update
from sqlmodel import col, select

from rdv_app import routes
from rdv_app.auth.passwords import hash_password
from rdv_app.auth.tokens import hash_token, new_token
from rdv_app.config import settings
from rdv_app.db.models import Agent, AgentInvitation
from rdv_app.db.rows import require_id
from rdv_app.db.uow import UnitOfWork
from rdv_app.domain import clock, contact, datefmt, names
from rdv_app.domain.contact import InvalidValue, optional_text
from rdv_app.domain.enums import Channel, NotificationEvent
from rdv_app.domain.passwords import password_problems
from rdv_app.notify.email_html import with_html
from rdv_app.notify.outbox import enqueue
from rdv_app.services import audit
from rdv_app.services.agents import agent_auth
from rdv_app.services.boundary import boundary
from rdv_app.services.errors import DomainError

INVITATION_LIFETIME = timedelta(days=7)


class InvitationState(StrEnum):
    VALID = "valid"
    EXPIRED = "expired"
    USED = "used"
    UNKNOWN = "unknown"


INVITATION_PROBLEMS = {
    InvitationState.EXPIRED: "Ce lien d'invitation a expiré. Demandez à la personne qui vous a invité(e) de "
                             "vous envoyer une nouvelle invitation.",
    InvitationState.USED: "Ce lien d'invitation a déjà servi. Connectez-vous avec votre adresse email et le mot "
                          "de passe que vous avez choisi.",
    InvitationState.UNKNOWN: "Ce lien d'invitation n'est pas valide. Vérifiez que vous avez copié le lien "
                             "entier, ou demandez une nouvelle invitation.",
}


@dataclass(frozen=True)
class Invitation:
    state: InvitationState
    email: str = ""
    first_name: str = ""
    last_name: str = ""
    expires_at: datetime | None = None

    @property
    def problem(self) -> str:
        return INVITATION_PROBLEMS.get(self.state, "")

    @property
    def expires_label(self) -> str:
        """In metropolitan time: the invited person belongs to no organisation yet."""
        return datefmt.long_datetime(self.expires_at, "Europe/Paris") if self.expires_at else ""


def _invite(uow: UnitOfWork, agent: Agent, invited_by: int | None, now: datetime) -> tuple[str, AgentInvitation]:
    """A new link for `agent`; the links of this agent not used yet stop working."""
    agent_id = require_id(agent)
    uow.session.execute(update(AgentInvitation)
                        .where(col(AgentInvitation.agent_id) == agent_id, col(AgentInvitation.used_at).is_(None),
                               col(AgentInvitation.expires_at) > now)
                        .values(expires_at=now))
    token = new_token()
    row = AgentInvitation(agent_id=agent_id, token_hash=hash_token(token), invited_by_agent_id=invited_by,
                          expires_at=now + INVITATION_LIFETIME, created_at=now)
    uow.session.add(row)
    uow.session.flush()
    return token, row


def send_invitation(uow: UnitOfWork, agent: Agent, inviter: Agent, joining: str, now: datetime) -> None:
    """Invites `agent` by email (through the outbox, in the caller's transaction): who invites, to what
    (`joining`, e.g. "l'organisation PMI Arras (territoire 62 Pas-de-Calais)"), the link and its expiry."""
    token, row = _invite(uow, agent, require_id(inviter), now)
    expires_at = now + INVITATION_LIFETIME
    text = "\n".join([
        "Bonjour,", "",
        f"{names.agent_name(inviter.first_name, inviter.last_name)} vous invite à rejoindre {joining} sur "
        "RDV Services Publics, l'outil de prise de rendez-vous des services publics.", "",
        "Pour activer votre compte, choisissez votre nom et votre mot de passe en ouvrant ce lien :",
        f"{settings.public_url}{routes.invitation(token)}", "",
        f"Ce lien fonctionne une seule fois, jusqu'au {datefmt.long_datetime(expires_at, 'Europe/Paris')}.",
        "Si vous ne vous attendiez pas à cette invitation, ignorez cet email.", "",
    ])
    enqueue(uow.session, channel=Channel.MAIL, event=NotificationEvent.ACCOUNT,
            idempotency_key=f"agent-invitation:{row.token_hash}", agent_id=require_id(agent), expires_at=expires_at,
            payload=with_html({"to": agent.email, "subject": "Invitation à rejoindre RDV Services Publics",
                               "text": text}))


class BootstrapRefused(DomainError):
    pass


@boundary
def bootstrap_super_admin(uow: UnitOfWork, email: str) -> str:
    """The first super admin of an instance, as an invitation link token: refused once a super admin has
    set a password (the next ones are invited from the application) and for an address that is not valid."""
    try:
        address = contact.email(email)
    except InvalidValue as error:
        raise BootstrapRefused(error.message) from error
    if address is None:
        raise BootstrapRefused("Indiquez l'adresse email du premier super administrateur : --email vous@exemple.fr")
    address = address.lower()
    active = uow.session.exec(select(Agent.email).where(
        col(Agent.super_admin).is_(True), col(Agent.password_hash).is_not(None), col(Agent.deleted_at).is_(None),
    )).first()
    if active is not None:
        raise BootstrapRefused(f"Un super administrateur existe déjà ({active}) : c'est lui qui invite les suivants.")
    now = clock.now()
    agent = uow.session.exec(select(Agent).where(func.lower(Agent.email) == address)).first()
    if agent is None:
        agent = Agent(email=address, last_name="", created_at=now, updated_at=now)
    agent.super_admin = True
    agent.deleted_at = None
    uow.session.add(agent)
    uow.session.flush()
    token, _invitation = _invite(uow, agent, None, now)
    audit.record(uow.session, action="bootstrap_super_admin", entity_type="agent", entity_id=require_id(agent),
                 changes={"email": [None, address], "super_admin": [False, True]})
    uow.commit()
    return token


def _state(row: AgentInvitation | None, now: datetime) -> InvitationState:
    if row is None:
        return InvitationState.UNKNOWN
    if row.used_at is not None:
        return InvitationState.USED
    return InvitationState.VALID if row.expires_at > now else InvitationState.EXPIRED


def _row(uow: UnitOfWork, token: str) -> AgentInvitation | None:
    if not token or len(token) > 200:
        return None
    return uow.session.exec(select(AgentInvitation).where(AgentInvitation.token_hash == hash_token(token))).first()


@boundary
def invitation_for(uow: UnitOfWork, token: str) -> Invitation:
    """What the invitation page shows: the invited address and names, or why the link no longer works."""
    row = _row(uow, token)
    state = _state(row, clock.now())
    if row is None or state is not InvitationState.VALID:
        return Invitation(state)
    agent = uow.session.get(Agent, row.agent_id)
    if agent is None or agent.deleted_at is not None:
        return Invitation(InvitationState.UNKNOWN)
    return Invitation(state, email=agent.email or "", first_name=agent.first_name or "",
                      last_name=agent.last_name, expires_at=row.expires_at)


@boundary
def accept_invitation(uow: UnitOfWork, token: str, *, first_name: str, last_name: str, password: str,
                      confirmation: str) -> agent_auth.SignIn:
    """Names and password of the invited agent, once; then signs in as a password does: the ticket, and the
    second factor to set up first when the agent's role requires one (a super admin always)."""
    first, last = optional_text(first_name), optional_text(last_name)
    if first is None:
        raise DomainError("Indiquez votre prénom.", field="first_name")
    if last is None:
        raise DomainError("Indiquez votre nom.", field="last_name")
    if problems := password_problems(password):
        raise DomainError(" ".join(problems), field="password")
    if password != confirmation:
        raise DomainError("Les deux mots de passe ne sont pas identiques.", field="confirmation")
    now = clock.now()
    row = uow.session.execute(
        update(AgentInvitation)
        .where(col(AgentInvitation.token_hash) == hash_token(token), col(AgentInvitation.used_at).is_(None),
               col(AgentInvitation.expires_at) > now)
        .values(used_at=now)
        .returning(col(AgentInvitation.agent_id))
    ).first()
    agent = uow.session.get(Agent, row.agent_id) if row is not None else None
    if agent is None or agent.deleted_at is not None:
        raise DomainError(invitation_for(uow, token).problem or INVITATION_PROBLEMS[InvitationState.UNKNOWN])
    before = {"first_name": agent.first_name, "last_name": agent.last_name}
    agent.first_name, agent.last_name = first, last
    agent.password_hash = hash_password(password)
    agent.password_changed_at = now
    agent.updated_at = now
    uow.session.add(agent)
    audit.record(uow.session, action="accept_invitation", entity_type="agent", entity_id=require_id(agent),
                 changes=audit.diff(before, {"first_name": first, "last_name": last}),
                 actor_agent_id=require_id(agent))
    return agent_auth.begin_sign_in(uow, agent, None, now)
