"""The teams of a territory ("Équipes", admin-domain.md section 3.3), for the territory of the organisation
shown: create, rename, set the members, delete. A team's only use is the "Équipes" filter of "Trouver un
RDV" (rdv_app.services.availability.creneaux).

Rules: a name is required and unique within the territory (ignoring case and accents); the members are
agents of that territory. Rights: rdv_app.services.rights, `allow_to_manage_teams` (territorial admins
hold it). Team and agent ids are checked to be the territory's here; every change is audited.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

import sqlalchemy as sa
from sqlmodel import col, select

from rdv_app.db.models import Agent, AgentTeam, Team
from rdv_app.db.rows import require_id
from rdv_app.db.uow import UnitOfWork
from rdv_app.domain import names
from rdv_app.services import audit, versions
from rdv_app.services.boundary import boundary
from rdv_app.services.errors import DomainError, NotFound
from rdv_app.services.rights import require_territory_right, territory_agent_ids, territory_of

ENTITY = "team"
TEAM_NOT_FOUND = "Cette équipe n'existe pas dans ce territoire."


@dataclass(frozen=True)
class AgentChoice:
    id: int
    name: str


@dataclass(frozen=True)
class TeamLine:
    team_id: int
    name: str
    member_ids: tuple[int, ...]
    members: str  # names, by name
    version: str  # what the edit form gives back with its save (rdv_app.services.versions)


@dataclass(frozen=True)
class TerritoryTeams:
    teams: tuple[TeamLine, ...]
    agents: tuple[AgentChoice, ...]  # the agents of the territory, who may be members


def _territory(uow: UnitOfWork, actor_agent_id: int, organisation_id: int) -> int:
    territory_id = territory_of(uow, organisation_id)
    require_territory_right(uow, actor_agent_id, territory_id, "allow_to_manage_teams")
    return territory_id


def _agents(uow: UnitOfWork, territory_id: int) -> dict[int, str]:
    agents = uow.session.exec(select(Agent).where(col(Agent.id).in_(territory_agent_ids(uow, territory_id)))).all()
    agents = sorted(agents, key=lambda a: a.sort_key)
    return {require_id(a): names.agent_name(a.first_name, a.last_name) or a.email or "—" for a in agents}


def teams_of_territory(uow: UnitOfWork, territory_id: int) -> list[tuple[Team, list[int]]]:
    """The territory's teams by name, each with its members' ids (no rights check: the caller's)."""
    teams = uow.session.exec(select(Team).where(Team.territory_id == territory_id)).all()
    members: dict[int, list[int]] = {}
    for team_id, agent_id in uow.session.exec(select(AgentTeam.team_id, AgentTeam.agent_id).where(
            col(AgentTeam.team_id).in_([t.id for t in teams]))):
        members.setdefault(team_id, []).append(agent_id)
    return [(team, members.get(require_id(team), []))
            for team in sorted(teams, key=lambda t: names.plain_text(t.name))]


@boundary
def list_teams(uow: UnitOfWork, actor_agent_id: int, organisation_id: int, query: str = "") -> TerritoryTeams:
    """The teams of the territory (those whose name contains `query`, ignoring case and accents)."""
    territory_id = _territory(uow, actor_agent_id, organisation_id)
    agents = _agents(uow, territory_id)
    words = names.plain_text(query).split()
    lines = []
    for team, member_ids in teams_of_territory(uow, territory_id):
        if not all(word in names.plain_text(team.name) for word in words):
            continue
        known = [agent_id for agent_id in agents if agent_id in set(member_ids)]  # by name
        lines.append(TeamLine(require_id(team), team.name, tuple(known), ", ".join(agents[a] for a in known),
                              versions.version_of(_values_of(team, member_ids))))
    return TerritoryTeams(tuple(lines), tuple(AgentChoice(agent_id, name) for agent_id, name in agents.items()))


def _name(uow: UnitOfWork, territory_id: int, name: str, team_id: int | None) -> str:
    cleaned = " ".join(name.split())
    if not cleaned:
        raise DomainError("Indiquez le nom de l'équipe.", field="name")
    others = uow.session.exec(select(Team.name).where(Team.territory_id == territory_id, Team.id != team_id)).all()
    if names.plain_text(cleaned) in {names.plain_text(other) for other in others}:
        raise DomainError(f"Une équipe « {cleaned} » existe déjà dans ce territoire.", field="name")
    return cleaned


def _members(uow: UnitOfWork, territory_id: int, agent_ids: Collection[int]) -> set[int]:
    if not set(agent_ids) <= territory_agent_ids(uow, territory_id):
        raise DomainError("Les membres d'une équipe doivent être des agents du territoire.", field="agent_ids")
    return set(agent_ids)


def _team(uow: UnitOfWork, territory_id: int, team_id: int) -> Team:
    team = uow.session.get(Team, team_id)
    if team is None or team.territory_id != territory_id:
        raise NotFound(TEAM_NOT_FOUND)
    return team


def _current_members(uow: UnitOfWork, team_id: int) -> set[int]:
    return set(uow.session.exec(select(AgentTeam.agent_id).where(AgentTeam.team_id == team_id)))


def _values_of(team: Team, member_ids: Collection[int]) -> dict[str, object]:
    """What the edit form shows of a team."""
    return {"name": team.name, "agent_ids": sorted(member_ids)}


@boundary
def create_team(uow: UnitOfWork, actor_agent_id: int, organisation_id: int, name: str,
                agent_ids: tuple[int, ...] = ()) -> int:
    """A new team of the territory with these members; its id."""
    territory_id = _territory(uow, actor_agent_id, organisation_id)
    cleaned = _name(uow, territory_id, name, None)
    members = _members(uow, territory_id, agent_ids)
    team = Team(territory_id=territory_id, name=cleaned)
    uow.session.add(team)
    uow.session.flush()
    team_id = require_id(team)
    uow.session.add_all([AgentTeam(agent_id=agent_id, team_id=team_id) for agent_id in sorted(members)])
    audit.record(uow.session, action="create", entity_type=ENTITY, entity_id=team_id, organisation_id=organisation_id,
                 actor_agent_id=actor_agent_id, changes={"name": [None, cleaned], "agent_ids": [[], sorted(members)]})
    uow.commit()
    return team_id


@boundary
def update_team(uow: UnitOfWork, actor_agent_id: int, organisation_id: int, team_id: int, name: str,
                agent_ids: tuple[int, ...], *, expected_version: str | None = None) -> str:
    """Renames the team and sets its members; the French notice. The edit form gives the `expected_version`
    it loaded (`TeamLine.version`): a team changed since is not saved."""
    territory_id = _territory(uow, actor_agent_id, organisation_id)
    team = _team(uow, territory_id, team_id)
    versions.lock(uow, team)
    before = _values_of(team, _current_members(uow, team_id))
    versions.check_version(expected_version, before)
    cleaned = _name(uow, territory_id, name, team_id)
    members = _members(uow, territory_id, agent_ids)
    after = {"name": cleaned, "agent_ids": sorted(members)}
    if before == after:
        return "Aucun changement."
    team.name = cleaned
    uow.session.add(team)
    uow.session.exec(sa.delete(AgentTeam).where(col(AgentTeam.team_id) == team_id))
    uow.session.add_all([AgentTeam(agent_id=agent_id, team_id=team_id) for agent_id in sorted(members)])
    audit.record(uow.session, action="update", entity_type=ENTITY, entity_id=team_id, organisation_id=organisation_id,
                 actor_agent_id=actor_agent_id, changes=audit.diff(before, after))
    uow.commit()
    return f"L'équipe « {cleaned} » a été modifiée."


@boundary
def rename_team(uow: UnitOfWork, actor_agent_id: int, organisation_id: int, team_id: int, name: str) -> str:
    territory_id = _territory(uow, actor_agent_id, organisation_id)
    members = tuple(sorted(_current_members(uow, require_id(_team(uow, territory_id, team_id)))))
    return update_team(uow, actor_agent_id, organisation_id, team_id, name, members)


@boundary
def set_team_members(uow: UnitOfWork, actor_agent_id: int, organisation_id: int, team_id: int,
                     agent_ids: tuple[int, ...]) -> str:
    territory_id = _territory(uow, actor_agent_id, organisation_id)
    team = _team(uow, territory_id, team_id)
    return update_team(uow, actor_agent_id, organisation_id, team_id, team.name, agent_ids)


@boundary
def delete_team(uow: UnitOfWork, actor_agent_id: int, organisation_id: int, team_id: int) -> str:
    territory_id = _territory(uow, actor_agent_id, organisation_id)
    team = _team(uow, territory_id, team_id)
    members = sorted(_current_members(uow, team_id))
    name = team.name
    uow.session.exec(sa.delete(AgentTeam).where(col(AgentTeam.team_id) == team_id))
    uow.session.delete(team)
    audit.record(uow.session, action="delete", entity_type=ENTITY, entity_id=team_id, organisation_id=organisation_id,
                 actor_agent_id=actor_agent_id, changes={"name": [name, None], "agent_ids": [members, []]})
    uow.commit()
    return f"L'équipe « {name} » a été supprimée."
