"""Motifs across a territory (menu "Motifs du territoire"), for territorial admins: one table of the active
motifs of the organisations of the territory they administer, a change of shared attributes applied to many
motifs at once, and one motif created in several of those organisations at once.

A bulk change is previewed first (what each motif would become, and which motif would break a rule),
then applied all-or-nothing: one motif failing its rules (those of `admin_motifs.validated`) and no
motif changes. Each changed motif gets its own audit row, in the one transaction.

Rights (domain.md section 8): the actor must be a territorial admin of the territory, and the page covers
only the organisations of that territory where they hold an admin role ("only organisation admins change
their organisation's motifs"). Motif and organisation ids of any other organisation, of this territory or
another, raise PermissionDenied and change nothing.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass, fields, replace
from typing import Any

from sqlmodel import col, select

from rdv_app.db.models import AgentRole, Motif, Organisation, Territory
from rdv_app.db.rows import not_null, require_id
from rdv_app.db.uow import UnitOfWork
from rdv_app.domain import motif_rules
from rdv_app.domain.enums import AccessLevel
from rdv_app.domain.labels import BOOKABLE_BY_LABELS
from rdv_app.domain.motif_rules import MotifFields, MotifRuleError
from rdv_app.services import versions
from rdv_app.services.boundary import boundary
from rdv_app.services.errors import DomainError, NotFound, PermissionDenied
from rdv_app.services.organisation import admin_motifs
from rdv_app.services.organisation.admin_motifs import MotifRow, ServiceChoice
from rdv_app.services.rights import require_territorial_admin

NOTHING_CHANGED = "Aucun motif n'a été modifié."
ORGANISATION_NOT_ADMINISTERED = ("Vous n'administrez pas cette organisation : cette page ne gère que les motifs "
                                 "des organisations que vous administrez.")
MOTIF_NOT_ADMINISTERED = ("Ce motif n'appartient pas à une organisation que vous administrez : cette page ne "
                          "gère que leurs motifs.")
_EXCERPT = 80


@dataclass(frozen=True)
class TerritoryInfo:
    id: int
    name: str
    departement_number: str


@dataclass(frozen=True)
class OrganisationChoice:
    id: int
    name: str


@dataclass(frozen=True)
class TerritoryMotifRow:
    organisation_name: str
    motif: MotifRow


@dataclass(frozen=True)
class BulkChange:
    """The attributes to set on every selected motif; None leaves an attribute as each motif has it. An
    empty text clears it."""

    bookable_by: str | None = None
    min_public_booking_delay: int | None = None
    max_public_booking_delay: int | None = None
    default_duration_in_min: int | None = None
    color: str | None = None
    restriction_for_rdv: str | None = None
    instruction_for_rdv: str | None = None

    def chosen(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self) if getattr(self, f.name) is not None}


@dataclass(frozen=True)
class FieldChange:
    label: str
    before: str
    after: str


@dataclass(frozen=True)
class MotifPreview:
    motif_id: int
    organisation_name: str
    motif_name: str
    changes: tuple[FieldChange, ...]
    error: str | None  # the rule this motif would break


@dataclass(frozen=True)
class BulkPreview:
    motifs: tuple[MotifPreview, ...]
    version: str  # of the motifs as previewed: what "Appliquer" gives back (rdv_app.services.versions)

    @property
    def changed(self) -> tuple[MotifPreview, ...]:
        return tuple(m for m in self.motifs if m.changes and m.error is None)

    @property
    def unchanged(self) -> tuple[MotifPreview, ...]:
        return tuple(m for m in self.motifs if not m.changes and m.error is None)

    @property
    def failing(self) -> tuple[MotifPreview, ...]:
        return tuple(m for m in self.motifs if m.error is not None)


_LABELS = {
    "bookable_by": "Qui peut réserver",
    "min_public_booking_delay": "Délai minimum de réservation",
    "max_public_booking_delay": "Délai maximum de réservation",
    "default_duration_in_min": "Durée par défaut",
    "color": "Couleur",
    "restriction_for_rdv": "Conditions à accepter avant la réservation",
    "instruction_for_rdv": "Instructions après la prise de RDV",
}


# --------------------------------------------------------------------------- use cases


@boundary
def territory_for(uow: UnitOfWork, actor_agent_id: int, organisation_id: int) -> TerritoryInfo:
    """The territory of the organisation shown, when the actor is a territorial admin of it."""
    territory = uow.session.exec(
        select(Territory).join(Organisation, col(Organisation.territory_id) == Territory.id)
        .where(Organisation.id == organisation_id)
    ).first()
    if territory is None:
        raise NotFound("Cette organisation n'existe pas.")
    require_territorial_admin(uow, actor_agent_id, require_id(territory))
    return TerritoryInfo(id=require_id(territory), name=territory.name,
                         departement_number=territory.departement_number)


@boundary
def organisation_choices(uow: UnitOfWork, actor_agent_id: int, territory_id: int) -> list[OrganisationChoice]:
    """The organisations of the territory the actor administers, the only ones the page covers, by name."""
    require_territorial_admin(uow, actor_agent_id, territory_id)
    return [OrganisationChoice(id=i, name=n) for i, n in _administered(uow, actor_agent_id, territory_id).items()]


@boundary
def service_choices(uow: UnitOfWork, actor_agent_id: int, territory_id: int) -> list[ServiceChoice]:
    require_territorial_admin(uow, actor_agent_id, territory_id)
    return admin_motifs.territory_services(uow, territory_id)


@boundary
def list_territory_motifs(uow: UnitOfWork, actor_agent_id: int, territory_id: int, *,
                          organisation_id: int | None = None, service_id: int | None = None,
                          location_type: str | None = None, open_online: bool | None = None,
                          name_contains: str = "") -> list[TerritoryMotifRow]:
    """The active motifs of the organisations of the territory the actor administers, by organisation then
    name."""
    require_territorial_admin(uow, actor_agent_id, territory_id)
    organisations = _administered(uow, actor_agent_id, territory_id)
    if organisation_id is not None and organisation_id not in organisations:
        raise PermissionDenied(ORGANISATION_NOT_ADMINISTERED)
    chosen = [organisation_id] if organisation_id is not None else list(organisations)
    rows = admin_motifs.motif_rows(uow, chosen, service_id=service_id, location_type=location_type,
                                   open_online=open_online)
    wanted = admin_motifs.folded(name_contains)
    order = {org_id: index for index, org_id in enumerate(organisations)}
    return [TerritoryMotifRow(organisation_name=organisations[row.organisation_id], motif=row)
            for row in sorted(rows, key=lambda r: order[r.organisation_id])
            if wanted in admin_motifs.folded(row.name)]


@boundary
def preview_bulk_change(uow: UnitOfWork, actor_agent_id: int, territory_id: int, motif_ids: Collection[int],
                        change: BulkChange) -> BulkPreview:
    """What the change would do to each selected motif; nothing is written."""
    require_territorial_admin(uow, actor_agent_id, territory_id)
    planned = _planned(uow, actor_agent_id, territory_id, motif_ids, change)
    return BulkPreview(tuple(preview for preview, _, _ in planned),
                       versions.version_of(_values_of(motif for _, motif, _ in planned)))


@boundary
def apply_bulk_change(uow: UnitOfWork, actor_agent_id: int, territory_id: int, motif_ids: Collection[int],
                      change: BulkChange, *, expected_version: str | None = None) -> int:
    """Applies the change to every selected motif, or to none; returns how many motifs changed. "Appliquer"
    gives the `expected_version` of its preview (`BulkPreview.version`): if a motif changed since, the preview
    no longer tells what the change does, and nothing is applied."""
    require_territorial_admin(uow, actor_agent_id, territory_id)
    administered = list(_administered(uow, actor_agent_id, territory_id))
    for motif in uow.session.exec(select(Motif).where(col(Motif.id).in_(set(motif_ids)),
                                                      col(Motif.organisation_id).in_(administered))).all():
        versions.lock(uow, motif)
    planned = _planned(uow, actor_agent_id, territory_id, motif_ids, change)
    versions.check_version(expected_version, _values_of(motif for _, motif, _ in planned))
    failing = [preview for preview, _, _ in planned if preview.error is not None]
    if failing:
        first = failing[0]
        others = f" ({len(failing) - 1} autre(s) motif(s) aussi en erreur.)" if len(failing) > 1 else ""
        raise DomainError(f"Le motif « {first.motif_name} » ({first.organisation_name}) ne peut pas recevoir ce "
                          f"changement : {first.error}{others} {NOTHING_CHANGED}", "motif_ids")
    changed = 0
    for preview, motif, data in planned:
        if preview.changes:
            admin_motifs.change_motif(uow, motif, data, actor_agent_id, "bulk_update")
            changed += 1
    uow.commit()
    return changed


@boundary
def create_in_organisations(uow: UnitOfWork, actor_agent_id: int, territory_id: int,
                            organisation_ids: Collection[int], data: MotifFields) -> list[int]:
    """One motif with these fields in each of these organisations (all administered by the actor), or in
    none; returns their ids."""
    require_territorial_admin(uow, actor_agent_id, territory_id)
    organisations = _administered(uow, actor_agent_id, territory_id)
    if not organisation_ids:
        raise DomainError("Choisissez au moins une organisation.", "organisation_ids")
    if not set(organisation_ids) <= set(organisations):
        raise PermissionDenied(ORGANISATION_NOT_ADMINISTERED)
    checked = []
    for organisation_id in sorted(organisation_ids, key=list(organisations).index):
        try:
            checked.append((organisation_id, admin_motifs.validated(uow, organisation_id, data)))
        except DomainError as exc:
            if exc.field != "name" or len(organisation_ids) == 1:
                raise
            raise DomainError(f"{organisations[organisation_id]} : {exc.message} Aucun motif n'a été créé.",
                              "name") from exc
    ids = [require_id(admin_motifs.add_motif(uow, organisation_id, fields_, actor_agent_id, "create"))
           for organisation_id, fields_ in checked]
    uow.commit()
    return ids


# --------------------------------------------------------------------------- helpers


def _administered(uow: UnitOfWork, actor_agent_id: int, territory_id: int) -> dict[int, str]:
    """The organisations of the territory where the actor holds an admin role, by name."""
    rows = uow.session.exec(
        select(not_null(Organisation.id), Organisation.name)
        .join(AgentRole, col(AgentRole.organisation_id) == Organisation.id)
        .where(Organisation.territory_id == territory_id, AgentRole.agent_id == actor_agent_id,
               AgentRole.access_level == AccessLevel.ADMIN.value)
    ).all()
    return dict(sorted(rows, key=lambda r: admin_motifs.folded(r[1])))


def _planned(uow: UnitOfWork, actor_agent_id: int, territory_id: int, motif_ids: Collection[int],
             change: BulkChange) -> list[tuple[MotifPreview, Motif, MotifFields]]:
    wanted = set(motif_ids)
    if not wanted:
        raise DomainError("Sélectionnez au moins un motif dans le tableau.", "motif_ids")
    chosen = change.chosen()
    if not chosen:
        raise DomainError("Choisissez au moins un changement à appliquer.", "change")
    organisations = _administered(uow, actor_agent_id, territory_id)
    motifs = uow.session.exec(select(Motif).where(col(Motif.id).in_(wanted))).all()
    if len(motifs) != len(wanted) or any(m.organisation_id not in organisations for m in motifs):
        raise PermissionDenied(MOTIF_NOT_ADMINISTERED)
    archived = next((m for m in motifs if m.deleted_at is not None), None)
    if archived is not None:
        raise DomainError(f"Le motif « {archived.name} » est archivé : retirez-le de la sélection.", "motif_ids")
    order = list(organisations)
    planned = []
    for motif in sorted(motifs, key=lambda m: (order.index(m.organisation_id), admin_motifs.folded(m.name))):
        before = admin_motifs.fields_of(motif)
        after = motif_rules.normalised(replace(before, **chosen))
        error = None
        # A bulk change never touches the name, service, location type or collectif, so the rules that
        # need the database (uniqueness, service, frozen fields) hold as before: the field rules suffice.
        try:
            motif_rules.check(after)
        except MotifRuleError as exc:
            error = exc.message
        changes = tuple(FieldChange(_LABELS[name], _shown(name, getattr(before, name)),
                                    _shown(name, getattr(after, name)))
                        for name in chosen if getattr(before, name) != getattr(after, name))
        planned.append((MotifPreview(motif_id=require_id(motif), organisation_name=organisations[motif.organisation_id],
                                     motif_name=motif.name, changes=changes, error=error), motif, after))
    return planned


def _values_of(motifs: Iterable[Motif]) -> dict[str, object]:
    """The values of the motifs a preview describes."""
    return {str(require_id(m)): admin_motifs.fields_of(m).as_dict() for m in motifs}


def _shown(name: str, value: Any) -> str:
    if value is None or value == "":
        return "(vide)"
    if name == "bookable_by":
        return BOOKABLE_BY_LABELS.get(value, value)
    if name in {"min_public_booking_delay", "max_public_booking_delay"}:
        return motif_rules.describe_delay(value)
    if name == "default_duration_in_min":
        return f"{value} min"
    text = str(value)
    return text if len(text) <= _EXCERPT else f"{text[:_EXCERPT - 1]}…"
