"""An organisation's own settings (menu "Organisation"), its "Réservation en ligne" overview, its first
setup steps, and the creation of organisations by territorial admins.

Rights: only admins of the organisation (territorial admins of its territory to create one). Rules (domain.md section 1, Organisation): the name is required
and unique within the territory (ignoring case and accents); phone French, overseas or a 4-digit short
number; email and website well formed; the time zone an IANA zone (the organisation's days and hours
are read in it). A rename gives a new slug to the public link (its id keeps old links working). Every
change is audited, and queues the "organisation" webhooks, in its transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func
from sqlmodel import col, select

from rdv_app import routes
from rdv_app.db.models import (
    AgentRole,
    AgentTerritorialRole,
    Lieu,
    Motif,
    Organisation,
    PlageOuverture,
    PlageOuvertureMotif,
    Service,
    Territory,
)
from rdv_app.db.rows import require_id
from rdv_app.db.uow import UnitOfWork
from rdv_app.domain import clock, contact
from rdv_app.domain.contact import InvalidValue
from rdv_app.domain.enums import AccessLevel, BookableBy, LieuAvailability, LocationType, WebhookSubscription
from rdv_app.domain.events import Change, RecordChanged
from rdv_app.domain.labels import LOCATION_TYPE_LABELS
from rdv_app.domain.recipients import phone_region
from rdv_app.services import audit, versions
from rdv_app.services.availability.inputs import running
from rdv_app.services.boundary import boundary
from rdv_app.services.errors import DomainError, PermissionDenied
from rdv_app.services.organisation import local_time, public_links
from rdv_app.services.organisation.admin_motifs import folded
from rdv_app.services.rights import require_admin, require_territorial_admin

ENTITY = "organisation"

# The zones of metropolitan France and of the overseas territories, offered first in the form.
FRENCH_TIMEZONES = (
    ("Europe/Paris", "France métropolitaine (Europe/Paris)"),
    ("America/Guadeloupe", "Guadeloupe (America/Guadeloupe)"),
    ("America/Martinique", "Martinique (America/Martinique)"),
    ("America/Cayenne", "Guyane (America/Cayenne)"),
    ("Indian/Reunion", "La Réunion (Indian/Reunion)"),
    ("Indian/Mayotte", "Mayotte (Indian/Mayotte)"),
    ("America/Miquelon", "Saint-Pierre-et-Miquelon (America/Miquelon)"),
    ("Pacific/Noumea", "Nouvelle-Calédonie (Pacific/Noumea)"),
    ("Pacific/Tahiti", "Polynésie française (Pacific/Tahiti)"),
    ("Pacific/Wallis", "Wallis-et-Futuna (Pacific/Wallis)"),
)


@dataclass(frozen=True)
class OrganisationSettings:
    name: str
    phone_number: str | None = None
    email: str | None = None
    website: str | None = None
    horaires: str | None = None
    timezone: str = "Europe/Paris"


@dataclass(frozen=True)
class OnlineMotif:
    id: int
    name: str
    service_name: str
    location_label: str
    offered: bool  # a running plage d'ouverture offers it


@dataclass(frozen=True)
class OnlineBooking:
    organisation_name: str
    url: str
    embed_snippet: str
    motifs: tuple[OnlineMotif, ...]

    @property
    def not_offered(self) -> tuple[OnlineMotif, ...]:
        return tuple(m for m in self.motifs if not m.offered)


@boundary
def get_settings(uow: UnitOfWork, actor_agent_id: int, organisation_id: int) -> OrganisationSettings:
    require_admin(uow, actor_agent_id, organisation_id)
    return _settings_of(_organisation(uow, organisation_id))


def settings_version(settings: OrganisationSettings) -> str:
    """The version a form showing these settings gives back with its save."""
    return versions.version_of(settings.__dict__)


@boundary
def update_settings(uow: UnitOfWork, actor_agent_id: int, organisation_id: int,
                    data: OrganisationSettings, *, expected_version: str | None = None) -> OrganisationSettings:
    """The form gives the `expected_version` it loaded (`settings_version`): settings changed since are not
    saved."""
    require_admin(uow, actor_agent_id, organisation_id)
    organisation = _organisation(uow, organisation_id)
    versions.lock(uow, organisation)
    versions.check_version(expected_version, _settings_of(organisation).__dict__)
    cleaned = _validated(uow, organisation, data)
    before = _settings_of(organisation)
    for name, value in cleaned.__dict__.items():
        setattr(organisation, name, value)
    changes = audit.diff(before.__dict__, cleaned.__dict__)
    if "name" in changes:
        organisation.slug = contact.slug(cleaned.name)
    organisation.updated_at = clock.now()
    uow.record(RecordChanged(model=WebhookSubscription.ORGANISATION, record_id=organisation_id,
                             change=Change.UPDATED, occurred_at=clock.now()))
    audit.record(uow.session, action="update", entity_type=ENTITY, entity_id=organisation_id, changes=changes,
                 organisation_id=organisation_id, actor_agent_id=actor_agent_id)
    uow.commit()
    return cleaned


@dataclass(frozen=True)
class TerritoryChoice:
    id: int
    label: str  # "62 Pas-de-Calais"
    timezone: str


@dataclass(frozen=True)
class TerritoryOrganisation:
    id: int
    name: str
    territory: str
    agents: int


def _administered_territories(uow: UnitOfWork, actor_agent_id: int) -> list[Territory]:
    return list(uow.session.exec(
        select(Territory).join(AgentTerritorialRole, col(AgentTerritorialRole.territory_id) == Territory.id)
        .where(AgentTerritorialRole.agent_id == actor_agent_id).order_by(col(Territory.departement_number))))


@boundary
def territory_organisations(uow: UnitOfWork, actor_agent_id: int) -> tuple[list[TerritoryChoice],
                                                                           list[TerritoryOrganisation]]:
    """The territories the agent administers and their organisations; PermissionDenied when none."""
    territories = _administered_territories(uow, actor_agent_id)
    if not territories:
        raise PermissionDenied("Cette page est réservée aux administrateurs du territoire.")
    labels = {require_id(t): f"{t.departement_number} {t.name}" for t in territories}
    agents = dict(uow.session.exec(select(AgentRole.organisation_id, func.count())
                                   .group_by(col(AgentRole.organisation_id))).all())
    organisations = uow.session.exec(select(Organisation).where(col(Organisation.territory_id).in_(labels))
                                     .order_by(col(Organisation.name))).all()
    return ([TerritoryChoice(require_id(t), labels[require_id(t)], t.timezone) for t in territories],
            [TerritoryOrganisation(require_id(o), o.name, labels[o.territory_id], agents.get(require_id(o), 0))
             for o in organisations])


@boundary
def create_organisation(uow: UnitOfWork, actor_agent_id: int, territory_id: int, data: OrganisationSettings) -> int:
    """A new organisation of a territory the agent administers, who becomes its admin; its id."""
    require_territorial_admin(uow, actor_agent_id, territory_id)
    territory = uow.session.get(Territory, territory_id)
    assert territory is not None
    now = clock.now()
    cleaned = _validated(uow, Organisation(territory_id=territory_id, name="", slug=""), data)
    organisation = Organisation(territory_id=territory_id, slug=contact.slug(cleaned.name), created_at=now,
                                updated_at=now, **cleaned.__dict__)
    uow.session.add(organisation)
    uow.session.flush()
    organisation_id = require_id(organisation)
    uow.session.add(AgentRole(agent_id=actor_agent_id, organisation_id=organisation_id,
                              access_level=AccessLevel.ADMIN.value, created_at=now))
    audit.record(uow.session, action="create", entity_type=ENTITY, entity_id=organisation_id,
                 changes=audit.diff({}, cleaned.__dict__), organisation_id=organisation_id,
                 actor_agent_id=actor_agent_id)
    uow.commit()
    return organisation_id


@dataclass(frozen=True)
class SetupStep:
    label: str
    route: str
    done: bool


@boundary
def setup_steps(uow: UnitOfWork, actor_agent_id: int, organisation_id: int) -> list[SetupStep]:
    """What a new organisation's admin does first, each step done once the organisation has one."""
    require_admin(uow, actor_agent_id, organisation_id)

    def has(model: Any, *where: Any) -> bool:
        return uow.session.exec(select(model.id).where(model.organisation_id == organisation_id, *where)
                                .limit(1)).first() is not None

    colleagues = uow.session.exec(select(func.count()).select_from(AgentRole)
                                  .where(AgentRole.organisation_id == organisation_id)).one()
    return [
        SetupStep("Ajouter un lieu de rendez-vous", routes.ADMIN_LIEUX, has(Lieu)),
        SetupStep("Créer un motif", routes.ADMIN_MOTIFS, has(Motif, col(Motif.deleted_at).is_(None))),
        SetupStep("Inviter des agents", routes.ADMIN_AGENTS, colleagues > 1),
        SetupStep("Ouvrir des plages d'ouverture", routes.PLAGES, has(PlageOuverture)),
    ]


@boundary
def online_booking(uow: UnitOfWork, actor_agent_id: int, organisation_id: int, *,
                   now: datetime | None = None) -> OnlineBooking:
    """The public link, its embed snippet, and the motifs open online, each saying whether a running
    plage d'ouverture (at an enabled lieu, or without lieu) offers it."""
    require_admin(uow, actor_agent_id, organisation_id)
    organisation = _organisation(uow, organisation_id)
    url = public_links.organisation_booking_url(organisation_id, organisation.slug)
    today = local_time.today(uow, organisation_id, now)
    offered = set(uow.session.exec(
        select(PlageOuvertureMotif.motif_id)
        .join(PlageOuverture, col(PlageOuverture.id) == PlageOuvertureMotif.plage_ouverture_id)
        .outerjoin(Lieu, col(Lieu.id) == PlageOuverture.lieu_id)
        .where(PlageOuverture.organisation_id == organisation_id,
               running(PlageOuverture, col(PlageOuverture.first_day), today),
               (col(PlageOuverture.lieu_id).is_(None)) | (Lieu.availability == LieuAvailability.ENABLED.value))
    ).all())
    rows = uow.session.exec(
        select(Motif, Service.name).join(Service, col(Service.id) == Motif.service_id)
        .where(Motif.organisation_id == organisation_id, col(Motif.deleted_at).is_(None),
               Motif.bookable_by == BookableBy.EVERYONE.value)
    ).all()
    motifs = tuple(
        OnlineMotif(id=require_id(motif), name=motif.name, service_name=service_name,
                    location_label=LOCATION_TYPE_LABELS[LocationType(motif.location_type)],
                    offered=motif.id in offered)
        for motif, service_name in sorted(rows, key=lambda r: (folded(r[0].name), r[0].id))
    )
    return OnlineBooking(organisation_name=organisation.name, url=url,
                         embed_snippet=public_links.embed_snippet(url, organisation.name), motifs=motifs)


# --------------------------------------------------------------------------- helpers


def _organisation(uow: UnitOfWork, organisation_id: int) -> Organisation:
    organisation = uow.session.get(Organisation, organisation_id)
    assert organisation is not None  # require_admin found a role in it
    return organisation


def _settings_of(organisation: Organisation) -> OrganisationSettings:
    return OrganisationSettings(name=organisation.name, phone_number=organisation.phone_number,
                                email=organisation.email, website=organisation.website,
                                horaires=organisation.horaires, timezone=organisation.time_zone)


def _validated(uow: UnitOfWork, organisation: Organisation, data: OrganisationSettings) -> OrganisationSettings:
    name = " ".join((data.name or "").split())
    if not name:
        raise DomainError("Le nom de l'organisation est obligatoire.", "name")
    others = uow.session.exec(select(Organisation.name).where(
        Organisation.territory_id == organisation.territory_id, Organisation.id != organisation.id)).all()
    if folded(name) in {folded(other) for other in others}:
        raise DomainError(f"Une autre organisation du territoire s'appelle déjà « {name} ».", "name")
    departement = uow.session.exec(select(Territory.departement_number)
                                   .where(Territory.id == organisation.territory_id)).one()
    checks = {
        "phone_number": lambda: contact.phone(data.phone_number, phone_region(departement), allow_short=True),
        "email": lambda: contact.email(data.email),
        "website": lambda: contact.website(data.website),
        "timezone": lambda: contact.timezone(data.timezone),
    }
    values: dict[str, Any] = {}
    for field, check in checks.items():
        try:
            values[field] = check()
        except InvalidValue as exc:
            raise DomainError(exc.message, field) from exc
    return OrganisationSettings(name=name, horaires=contact.optional_text(data.horaires),
                                **values)
