"""The instance's catalogue of services (PMI, Service social, Secrétariat, Mairie...), kept by super admins.

A territory offers some of them (`TerritoryService`); agents belong to one or more; motifs belong to one.
"Secrétariat" widens what its agents see (rdv_app.services.rights).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func
from sqlmodel import col, select

from rdv_app.db.models import Service
from rdv_app.db.rows import require_id
from rdv_app.db.uow import UnitOfWork
from rdv_app.domain.contact import optional_text
from rdv_app.services import audit
from rdv_app.services.boundary import boundary
from rdv_app.services.errors import DomainError
from rdv_app.services.rights import require_super_admin


@dataclass(frozen=True)
class ServiceRow:
    id: int
    name: str
    short_name: str
    is_secretariat: bool


def services(uow: UnitOfWork) -> list[ServiceRow]:
    return [ServiceRow(require_id(s), s.name, s.short_name, s.is_secretariat)
            for s in uow.session.exec(select(Service).order_by(col(Service.name)))]


@boundary
def list_services(uow: UnitOfWork, actor_agent_id: int) -> list[ServiceRow]:
    require_super_admin(uow, actor_agent_id)
    return services(uow)


@boundary
def add_service(uow: UnitOfWork, actor_agent_id: int, name: str, short_name: str, is_secretariat: bool) -> int:
    require_super_admin(uow, actor_agent_id)
    full, short = optional_text(name), optional_text(short_name)
    if full is None:
        raise DomainError("Indiquez le nom du service (par exemple Protection Maternelle Infantile).", field="name")
    if short is None:
        raise DomainError("Indiquez le nom court du service (par exemple PMI).", field="short_name")
    for value, column, field in ((full, Service.name, "name"), (short, Service.short_name, "short_name")):
        if uow.session.exec(select(Service.id).where(func.lower(column) == value.lower())).first() is not None:
            raise DomainError(f"Le service « {value} » existe déjà.", field=field)
    service = Service(name=full, short_name=short, is_secretariat=is_secretariat)
    uow.session.add(service)
    uow.session.flush()
    audit.record(uow.session, action="add_service", entity_type="service", entity_id=require_id(service),
                 actor_agent_id=actor_agent_id,
                 changes={"name": [None, full], "short_name": [None, short], "is_secretariat": [None, is_secretariat]})
    uow.commit()
    return require_id(service)
