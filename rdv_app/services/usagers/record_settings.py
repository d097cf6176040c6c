""""Fiches usagers" of the Espace Admin (admin-domain.md 1.2): which optional fields the records of the
territory show. Territorial admins of the territory of the organisation shown only; each change is
audited. Hiding a field never deletes what the records hold: shown again, it is there again."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields

from rdv_app.db.models import Territory
from rdv_app.db.uow import UnitOfWork
from rdv_app.services import audit
from rdv_app.services.boundary import boundary
from rdv_app.services.rights import require_territorial_admin, territory_of
from rdv_app.services.usagers.usager_form import RecordToggles


@dataclass(frozen=True)
class RecordSettings:
    territory_name: str  # "Pas-de-Calais (62)"
    toggles: RecordToggles


def _territory(uow: UnitOfWork, actor_agent_id: int, organisation_id: int) -> Territory:
    territory_id = territory_of(uow, organisation_id)
    require_territorial_admin(uow, actor_agent_id, territory_id)
    territory = uow.session.get(Territory, territory_id)
    assert territory is not None, "territory_of found it"
    return territory


def _settings(territory: Territory) -> RecordSettings:
    toggles = RecordToggles(**{f.name: getattr(territory, f.name) for f in fields(RecordToggles)})
    return RecordSettings(f"{territory.name} ({territory.departement_number})", toggles)


@boundary
def record_settings(uow: UnitOfWork, actor_agent_id: int, organisation_id: int) -> RecordSettings:
    """The toggles of the territory of the organisation shown."""
    return _settings(_territory(uow, actor_agent_id, organisation_id))


@boundary
def update_record_settings(uow: UnitOfWork, actor_agent_id: int, organisation_id: int,
                           toggles: RecordToggles) -> RecordSettings:
    territory = _territory(uow, actor_agent_id, organisation_id)
    before = asdict(_settings(territory).toggles)
    changes = audit.diff(before, asdict(toggles))
    if changes:
        for name, value in asdict(toggles).items():
            setattr(territory, name, value)
        audit.record(uow.session, action="usager_fields_updated", entity_type="territory",
                     entity_id=territory.id or 0, changes=changes, organisation_id=organisation_id,
                     actor_agent_id=actor_agent_id)
        uow.commit()
    return _settings(territory)
