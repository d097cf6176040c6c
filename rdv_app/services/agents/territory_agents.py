"""The agents of a territory ("Espace Admin › Agents du territoire", admin-domain.md sections 3, 4.2, 4.3,
4.9 and 5), for the territory of the organisation shown: the list and its search, the territory-level
invitation into several organisations, and per agent their services, their three access rights and the
territorial admin flag.

Rights: rdv_app.services.rights (`require_territory_right`, whose docstring says who does what). Every id
the page sends is checked again here: the agent must be an agent of that territory, the organisations and
services must be the territory's.

Rules kept here:
- an agent has at least one service; a service cannot be taken away while one of the agent's plages
  d'ouverture (any organisation, past or future) offers a motif of that service; services outside the
  territory's list are the other territories' business and stay as they are;
- a territory always keeps at least one territorial admin;
- an invitation adds roles to an existing account (no second account, its services kept), else creates
  the account and sends one invitation for all the organisations (organisation_agents.join_organisations).
Every change writes an audit row in its transaction.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import sqlalchemy as sa
from sqlmodel import col, select

from rdv_app.db.models import (
    Agent,
    AgentInvitation,
    AgentRole,
    AgentService,
    AgentTerritorialAccessRight,
    AgentTerritorialRole,
    Motif,
    Organisation,
    PlageOuverture,
    PlageOuvertureMotif,
    Service,
    Territory,
    TerritoryService,
)
from rdv_app.db.rows import not_null, require_id
from rdv_app.db.uow import UnitOfWork
from rdv_app.domain import names
from rdv_app.domain.enums import AccessLevel
from rdv_app.domain.labels import ACCESS_LEVEL_LABELS
from rdv_app.services import audit, versions
from rdv_app.services.agents.organisation_agents import email_address, join_organisations
from rdv_app.services.boundary import boundary
from rdv_app.services.errors import DomainError, NotFound, PermissionDenied
from rdv_app.services.rights import (
    TERRITORY_RIGHTS,
    TerritoryRights,
    require_territory_right,
    territory_agent_ids,
    territory_of,
)

ENTITY = "territory_agent"
LAST_TERRITORIAL_ADMIN = ("Le territoire doit toujours garder au moins un administrateur de territoire : nommez-en "
                          "un autre avant de retirer celui-ci.")
NOT_IN_TERRITORY = "Cet agent ne fait pas partie du territoire."
AT_LEAST_ONE_SERVICE = "Un agent doit avoir au moins un service."


@dataclass(frozen=True)
class Choice:
    id: int
    name: str


@dataclass(frozen=True)
class OrganisationChoice:
    id: int
    name: str
    may_grant_admin: bool  # the actor may invite at the administrator level there


@dataclass(frozen=True)
class Membership:
    organisation: str
    level: str  # "Agent", "Administrateur", "Intervenant"


@dataclass(frozen=True)
class TerritoryAgentLine:
    agent_id: int
    name: str
    email: str
    memberships: tuple[Membership, ...]
    service_ids: tuple[int, ...]
    services: str  # short names
    territorial_admin: bool
    pending: bool  # invited, has not set a password yet
    allow_to_manage_teams: bool
    allow_to_manage_access_rights: bool
    allow_to_invite_agents: bool
    is_self: bool
    search_text: str  # names and email, lower case and without accents
    # What the services and the access rights forms give back with their saves (rdv_app.services.versions).
    services_version: str
    rights_version: str


@dataclass(frozen=True)
class TerritoryAgents:
    territory_name: str
    rights: TerritoryRights
    agents: tuple[TerritoryAgentLine, ...]
    services: tuple[Choice, ...]  # those the territory offers
    organisations: tuple[OrganisationChoice, ...]  # where the actor may invite


@dataclass(frozen=True)
class Placement:
    """One organisation of a territory-level invitation, and the level there."""

    organisation_id: int
    access_level: str


@dataclass(frozen=True)
class AccessRights:
    allow_to_manage_teams: bool
    allow_to_manage_access_rights: bool
    allow_to_invite_agents: bool


def matches(line: TerritoryAgentLine, query: str) -> bool:
    """Every word of the query found in the agent's names or email, ignoring case and accents."""
    return all(word in line.search_text for word in names.plain_text(query).split())


def _territory(uow: UnitOfWork, territory_id: int) -> Territory:
    territory = uow.session.get(Territory, territory_id)
    if territory is None:
        raise NotFound("Ce territoire n'existe pas.")
    return territory


def _services(uow: UnitOfWork, territory_id: int) -> tuple[Choice, ...]:
    rows = uow.session.exec(
        select(not_null(Service.id), Service.name)
        .join(TerritoryService, col(TerritoryService.service_id) == Service.id)
        .where(TerritoryService.territory_id == territory_id).order_by(col(Service.name))).all()
    return tuple(Choice(service_id, name) for service_id, name in rows)


def _invitable(uow: UnitOfWork, rights: TerritoryRights) -> tuple[OrganisationChoice, ...]:
    """The organisations of the territory where the actor may invite: all of them for a territorial admin,
    else those where they hold a role (the administrator level only where they are admin)."""
    if not rights.allow_to_invite_agents:
        return ()
    organisations = uow.session.exec(select(Organisation).where(Organisation.territory_id == rights.territory_id)
                                     .order_by(Organisation.name)).all()
    levels = dict(uow.session.exec(select(AgentRole.organisation_id, AgentRole.access_level)
                                   .where(AgentRole.agent_id == rights.agent_id)).all())
    return tuple(OrganisationChoice(require_id(o), o.name, rights.is_territorial_admin
                                    or levels.get(require_id(o)) == AccessLevel.ADMIN.value)
                 for o in organisations if rights.is_territorial_admin or o.id in levels)


def _rights_for(uow: UnitOfWork, actor_agent_id: int, organisation_id: int, right: str | None) -> TerritoryRights:
    return require_territory_right(uow, actor_agent_id, territory_of(uow, organisation_id), right)


@boundary
def list_territory_agents(uow: UnitOfWork, actor_agent_id: int, organisation_id: int) -> TerritoryAgents:
    """The agents of the territory of the organisation shown, by last name (pending invitations last)."""
    rights = _rights_for(uow, actor_agent_id, organisation_id, None)
    territory_id = rights.territory_id
    territory = _territory(uow, territory_id)
    agent_ids = territory_agent_ids(uow, territory_id)
    agents = uow.session.exec(select(Agent).where(col(Agent.id).in_(agent_ids))).all()
    memberships: dict[int, list[Membership]] = {}
    for agent_id, name, level in uow.session.exec(
            select(AgentRole.agent_id, Organisation.name, AgentRole.access_level)
            .join(Organisation, col(Organisation.id) == AgentRole.organisation_id)
            .where(Organisation.territory_id == territory_id, col(AgentRole.agent_id).in_(agent_ids))
            .order_by(col(Organisation.name))):
        memberships.setdefault(agent_id, []).append(Membership(name, ACCESS_LEVEL_LABELS[AccessLevel(level)]))
    services: dict[int, list[tuple[int, str]]] = {}
    for agent_id, service_id, short_name in uow.session.exec(
            select(AgentService.agent_id, AgentService.service_id, Service.short_name)
            .join(Service, col(Service.id) == AgentService.service_id)
            .where(col(AgentService.agent_id).in_(agent_ids)).order_by(col(Service.short_name))):
        services.setdefault(agent_id, []).append((service_id, short_name))
    admins = set(uow.session.exec(select(AgentTerritorialRole.agent_id).where(
        AgentTerritorialRole.territory_id == territory_id)))
    access = {row.agent_id: row for row in uow.session.exec(select(AgentTerritorialAccessRight).where(
        AgentTerritorialAccessRight.territory_id == territory_id, col(AgentTerritorialAccessRight.agent_id).in_(agent_ids)))}
    invited = set(uow.session.exec(select(AgentInvitation.agent_id).where(col(AgentInvitation.agent_id).in_(agent_ids))))
    lines = []
    for agent in sorted(agents, key=lambda a: (a.sort_key, a.email or "")):
        agent_id = require_id(agent)
        name = names.agent_name(agent.first_name, agent.last_name)
        row = access.get(agent_id)
        lines.append(TerritoryAgentLine(
            agent_id=agent_id, name=name or "—", email=agent.email or "",
            memberships=tuple(memberships.get(agent_id, ())),
            service_ids=tuple(service_id for service_id, _ in services.get(agent_id, [])),
            services=", ".join(short for _, short in services.get(agent_id, [])),
            territorial_admin=agent_id in admins,
            pending=agent.password_hash is None and agent_id in invited,
            allow_to_manage_teams=bool(row and row.allow_to_manage_teams),
            allow_to_manage_access_rights=bool(row and row.allow_to_manage_access_rights),
            allow_to_invite_agents=bool(row and row.allow_to_invite_agents),
            is_self=agent_id == actor_agent_id,
            search_text=names.plain_text(f"{name} {agent.email or ''}"),
            services_version=versions.version_of(
                _services_shown(service_id for service_id, _ in services.get(agent_id, []))),
            rights_version=versions.version_of(_rights_shown(row)),
        ))
    lines.sort(key=lambda line: line.pending)  # stable: by last name, then the pending invitations
    return TerritoryAgents(territory.name, rights, tuple(lines), _services(uow, territory_id), _invitable(uow, rights))


def _services_shown(service_ids: Iterable[int]) -> dict[str, object]:
    """What the services form shows of an agent."""
    return {"service_ids": sorted(service_ids)}


def _rights_shown(row: AgentTerritorialAccessRight | None) -> dict[str, object]:
    """What the access rights form shows of an agent (no row: none of the rights)."""
    return {right: bool(row and getattr(row, right)) for right in TERRITORY_RIGHTS}


def _territory_agent(uow: UnitOfWork, territory_id: int, agent_id: int) -> Agent:
    if agent_id not in territory_agent_ids(uow, territory_id):
        raise NotFound(NOT_IN_TERRITORY)
    agent = uow.session.get(Agent, agent_id)
    assert agent is not None
    return agent


def _display(agent: Agent) -> str:
    return names.agent_name(agent.first_name, agent.last_name) or agent.email or ""


@boundary
def invite_to_territory(uow: UnitOfWork, actor_agent_id: int, organisation_id: int, email: str,
                        placements: tuple[Placement, ...], service_ids: tuple[int, ...]) -> str:
    """Invites `email` into one or more organisations of the territory (or adds the existing account to
    them), each at its level; the French notice."""
    rights = _rights_for(uow, actor_agent_id, organisation_id, "allow_to_invite_agents")
    address = email_address(email)
    offered = {choice.id: choice for choice in _invitable(uow, rights)}
    if not placements:
        raise DomainError("Choisissez au moins une organisation.", field="placements")
    if len({p.organisation_id for p in placements}) != len(placements):
        raise DomainError("Chaque organisation ne se choisit qu'une fois.", field="placements")
    chosen: list[tuple[Organisation, AccessLevel]] = []
    for placement in placements:
        choice = offered.get(placement.organisation_id)
        if choice is None:
            raise PermissionDenied("Vous ne pouvez pas inviter d'agent dans cette organisation.")
        try:
            level = AccessLevel(placement.access_level)
        except ValueError:
            level = AccessLevel.INTERVENANT
        if level not in (AccessLevel.BASIC, AccessLevel.ADMIN):
            raise DomainError("Choisissez le niveau : Agent ou Administrateur.", field="placements")
        if level is AccessLevel.ADMIN and not choice.may_grant_admin:
            raise PermissionDenied(f"Seuls les administrateurs du territoire ou de {choice.name} y invitent un "
                                   "administrateur.")
        organisation = uow.session.get(Organisation, placement.organisation_id)
        assert organisation is not None
        chosen.append((organisation, level))
    territory_services = {choice.id for choice in _services(uow, rights.territory_id)}
    if not service_ids or not set(service_ids) <= territory_services:
        raise DomainError("Choisissez au moins un service parmi ceux du territoire.", field="service_ids")
    notice = join_organisations(uow, actor_agent_id, chosen, address, service_ids,
                                ", ".join(organisation.name for organisation, _ in chosen))
    uow.commit()
    return notice


@boundary
def set_agent_services(uow: UnitOfWork, actor_agent_id: int, organisation_id: int, agent_id: int,
                       service_ids: tuple[int, ...], *, expected_version: str | None = None) -> str:
    """The agent's services among those the territory offers (section 5); the others stay. The form gives the
    `expected_version` it loaded (`TerritoryAgentLine.services_version`): services changed since are not
    saved."""
    rights = _rights_for(uow, actor_agent_id, organisation_id, "allow_to_manage_access_rights")
    agent = _territory_agent(uow, rights.territory_id, agent_id)
    versions.lock(uow, agent)
    offered = {choice.id for choice in _services(uow, rights.territory_id)}
    if not set(service_ids) <= offered:
        raise DomainError("Choisissez les services parmi ceux du territoire.", field="service_ids")
    current = set(uow.session.exec(select(AgentService.service_id).where(AgentService.agent_id == agent_id)))
    versions.check_version(expected_version, _services_shown(current))
    wanted = (current - offered) | set(service_ids)
    if not wanted:
        raise DomainError(AT_LEAST_ONE_SERVICE, field="service_ids")
    removed, added = current - wanted, wanted - current
    if not removed and not added:
        return "Aucun changement."
    blocking = uow.session.exec(
        select(Service.short_name, PlageOuverture.title, Organisation.name)
        .join(Motif, col(Motif.service_id) == Service.id)
        .join(PlageOuvertureMotif, col(PlageOuvertureMotif.motif_id) == Motif.id)
        .join(PlageOuverture, col(PlageOuverture.id) == PlageOuvertureMotif.plage_ouverture_id)
        .join(Organisation, col(Organisation.id) == PlageOuverture.organisation_id)
        .where(PlageOuverture.agent_id == agent_id, col(Service.id).in_(removed))
        .order_by(col(Service.short_name), col(PlageOuverture.first_day), col(PlageOuverture.id))).first()
    if blocking is not None:
        short_name, title, organisation_name = blocking
        raise DomainError("Le retrait du service n'a pu aboutir car l'agent a toujours des plages d'ouverture "
                          f"actives sur le service : {short_name} (plage « {title} », {organisation_name}). "
                          "Retirez d'abord les motifs de ce service de ses plages.", field="service_ids")
    if removed:
        uow.session.exec(sa.delete(AgentService).where(col(AgentService.agent_id) == agent_id,
                                                       col(AgentService.service_id).in_(removed)))
    uow.session.add_all([AgentService(agent_id=agent_id, service_id=service_id) for service_id in sorted(added)])
    audit.record(uow.session, action="change_services", entity_type=ENTITY, entity_id=agent_id,
                 organisation_id=organisation_id, actor_agent_id=actor_agent_id,
                 changes={"service_ids": [sorted(current), sorted(wanted)]})
    uow.commit()
    return f"Les services de {_display(agent)} ont été modifiés."


def _refuse_intervenant(uow: UnitOfWork, agent_id: int, what: str, field: str) -> None:
    """An intervenant never signs in: no right of the Espace Admin is theirs until they become an agent."""
    if uow.session.exec(select(AgentRole.id).where(AgentRole.agent_id == agent_id,
                                                   AgentRole.access_level == AccessLevel.INTERVENANT.value)).first():
        raise DomainError(f"Un intervenant ne se connecte pas et ne peut pas {what} : convertissez-le d'abord en "
                          "agent.", field=field)


@boundary
def set_access_rights(uow: UnitOfWork, actor_agent_id: int, organisation_id: int, agent_id: int,
                      rights: AccessRights, *, expected_version: str | None = None) -> str:
    """The agent's three access rights on the territory. The form gives the `expected_version` it loaded
    (`TerritoryAgentLine.rights_version`): rights changed since are not saved."""
    actor = _rights_for(uow, actor_agent_id, organisation_id, "allow_to_manage_access_rights")
    agent = _territory_agent(uow, actor.territory_id, agent_id)
    versions.lock(uow, agent)
    if agent_id == actor_agent_id and not actor.is_territorial_admin:
        raise PermissionDenied("Vous ne pouvez pas modifier vos propres droits d'accès : demandez-le à un "
                               "administrateur du territoire.")
    if any(getattr(rights, right) for right in TERRITORY_RIGHTS):
        _refuse_intervenant(uow, agent_id, "recevoir de droits d'accès", "rights")
    row = uow.session.exec(select(AgentTerritorialAccessRight).where(
        AgentTerritorialAccessRight.agent_id == agent_id,
        AgentTerritorialAccessRight.territory_id == actor.territory_id)).first()
    versions.check_version(expected_version, _rights_shown(row))
    if row is None:
        row = AgentTerritorialAccessRight(agent_id=agent_id, territory_id=actor.territory_id)
    before = {right: bool(getattr(row, right)) for right in TERRITORY_RIGHTS}
    after = {right: getattr(rights, right) for right in TERRITORY_RIGHTS}
    if before == after and row.id is not None:
        return "Aucun changement."
    for right, value in after.items():
        setattr(row, right, value)
    uow.session.add(row)
    audit.record(uow.session, action="change_access_rights", entity_type=ENTITY, entity_id=agent_id,
                 organisation_id=organisation_id, actor_agent_id=actor_agent_id, changes=audit.diff(before, after))
    uow.commit()
    return f"Droits d'accès de {_display(agent)} mis à jour."


@boundary
def set_territorial_admin(uow: UnitOfWork, actor_agent_id: int, organisation_id: int, agent_id: int,
                          territorial_admin: bool) -> str:
    """Names the agent territorial admin of the territory, or takes the role away (never from the last one)."""
    territory_id = territory_of(uow, organisation_id)
    actor = require_territory_right(uow, actor_agent_id, territory_id, None)
    if not actor.is_territorial_admin:
        raise PermissionDenied("Seuls les administrateurs du territoire nomment ou retirent un administrateur "
                               "de territoire.")
    agent = _territory_agent(uow, territory_id, agent_id)
    role = uow.session.exec(select(AgentTerritorialRole).where(
        AgentTerritorialRole.agent_id == agent_id, AgentTerritorialRole.territory_id == territory_id)).first()
    if (role is not None) == territorial_admin:
        return "Aucun changement."
    if role is not None:
        others = uow.session.exec(
            select(sa.func.count()).select_from(AgentTerritorialRole)
            .join(Agent, col(Agent.id) == AgentTerritorialRole.agent_id)
            .where(AgentTerritorialRole.territory_id == territory_id, AgentTerritorialRole.agent_id != agent_id,
                   col(Agent.deleted_at).is_(None))).one()
        if not others:
            raise DomainError(LAST_TERRITORIAL_ADMIN, field="territorial_admin")
        uow.session.delete(role)
    else:
        _refuse_intervenant(uow, agent_id, "administrer le territoire", "territorial_admin")
        uow.session.add(AgentTerritorialRole(agent_id=agent_id, territory_id=territory_id))
    audit.record(uow.session, action="change_territorial_admin", entity_type=ENTITY, entity_id=agent_id,
                 organisation_id=organisation_id, actor_agent_id=actor_agent_id,
                 changes={"territorial_admin": [role is not None, territorial_admin], "territory_id":
                          [territory_id, territory_id]})
    uow.commit()
    name = _display(agent)
    return (f"{name} est maintenant administrateur du territoire." if territorial_admin
            else f"{name} n'est plus administrateur du territoire.")
