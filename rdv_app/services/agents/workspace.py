"""What an agent sees on the workspace home."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import col, select

from rdv_app.db.models import (
    AgentRole,
    Lieu,
    Motif,
    Organisation,
    Participation,
    Rdv,
    RdvAgent,
    Territory,
    Usager,
)
from rdv_app.db.rows import require_id
from rdv_app.db.uow import UnitOfWork
from rdv_app.domain import clock, datefmt
from rdv_app.domain.enums import CANCELLED_STATUSES, AccessLevel, LocationType, RdvStatus
from rdv_app.domain.labels import ACCESS_LEVEL_LABELS, LOCATION_TYPE_LABELS, RDV_STATUS_LABELS
from rdv_app.services.boundary import boundary
from rdv_app.services.rights import agent_scope


@dataclass(frozen=True)
class UpcomingRdv:
    rdv_id: int
    day: str
    time: str
    motif: str
    lieu: str
    usagers: str
    status: str


@boundary
def upcoming_rdvs(uow: UnitOfWork, agent_id: int, organisation_id: int, now: datetime | None = None,
                  limit: int = 10) -> list[UpcomingRdv]:
    """The agent's next non-cancelled RDVs in one of their organisations, in its time zone."""
    agent_scope(uow, agent_id, organisation_id)
    now = now or clock.now()
    organisation = uow.session.get(Organisation, organisation_id)
    assert organisation is not None
    rows = uow.session.exec(
        select(Rdv, Motif.name, Motif.location_type, Lieu.name)
        .join(RdvAgent, col(RdvAgent.rdv_id) == Rdv.id)
        .join(Motif, col(Motif.id) == Rdv.motif_id)
        .outerjoin(Lieu, col(Lieu.id) == Rdv.lieu_id)
        .where(RdvAgent.agent_id == agent_id, Rdv.organisation_id == organisation_id, Rdv.ends_at > now,
               col(Rdv.status).not_in([s.value for s in CANCELLED_STATUSES]))
        .order_by(col(Rdv.starts_at))
        .limit(limit)
    ).all()
    rdv_ids = [row[0].id for row in rows]
    names: dict[int, list[str]] = {}
    for rdv_id, first, last in uow.session.exec(
        select(Participation.rdv_id, Usager.first_name, Usager.last_name)
        .join(Usager, col(Usager.id) == Participation.usager_id)
        .where(col(Participation.rdv_id).in_(rdv_ids))
        .order_by(Usager.last_name)
    ).all():
        names.setdefault(rdv_id, []).append(f"{first} {last.upper()}")
    result = []
    for rdv, motif_name, location_type, lieu_name in rows:
        moment = datefmt.local(rdv.starts_at, organisation.time_zone)
        result.append(UpcomingRdv(
            rdv_id=require_id(rdv),
            day=datefmt.long_date(moment.date()),
            time=datefmt.hour(moment),
            motif=motif_name,
            lieu=lieu_name or LOCATION_TYPE_LABELS[LocationType(location_type)],
            usagers=", ".join(names.get(require_id(rdv), [])) or (rdv.name or "—"),
            status=RDV_STATUS_LABELS[RdvStatus(rdv.status)],
        ))
    return result


@dataclass(frozen=True)
class OrganisationChoice:
    organisation_id: int
    name: str
    level: str  # "Administrateur", "Agent"...
    is_admin: bool


@dataclass(frozen=True)
class TerritoryGroup:
    territory: str  # "62 Pas-de-Calais"
    organisations: tuple[OrganisationChoice, ...]


@boundary
def organisation_choices(uow: UnitOfWork, agent_id: int) -> list[TerritoryGroup]:
    """The agent's organisations, grouped by territory (by number), by name within each."""
    every = uow.session.exec(select(Territory)).all()
    territories = {require_id(t): f"{t.departement_number} {t.name}" for t in every}
    numbers = {require_id(t): t.departement_number for t in every}
    rows = sorted(uow.session.exec(
        select(AgentRole.organisation_id, Organisation.name, AgentRole.access_level, Organisation.territory_id)
        .join(Organisation, col(Organisation.id) == AgentRole.organisation_id)
        .where(AgentRole.agent_id == agent_id)
    ).all(), key=lambda row: (numbers[row[3]], row[1]))
    groups: dict[str, list[OrganisationChoice]] = {}
    for organisation_id, name, level, territory_id in rows:
        groups.setdefault(territories[territory_id], []).append(OrganisationChoice(
            organisation_id, name, ACCESS_LEVEL_LABELS[AccessLevel(level)], level == AccessLevel.ADMIN))
    return [TerritoryGroup(territory, tuple(choices)) for territory, choices in groups.items()]
