"""Super admins open a mairie's account ("Mairie comptes", admin-domain.md section 12), in one transaction,
audited: an organisation of the territory "Mairies" (created with the first mairie), verticale rdv_mairie,
a lieu at the mairie's address (geocoded through the Base Adresse Nationale, before anything is written),
its admin invited with the service "Mairie", and the three motifs of the ANTS titles (15 min, sur place,
open to usagers online, in the ANTS categories), so that the ANTS hub lists the lieu and finds its slots
as soon as the admin opens plages.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func
from sqlmodel import select

from rdv_app.db.models import (
    Agent,
    AgentRole,
    AgentService,
    Lieu,
    Motif,
    MotifCategory,
    Organisation,
    Service,
    Territory,
    TerritoryService,
)
from rdv_app.db.rows import require_id
from rdv_app.db.uow import UnitOfWork
from rdv_app.domain import ants, clock, contact
from rdv_app.domain.contact import InvalidValue, optional_text
from rdv_app.domain.enums import AccessLevel, BookableBy, LocationType
from rdv_app.services import audit
from rdv_app.services.agents import invitations
from rdv_app.services.boundary import boundary
from rdv_app.services.errors import DomainError
from rdv_app.services.integrations import addresses
from rdv_app.services.rights import require_super_admin

MAIRIES_NUMBER = "MA"  # the territory's code: it is no département
MAIRIE_SERVICE = "Mairie"
VERTICALE = "rdv_mairie"
MOTIF_COLOUR = "#1f4e9c"


@dataclass(frozen=True)
class NewMairie:
    organisation_name: str
    address: str
    admin_email: str


@dataclass(frozen=True)
class OpenedMairie:
    organisation_id: int
    lieu_id: int
    admin_agent_id: int
    invited: bool
    geocoded: bool


def _required(value: str, field: str, message: str) -> str:
    cleaned = optional_text(value)
    if cleaned is None:
        raise DomainError(message, field=field)
    return cleaned


def _one(uow: UnitOfWork, model: type, name: str, **created: object) -> object:
    found = uow.session.exec(select(model).where(model.name == name)).first()  # type: ignore[attr-defined]
    if found is None:
        found = model(name=name, **created)
        uow.session.add(found)
        uow.session.flush()
    return found


@boundary
def open_mairie_account(uow: UnitOfWork, actor_agent_id: int, mairie: NewMairie) -> OpenedMairie:
    """Creates the mairie's organisation, lieu, motifs and admin role, and invites the admin; one commit."""
    require_super_admin(uow, actor_agent_id)
    name = _required(mairie.organisation_name, "organisation_name", "Indiquez le nom de la mairie.")
    address = _required(mairie.address, "address", "Indiquez l'adresse de la mairie.")
    try:
        email = contact.email(mairie.admin_email)
    except InvalidValue as error:
        raise DomainError(error.message, field="admin_email") from error
    if email is None:
        raise DomainError("Indiquez l'adresse email de la personne qui administrera la mairie.", field="admin_email")
    email = email.lower()
    territory = uow.session.exec(select(Territory).where(Territory.name == ants.MAIRIES_TERRITORY)).first()
    if territory is not None and uow.session.exec(select(Organisation.id).where(
            Organisation.territory_id == territory.id, func.lower(Organisation.name) == name.lower())).first():
        raise DomainError(f"Une organisation « {name} » existe déjà dans le territoire Mairies.",
                          field="organisation_name")
    admin = uow.session.exec(select(Agent).where(func.lower(Agent.email) == email)).first()
    if admin is not None and admin.deleted_at is not None:
        raise DomainError("Ce compte agent a été supprimé : invitez une autre adresse.", field="admin_email")
    location = addresses.locate(address)  # before any write: the BAN may take two seconds
    now = clock.now()
    if territory is None:
        if uow.session.exec(select(Territory.id).where(Territory.departement_number == MAIRIES_NUMBER)).first():
            raise DomainError(f"Le code {MAIRIES_NUMBER} du territoire Mairies est pris par un autre territoire.")
        territory = Territory(departement_number=MAIRIES_NUMBER, name=ants.MAIRIES_TERRITORY, created_at=now)
        uow.session.add(territory)
        uow.session.flush()
    service = _one(uow, Service, MAIRIE_SERVICE, short_name=MAIRIE_SERVICE)
    assert isinstance(service, Service)
    territory_id, service_id = require_id(territory), require_id(service)
    organisation = Organisation(territory_id=territory_id, name=name, slug=contact.slug(name),
                                timezone=territory.timezone, verticale=VERTICALE, created_at=now, updated_at=now)
    if admin is None:
        admin = Agent(email=email, last_name="", created_at=now, updated_at=now)
    uow.session.add_all([organisation, admin])
    uow.session.flush()
    organisation_id, admin_id = require_id(organisation), require_id(admin)
    lieu = Lieu(organisation_id=organisation_id, name=name, address=location.label if location else address,
                latitude=location.latitude if location else None, longitude=location.longitude if location else None,
                created_at=now)
    uow.session.add(lieu)
    for motif_name, reason in ants.MAIRIE_MOTIFS:
        category = _one(uow, MotifCategory, ants.CATEGORY_NAMES[reason], short_name=ants.CATEGORY_SHORT_NAMES[reason])
        assert isinstance(category, MotifCategory)
        uow.session.add(Motif(organisation_id=organisation_id, service_id=service_id, name=motif_name,
                              motif_category_id=require_id(category), color=MOTIF_COLOUR,
                              default_duration_in_min=ants.MAIRIE_MOTIF_DURATION,
                              location_type=LocationType.PUBLIC_OFFICE.value, bookable_by=BookableBy.EVERYONE.value,
                              created_at=now, updated_at=now))
    uow.session.add(AgentRole(agent_id=admin_id, organisation_id=organisation_id,
                              access_level=AccessLevel.ADMIN.value, created_at=now))
    if not uow.session.exec(select(TerritoryService.service_id).where(
            TerritoryService.territory_id == territory_id, TerritoryService.service_id == service_id)).first():
        uow.session.add(TerritoryService(territory_id=territory_id, service_id=service_id))
    if not uow.session.exec(select(AgentService.service_id).where(
            AgentService.agent_id == admin_id, AgentService.service_id == service_id)).first():
        uow.session.add(AgentService(agent_id=admin_id, service_id=service_id))
    uow.session.flush()
    invited = admin.password_hash is None
    if invited:
        inviter = uow.session.get(Agent, actor_agent_id)
        assert inviter is not None  # require_super_admin found it
        invitations.send_invitation(uow, admin, inviter, f"la mairie {name} (territoire {ants.MAIRIES_TERRITORY})",
                                    now)
    audit.record(uow.session, action="open_mairie_account", entity_type="organisation", entity_id=organisation_id,
                 actor_agent_id=actor_agent_id, organisation_id=organisation_id,
                 changes={"organisation": [None, name], "admin": [None, email], "lieu": [None, lieu.address]})
    uow.commit()
    return OpenedMairie(organisation_id, require_id(lieu), admin_id, invited, location is not None)
