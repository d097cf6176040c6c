"""Lieux of one organisation, as its admins manage them (menu "Lieux"): list, create, edit, disable and
enable again.

Rights: only admins of the organisation; a lieu id of another organisation is NotFound. Rules (domain.md
section 1, Lieu): name and address required; phone French or overseas; latitude and longitude optional,
given together, within their ranges. "Lieux ponctuels" (single use, created inline for one RDV) are not
managed here. Disabling is the soft delete: a lieu with running plages d'ouverture is disabled only once
the admin confirms, as those plages then offer no slot. Every write is audited, and queues the organisation's "lieu" webhooks, in its transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import col, select

from rdv_app.db.models import Lieu, Organisation, PlageOuverture, Territory
from rdv_app.db.rows import require_id
from rdv_app.db.uow import UnitOfWork
from rdv_app.domain import clock, contact
from rdv_app.domain.contact import InvalidValue
from rdv_app.domain.enums import LieuAvailability, WebhookSubscription
from rdv_app.domain.events import Change, RecordChanged
from rdv_app.domain.recipients import phone_region
from rdv_app.services import audit, versions
from rdv_app.services.availability.inputs import running
from rdv_app.services.boundary import boundary
from rdv_app.services.errors import DomainError, NeedsConfirmation, NotFound, require_filled
from rdv_app.services.organisation import local_time
from rdv_app.services.rights import require_admin

ENTITY = "lieu"


@dataclass(frozen=True)
class LieuInput:
    name: str
    address: str
    phone_number: str = ""
    latitude: str = ""  # as typed: "50.2889" or "50,2889"
    longitude: str = ""


@dataclass(frozen=True)
class SingleUseLieu:
    """A "lieu ponctuel" (domain.md section 1): a place typed for one RDV only."""
    name: str
    address: str


@dataclass(frozen=True)
class LieuView:
    id: int
    name: str
    address: str
    phone_number: str | None
    latitude: float | None
    longitude: float | None
    enabled: bool
    version: str  # what the edit form gives back with its save (rdv_app.services.versions)


@boundary
def list_lieux(uow: UnitOfWork, actor_agent_id: int, organisation_id: int) -> list[LieuView]:
    """Enabled lieux first, then disabled ones, each by name."""
    require_admin(uow, actor_agent_id, organisation_id)
    lieux = uow.session.exec(select(Lieu).where(
        Lieu.organisation_id == organisation_id, Lieu.availability != LieuAvailability.SINGLE_USE.value)).all()
    views = [_view(lieu) for lieu in lieux]
    return sorted(views, key=lambda v: (not v.enabled, v.name.casefold(), v.id))


@boundary
def get_lieu(uow: UnitOfWork, actor_agent_id: int, organisation_id: int, lieu_id: int) -> LieuView:
    require_admin(uow, actor_agent_id, organisation_id)
    return _view(_lieu_of(uow, organisation_id, lieu_id))


@boundary
def create_lieu(uow: UnitOfWork, actor_agent_id: int, organisation_id: int, data: LieuInput) -> int:
    require_admin(uow, actor_agent_id, organisation_id)
    values = _validated(uow, organisation_id, data)
    lieu = Lieu(organisation_id=organisation_id, **values)
    uow.session.add(lieu)
    uow.session.flush()
    uow.record(RecordChanged(model=WebhookSubscription.LIEU, record_id=require_id(lieu),
                             change=Change.CREATED, occurred_at=clock.now()))
    audit.record(uow.session, action="create", entity_type=ENTITY, entity_id=require_id(lieu),
                 changes=audit.diff({}, values), organisation_id=organisation_id, actor_agent_id=actor_agent_id)
    uow.commit()
    return require_id(lieu)


@boundary
def update_lieu(uow: UnitOfWork, actor_agent_id: int, organisation_id: int, lieu_id: int, data: LieuInput, *,
                expected_version: str | None = None) -> None:
    """The edit form gives the `expected_version` it loaded (`LieuView.version`): a lieu changed since is not
    saved."""
    require_admin(uow, actor_agent_id, organisation_id)
    lieu = _lieu_of(uow, organisation_id, lieu_id)
    versions.lock(uow, lieu)
    versions.check_version(expected_version, _values_of(lieu))
    values = _validated(uow, organisation_id, data)
    before = _values_of(lieu)
    for name, value in values.items():
        setattr(lieu, name, value)
    uow.record(RecordChanged(model=WebhookSubscription.LIEU, record_id=lieu_id,
                             change=Change.UPDATED, occurred_at=clock.now()))
    audit.record(uow.session, action="update", entity_type=ENTITY, entity_id=lieu_id,
                 changes=audit.diff(before, values), organisation_id=organisation_id, actor_agent_id=actor_agent_id)
    uow.commit()


@boundary
def set_lieu_enabled(uow: UnitOfWork, actor_agent_id: int, organisation_id: int, lieu_id: int, enabled: bool, *,
                     confirm_warnings: bool = False, now: datetime | None = None) -> None:
    """Disables (soft delete) or enables again; NeedsConfirmation names the running plages a disabling
    would empty."""
    require_admin(uow, actor_agent_id, organisation_id)
    lieu = _lieu_of(uow, organisation_id, lieu_id)
    wanted = (LieuAvailability.ENABLED if enabled else LieuAvailability.DISABLED).value
    if lieu.availability == wanted:
        return
    if not enabled and not confirm_warnings:
        today = local_time.today(uow, organisation_id, now)
        titles = uow.session.exec(
            select(PlageOuverture.title).where(PlageOuverture.lieu_id == lieu_id,
                                               running(PlageOuverture, col(PlageOuverture.first_day), today))
            .order_by(PlageOuverture.title)).all()
        if titles:
            listed = ", ".join(f"« {title} »" for title in dict.fromkeys(titles))
            raise NeedsConfirmation([f"Des plages d'ouverture en cours ont lieu ici ({listed}) : une fois le lieu "
                                     "désactivé, elles ne proposeront plus aucun créneau."])
    audit.record(uow.session, action="enable" if enabled else "disable", entity_type=ENTITY, entity_id=lieu_id,
                 changes={"availability": [lieu.availability, wanted]}, organisation_id=organisation_id,
                 actor_agent_id=actor_agent_id)
    lieu.availability = wanted
    uow.record(RecordChanged(model=WebhookSubscription.LIEU, record_id=lieu_id,
                             change=Change.UPDATED, occurred_at=clock.now()))
    uow.commit()


def checked_single_use_lieu(place: SingleUseLieu) -> SingleUseLieu:
    """The lieu ponctuel's name and address, both required, spaces tidied (checked before anything of the
    RDV is written)."""
    name, address = " ".join(place.name.split()), " ".join(place.address.split())
    if not name:
        raise DomainError("Indiquez le nom du lieu ponctuel (par exemple « Salle de la mairie annexe »).",
                          "single_use_name")
    if not address:
        raise DomainError("Indiquez l'adresse du lieu ponctuel.", "single_use_address")
    return SingleUseLieu(name, address)


def add_single_use_lieu(uow: UnitOfWork, organisation_id: int, place: SingleUseLieu) -> int:
    """Writes the (checked) lieu ponctuel of an RDV being planned, in the RDV's transaction (no commit),
    and returns its id. It never joins the organisation's lieux: not listed here, nor offered to plages,
    searches or online booking (all of which take enabled lieux only), and a lieu cannot switch to or
    from it."""
    lieu = Lieu(organisation_id=organisation_id, name=place.name, address=place.address,
                availability=LieuAvailability.SINGLE_USE.value)
    uow.session.add(lieu)
    uow.session.flush()
    uow.record(RecordChanged(model=WebhookSubscription.LIEU, record_id=require_id(lieu),
                             change=Change.CREATED, occurred_at=clock.now()))
    return require_id(lieu)


# --------------------------------------------------------------------------- helpers


def _lieu_of(uow: UnitOfWork, organisation_id: int, lieu_id: int) -> Lieu:
    lieu = uow.session.get(Lieu, lieu_id)
    if lieu is None or lieu.organisation_id != organisation_id or lieu.availability == LieuAvailability.SINGLE_USE:
        raise NotFound("Ce lieu n'existe pas dans cette organisation.")
    return lieu


def _validated(uow: UnitOfWork, organisation_id: int, data: LieuInput) -> dict[str, Any]:
    require_filled({"name": (data.name, "Le nom du lieu est obligatoire."),
                    "address": (data.address, "L'adresse du lieu est obligatoire.")})
    name, address = " ".join((data.name or "").split()), " ".join((data.address or "").split())
    departement = uow.session.exec(
        select(Territory.departement_number).join(Organisation, col(Organisation.territory_id) == Territory.id)
        .where(Organisation.id == organisation_id)).one()
    values: dict[str, object] = {"name": name, "address": address}
    for field, check in (
        ("phone_number", lambda: contact.phone(data.phone_number, phone_region(departement))),
        ("latitude", lambda: contact.coordinate(data.latitude, "latitude", 90)),
        ("longitude", lambda: contact.coordinate(data.longitude, "longitude", 180)),
    ):
        try:
            values[field] = check()
        except InvalidValue as exc:
            raise DomainError(exc.message, field) from exc
    if (values["latitude"] is None) != (values["longitude"] is None):
        missing = "longitude" if values["longitude"] is None else "latitude"
        raise DomainError("Indiquez la latitude et la longitude ensemble, ou aucune des deux.", missing)
    return values


def _values_of(lieu: Lieu) -> dict[str, object]:
    return {"name": lieu.name, "address": lieu.address, "phone_number": lieu.phone_number,
            "latitude": lieu.latitude, "longitude": lieu.longitude}


def _view(lieu: Lieu) -> LieuView:
    return LieuView(id=require_id(lieu), name=lieu.name, address=lieu.address,
                    phone_number=lieu.phone_number, latitude=lieu.latitude, longitude=lieu.longitude,
                    enabled=lieu.availability == LieuAvailability.ENABLED,
                    version=versions.version_of(_values_of(lieu)))
