"""The agents of an organisation, for its admins (admin-domain.md section 4): list, invite by email,
resend an invitation, change a level, remove from the organisation.

Rules kept here:
- an address that already has an account gets a role in the organisation, no second account; an account
  keeps its services (the territorial admins change them) and the admin is told when the requested ones
  differ;
- every organisation keeps at least one administrator, every territory one territorial admin (an account
  closed with its last organisation loses its territorial roles);
- an agent with RDVs to come in the organisation cannot be removed from it; removing deletes their plages
  there, never their indisponibilités (which are not per organisation), unless no organisation remains: the
  account is then closed (sign-in impossible, sessions and links ended, plages and absences deleted).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy import func, update
from sqlmodel import col, select

from rdv_app.db.models import (
    Absence,
    Agent,
    AgentInvitation,
    AgentRole,
    AgentService,
    AgentTerritorialAccessRight,
    AgentTerritorialRole,
    Organisation,
    Rdv,
    RdvAgent,
    Service,
    TerritoryService,
)
from rdv_app.db.rows import not_null, require_id
from rdv_app.db.uow import UnitOfWork
from rdv_app.domain import clock, contact, names
from rdv_app.domain.contact import InvalidValue
from rdv_app.domain.enums import CANCELLED_STATUSES, AccessLevel
from rdv_app.domain.events import Actor, AvailabilityChanged, Change
from rdv_app.services import audit, versions
from rdv_app.services.agents import agent_auth, invitations, outlook
from rdv_app.services.availability.plages import delete_agent_plages
from rdv_app.services.boundary import boundary
from rdv_app.services.errors import DomainError, NotFound
from rdv_app.services.rights import check_territories_keep_an_admin, require_admin

ENTITY = "agent_role"
# "Inactif": an account that has not signed in for this long (admin-domain.md 4.1).
INACTIVE_AFTER = timedelta(days=30)
LEVELS = (AccessLevel.BASIC, AccessLevel.ADMIN)


@dataclass(frozen=True)
class ServiceChoice:
    id: int
    name: str


@dataclass(frozen=True)
class AgentLine:
    agent_id: int
    name: str
    email: str
    services: str
    access_level: str
    pending: bool  # invited, has not set a password yet
    inactive: bool
    is_self: bool
    is_intervenant: bool = False
    first_name: str = ""
    last_name: str = ""
    several_organisations: bool = False  # then never an intervenant (admin-domain.md 4.7)
    names_version: str = ""  # what the rename and convert forms give back with their saves (`names_version`)


@dataclass(frozen=True)
class OrganisationAgents:
    organisation_name: str
    agents: tuple[AgentLine, ...]
    services: tuple[ServiceChoice, ...]  # those of the territory, offered to a new agent


def names_of(agent: Agent) -> dict[str, str]:
    """The names a form shows of an agent."""
    return {"first_name": agent.first_name or "", "last_name": agent.last_name}


def names_version(agent: Agent) -> str:
    """The version of the names a form shows (rdv_app.services.versions)."""
    return versions.version_of(names_of(agent))


def _territory_services(uow: UnitOfWork, organisation: Organisation) -> tuple[ServiceChoice, ...]:
    rows = uow.session.exec(
        select(not_null(Service.id), Service.name)
        .join(TerritoryService, col(TerritoryService.service_id) == Service.id)
        .where(TerritoryService.territory_id == organisation.territory_id).order_by(col(Service.name))
    ).all()
    return tuple(ServiceChoice(service_id, name) for service_id, name in rows)


def _organisation(uow: UnitOfWork, organisation_id: int) -> Organisation:
    organisation = uow.session.get(Organisation, organisation_id)
    if organisation is None:
        raise NotFound("Cette organisation n'existe pas.")
    return organisation


@boundary
def list_agents(uow: UnitOfWork, actor_agent_id: int, organisation_id: int, query: str = "") -> OrganisationAgents:
    """The organisation's agents, invitations pending included, by name; `query` filters on names and email."""
    require_admin(uow, actor_agent_id, organisation_id)
    organisation = _organisation(uow, organisation_id)
    statement = (select(Agent, AgentRole.access_level).join(AgentRole, col(AgentRole.agent_id) == Agent.id)
                 .where(AgentRole.organisation_id == organisation_id, col(Agent.deleted_at).is_(None)))
    if words := query.strip().lower().split():
        haystack = func.lower(func.coalesce(Agent.first_name, "") + " " + Agent.last_name + " "
                              + func.coalesce(Agent.email, ""))
        statement = statement.where(*(haystack.contains(word) for word in words))
    rows = uow.session.exec(statement).all()
    agent_ids = [require_id(agent) for agent, _level in rows]
    services: dict[int, list[str]] = {}
    for agent_id, short_name in uow.session.exec(
            select(AgentService.agent_id, Service.short_name).join(Service, col(Service.id) == AgentService.service_id)
            .where(col(AgentService.agent_id).in_(agent_ids)).order_by(col(Service.short_name))):
        services.setdefault(agent_id, []).append(short_name)
    counts = dict(uow.session.exec(select(AgentRole.agent_id, func.count()).where(
        col(AgentRole.agent_id).in_(agent_ids)).group_by(col(AgentRole.agent_id))).all())
    now = clock.now()
    lines = [
        AgentLine(
            agent_id=require_id(agent), name=names.agent_name(agent.first_name, agent.last_name) or "—",
            email=agent.email or "", services=", ".join(services.get(require_id(agent), [])), access_level=level,
            pending=agent.password_hash is None and level != AccessLevel.INTERVENANT,
            inactive=agent.password_hash is not None and (agent.last_sign_in_at is None
                                                          or agent.last_sign_in_at < now - INACTIVE_AFTER),
            is_self=agent.id == actor_agent_id, is_intervenant=level == AccessLevel.INTERVENANT,
            several_organisations=counts.get(require_id(agent), 0) > 1,
            first_name=agent.first_name or "", last_name=agent.last_name, names_version=names_version(agent),
        )
        for agent, level in rows
    ]
    lines.sort(key=lambda line: (line.pending, line.name.casefold(), line.email))
    return OrganisationAgents(organisation.name, tuple(lines), _territory_services(uow, organisation))


def _level(value: str) -> AccessLevel:
    try:
        level = AccessLevel(value)
    except ValueError:
        level = None
    if level not in LEVELS:
        raise DomainError("Choisissez le niveau : Agent ou Administrateur.", field="access_level")
    return level


def email_address(email: str) -> str:
    """The invited address, lower case; DomainError on the field `email` when it is missing or invalid."""
    try:
        address = contact.email(email)
    except InvalidValue as error:
        raise DomainError(error.message, field="email") from error
    if address is None:
        raise DomainError("Indiquez l'adresse email de l'agent : une invitation lui sera envoyée.", field="email")
    return address.lower()


def join_organisations(uow: UnitOfWork, actor_agent_id: int, placements: list[tuple[Organisation, AccessLevel]],
                       address: str, service_ids: tuple[int, ...], where: str) -> str:
    """Adds the account of `address` (made and invited when there is none) to the organisations, each at its
    level; the caller checked the rights, the levels and that the services are offered. An account keeps
    its services (the territorial admins change them). Audited; not committed. `where` names the
    organisations in the notice ("votre organisation"); the French notice."""
    now = clock.now()
    agent = uow.session.exec(select(Agent).where(func.lower(Agent.email) == address)).first()
    if agent is not None and agent.deleted_at is not None:
        raise DomainError("Ce compte agent a été supprimé : invitez une autre adresse.", field="email")
    if agent is not None:
        joined = set(uow.session.exec(select(AgentRole.organisation_id).where(AgentRole.agent_id == agent.id)))
        already = [organisation.name for organisation, _level in placements if organisation.id in joined]
        if already:
            verb = "a déjà été invité à rejoindre" if agent.password_hash is None else "fait déjà partie de"
            target = "votre organisation" if len(placements) == 1 and where == "votre organisation" \
                else ", ".join(already)
            raise DomainError(f"L'agent {address} {verb} {target}.", field="email")
    notice_end = ""
    if agent is None:
        agent = Agent(email=address, last_name="", created_at=now, updated_at=now)
        uow.session.add(agent)
        uow.session.flush()
    agent_id = require_id(agent)
    known = set(uow.session.exec(select(AgentService.service_id).where(AgentService.agent_id == agent_id)))
    if not known:
        uow.session.add_all([AgentService(agent_id=agent_id, service_id=service_id) for service_id in service_ids])
    elif known != set(service_ids):
        kept = uow.session.exec(select(Service.name).where(col(Service.id).in_(known)).order_by(Service.name)).all()
        notice_end = (" Attention : les services demandés ne correspondent pas à ceux déjà connus de cet agent ("
                      + ", ".join(kept) + ") ; seuls les administrateurs de territoire les modifient.")
    territories: set[int] = set()
    for organisation, level in placements:
        uow.session.add(AgentRole(agent_id=agent_id, organisation_id=require_id(organisation),
                                  access_level=level.value, created_at=now))
        territories.add(organisation.territory_id)
    for territory_id in sorted(territories):
        if uow.session.exec(select(AgentTerritorialAccessRight.id).where(
                AgentTerritorialAccessRight.agent_id == agent_id,
                AgentTerritorialAccessRight.territory_id == territory_id)).first() is None:
            uow.session.add(AgentTerritorialAccessRight(agent_id=agent_id, territory_id=territory_id))
    inviter = uow.session.get(Agent, actor_agent_id)
    assert inviter is not None
    organisation_names = [organisation.name for organisation, _level in placements]
    if agent.password_hash is None:
        short_names = uow.session.exec(select(Service.short_name).where(
            col(Service.id).in_(known or set(service_ids))).order_by(Service.short_name)).all()
        joining = (f"l'organisation {organisation_names[0]}" if len(organisation_names) == 1
                   else "les organisations " + ", ".join(organisation_names))
        invitations.send_invitation(uow, agent, inviter, f"{joining} en tant qu'agent du service "
                                    f"{', '.join(short_names)}", now)
        notice = f"L'agent {address} a été invité à rejoindre {where}."
    else:
        notice = f"L'agent {address} est déjà présent sur RDV Services Publics et a rejoint {where}."
    for organisation, level in placements:
        audit.record(uow.session, action="invite", entity_type=ENTITY, entity_id=agent_id,
                     organisation_id=organisation.id, actor_agent_id=actor_agent_id,
                     changes={"email": [None, address], "access_level": [None, level.value]})
    return notice + notice_end


@boundary
def invite_agent(uow: UnitOfWork, actor_agent_id: int, organisation_id: int, email: str, access_level: str,
                 service_ids: tuple[int, ...]) -> str:
    """Invites `email` into the organisation (or adds the existing account to it); the French notice."""
    require_admin(uow, actor_agent_id, organisation_id)
    organisation = _organisation(uow, organisation_id)
    level = _level(access_level)
    address = email_address(email)
    offered = {choice.id: choice.name for choice in _territory_services(uow, organisation)}
    if not service_ids or not set(service_ids) <= set(offered):
        raise DomainError("Choisissez au moins un service parmi ceux du territoire.", field="service_ids")
    notice = join_organisations(uow, actor_agent_id, [(organisation, level)], address, service_ids,
                                "votre organisation")
    uow.commit()
    return notice


def _member(uow: UnitOfWork, organisation_id: int, agent_id: int) -> tuple[Agent, AgentRole]:
    row = uow.session.exec(select(Agent, AgentRole).join(AgentRole, col(AgentRole.agent_id) == Agent.id).where(
        Agent.id == agent_id, AgentRole.organisation_id == organisation_id, col(Agent.deleted_at).is_(None))).first()
    if row is None:
        raise NotFound("Cet agent ne fait pas partie de l'organisation.")
    return row[0], row[1]


@boundary
def resend_invitation(uow: UnitOfWork, actor_agent_id: int, organisation_id: int, agent_id: int) -> str:
    require_admin(uow, actor_agent_id, organisation_id)
    agent, _role = _member(uow, organisation_id, agent_id)
    if agent.password_hash is not None or not agent.email:
        raise DomainError("Cet agent a déjà activé son compte : il se connecte avec son email et son mot de passe.")
    inviter = uow.session.get(Agent, actor_agent_id)
    assert inviter is not None
    organisation = _organisation(uow, organisation_id)
    invitations.send_invitation(uow, agent, inviter, f"l'organisation {organisation.name}", clock.now())
    audit.record(uow.session, action="reinvite", entity_type=ENTITY, entity_id=agent_id,
                 organisation_id=organisation_id, actor_agent_id=actor_agent_id)
    uow.commit()
    return f"Une nouvelle invitation a été envoyée à l'agent {agent.email}."


def _other_admins(uow: UnitOfWork, organisation_id: int, agent_id: int) -> int:
    return uow.session.exec(select(func.count()).select_from(AgentRole).join(Agent, col(Agent.id) == AgentRole.agent_id)
                            .where(AgentRole.organisation_id == organisation_id, AgentRole.agent_id != agent_id,
                                   AgentRole.access_level == AccessLevel.ADMIN.value,
                                   col(Agent.deleted_at).is_(None))).one()


LAST_ADMIN = "L'organisation doit garder au moins un administrateur : nommez-en un autre avant."


@boundary
def change_level(uow: UnitOfWork, actor_agent_id: int, organisation_id: int, agent_id: int, access_level: str) -> str:
    require_admin(uow, actor_agent_id, organisation_id)
    level = _level(access_level)
    agent, role = _member(uow, organisation_id, agent_id)
    if role.access_level == level.value:
        return "Aucun changement."
    if role.access_level == AccessLevel.ADMIN.value and _other_admins(uow, organisation_id, agent_id) == 0:
        raise DomainError(LAST_ADMIN, field="access_level")
    audit.record(uow.session, action="change_level", entity_type=ENTITY, entity_id=agent_id,
                 organisation_id=organisation_id, actor_agent_id=actor_agent_id,
                 changes={"access_level": [role.access_level, level.value]})
    role.access_level = level.value
    uow.session.add(role)
    uow.commit()
    name = names.agent_name(agent.first_name, agent.last_name) or agent.email
    return f"{name} est maintenant {'administrateur' if level is AccessLevel.ADMIN else 'agent'} de l'organisation."


@dataclass(frozen=True)
class Removal:
    """What removing the agent does, said before it is done."""

    closes_account: bool
    message: str


def _removal(uow: UnitOfWork, organisation: Organisation, agent: Agent) -> Removal:
    others = uow.session.exec(select(func.count()).select_from(AgentRole).where(
        AgentRole.agent_id == agent.id, AgentRole.organisation_id != organisation.id)).one()
    name = names.agent_name(agent.first_name, agent.last_name) or agent.email or ""
    if others:
        return Removal(False, f"{name} sera retiré(e) de {organisation.name} : ses plages d'ouverture de cette "
                              "organisation seront supprimées ; ses indisponibilités et ses autres organisations restent.")
    if not agent.email:
        return Removal(True, f"L'intervenant {name} sera supprimé de l'organisation.")
    if agent.password_hash is None:
        return Removal(True, f"L'invitation de {name} sera supprimée.")
    return Removal(True, f"Le compte de {name} sera supprimé : {organisation.name} est sa seule organisation. Ses "
                         "plages d'ouverture et indisponibilités seront supprimées, et il ne pourra plus se connecter.")


@boundary
def removal_preview(uow: UnitOfWork, actor_agent_id: int, organisation_id: int, agent_id: int) -> Removal:
    require_admin(uow, actor_agent_id, organisation_id)
    agent, _role = _member(uow, organisation_id, agent_id)
    return _removal(uow, _organisation(uow, organisation_id), agent)


@boundary
def remove_agent(uow: UnitOfWork, actor_agent_id: int, organisation_id: int, agent_id: int) -> str:
    require_admin(uow, actor_agent_id, organisation_id)
    if agent_id == actor_agent_id:
        raise DomainError("Vous ne pouvez pas vous retirer vous-même de l'organisation : demandez-le à un autre "
                          "administrateur.")
    organisation = _organisation(uow, organisation_id)
    agent, role = _member(uow, organisation_id, agent_id)
    now = clock.now()
    coming = uow.session.exec(select(Rdv.id).join(RdvAgent, col(RdvAgent.rdv_id) == Rdv.id).where(
        RdvAgent.agent_id == agent_id, Rdv.organisation_id == organisation_id, Rdv.starts_at > now,
        col(Rdv.status).not_in([s.value for s in CANCELLED_STATUSES]))).first()
    name = names.agent_name(agent.first_name, agent.last_name) or agent.email or ""
    if coming is not None:
        raise DomainError(f"Impossible de retirer l'agent {name} de {organisation.name} car il a des RDV à venir dans "
                          "cette organisation. Veuillez les supprimer ou les réaffecter avant de retirer cet agent.")
    if role.access_level == AccessLevel.ADMIN.value and _other_admins(uow, organisation_id, agent_id) == 0:
        raise DomainError(LAST_ADMIN)
    removal = _removal(uow, organisation, agent)
    if removal.closes_account:
        check_territories_keep_an_admin(uow, agent_id, name)
    pending, agent_email = agent.password_hash is None, agent.email
    plages = delete_agent_plages(uow, actor_agent_id, agent_id, organisation_id)
    uow.session.delete(role)
    if removal.closes_account:
        _close_account(uow, actor_agent_id, organisation_id, agent, now)
    audit.record(uow.session, action="remove", entity_type=ENTITY, entity_id=agent_id, organisation_id=organisation_id,
                 actor_agent_id=actor_agent_id,
                 changes={"access_level": [role.access_level, None], "plages_deleted": [None, plages],
                          "account_closed": [False, removal.closes_account]})
    uow.commit()
    if not removal.closes_account:
        return "L'agent a été retiré de l'organisation."
    if not agent_email:
        return "L'intervenant a été supprimé."
    return "L'invitation a été supprimée." if pending else "Le compte agent a été supprimé."


def _close_account(uow: UnitOfWork, actor_agent_id: int, organisation_id: int, agent: Agent, now: datetime) -> None:
    """No organisation remains: sign-in impossible, sessions and links ended, the agent's absences deleted
    (webhooks told), services and territory rights gone. The row stays for the RDVs' history."""
    agent_id = require_id(agent)
    uow.session.exec(sa.delete(AgentService).where(col(AgentService.agent_id) == agent_id))
    uow.session.exec(sa.delete(AgentTerritorialRole).where(col(AgentTerritorialRole.agent_id) == agent_id))
    uow.session.exec(sa.delete(AgentTerritorialAccessRight).where(col(AgentTerritorialAccessRight.agent_id) == agent_id))
    absence_ids = list(uow.session.exec(select(not_null(Absence.id)).where(Absence.agent_id == agent_id)))
    for absence_id in absence_ids:
        uow.record(AvailabilityChanged(model="absence", record_id=absence_id, organisation_id=organisation_id,
                                       change=Change.DELETED, actor=Actor.agent(actor_agent_id), occurred_at=now,
                                       notify=False))
    uow.publish()  # before the deletion: the handlers still read the absences
    uow.session.exec(sa.delete(Absence).where(col(Absence.id).in_(absence_ids)))
    agent_auth.end_sessions(uow, agent_id, now)
    # Their Outlook calendar loses the RDVs it holds from here, and the tokens go after them.
    outlook.start_disconnection(uow, agent_id, actor_agent_id, now)
    uow.session.execute(update(AgentInvitation).where(col(AgentInvitation.agent_id) == agent_id,
                                                      col(AgentInvitation.used_at).is_(None)).values(expires_at=now))
    agent.email = agent.password_hash = agent.calendar_uid_hash = agent.calendar_uid_sealed = None
    agent.deleted_at = now
    uow.session.add(agent)
