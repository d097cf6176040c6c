"""The super admins' back office (admin-domain.md section 12), beyond opening territories:
- the services a territory offers ("Services activés"): one in use by an agent of the territory stays;
- a territory's SMS settings: the instance's provider, or the territory's own OVH account (integrations.md
  section 4), through which the worker then sends the territory's SMS (rdv_app.notify.territory_sms); the
  secrets are sealed at rest (rdv_app.auth.sealed) and never shown back, only "configuré";
- moving an agent from one organisation to another: the role moves with its level, the agent's plages of
  the organisation left are deleted; refused while the agent has RDVs to come there;
- a read-only search of agents and organisations across the instance.
Every service refuses anyone but a super admin (rights.require_super_admin); every change is audited.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, replace

from sqlalchemy import func
from sqlmodel import col, select

from rdv_app.db.models import (
    Agent,
    AgentRole,
    AgentService,
    AgentTerritorialAccessRight,
    Motif,
    Organisation,
    Rdv,
    RdvAgent,
    Service,
    Territory,
    TerritoryService,
)
from rdv_app.db.rows import not_null, require_id
from rdv_app.db.uow import UnitOfWork
from rdv_app.domain import clock, names
from rdv_app.domain.contact import optional_text
from rdv_app.domain.enums import CANCELLED_STATUSES, AccessLevel
from rdv_app.notify.territory_sms import OVH_SECRETS, open_ovh_account, seal_ovh_account
from rdv_app.services import audit
from rdv_app.services.availability.plages import delete_agent_plages
from rdv_app.services.boundary import boundary
from rdv_app.services.errors import DomainError, NotFound
from rdv_app.services.rights import require_super_admin
from rdv_app.services.versions import STALE, lock, version_of

# The territory's SMS: the instance's provider (OVH_* of the server, or the console in the demo), or its own
# OVH account.
SMS_INSTANCE, SMS_OVH = "instance", "ovh"
SMS_PROVIDERS = ((SMS_INSTANCE, "Fournisseur de l'instance"), (SMS_OVH, "Compte OVH du territoire"))
OVH_ENDPOINTS = (("ovh-eu", "OVH Europe"), ("ovh-ca", "OVH Canada"), ("ovh-us", "OVH États-Unis"))
_SERVICE_NAME = re.compile(r"^sms-[a-z0-9]+-[0-9]+$")
_SENDER = re.compile(r"^[A-Za-z0-9 .\-]{3,11}$")
SEARCH_LIMIT = 20


def _territory(uow: UnitOfWork, territory_id: int) -> Territory:
    territory = uow.session.get(Territory, territory_id)
    if territory is None:
        raise NotFound("Ce territoire n'existe pas.")
    return territory


# --------------------------------------------------------------------------- services of a territory


@dataclass(frozen=True)
class TerritoryServiceRow:
    service_id: int
    name: str
    short_name: str
    enabled: bool
    agents: int  # agents of the territory's organisations who have it


def _agents_with_service(uow: UnitOfWork, territory_id: int, service_id: int | None = None) -> dict[int, int]:
    query = (select(AgentService.service_id, func.count(func.distinct(AgentService.agent_id)))
             .join(AgentRole, col(AgentRole.agent_id) == AgentService.agent_id)
             .join(Organisation, col(Organisation.id) == AgentRole.organisation_id)
             .join(Agent, col(Agent.id) == AgentService.agent_id)
             .where(Organisation.territory_id == territory_id, col(Agent.deleted_at).is_(None))
             .group_by(col(AgentService.service_id)))
    if service_id is not None:
        query = query.where(AgentService.service_id == service_id)
    return dict(uow.session.exec(query).all())


@boundary
def territory_services(uow: UnitOfWork, actor_agent_id: int, territory_id: int) -> list[TerritoryServiceRow]:
    require_super_admin(uow, actor_agent_id)
    _territory(uow, territory_id)
    enabled = set(uow.session.exec(select(TerritoryService.service_id)
                                   .where(TerritoryService.territory_id == territory_id)))
    counts = _agents_with_service(uow, territory_id)
    return [TerritoryServiceRow(require_id(s), s.name, s.short_name, s.id in enabled, counts.get(require_id(s), 0))
            for s in uow.session.exec(select(Service).order_by(col(Service.name)))]


@boundary
def set_territory_service(uow: UnitOfWork, actor_agent_id: int, territory_id: int, service_id: int,
                          enabled: bool) -> str:
    """Enables or disables a service of the catalogue in the territory; the French notice."""
    require_super_admin(uow, actor_agent_id)
    territory = _territory(uow, territory_id)
    service = uow.session.get(Service, service_id)
    if service is None:
        raise NotFound("Ce service n'existe pas.")
    row = uow.session.get(TerritoryService, (territory_id, service_id))
    if enabled == (row is not None):
        return "Aucun changement."
    if enabled:
        uow.session.add(TerritoryService(territory_id=territory_id, service_id=service_id))
        notice = f"Le service {service.name} est activé dans le territoire {territory.name}."
    else:
        agents = _agents_with_service(uow, territory_id, service_id).get(service_id, 0)
        motifs = uow.session.exec(select(func.count()).select_from(Motif)
                                  .join(Organisation, col(Organisation.id) == Motif.organisation_id)
                                  .where(Organisation.territory_id == territory_id, Motif.service_id == service_id,
                                         col(Motif.deleted_at).is_(None))).one()
        if agents:
            raise DomainError(f"Le service {service.name} ne peut pas être désactivé : {agents} agent(s) du territoire "
                              f"{territory.name} l'utilisent. Changez d'abord leurs services.")
        if motifs:
            raise DomainError(f"Le service {service.name} ne peut pas être désactivé : {motifs} motif(s) du territoire "
                              f"{territory.name} en dépendent. Supprimez-les d'abord.")
        uow.session.delete(row)
        notice = f"Le service {service.name} est désactivé dans le territoire {territory.name}."
    audit.record(uow.session, action="enable_service" if enabled else "disable_service", entity_type="territory",
                 entity_id=territory_id, actor_agent_id=actor_agent_id,
                 changes={"service": [None, service.name] if enabled else [service.name, None]})
    uow.commit()
    return notice


# --------------------------------------------------------------------------- SMS settings of a territory


@dataclass(frozen=True)
class SmsSettings:
    provider: str  # SMS_INSTANCE or SMS_OVH
    sender: str
    endpoint: str
    service_name: str
    configured: frozenset[str]  # which of OVH_SECRETS are saved (never their values)
    version: str = ""  # of what the form shows (rdv_app.services.versions)


@dataclass(frozen=True)
class SmsChange:
    provider: str
    sender: str = ""
    endpoint: str = "ovh-eu"
    service_name: str = ""
    # Left empty, a secret already saved is kept.
    application_key: str = ""
    application_secret: str = ""
    consumer_key: str = ""


def _sms_settings(territory: Territory) -> SmsSettings:
    saved = open_ovh_account(territory.sms_configuration)
    shown = SmsSettings(provider=SMS_OVH if territory.has_own_sms_provider else SMS_INSTANCE,
                        sender=territory.sms_sender or "", endpoint=saved.get("endpoint", "ovh-eu"),
                        service_name=saved.get("service_name", ""),
                        configured=frozenset(key for key in OVH_SECRETS if saved.get(key)))
    return replace(shown, version=version_of({**asdict(shown), "configured": sorted(shown.configured)}))


@boundary
def sms_settings(uow: UnitOfWork, actor_agent_id: int, territory_id: int) -> SmsSettings:
    require_super_admin(uow, actor_agent_id)
    return _sms_settings(_territory(uow, territory_id))


@boundary
def save_sms_settings(uow: UnitOfWork, actor_agent_id: int, territory_id: int, change: SmsChange,
                      expected_version: str | None = None) -> str:
    """Saves the territory's SMS settings, unless they changed since the form loaded them (`STALE`)."""
    require_super_admin(uow, actor_agent_id)
    territory = _territory(uow, territory_id)
    lock(uow, territory)
    if expected_version is not None and expected_version != _sms_settings(territory).version:
        raise DomainError(STALE)
    if change.provider not in dict(SMS_PROVIDERS):
        raise DomainError("Choisissez le fournisseur de SMS du territoire.", field="provider")
    sender = optional_text(change.sender)
    if sender is not None and not _SENDER.match(sender):
        raise DomainError("L'expéditeur compte de 3 à 11 caractères : lettres sans accent, chiffres, espaces, points "
                          "ou tirets (par exemple RdvSoli).", field="sender")
    saved = open_ovh_account(territory.sms_configuration)
    changes: dict[str, list[object]] = {}
    if change.provider == SMS_OVH:
        if change.endpoint not in dict(OVH_ENDPOINTS):
            raise DomainError("Choisissez la région du compte OVH.", field="endpoint")
        service_name = (optional_text(change.service_name) or "").lower()
        if not _SERVICE_NAME.match(service_name):
            raise DomainError("Indiquez le nom du service SMS OVH, de la forme sms-ab12345-1.", field="service_name")
        configuration = {"endpoint": change.endpoint, "service_name": service_name}
        for key in OVH_SECRETS:
            typed = optional_text(getattr(change, key))
            if typed is None and not saved.get(key):
                labels = {"application_key": "la clé d'application", "application_secret": "le secret d'application",
                          "consumer_key": "la clé client (consumer key)"}
                raise DomainError(f"Indiquez {labels[key]} du compte OVH.", field=key)
            configuration[key] = typed or saved[key]
            if typed is not None:
                changes[key] = ["configuré" if saved.get(key) else None, "modifié"]
        for key in ("endpoint", "service_name"):
            if saved.get(key) != configuration[key]:
                changes[key] = [saved.get(key), configuration[key]]
        territory.sms_configuration = seal_ovh_account(configuration)
    elif territory.has_own_sms_provider:
        changes["ovh"] = ["configuré", None]
        territory.sms_configuration = None
    if territory.has_own_sms_provider != (change.provider == SMS_OVH):
        changes["provider"] = [SMS_OVH if territory.has_own_sms_provider else SMS_INSTANCE, change.provider]
    if (territory.sms_sender or None) != sender:
        changes["sender"] = [territory.sms_sender, sender]
    if not changes:
        return "Aucun changement."
    territory.has_own_sms_provider = change.provider == SMS_OVH
    territory.sms_provider = "ovh"
    territory.sms_sender = sender
    uow.session.add(territory)
    audit.record(uow.session, action="sms_settings", entity_type="territory", entity_id=territory_id,
                 actor_agent_id=actor_agent_id, changes=changes)
    uow.commit()
    return f"Les réglages SMS du territoire {territory.name} sont enregistrés."


# --------------------------------------------------------------------------- moving an agent


@dataclass(frozen=True)
class OrganisationChoice:
    id: int
    label: str  # "PMI Arras (62 Pas-de-Calais)"


@dataclass(frozen=True)
class MoveChoices:
    agent_name: str
    sources: tuple[OrganisationChoice, ...]  # the agent's organisations
    targets: tuple[OrganisationChoice, ...]  # the others


def _organisation_labels(uow: UnitOfWork) -> list[OrganisationChoice]:
    rows = uow.session.exec(select(not_null(Organisation.id), Organisation.name, Territory.departement_number,
                                   Territory.name).join(Territory, col(Territory.id) == Organisation.territory_id)
                            .order_by(col(Territory.departement_number), col(Organisation.name))).all()
    return [OrganisationChoice(org_id, f"{name} ({number} {territory})") for org_id, name, number, territory in rows]


def _agent_name(agent: Agent) -> str:
    return names.agent_name(agent.first_name, agent.last_name) or agent.email or f"agent {agent.id}"


@boundary
def move_choices(uow: UnitOfWork, actor_agent_id: int, agent_id: int) -> MoveChoices:
    require_super_admin(uow, actor_agent_id)
    agent = uow.session.get(Agent, agent_id)
    if agent is None or agent.deleted_at is not None:
        raise NotFound("Cet agent n'existe pas.")
    own = set(uow.session.exec(select(AgentRole.organisation_id).where(AgentRole.agent_id == agent_id)))
    every = _organisation_labels(uow)
    return MoveChoices(_agent_name(agent), tuple(o for o in every if o.id in own),
                       tuple(o for o in every if o.id not in own))


@boundary
def move_agent(uow: UnitOfWork, actor_agent_id: int, agent_id: int, from_organisation_id: int,
               to_organisation_id: int) -> str:
    """Moves the agent's role (its level kept) from one organisation to another, of any territory."""
    require_super_admin(uow, actor_agent_id)
    agent = uow.session.get(Agent, agent_id)
    source = uow.session.get(Organisation, from_organisation_id)
    target = uow.session.get(Organisation, to_organisation_id)
    if agent is None or agent.deleted_at is not None:
        raise NotFound("Cet agent n'existe pas.")
    if source is None or target is None:
        raise NotFound("Cette organisation n'existe pas.")
    name = _agent_name(agent)
    role = uow.session.exec(select(AgentRole).where(AgentRole.agent_id == agent_id,
                                                    AgentRole.organisation_id == from_organisation_id)).first()
    if role is None:
        raise DomainError(f"L'agent {name} ne fait pas partie de {source.name}.", field="from_organisation")
    if uow.session.exec(select(AgentRole.id).where(AgentRole.agent_id == agent_id,
                                                   AgentRole.organisation_id == to_organisation_id)).first():
        raise DomainError(f"L'agent {name} fait déjà partie de {target.name}.", field="to_organisation")
    now = clock.now()
    coming = uow.session.exec(select(Rdv.id).join(RdvAgent, col(RdvAgent.rdv_id) == Rdv.id).where(
        RdvAgent.agent_id == agent_id, Rdv.organisation_id == from_organisation_id, Rdv.starts_at > now,
        col(Rdv.status).not_in([s.value for s in CANCELLED_STATUSES]))).first()
    if coming is not None:
        raise DomainError(f"Impossible de déplacer l'agent {name} : il a des RDV à venir dans {source.name}. "
                          "Supprimez-les ou réaffectez-les à un autre agent avant de le déplacer.")
    if role.access_level == AccessLevel.ADMIN.value and uow.session.exec(
            select(func.count()).select_from(AgentRole).join(Agent, col(Agent.id) == AgentRole.agent_id).where(
                AgentRole.organisation_id == from_organisation_id, AgentRole.agent_id != agent_id,
                AgentRole.access_level == AccessLevel.ADMIN.value, col(Agent.deleted_at).is_(None))).one() == 0:
        raise DomainError(f"{source.name} doit garder au moins un administrateur : nommez-en un autre avant de "
                          f"déplacer l'agent {name}.")
    enabled = set(uow.session.exec(select(TerritoryService.service_id)
                                   .where(TerritoryService.territory_id == target.territory_id)))
    missing = uow.session.exec(select(Service.name).join(AgentService, col(AgentService.service_id) == Service.id)
                               .where(AgentService.agent_id == agent_id, col(Service.id).not_in(enabled))
                               .order_by(col(Service.name))).all()
    if missing:
        raise DomainError(f"Le territoire de {target.name} n'offre pas le service {', '.join(missing)} de l'agent "
                          f"{name} : activez-le d'abord dans « Services activés ».")
    plages = delete_agent_plages(uow, actor_agent_id, agent_id, from_organisation_id)
    role.organisation_id = to_organisation_id
    uow.session.add(role)
    if uow.session.exec(select(AgentTerritorialAccessRight.id).where(
            AgentTerritorialAccessRight.agent_id == agent_id,
            AgentTerritorialAccessRight.territory_id == target.territory_id)).first() is None:
        uow.session.add(AgentTerritorialAccessRight(agent_id=agent_id, territory_id=target.territory_id))
    audit.record(uow.session, action="move_agent", entity_type="agent_role", entity_id=agent_id,
                 organisation_id=to_organisation_id, actor_agent_id=actor_agent_id,
                 changes={"organisation": [source.name, target.name], "access_level": [role.access_level] * 2,
                          "plages_deleted": [None, plages]})
    uow.commit()
    return f"L'agent {name} a été déplacé de {source.name} vers {target.name}."


# --------------------------------------------------------------------------- search across the instance


@dataclass(frozen=True)
class AgentHit:
    agent_id: int
    name: str
    email: str
    organisations: str


@dataclass(frozen=True)
class OrganisationHit:
    organisation_id: int
    name: str
    territory: str
    agents: int


@dataclass(frozen=True)
class SearchResults:
    agents: tuple[AgentHit, ...]
    organisations: tuple[OrganisationHit, ...]


@boundary
def search(uow: UnitOfWork, actor_agent_id: int, query: str) -> SearchResults:
    """Agents (names, email) and organisations (name, territory) whose text holds every word of `query`;
    nothing under two characters."""
    require_super_admin(uow, actor_agent_id)
    words = query.strip().lower().split()[:5]
    if len("".join(words)) < 2:
        return SearchResults((), ())
    haystack = func.lower(func.coalesce(Agent.first_name, "") + " " + Agent.last_name + " "
                          + func.coalesce(Agent.email, ""))
    agents = uow.session.exec(select(Agent).where(col(Agent.deleted_at).is_(None),
                                                  *(haystack.contains(word) for word in words))
                              .order_by(col(Agent.last_name), col(Agent.id)).limit(SEARCH_LIMIT)).all()
    agent_ids = [require_id(agent) for agent in agents]
    organisations: dict[int, list[str]] = {}
    for agent_id, org_name in uow.session.exec(
            select(AgentRole.agent_id, Organisation.name).join(Organisation, col(Organisation.id) == AgentRole.organisation_id)
            .where(col(AgentRole.agent_id).in_(agent_ids)).order_by(col(Organisation.name))):
        organisations.setdefault(agent_id, []).append(org_name)
    territories = {require_id(t): f"{t.departement_number} {t.name}" for t in uow.session.exec(select(Territory))}
    org_haystack = func.lower(Organisation.name + " " + Territory.departement_number + " " + Territory.name)
    counts = func.count(func.distinct(AgentRole.agent_id))
    org_rows = uow.session.exec(
        select(not_null(Organisation.id), Organisation.name, Organisation.territory_id, counts)
        .join(Territory, col(Territory.id) == Organisation.territory_id)
        .outerjoin(AgentRole, col(AgentRole.organisation_id) == Organisation.id)
        .where(*(org_haystack.contains(word) for word in words))
        .group_by(col(Organisation.id), col(Organisation.name), col(Organisation.territory_id))
        .order_by(col(Organisation.name)).limit(SEARCH_LIMIT)).all()
    return SearchResults(
        tuple(AgentHit(require_id(a), _agent_name(a), a.email or "", ", ".join(organisations.get(require_id(a), []))
                       or "—") for a in agents),
        tuple(OrganisationHit(org_id, name, territories[territory_id], count)
              for org_id, name, territory_id, count in org_rows))
