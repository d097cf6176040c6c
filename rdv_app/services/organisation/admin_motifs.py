"""Motifs of one organisation, as its admins configure them (menu "Motifs"): list, create, edit,
duplicate, archive or delete.

Rights (domain.md section 8): only admins of the organisation; a motif id of another organisation is
NotFound. Rules (domain.md section 1): the field rules of `rdv_app.domain.motif_rules`, plus those that
need the database: the service is one of the territory's (never Secrétariat); the name is unique among
the organisation's active motifs of the same service and location type (ignoring case and accents);
`collectif` and the location type are frozen once the motif has RDVs. A motif with RDVs is archived,
never deleted; one without is deleted. Neither happens while a running plage d'ouverture offers it.
Every write adds its audit row, and queues the organisation's "motif" webhooks, in the same transaction;
nothing is written before every check passed.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Collection, Iterable
from dataclasses import dataclass, replace
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import col, select

from rdv_app.db.models import (
    Motif,
    Organisation,
    PlageOuverture,
    PlageOuvertureMotif,
    Rdv,
    Service,
    TerritoryService,
)
from rdv_app.db.rows import not_null, require_id
from rdv_app.db.uow import UnitOfWork
from rdv_app.domain import clock, motif_rules
from rdv_app.domain.enums import BookableBy, LocationType, WebhookSubscription
from rdv_app.domain.events import Change, RecordChanged
from rdv_app.domain.labels import BOOKABLE_BY_LABELS, LOCATION_TYPE_LABELS
from rdv_app.domain.motif_rules import MotifFields, MotifRuleError
from rdv_app.services import audit, versions
from rdv_app.services.availability.inputs import running
from rdv_app.services.boundary import boundary
from rdv_app.services.errors import DomainError, NotFound
from rdv_app.services.organisation import local_time
from rdv_app.services.rights import require_admin

ENTITY = "motif"
ARCHIVED, DELETED = "archived", "deleted"


@dataclass(frozen=True)
class MotifRow:
    id: int
    organisation_id: int
    name: str
    service_id: int
    service_name: str
    color: str
    default_duration_in_min: int
    location_type: str
    location_label: str
    collectif: bool
    bookable_by: str
    bookable_label: str
    open_online: bool
    open_to_prescripteurs: bool  # the FAQ's "ouvert aux prescripteurs" ("Prescripteur" badge)
    min_delay: str  # "2 heures"
    max_delay: str
    instruction_for_rdv: str | None
    archived: bool
    has_rdvs: bool  # removing it archives it


@dataclass(frozen=True)
class MotifDetail:
    id: int
    fields: MotifFields
    has_rdvs: bool
    archived: bool
    version: str  # what the edit form gives back with its save (rdv_app.services.versions)


@dataclass(frozen=True)
class ServiceChoice:
    id: int
    name: str


# --------------------------------------------------------------------------- use cases


@boundary
def service_choices(uow: UnitOfWork, actor_agent_id: int, organisation_id: int) -> list[ServiceChoice]:
    """The services a motif of the organisation may belong to."""
    require_admin(uow, actor_agent_id, organisation_id)
    return territory_services(uow, territory_id_of(uow, organisation_id))


@boundary
def list_motifs(uow: UnitOfWork, actor_agent_id: int, organisation_id: int, *, service_id: int | None = None,
                location_type: str | None = None, open_online: bool | None = None,
                include_archived: bool = False) -> list[MotifRow]:
    """The organisation's motifs by name, filtered by service, location type and online booking."""
    require_admin(uow, actor_agent_id, organisation_id)
    return motif_rows(uow, [organisation_id], service_id=service_id, location_type=location_type,
                      open_online=open_online, include_archived=include_archived)


@boundary
def get_motif(uow: UnitOfWork, actor_agent_id: int, organisation_id: int, motif_id: int) -> MotifDetail:
    require_admin(uow, actor_agent_id, organisation_id)
    motif = _motif_of(uow, organisation_id, motif_id)
    return MotifDetail(id=motif_id, fields=fields_of(motif), has_rdvs=has_rdvs(uow, motif_id),
                       archived=motif.deleted_at is not None, version=motif_version(motif))


def motif_version(motif: Motif) -> str:
    return versions.version_of(fields_of(motif).as_dict())


@boundary
def create_motif(uow: UnitOfWork, actor_agent_id: int, organisation_id: int, data: MotifFields) -> int:
    require_admin(uow, actor_agent_id, organisation_id)
    motif = add_motif(uow, organisation_id, validated(uow, organisation_id, data), actor_agent_id, "create")
    uow.commit()
    return require_id(motif)


@boundary
def update_motif(uow: UnitOfWork, actor_agent_id: int, organisation_id: int, motif_id: int,
                 data: MotifFields, *, expected_version: str | None = None) -> None:
    """The edit form gives the `expected_version` it loaded (`MotifDetail.version`): a motif changed since
    is not saved."""
    require_admin(uow, actor_agent_id, organisation_id)
    motif = _motif_of(uow, organisation_id, motif_id)
    versions.lock(uow, motif)
    versions.check_version(expected_version, fields_of(motif).as_dict())
    if motif.deleted_at is not None:
        raise DomainError("Ce motif est archivé : il ne peut plus être modifié.")
    change_motif(uow, motif, validated(uow, organisation_id, data, motif), actor_agent_id, "update")
    uow.commit()


@boundary
def duplicate_motif(uow: UnitOfWork, actor_agent_id: int, organisation_id: int, motif_id: int) -> int:
    """A copy of the motif named "<name> (copie)" ("(copie 2)"... when taken), to adjust and save."""
    require_admin(uow, actor_agent_id, organisation_id)
    source = fields_of(_motif_of(uow, organisation_id, motif_id))
    taken = {folded(m.name) for m in _siblings(uow, organisation_id, source, exclude_id=None)}
    number = 1
    name = f"{source.name} (copie)"
    while folded(name) in taken:
        number += 1
        name = f"{source.name} (copie {number})"
    copy = validated(uow, organisation_id, replace(source, name=name))
    motif = add_motif(uow, organisation_id, copy, actor_agent_id, "duplicate")
    uow.commit()
    return require_id(motif)


@boundary
def remove_motif(uow: UnitOfWork, actor_agent_id: int, organisation_id: int, motif_id: int, *,
                 now: datetime | None = None) -> str:
    """Archives a motif that has RDVs (they keep it), deletes one that has none; returns which."""
    require_admin(uow, actor_agent_id, organisation_id)
    motif = _motif_of(uow, organisation_id, motif_id)
    if motif.deleted_at is not None:
        raise DomainError("Ce motif est déjà archivé.")
    today = local_time.today(uow, organisation_id, now)
    offering = uow.session.exec(
        select(PlageOuverture.title)
        .join(PlageOuvertureMotif, col(PlageOuvertureMotif.plage_ouverture_id) == PlageOuverture.id)
        .where(PlageOuvertureMotif.motif_id == motif_id,
               running(PlageOuverture, col(PlageOuverture.first_day), today))
        .order_by(PlageOuverture.title)
    ).all()
    if offering:
        titles = ", ".join(f"« {title} »" for title in dict.fromkeys(offering))
        raise DomainError(f"Ce motif est proposé dans des plages d'ouverture en cours ({titles}) : retirez-le "
                          "de ces plages avant de le supprimer.")
    before = fields_of(motif).as_dict()
    if has_rdvs(uow, motif_id):
        motif.deleted_at = motif.updated_at = clock.now()
        uow.record(RecordChanged(model=WebhookSubscription.MOTIF, record_id=motif_id,
                                 change=Change.UPDATED, occurred_at=clock.now()))
        outcome = ARCHIVED
    else:
        uow.record(RecordChanged(model=WebhookSubscription.MOTIF, record_id=motif_id,
                                 change=Change.DELETED, occurred_at=clock.now()))
        uow.publish()  # before the deletion: the webhook still describes the motif
        uow.session.exec(sa.delete(PlageOuvertureMotif).where(col(PlageOuvertureMotif.motif_id) == motif_id))
        uow.session.delete(motif)
        outcome = DELETED
    audit.record(uow.session, action="archive" if outcome == ARCHIVED else "delete", entity_type=ENTITY,
                 entity_id=motif_id, changes=audit.diff(before, {}), organisation_id=organisation_id,
                 actor_agent_id=actor_agent_id)
    uow.commit()
    return outcome


# --------------------------------------------------------------------------- shared with the territory page


def territory_id_of(uow: UnitOfWork, organisation_id: int) -> int:
    return uow.session.exec(select(Organisation.territory_id).where(Organisation.id == organisation_id)).one()


def territory_services(uow: UnitOfWork, territory_id: int) -> list[ServiceChoice]:
    rows = uow.session.exec(
        select(not_null(Service.id), Service.name)
        .join(TerritoryService, col(TerritoryService.service_id) == Service.id)
        .where(TerritoryService.territory_id == territory_id, col(Service.is_secretariat).is_(False))
        .order_by(Service.name)
    ).all()
    return [ServiceChoice(id=service_id, name=name) for service_id, name in rows]


def validated(uow: UnitOfWork, organisation_id: int, data: MotifFields, motif: Motif | None = None) -> MotifFields:
    """The cleaned fields, or DomainError on the first broken rule (its field named)."""
    data = motif_rules.normalised(data)
    try:
        motif_rules.check(data)
    except MotifRuleError as exc:
        raise DomainError(exc.message, exc.field) from exc
    allowed = {s.id for s in territory_services(uow, territory_id_of(uow, organisation_id))}
    if data.service_id not in allowed and (motif is None or motif.service_id != data.service_id):
        raise DomainError("Ce service n'est pas proposé dans ce territoire (le Secrétariat ne peut pas avoir "
                          "de motif).", "service_id")
    if motif is not None and motif.id is not None and has_rdvs(uow, motif.id):
        if data.location_type != motif.location_type:
            raise DomainError("Ce motif a déjà des RDV : son type de lieu ne peut plus changer. Créez plutôt un "
                              "nouveau motif.", "location_type")
        if data.collectif != motif.collectif:
            raise DomainError("Ce motif a déjà des RDV : il ne peut plus passer de individuel à collectif ou "
                              "l'inverse. Créez plutôt un nouveau motif.", "collectif")
    check_unique_name(uow, organisation_id, data, exclude_id=motif.id if motif else None)
    return data


def check_unique_name(uow: UnitOfWork, organisation_id: int, data: MotifFields, exclude_id: int | None) -> None:
    """domain.md: unique among active motifs per (organisation, location type, service)."""
    wanted = folded(data.name)
    if any(folded(m.name) == wanted for m in _siblings(uow, organisation_id, data, exclude_id)):
        raise DomainError(f"Un motif « {data.name} » existe déjà pour ce service et ce type de lieu dans "
                          "l'organisation : choisissez un autre nom.", "name")


def add_motif(uow: UnitOfWork, organisation_id: int, data: MotifFields, actor_agent_id: int, action: str) -> Motif:
    motif = Motif(organisation_id=organisation_id, **data.as_dict())
    uow.session.add(motif)
    _flush(uow, data)
    uow.record(RecordChanged(model=WebhookSubscription.MOTIF, record_id=require_id(motif),
                             change=Change.CREATED, occurred_at=clock.now()))
    audit.record(uow.session, action=action, entity_type=ENTITY, entity_id=require_id(motif),
                 changes=audit.diff({}, data.as_dict()), organisation_id=organisation_id,
                 actor_agent_id=actor_agent_id)
    return motif


def change_motif(uow: UnitOfWork, motif: Motif, data: MotifFields, actor_agent_id: int, action: str) -> None:
    before = fields_of(motif).as_dict()
    for name, value in data.as_dict().items():
        setattr(motif, name, value)
    motif.updated_at = clock.now()
    _flush(uow, data)
    uow.record(RecordChanged(model=WebhookSubscription.MOTIF, record_id=require_id(motif),
                             change=Change.UPDATED, occurred_at=clock.now()))
    audit.record(uow.session, action=action, entity_type=ENTITY, entity_id=require_id(motif),
                 changes=audit.diff(before, data.as_dict()), organisation_id=motif.organisation_id,
                 actor_agent_id=actor_agent_id)


def fields_of(motif: Motif) -> MotifFields:
    return MotifFields(**{name: getattr(motif, name) for name in MotifFields.__dataclass_fields__})


def has_rdvs(uow: UnitOfWork, motif_id: int) -> bool:
    return uow.session.exec(select(Rdv.id).where(Rdv.motif_id == motif_id).limit(1)).first() is not None


def motif_rows(uow: UnitOfWork, organisation_ids: Collection[int], *, service_id: int | None = None,
               location_type: str | None = None, open_online: bool | None = None,
               include_archived: bool = False, motif_ids: Collection[int] | None = None) -> list[MotifRow]:
    query = (select(Motif, Service.name).join(Service, col(Service.id) == Motif.service_id)
             .where(col(Motif.organisation_id).in_(organisation_ids)))
    if motif_ids is not None:
        query = query.where(col(Motif.id).in_(motif_ids))
    if not include_archived:
        query = query.where(col(Motif.deleted_at).is_(None))
    if service_id is not None:
        query = query.where(Motif.service_id == service_id)
    if location_type:
        query = query.where(Motif.location_type == location_type)
    if open_online is not None:
        query = query.where((Motif.bookable_by == BookableBy.EVERYONE.value) == open_online)
    found = uow.session.exec(query).all()
    with_rdvs = set(uow.session.exec(select(Rdv.motif_id).where(
        col(Rdv.motif_id).in_([motif.id for motif, _ in found])).distinct()).all())
    return [_row(motif, service_name, motif.id in with_rdvs)
            for motif, service_name in sorted(found, key=lambda r: (folded(r[0].name), r[0].id))]


# --------------------------------------------------------------------------- helpers


def folded(text: str) -> str:
    """Case- and accent-insensitive form, for name comparisons and ordering."""
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().casefold().strip()


def _motif_of(uow: UnitOfWork, organisation_id: int, motif_id: int) -> Motif:
    motif = uow.session.get(Motif, motif_id)
    if motif is None or motif.organisation_id != organisation_id:
        raise NotFound("Ce motif n'existe pas dans cette organisation.")
    return motif


def _siblings(uow: UnitOfWork, organisation_id: int, data: MotifFields, exclude_id: int | None) -> Iterable[Motif]:
    query = select(Motif).where(Motif.organisation_id == organisation_id, Motif.service_id == data.service_id,
                                Motif.location_type == data.location_type, col(Motif.deleted_at).is_(None))
    if exclude_id is not None:
        query = query.where(Motif.id != exclude_id)
    return uow.session.exec(query).all()


def _flush(uow: UnitOfWork, data: MotifFields) -> None:
    """The unique index is the last line when two admins save the same name at once."""
    try:
        uow.session.flush()
    except sa.exc.IntegrityError as exc:
        uow.rollback()
        raise DomainError(f"Un motif « {data.name} » existe déjà pour ce service et ce type de lieu dans "
                          "l'organisation : choisissez un autre nom.", "name") from exc


def _row(motif: Motif, service_name: str, with_rdvs: bool) -> MotifRow:
    return MotifRow(
        id=require_id(motif),
        organisation_id=motif.organisation_id,
        name=motif.name,
        service_id=motif.service_id,
        service_name=service_name,
        color=motif.color,
        default_duration_in_min=motif.default_duration_in_min,
        location_type=motif.location_type,
        location_label=LOCATION_TYPE_LABELS[LocationType(motif.location_type)],
        collectif=motif.collectif,
        bookable_by=motif.bookable_by,
        bookable_label=BOOKABLE_BY_LABELS[BookableBy(motif.bookable_by)],
        open_online=motif_rules.is_open_online(motif.bookable_by),
        open_to_prescripteurs=motif_rules.is_open_to_prescripteurs(motif.bookable_by),
        min_delay=motif_rules.describe_delay(motif.min_public_booking_delay),
        max_delay=motif_rules.describe_delay(motif.max_public_booking_delay),
        instruction_for_rdv=motif.instruction_for_rdv,
        archived=motif.deleted_at is not None,
        has_rdvs=with_rdvs,
    )
