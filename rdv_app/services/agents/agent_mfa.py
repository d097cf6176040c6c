"""The agents' second factor (TOTP, rdv_app.auth.totp), set up and removed from "Mon compte", or set up
during the sign-in when the agent's role requires it (rdv_app.services.rights.mfa_required_for).

Setting up: `new_enrolment` draws a secret and shows it (QR code and text); the secret is kept by the
caller (a backend state variable) until `confirm_enrolment` receives it with a current code, stores it
sealed with the app key (rdv_app.auth.sealed) and returns 10 recovery codes, shown once and kept as
SHA-256. Removing needs a current code or the password, and is refused while the role requires it.

`check_code` is the one check of a code, shared with the sign-in: a TOTP code of a time step later than
the last one accepted (the step is claimed by one atomic UPDATE, so two requests cannot both use a code),
or an unused recovery code (spent by one atomic UPDATE too).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from limits import parse
from sqlmodel import Session, col, delete, func, select

from rdv_app.auth import rate_limit, sealed, totp
from rdv_app.auth.passwords import verify_password
from rdv_app.db.models import Agent, AgentRecoveryCode
from rdv_app.db.rows import table_of
from rdv_app.db.uow import UnitOfWork
from rdv_app.domain import clock
from rdv_app.domain.enums import SecurityEventKind
from rdv_app.domain.sign_in import RECOVERY_CODE_COUNT
from rdv_app.services import security_log
from rdv_app.services.boundary import boundary
from rdv_app.services.errors import DomainError, NotFound
from rdv_app.services.rights import mfa_required_for

WRONG_CODE = "Ce code n'est pas valide. Saisissez le code à 6 chiffres affiché par votre application."
# Checks of a code or password from "Mon compte", per agent: the session is open, the lockout of the
# sign-in does not apply, this bounds guessing.
ACCOUNT_CHECKS = parse("5/minute")


class CodeKind(StrEnum):
    TOTP = "totp"
    RECOVERY = "recovery"


@dataclass(frozen=True)
class Enrolment:
    secret: str
    secret_text: str  # in groups of four, for typing it
    qr_code: str  # an SVG data URI of the otpauth:// address


@dataclass(frozen=True)
class MfaStatus:
    enabled: bool
    required: bool
    recovery_codes_left: int


def _agent(uow: UnitOfWork, agent_id: int) -> Agent:
    agent = uow.session.get(Agent, agent_id, populate_existing=True)
    if agent is None or agent.deleted_at is not None:
        raise NotFound("Ce compte agent n'existe pas.")
    return agent


def is_enabled(agent: Agent) -> bool:
    return agent.totp_enabled_at is not None and agent.totp_secret_sealed is not None


@boundary
def status(uow: UnitOfWork, agent_id: int) -> MfaStatus:
    agent = _agent(uow, agent_id)
    left = uow.session.exec(select(func.count()).select_from(AgentRecoveryCode).where(
        AgentRecoveryCode.agent_id == agent_id, col(AgentRecoveryCode.used_at).is_(None))).one()
    return MfaStatus(enabled=is_enabled(agent), required=mfa_required_for(uow, agent_id),
                     recovery_codes_left=left if is_enabled(agent) else 0)


@boundary
def new_enrolment(uow: UnitOfWork, agent_id: int) -> Enrolment:
    agent = _agent(uow, agent_id)
    if is_enabled(agent):
        raise DomainError("La double authentification est déjà activée sur votre compte.")
    secret = totp.new_secret()
    uri = totp.provisioning_uri(secret, agent.email or agent.full_name)
    return Enrolment(secret=secret, secret_text=totp.grouped(secret), qr_code=totp.qr_code_data_uri(uri))


@boundary
def confirm_enrolment(uow: UnitOfWork, agent_id: int, secret: str, code: str, ip: str | None = None,
                      now: datetime | None = None) -> list[str]:
    """Turns the second factor on with the secret shown and a current code; returns the recovery codes."""
    now = now or clock.now()
    agent = _agent(uow, agent_id)
    if is_enabled(agent):
        raise DomainError("La double authentification est déjà activée sur votre compte.")
    _limit(agent_id)
    if not code.strip():
        raise DomainError("Saisissez le code à 6 chiffres affiché par votre application.", field="code")
    step = totp.matching_step(secret, code, now, None)
    if step is None:
        rate_limit.record(ACCOUNT_CHECKS, _limit_key(agent_id))
        raise DomainError(WRONG_CODE, field="code")
    agent.totp_secret_sealed = sealed.seal(secret)
    agent.totp_enabled_at = now
    agent.totp_last_counter = step  # the code just typed does not sign in again
    uow.session.add(agent)
    codes = _replace_recovery_codes(uow.session, agent_id, now)
    security_log.record(uow.session, SecurityEventKind.MFA_ENABLED, agent_id=agent_id, ip=ip, now=now)
    uow.commit()
    return codes


@boundary
def disable(uow: UnitOfWork, agent_id: int, code_or_password: str, ip: str | None = None,
            now: datetime | None = None) -> None:
    now = now or clock.now()
    agent = _agent(uow, agent_id)
    if not is_enabled(agent):
        raise DomainError("La double authentification n'est pas activée sur votre compte.")
    if mfa_required_for(uow, agent_id):
        raise DomainError("La double authentification est obligatoire pour les administrateurs : elle ne peut "
                          "pas être désactivée.")
    _limit(agent_id)
    if not code_or_password.strip():
        raise DomainError("Saisissez un code à 6 chiffres ou votre mot de passe.", field="code_or_password")
    accepted = (check_code(uow.session, agent, code_or_password, now) is not None
                if totp.looks_like_totp(code_or_password)
                else verify_password(agent.password_hash, code_or_password))
    if not accepted:
        rate_limit.record(ACCOUNT_CHECKS, _limit_key(agent_id))
        raise DomainError("Ce code ou ce mot de passe n'est pas valide.", field="code_or_password")
    agent.totp_secret_sealed = None
    agent.totp_enabled_at = None
    agent.totp_last_counter = None
    uow.session.add(agent)
    uow.session.exec(delete(AgentRecoveryCode).where(col(AgentRecoveryCode.agent_id) == agent_id))
    security_log.record(uow.session, SecurityEventKind.MFA_DISABLED, agent_id=agent_id, ip=ip, now=now)
    uow.commit()


def check_code(session: Session, agent: Agent, code: str, now: datetime) -> CodeKind | None:
    """Whether `code` is a current TOTP code not used before, or an unused recovery code; uses it up."""
    if totp.looks_like_totp(code):
        # A secret sealed under another RDV_SECRET_KEY opens as None: only the recovery codes then work.
        secret = sealed.unseal(agent.totp_secret_sealed)
        if secret is None:
            return None
        step = totp.matching_step(secret, code, now, agent.totp_last_counter)
        if step is None:
            return None
        table = table_of(Agent).c
        claimed = session.execute(
            sa.update(table_of(Agent))
            .where(table.id == agent.id, sa.or_(table.totp_last_counter.is_(None), table.totp_last_counter < step))
            .values(totp_last_counter=step).returning(table.id)).first()
        return CodeKind.TOTP if claimed is not None else None
    codes = table_of(AgentRecoveryCode).c
    spent = session.execute(
        sa.update(table_of(AgentRecoveryCode))
        .where(codes.agent_id == agent.id, codes.code_hash == totp.recovery_code_hash(code), codes.used_at.is_(None))
        .values(used_at=now).returning(codes.id)).first()
    return CodeKind.RECOVERY if spent is not None else None


def _replace_recovery_codes(session: Session, agent_id: int, now: datetime) -> list[str]:
    session.exec(delete(AgentRecoveryCode).where(col(AgentRecoveryCode.agent_id) == agent_id))
    codes = totp.new_recovery_codes(RECOVERY_CODE_COUNT)
    session.add_all([AgentRecoveryCode(agent_id=agent_id, code_hash=totp.recovery_code_hash(code), created_at=now)
                     for code in codes])
    return codes


def _limit_key(agent_id: int) -> str:
    return f"mfa:agent:{agent_id}"


def _limit(agent_id: int) -> None:
    if wait := rate_limit.is_blocked(ACCOUNT_CHECKS, _limit_key(agent_id)):
        minutes = "une minute" if wait > 30 else f"{wait} secondes"
        raise DomainError(f"Trop d'essais. Veuillez patienter {minutes} avant de réessayer.")

