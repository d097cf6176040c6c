"""Intervenants of an organisation (admin-domain.md section 4.7), for its admins: people who receive RDVs
but have no account (no email, no sign-in, no notification), created, renamed, turned into agents (an
invitation is sent) and back.

Rules kept here:
- an intervenant has a last name (the first name is optional) and at least one service of the territory;
- turning an intervenant into an agent needs an email not used by another account, a first and a last name;
  the notification levels go back to their defaults and an invitation is sent;
- turning an agent into an intervenant wipes what let them sign in (email, password, second factor, webcal
  address, first name, sessions, pending invitations) and silences their notifications; refused for oneself,
  for an agent of several organisations, for a super admin or territorial admin, and for the organisation's
  last administrator.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy import func, update
from sqlmodel import col, select

from rdv_app.db.models import (
    Agent,
    AgentInvitation,
    AgentRecoveryCode,
    AgentRole,
    AgentService,
    AgentTerritorialAccessRight,
    AgentTerritorialRole,
)
from rdv_app.db.rows import require_id
from rdv_app.db.uow import UnitOfWork
from rdv_app.domain import clock, contact, limits, names
from rdv_app.domain.contact import InvalidValue, optional_text
from rdv_app.domain.enums import AccessLevel, NoticeLevel, RdvNotificationLevel
from rdv_app.services import audit, versions
from rdv_app.services.agents import agent_auth, invitations
from rdv_app.services.agents.organisation_agents import (
    ENTITY,
    LAST_ADMIN,
    _level,
    _member,
    _organisation,
    _other_admins,
    _territory_services,
    names_of,
)
from rdv_app.services.boundary import boundary
from rdv_app.services.errors import DomainError, NotFound
from rdv_app.services.rights import require_admin

SEVERAL_ORGANISATIONS = "Un agent membre de plusieurs organisations ne peut pas avoir un statut d'intervenant."


def _name(value: str, field: str, missing: str) -> str:
    cleaned = optional_text(value)
    if cleaned is None:
        raise DomainError(missing, field=field)
    if len(cleaned) > limits.NAME:
        raise DomainError(f"{limits.NAME} caractères au plus.", field=field)
    return cleaned


def _first_name(value: str) -> str | None:
    cleaned = optional_text(value)
    if cleaned is not None and len(cleaned) > limits.NAME:
        raise DomainError(f"{limits.NAME} caractères au plus.", field="first_name")
    return cleaned


def _intervenant(uow: UnitOfWork, organisation_id: int, agent_id: int) -> tuple[Agent, AgentRole]:
    agent, role = _member(uow, organisation_id, agent_id)
    if role.access_level != AccessLevel.INTERVENANT.value:
        raise NotFound("Cet intervenant ne fait pas partie de l'organisation.")
    return agent, role


def _check_names(uow: UnitOfWork, agent: Agent, expected_version: str | None) -> None:
    """Refuses (`versions.STALE`) a form that loaded other names than the agent's now."""
    versions.lock(uow, agent)
    versions.check_version(expected_version, names_of(agent))


@boundary
def add_intervenant(uow: UnitOfWork, actor_agent_id: int, organisation_id: int, last_name: str,
                    first_name: str = "", service_ids: tuple[int, ...] = ()) -> str:
    """A new intervenant of the organisation: no email, no sign-in, no notification. The French notice."""
    require_admin(uow, actor_agent_id, organisation_id)
    organisation = _organisation(uow, organisation_id)
    last = _name(last_name, "last_name", "Indiquez le nom de l'intervenant.")
    first = _first_name(first_name)
    offered = {choice.id for choice in _territory_services(uow, organisation)}
    if not service_ids or not set(service_ids) <= offered:
        raise DomainError("Choisissez au moins un service parmi ceux du territoire.", field="service_ids")
    now = clock.now()
    agent = Agent(email=None, first_name=first, last_name=last, created_at=now, updated_at=now,
                  rdv_notifications_level=RdvNotificationLevel.NONE.value,
                  plage_ouverture_notification_level=NoticeLevel.NONE.value,
                  absence_notification_level=NoticeLevel.NONE.value)
    uow.session.add(agent)
    uow.session.flush()
    agent_id = require_id(agent)
    uow.session.add_all([
        AgentRole(agent_id=agent_id, organisation_id=organisation_id, access_level=AccessLevel.INTERVENANT.value,
                  created_at=now),
        AgentTerritorialAccessRight(agent_id=agent_id, territory_id=organisation.territory_id),
        *(AgentService(agent_id=agent_id, service_id=service_id) for service_id in sorted(set(service_ids))),
    ])
    audit.record(uow.session, action="add_intervenant", entity_type=ENTITY, entity_id=agent_id,
                 organisation_id=organisation_id, actor_agent_id=actor_agent_id,
                 changes={"name": [None, names.agent_name(first, last)],
                          "access_level": [None, AccessLevel.INTERVENANT.value]})
    uow.commit()
    return f"Intervenant {names.agent_name(first, last)} créé avec succès."


@boundary
def rename_intervenant(uow: UnitOfWork, actor_agent_id: int, organisation_id: int, agent_id: int, last_name: str,
                       first_name: str = "", *, expected_version: str | None = None) -> str:
    """The form gives the `expected_version` of the names it loaded (`AgentLine.names_version`): names
    changed since are not overwritten."""
    require_admin(uow, actor_agent_id, organisation_id)
    agent, _role = _intervenant(uow, organisation_id, agent_id)
    _check_names(uow, agent, expected_version)
    last = _name(last_name, "last_name", "Indiquez le nom de l'intervenant.")
    first = _first_name(first_name)
    before = names.agent_name(agent.first_name, agent.last_name)
    after = names.agent_name(first, last)
    if (agent.first_name or None, agent.last_name) == (first, last):
        return "Aucun changement."
    agent.first_name, agent.last_name, agent.updated_at = first, last, clock.now()
    uow.session.add(agent)
    audit.record(uow.session, action="rename_intervenant", entity_type=ENTITY, entity_id=agent_id,
                 organisation_id=organisation_id, actor_agent_id=actor_agent_id, changes={"name": [before, after]})
    uow.commit()
    return f"Intervenant modifié avec succès : {after}."


@boundary
def convert_to_agent(uow: UnitOfWork, actor_agent_id: int, organisation_id: int, agent_id: int, email: str,
                     first_name: str, last_name: str, access_level: str, *, expected_version: str | None = None) -> str:
    """The intervenant becomes an agent of the organisation at `access_level`, invited at `email`. The form
    gives the `expected_version` of the names it loaded (`AgentLine.names_version`), as `rename_intervenant`."""
    require_admin(uow, actor_agent_id, organisation_id)
    organisation = _organisation(uow, organisation_id)
    agent, role = _intervenant(uow, organisation_id, agent_id)
    _check_names(uow, agent, expected_version)
    level = _level(access_level)
    try:
        address = contact.email(email)
    except InvalidValue as error:
        raise DomainError(error.message, field="email") from error
    if address is None:
        raise DomainError("Indiquez l'adresse email de l'agent : une invitation lui sera envoyée.", field="email")
    address = address.lower()
    first = _name(first_name, "first_name", "Indiquez le prénom de l'agent.")
    last = _name(last_name, "last_name", "Indiquez le nom de l'agent.")
    taken = uow.session.exec(select(Agent.id).where(func.lower(Agent.email) == address, Agent.id != agent_id)).first()
    if taken is not None:
        raise DomainError(f"L'adresse {address} est déjà utilisée par un autre compte agent.", field="email")
    now = clock.now()
    before = names.agent_name(agent.first_name, agent.last_name)
    agent.email, agent.first_name, agent.last_name, agent.updated_at = address, first, last, now
    agent.rdv_notifications_level = RdvNotificationLevel.OTHERS.value
    agent.plage_ouverture_notification_level = NoticeLevel.ALL.value
    agent.absence_notification_level = NoticeLevel.ALL.value
    role.access_level = level.value
    uow.session.add_all([agent, role])
    inviter = uow.session.get(Agent, actor_agent_id)
    assert inviter is not None
    invitations.send_invitation(uow, agent, inviter, f"l'organisation {organisation.name}", now)
    audit.record(uow.session, action="intervenant_to_agent", entity_type=ENTITY, entity_id=agent_id,
                 organisation_id=organisation_id, actor_agent_id=actor_agent_id,
                 changes={"access_level": [AccessLevel.INTERVENANT.value, level.value], "email": [None, address],
                          "name": [before, names.agent_name(first, last)]})
    uow.commit()
    return f"{names.agent_name(first, last)} est maintenant agent : une invitation a été envoyée à {address}."


@boundary
def convert_to_intervenant(uow: UnitOfWork, actor_agent_id: int, organisation_id: int, agent_id: int) -> str:
    """The agent becomes an intervenant: they can no longer sign in, and are no longer notified."""
    require_admin(uow, actor_agent_id, organisation_id)
    if agent_id == actor_agent_id:
        raise DomainError("Vous ne pouvez pas vous donner vous-même le statut d'intervenant : demandez-le à un autre "
                          "administrateur.")
    agent, role = _member(uow, organisation_id, agent_id)
    if role.access_level == AccessLevel.INTERVENANT.value:
        return "Aucun changement."
    organisations = uow.session.exec(select(func.count()).select_from(AgentRole)
                                     .where(AgentRole.agent_id == agent_id)).one()
    if organisations > 1:
        raise DomainError(SEVERAL_ORGANISATIONS)
    territorial = uow.session.exec(select(AgentTerritorialRole.id)
                                   .where(AgentTerritorialRole.agent_id == agent_id)).first()
    if agent.super_admin or territorial is not None:
        raise DomainError("Un administrateur de territoire ou de l'instance ne peut pas avoir un statut "
                          "d'intervenant.")
    if role.access_level == AccessLevel.ADMIN.value and _other_admins(uow, organisation_id, agent_id) == 0:
        raise DomainError(LAST_ADMIN)
    now = clock.now()
    email = agent.email
    agent.email = agent.password_hash = agent.password_changed_at = agent.first_name = None
    agent.calendar_uid_hash = agent.calendar_uid_sealed = None
    agent.totp_secret_sealed = agent.totp_enabled_at = agent.totp_last_counter = None
    agent.rdv_notifications_level = RdvNotificationLevel.NONE.value
    agent.plage_ouverture_notification_level = NoticeLevel.NONE.value
    agent.absence_notification_level = NoticeLevel.NONE.value
    agent.updated_at = now
    previous_level = role.access_level
    role.access_level = AccessLevel.INTERVENANT.value
    uow.session.add_all([agent, role])
    uow.session.exec(sa.delete(AgentRecoveryCode).where(col(AgentRecoveryCode.agent_id) == agent_id))
    # Rights on the territory's Espace Admin go too: converted back, the agent gets them only from whoever
    # may grant them.
    uow.session.execute(update(AgentTerritorialAccessRight).where(
        col(AgentTerritorialAccessRight.agent_id) == agent_id).values(
        allow_to_manage_teams=False, allow_to_manage_access_rights=False, allow_to_invite_agents=False))
    agent_auth.end_sessions(uow, agent_id, now)
    uow.session.execute(update(AgentInvitation).where(col(AgentInvitation.agent_id) == agent_id,
                                                      col(AgentInvitation.used_at).is_(None)).values(expires_at=now))
    audit.record(uow.session, action="agent_to_intervenant", entity_type=ENTITY, entity_id=agent_id,
                 organisation_id=organisation_id, actor_agent_id=actor_agent_id,
                 changes={"access_level": [previous_level, AccessLevel.INTERVENANT.value], "email": [email, None]})
    uow.commit()
    return f"{agent.last_name} est maintenant intervenant : ce compte ne peut plus se connecter."


def organisations_count(uow: UnitOfWork, agent_ids: list[int]) -> dict[int, int]:
    """How many organisations each agent belongs to."""
    return dict(uow.session.exec(select(AgentRole.agent_id, func.count()).where(col(AgentRole.agent_id).in_(agent_ids))
                                 .group_by(col(AgentRole.agent_id))).all())

