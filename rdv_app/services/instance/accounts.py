"""Super admins open a territory: the territory, its first organisation and its first admin, invited by email
(admin-domain.md section 12, "Ouverture d'un nouveau compte"), in one transaction, audited. The admin's
services (at least one, from the catalogue: rdv_app.services.instance.catalogue) are offered in the
territory.

The invited person becomes admin of the organisation and territorial admin with every territory access
right, so that they can go on alone: lieux, motifs, agents, plages. An address that already has an
account gets the roles without a new invitation, unless that account never set its password.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import func
from sqlmodel import col, select

from rdv_app.db.models import (
    Agent,
    AgentRole,
    AgentService,
    AgentTerritorialAccessRight,
    AgentTerritorialRole,
    Organisation,
    Service,
    Territory,
    TerritoryService,
)
from rdv_app.db.rows import not_null, require_id
from rdv_app.db.uow import UnitOfWork
from rdv_app.domain import clock, contact, names
from rdv_app.domain.contact import InvalidValue, optional_text
from rdv_app.domain.enums import AccessLevel
from rdv_app.services import audit
from rdv_app.services.agents import agent_auth, invitations
from rdv_app.services.boundary import boundary
from rdv_app.services.errors import DomainError
from rdv_app.services.rights import require_super_admin

# A département number ("62", "974", "2A") or initials of a territory that is not one ("CN").
_TERRITORY_NUMBER = re.compile(r"^[0-9A-Z]{1,3}$")


@dataclass(frozen=True)
class NewAccount:
    departement_number: str
    territory_name: str
    timezone: str
    organisation_name: str
    admin_email: str
    service_ids: tuple[int, ...]


@dataclass(frozen=True)
class TerritoryRow:
    id: int
    departement_number: str
    name: str
    timezone: str
    organisations: int
    admins: str


@dataclass(frozen=True)
class OpenedAccount:
    territory_id: int
    organisation_id: int
    admin_agent_id: int
    invited: bool


def _field(value: str, field: str, message: str) -> str:
    cleaned = optional_text(value)
    if cleaned is None:
        raise DomainError(message, field=field)
    return cleaned


def _checked(uow: UnitOfWork, account: NewAccount) -> NewAccount:
    number = _field(account.departement_number, "departement_number",
                    "Indiquez le numéro du département (par exemple 62 ou 974).").upper()
    if not _TERRITORY_NUMBER.match(number):
        raise DomainError("Le numéro du territoire compte 1 à 3 chiffres ou lettres (par exemple 62, 974, 2A).",
                          field="departement_number")
    taken = uow.session.exec(select(Territory.name).where(Territory.departement_number == number)).first()
    if taken is not None:
        raise DomainError(f"Le territoire {number} existe déjà ({taken}).", field="departement_number")
    try:
        zone = contact.timezone(account.timezone)
        email = contact.email(account.admin_email)
    except InvalidValue as error:
        field = "timezone" if "fuseau" in error.message else "admin_email"
        raise DomainError(error.message, field=field) from error
    if email is None:
        raise DomainError("Indiquez l'adresse email de la personne qui administrera ce territoire.",
                          field="admin_email")
    known = set(uow.session.exec(select(not_null(Service.id)).where(col(Service.id).in_(account.service_ids))))
    if not account.service_ids or known != set(account.service_ids):
        raise DomainError("Choisissez au moins un service pour l'administrateur (ajoutez-le d'abord au catalogue "
                          "des services s'il n'y figure pas).", field="service_ids")
    return NewAccount(
        service_ids=tuple(sorted(known)),
        departement_number=number,
        territory_name=_field(account.territory_name, "territory_name", "Indiquez le nom du territoire."),
        timezone=zone,
        organisation_name=_field(account.organisation_name, "organisation_name",
                                 "Indiquez le nom de la première organisation."),
        admin_email=email.lower(),
    )


@boundary
def open_account(uow: UnitOfWork, actor_agent_id: int, account: NewAccount) -> OpenedAccount:
    """Creates the territory, its organisation and the admin's roles, and invites the admin; one commit."""
    require_super_admin(uow, actor_agent_id)
    account = _checked(uow, account)
    now = clock.now()
    inviter = uow.session.get(Agent, actor_agent_id)
    assert inviter is not None  # require_super_admin found it
    admin = uow.session.exec(select(Agent).where(func.lower(Agent.email) == account.admin_email)).first()
    if admin is not None and admin.deleted_at is not None:
        raise DomainError("Ce compte agent a été supprimé : invitez une autre adresse.", field="admin_email")
    territory = Territory(departement_number=account.departement_number, name=account.territory_name,
                          timezone=account.timezone, created_at=now)
    uow.session.add(territory)
    uow.session.flush()
    organisation = Organisation(territory_id=require_id(territory), name=account.organisation_name,
                                slug=contact.slug(account.organisation_name), timezone=account.timezone,
                                created_at=now, updated_at=now)
    if admin is None:
        admin = Agent(email=account.admin_email, last_name="", created_at=now, updated_at=now)
    uow.session.add_all([organisation, admin])
    uow.session.flush()
    territory_id, admin_id = require_id(territory), require_id(admin)
    uow.session.add_all([
        AgentRole(agent_id=admin_id, organisation_id=require_id(organisation), access_level=AccessLevel.ADMIN.value,
                  created_at=now),
        AgentTerritorialRole(agent_id=admin_id, territory_id=territory_id),
        AgentTerritorialAccessRight(agent_id=admin_id, territory_id=territory_id, allow_to_manage_teams=True,
                                    allow_to_manage_access_rights=True, allow_to_invite_agents=True),
        *(TerritoryService(territory_id=territory_id, service_id=service_id) for service_id in account.service_ids),
    ])
    agent_services = set(uow.session.exec(select(AgentService.service_id).where(AgentService.agent_id == admin_id)))
    uow.session.add_all([AgentService(agent_id=admin_id, service_id=service_id)
                         for service_id in account.service_ids if service_id not in agent_services])
    invited = admin.password_hash is None
    if invited:
        invitations.send_invitation(
            uow, admin, inviter,
            f"l'organisation {organisation.name} (territoire {territory.departement_number} {territory.name})", now)
    audit.record(uow.session, action="open_account", entity_type="territory", entity_id=territory_id,
                 actor_agent_id=actor_agent_id, organisation_id=require_id(organisation),
                 changes={"territory": [None, f"{territory.departement_number} {territory.name}"],
                          "organisation": [None, organisation.name], "admin": [None, account.admin_email]})
    uow.commit()
    return OpenedAccount(territory_id, require_id(organisation), admin_id, invited)


@boundary
def list_territories(uow: UnitOfWork, actor_agent_id: int) -> list[TerritoryRow]:
    require_super_admin(uow, actor_agent_id)
    organisations = dict(uow.session.exec(
        select(Organisation.territory_id, func.count()).group_by(col(Organisation.territory_id))).all())
    admins: dict[int, list[str]] = {}
    for territory_id, email in uow.session.exec(
            select(AgentTerritorialRole.territory_id, Agent.email)
            .join(Agent, col(Agent.id) == AgentTerritorialRole.agent_id)
            .where(col(Agent.deleted_at).is_(None)).order_by(col(Agent.email))):
        admins.setdefault(territory_id, []).append(email or "")
    return [TerritoryRow(id=require_id(t), departement_number=t.departement_number, name=t.name, timezone=t.timezone,
                         organisations=organisations.get(require_id(t), 0), admins=", ".join(admins.get(t.id or 0, [])))
            for t in uow.session.exec(select(Territory).order_by(col(Territory.departement_number)))]


@dataclass(frozen=True)
class SuperAdminRow:
    email: str
    name: str
    pending: bool  # invited, no password yet


@boundary
def list_super_admins(uow: UnitOfWork, actor_agent_id: int) -> list[SuperAdminRow]:
    require_super_admin(uow, actor_agent_id)
    rows = uow.session.exec(select(Agent).where(col(Agent.super_admin), col(Agent.deleted_at).is_(None))
                            .order_by(col(Agent.email)))
    return [SuperAdminRow(email=agent.email or "", name=names.agent_name(agent.first_name, agent.last_name),
                          pending=agent.password_hash is None) for agent in rows]


@boundary
def invite_super_admin(uow: UnitOfWork, actor_agent_id: int, email: str) -> str:
    """Makes the person at `email` a super admin of the instance: an invitation when they have no account yet;
    an agent who has one gets the right and every open session ended, so that the second factor, required of
    every super admin, is asked at their next sign-in. The message to show."""
    require_super_admin(uow, actor_agent_id)
    try:
        address = contact.email(email)
    except InvalidValue as error:
        raise DomainError(error.message, field="email") from error
    if address is None:
        raise DomainError("Indiquez l'adresse email de la personne à inviter.", field="email")
    address = address.lower()
    now = clock.now()
    agent = uow.session.exec(select(Agent).where(func.lower(Agent.email) == address)).first()
    if agent is not None and agent.deleted_at is not None:
        raise DomainError("Ce compte agent a été supprimé : invitez une autre adresse.", field="email")
    if agent is not None and agent.super_admin:
        raise DomainError(f"{address} est déjà super administrateur de l'instance.", field="email")
    if agent is None:
        agent = Agent(email=address, last_name="", created_at=now, updated_at=now)
    agent.super_admin, agent.updated_at = True, now
    uow.session.add(agent)
    uow.session.flush()
    inviter = uow.session.get(Agent, actor_agent_id)
    assert inviter is not None  # require_super_admin found it
    if agent.password_hash is None:
        invitations.send_invitation(uow, agent, inviter, "la super administration de l'instance", now)
        message = f"Une invitation a été envoyée à {address}."
    else:
        agent_auth.end_sessions(uow, require_id(agent), now)
        message = (f"{address} est maintenant super administrateur : la double authentification lui sera demandée "
                   "à sa prochaine connexion.")
    audit.record(uow.session, action="grant_super_admin", entity_type="agent", entity_id=require_id(agent),
                 actor_agent_id=actor_agent_id, changes={"super_admin": [False, True]})
    uow.commit()
    return message
