"""Who may do what: the one rights module every agent-facing service checks through (domain.md section 8,
admin-domain.md section 3).

Roles, from the narrowest:
- an organisation role per agent and organisation: intervenant (no account, cannot sign in), basic agent,
  administrator (`agent_scope`, `require_admin`);
- "Secrétariat" is a service, not a role: it widens what a basic agent sees, never what they may configure;
- territorial admin of a territory (`require_territorial_admin`): its motifs across organisations, and
  creating its organisations; it does not make anyone admin of an organisation (that is a role there);
  every territory keeps one (`check_territories_keep_an_admin`), as every organisation keeps an admin;
- territory access rights (`territory_rights`, `require_territory_right`), the "Espace Admin" of a
  territory (admin-domain.md section 3), see below;
- super admin of the instance (`require_super_admin`): territories, the services catalogue, and opening a
  territory with its first admin; it grants nothing inside an organisation.
Where RDV Service Public's flags overlap, the rule is: a right comes from the role named for it and from
nothing else (no right is inferred from another), with one exception: a territorial admin holds the three
territory access rights of their territory.

The territory pages ("Agents du territoire", "Équipes"), for the territory of the organisation shown:
- a territorial admin of the territory may do everything on them;
- an agent of the territory (a role in one of its organisations, account not closed) may do what their
  access-right row of that territory allows, and only that:
  - `allow_to_invite_agents`: invite an agent at the territory level, into the organisations of the
    territory where they hold a role themselves, at the basic level; at the administrator level only into
    those they administer;
  - `allow_to_manage_access_rights`: assign the services of the agents of the territory and tick their
    three access rights, but never their own rights (a territorial admin may);
  - `allow_to_manage_teams`: create, rename, delete the teams of the territory and set their members;
- any one of the three (or territorial admin) opens "Agents du territoire" (the list and the search);
- naming or removing a territorial admin: territorial admins of that territory only; a territory always
  keeps at least one.
Every target (agent, team, organisation) is checked to belong to that territory by the service itself.

Prescription ("Élargir la recherche", admin-domain.md section 10): an agent of an organisation books, for
an usager followed in the territory, the motifs open to prescripteurs of every organisation of the same
territory (their own included); a basic agent who is not a secrétaire only those of their services
(`prescription_motifs`, `prescribable_motif`, `prescription_usager`). It gives no right on the RDV booked
in another organisation.

What an agent sees in one organisation:
- admins and secrétaires (agents with the Secrétariat service) see every agent and every motif of the
  organisation;
- basic agents (and intervenants) see the agents who share one of their services, and the motifs of
  their services.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import aliased
from sqlmodel import col, func, select

from rdv_app.config import settings
from rdv_app.db.models import (
    Agent,
    AgentInvitation,
    AgentRole,
    AgentService,
    AgentTerritorialAccessRight,
    AgentTerritorialRole,
    Motif,
    Organisation,
    Rdv,
    RdvAgent,
    Service,
    Territory,
    Usager,
    UsagerProfile,
)
from rdv_app.db.rows import not_null, require_id
from rdv_app.db.uow import UnitOfWork
from rdv_app.domain.enums import AccessLevel
from rdv_app.domain.motif_rules import PRESCRIPTION_BOOKABLE
from rdv_app.services.errors import DomainError, NotFound, PermissionDenied


@dataclass(frozen=True)
class AgentScope:
    agent_id: int
    organisation_id: int
    access_level: str
    service_ids: frozenset[int]
    is_secretary: bool

    @property
    def sees_whole_organisation(self) -> bool:
        return self.access_level == AccessLevel.ADMIN or self.is_secretary


def agent_scope(uow: UnitOfWork, agent_id: int, organisation_id: int) -> AgentScope:
    """The agent's rights in the organisation; PermissionDenied without a role there."""
    role = uow.session.exec(select(AgentRole.access_level).where(
        AgentRole.agent_id == agent_id, AgentRole.organisation_id == organisation_id)).first()
    if role is None:
        raise PermissionDenied("Vous n'appartenez pas à cette organisation.")
    services = uow.session.exec(
        select(not_null(Service.id), Service.is_secretariat)
        .join(AgentService, col(AgentService.service_id) == Service.id)
        .where(AgentService.agent_id == agent_id)
    ).all()
    return AgentScope(agent_id=agent_id, organisation_id=organisation_id, access_level=role,
                      service_ids=frozenset(service_id for service_id, _ in services),
                      is_secretary=any(is_secretariat for _, is_secretariat in services))


def visible_agent_ids(uow: UnitOfWork, scope: AgentScope) -> set[int]:
    """Agents of the organisation whose agenda and slots this agent may see (always including themself).
    An agent invited who has not activated the account yet is not one of them (admin-domain.md 4.6): no
    agenda, no slots, no RDV until they have; intervenants, who are never invited, are."""
    return set(visible_agents(uow, scope))


def visible_agents(uow: UnitOfWork, scope: AgentScope) -> dict[int, tuple[str | None, str]]:
    """`visible_agent_ids` with each agent's first and last names, in one query."""
    invited = select(AgentInvitation.id).where(AgentInvitation.agent_id == Agent.id).exists()
    others = sa.and_(col(Agent.deleted_at).is_(None), col(Agent.password_hash).is_not(None) | ~invited)
    if not scope.sees_whole_organisation:
        colleagues = select(AgentService.agent_id).where(col(AgentService.service_id).in_(scope.service_ids))
        others = sa.and_(others, col(AgentRole.agent_id).in_(colleagues))
    rows = uow.session.exec(select(AgentRole.agent_id, Agent.first_name, Agent.last_name)
                            .join(Agent, col(Agent.id) == AgentRole.agent_id)
                            .where(AgentRole.organisation_id == scope.organisation_id,
                                   sa.or_(col(AgentRole.agent_id) == scope.agent_id, others))).all()
    return {agent_id: (first_name, last_name) for agent_id, first_name, last_name in rows}


def visible_motifs(uow: UnitOfWork, scope: AgentScope) -> list[Motif]:
    """Active motifs of the organisation this agent may use, by name."""
    query = select(Motif).where(Motif.organisation_id == scope.organisation_id, col(Motif.deleted_at).is_(None))
    if not scope.sees_whole_organisation:
        query = query.where(col(Motif.service_id).in_(scope.service_ids))
    return list(uow.session.exec(query.order_by(Motif.name)).all())


def sees_rdv(scope: AgentScope, motif_service_id: int, rdv_agent_ids: Collection[int]) -> bool:
    """Whether the agent may follow an RDV of the organisation (domain.md section 8): admins and secrétaires
    all of them, a basic agent those they are on and those of their services' motifs."""
    return (scope.sees_whole_organisation or scope.agent_id in rdv_agent_ids
            or motif_service_id in scope.service_ids)


def visible_rdvs(scope: AgentScope) -> sa.ColumnElement[bool]:
    """`sees_rdv` in SQL, for a query on `Rdv` joined to its `Motif`."""
    in_organisation = col(Rdv.organisation_id) == scope.organisation_id
    if scope.sees_whole_organisation:
        return in_organisation
    on_it = select(RdvAgent.agent_id).where(RdvAgent.rdv_id == Rdv.id, RdvAgent.agent_id == scope.agent_id).exists()
    return sa.and_(in_organisation, sa.or_(col(Motif.service_id).in_(scope.service_ids), on_it))


def visible_rdvs_alone(uow: UnitOfWork, scope: AgentScope, *, row_by_row: bool = False) -> sa.ColumnElement[bool]:
    """`sees_rdv` in SQL on `Rdv` alone, without the join to its motif: a basic agent's services are read
    first as the motifs of the organisation they cover, so that long lists and their counts ("Liste des
    RDV", its exports) run on the RDV's own indexes. The RDVs the agent is on are read once, for queries
    over all the RDVs (statistics); `row_by_row`, they are looked up for each RDV of another service, for
    queries that stop early (a page of the list, a capped count): see `agent_is_on`."""
    in_organisation = col(Rdv.organisation_id) == scope.organisation_id
    if scope.sees_whole_organisation:
        return in_organisation
    motif_ids = uow.session.exec(select(not_null(Motif.id)).where(
        Motif.organisation_id == scope.organisation_id, col(Motif.service_id).in_(scope.service_ids))).all()
    on_it = agent_is_on(scope.agent_id) if row_by_row else col(Rdv.id).in_(
        select(RdvAgent.rdv_id).where(RdvAgent.agent_id == scope.agent_id))
    return sa.and_(in_organisation, sa.or_(col(Rdv.motif_id).in_(motif_ids), on_it))


def agent_is_on(agent_id: int) -> sa.ColumnElement[bool]:
    """The agent is on the RDV, looked up for this RDV on the index rdv_agent (agent_id, rdv_id). A count
    rather than EXISTS or IN, which both databases turn into reading all the agent's RDVs first (36,000 in
    the benchmark) when a page needs a few dozen."""
    return select(func.count()).select_from(RdvAgent).where(
        RdvAgent.agent_id == agent_id, col(RdvAgent.rdv_id) == Rdv.id).correlate(Rdv).scalar_subquery() > 0


def selected_agents(uow: UnitOfWork, scope: AgentScope, agent_ids: Collection[int] | None) -> set[int]:
    """The agents a list covers: `agent_ids` if the actor may see them all, else everyone they see."""
    visible = visible_agent_ids(uow, scope)
    if agent_ids:
        if not set(agent_ids) <= visible:
            raise PermissionDenied("Vous ne pouvez pas consulter le planning de cet agent.")
        return set(agent_ids)
    return visible


def usager_organisations(uow: UnitOfWork, scope: AgentScope) -> frozenset[int]:
    """The organisations whose usagers an agent of `scope.organisation_id` sees in full (and may edit,
    merge): that organisation, and every organisation of its territory when the territory makes usagers
    visible throughout (domain.md section 8)."""
    territory_id, wide = uow.session.exec(
        select(Territory.id, Territory.visible_users_throughout_the_territory)
        .join(Organisation, col(Organisation.territory_id) == Territory.id)
        .where(Organisation.id == scope.organisation_id)).one()
    if not wide:
        return frozenset({scope.organisation_id})
    return frozenset(uow.session.exec(select(not_null(Organisation.id)).where(
        Organisation.territory_id == territory_id)).all())


def visible_usagers(uow: UnitOfWork, scope: AgentScope, usager_ids: Collection[int]) -> dict[int, Usager]:
    """These usagers, if the agent sees each of them in full (`usager_organisations`) and none is deleted;
    NotFound otherwise, which says no more about an usager of another organisation than about an id that
    does not exist."""
    ids = set(usager_ids)
    organisations = usager_organisations(uow, scope)
    followed = select(UsagerProfile.usager_id).where(col(UsagerProfile.organisation_id).in_(organisations))
    found = {require_id(usager): usager for usager in uow.session.exec(select(Usager).where(
        col(Usager.id).in_(ids), col(Usager.deleted_at).is_(None), col(Usager.id).in_(followed))).all()}
    if set(found) != ids:
        raise NotFound("Cet usager n'existe pas ou n'est pas suivi par votre organisation.")
    return found


def require_admin(uow: UnitOfWork, agent_id: int, organisation_id: int) -> AgentScope:
    """The scope of an admin of the organisation; PermissionDenied for any other role."""
    scope = agent_scope(uow, agent_id, organisation_id)
    if scope.access_level != AccessLevel.ADMIN:
        raise PermissionDenied("Cette page est réservée aux administrateurs de l'organisation.")
    return scope


def require_super_admin(uow: UnitOfWork, agent_id: int) -> None:
    """The instance's operators (`python -m rdv_app.cli bootstrap` and those they invite)."""
    agent = uow.session.get(Agent, agent_id)
    if agent is None or not agent.super_admin or agent.deleted_at is not None:
        raise PermissionDenied("Cette page est réservée aux super administrateurs de l'instance.")


def require_territorial_admin(uow: UnitOfWork, agent_id: int, territory_id: int) -> None:
    is_admin = uow.session.exec(select(AgentTerritorialRole.id).where(
        AgentTerritorialRole.agent_id == agent_id, AgentTerritorialRole.territory_id == territory_id)).first()
    if is_admin is None:
        raise PermissionDenied("Cette page est réservée aux administrateurs du territoire.")


TERRITORY_RIGHTS = ("allow_to_manage_teams", "allow_to_manage_access_rights", "allow_to_invite_agents")
TERRITORY_RIGHT_REFUSALS = {
    "allow_to_manage_teams": "La gestion des équipes est réservée aux administrateurs du territoire et aux agents "
                             "autorisés à créer, supprimer, modifier des équipes.",
    "allow_to_manage_access_rights": "La gestion des droits d'accès et des services des agents est réservée aux "
                                     "administrateurs du territoire et aux agents autorisés à gérer les droits "
                                     "d'accès.",
    "allow_to_invite_agents": "L'invitation d'agents sur le territoire est réservée aux administrateurs du "
                              "territoire et aux agents autorisés à inviter et affecter des agents.",
}


@dataclass(frozen=True)
class TerritoryRights:
    """What an agent may do on the territory pages of one territory (see the module's docstring)."""

    agent_id: int
    territory_id: int
    is_territorial_admin: bool
    allow_to_manage_teams: bool
    allow_to_manage_access_rights: bool
    allow_to_invite_agents: bool

    @property
    def sees_territory_agents(self) -> bool:
        return self.is_territorial_admin or any(getattr(self, right) for right in TERRITORY_RIGHTS)


def territory_of(uow: UnitOfWork, organisation_id: int) -> int:
    """The territory of an organisation; PermissionDenied for an unknown one."""
    territory_id = uow.session.exec(select(Organisation.territory_id).where(Organisation.id == organisation_id)).first()
    if territory_id is None:
        raise PermissionDenied("Cette organisation n'existe pas.")
    return territory_id


def territory_agent_ids(uow: UnitOfWork, territory_id: int) -> set[int]:
    """The agents of a territory: accounts not closed with a role in one of its organisations, and its
    territorial admins."""
    organisations = select(Organisation.id).where(Organisation.territory_id == territory_id)
    members = select(AgentRole.agent_id).where(col(AgentRole.organisation_id).in_(organisations))
    admins = select(AgentTerritorialRole.agent_id).where(AgentTerritorialRole.territory_id == territory_id)
    return set(uow.session.exec(select(not_null(Agent.id)).where(
        col(Agent.deleted_at).is_(None), col(Agent.id).in_(members) | col(Agent.id).in_(admins))).all())


def territory_rights(uow: UnitOfWork, agent_id: int, territory_id: int) -> TerritoryRights:
    """The agent's rights on the territory pages of the territory (all False for an agent outside it)."""
    is_admin = uow.session.exec(select(AgentTerritorialRole.id).where(
        AgentTerritorialRole.agent_id == agent_id, AgentTerritorialRole.territory_id == territory_id)).first()
    if agent_id not in territory_agent_ids(uow, territory_id):
        return TerritoryRights(agent_id, territory_id, False, False, False, False)
    row = uow.session.exec(select(AgentTerritorialAccessRight).where(
        AgentTerritorialAccessRight.agent_id == agent_id,
        AgentTerritorialAccessRight.territory_id == territory_id)).first()
    admin = is_admin is not None
    granted = {right: admin or bool(row is not None and getattr(row, right)) for right in TERRITORY_RIGHTS}
    return TerritoryRights(agent_id, territory_id, admin, **granted)


def require_territory_right(uow: UnitOfWork, agent_id: int, territory_id: int, right: str | None) -> TerritoryRights:
    """The agent's territory rights, if they hold `right` (one of TERRITORY_RIGHTS; None: any of them, to
    see the territory's agents); PermissionDenied otherwise."""
    rights = territory_rights(uow, agent_id, territory_id)
    if right is None:
        if not rights.sees_territory_agents:
            raise PermissionDenied("Cette page est réservée aux administrateurs du territoire et aux agents ayant "
                                   "un droit d'accès sur le territoire.")
    elif not getattr(rights, right):
        raise PermissionDenied(TERRITORY_RIGHT_REFUSALS[right])
    return rights


def check_territories_keep_an_admin(uow: UnitOfWork, agent_id: int, name: str) -> None:
    """Every territory keeps at least one territorial admin (admin-domain.md 3.1): DomainError when the
    agent `name` is the only one of a territory, before anything takes that role away (their account
    closing with their last organisation, for one)."""
    other = aliased(AgentTerritorialRole)
    someone_else = (select(other.id).join(Agent, col(Agent.id) == other.agent_id)
                    .where(other.territory_id == AgentTerritorialRole.territory_id, other.agent_id != agent_id,
                           col(Agent.deleted_at).is_(None)).exists())
    alone = uow.session.exec(
        select(Territory.departement_number, Territory.name)
        .join(AgentTerritorialRole, col(AgentTerritorialRole.territory_id) == Territory.id)
        .where(AgentTerritorialRole.agent_id == agent_id, ~someone_else)
        .order_by(col(Territory.departement_number))).first()
    if alone is not None:
        raise DomainError(f"{name} est le seul administrateur du territoire {alone[0]} {alone[1]} : il doit "
                          "toujours y en avoir au moins un. Nommez-en un autre avant.")


def mfa_required_for(uow: UnitOfWork, agent_id: int) -> bool:
    """Whether this agent must sign in with a second factor: a super admin always (they open territories
    and invite their admins); with RDV_MFA_REQUIRED=1, every admin (of an organisation or of a territory)
    too. An agent who has set one up uses it whatever this says."""
    agent = uow.session.get(Agent, agent_id)
    if agent is not None and agent.super_admin:
        return True
    if not settings.mfa_required:
        return False
    admin_somewhere = uow.session.exec(select(AgentRole.id).where(
        AgentRole.agent_id == agent_id, AgentRole.access_level == AccessLevel.ADMIN)).first()
    territorial = uow.session.exec(select(AgentTerritorialRole.id).where(
        AgentTerritorialRole.agent_id == agent_id)).first()
    return admin_somewhere is not None or territorial is not None


def prescription_motifs(uow: UnitOfWork, scope: AgentScope) -> sa.ColumnElement[bool]:
    """The motifs the agent may book by prescription, as a condition on `Motif`: active, open to
    prescripteurs, in an organisation of the territory of `scope.organisation_id` (the territory decides,
    not the département number), of the agent's services unless they see their whole organisation."""
    territory_id = territory_of(uow, scope.organisation_id)
    condition = sa.and_(
        col(Motif.organisation_id).in_(select(Organisation.id).where(Organisation.territory_id == territory_id)),
        col(Motif.bookable_by).in_(PRESCRIPTION_BOOKABLE), col(Motif.deleted_at).is_(None))
    if not scope.sees_whole_organisation:
        condition = sa.and_(condition, col(Motif.service_id).in_(scope.service_ids))
    return condition


def prescribable_motif(uow: UnitOfWork, scope: AgentScope, motif_id: int) -> Motif:
    """One motif the agent may book by prescription; NotFound otherwise (it says nothing of a motif the
    agent may not use)."""
    motif = uow.session.exec(select(Motif).where(Motif.id == motif_id, prescription_motifs(uow, scope))).first()
    if motif is None:
        raise NotFound("Ce motif n'est pas ouvert aux prescripteurs de votre territoire.")
    return motif


def prescription_usagers(uow: UnitOfWork, scope: AgentScope) -> sa.ColumnElement[bool]:
    """The usagers an agent may book for by prescription, as a condition on `Usager`: not deleted, followed
    by an organisation of the territory."""
    territory_id = territory_of(uow, scope.organisation_id)
    followed = (select(UsagerProfile.usager_id)
                .join(Organisation, col(Organisation.id) == UsagerProfile.organisation_id)
                .where(Organisation.territory_id == territory_id))
    return sa.and_(col(Usager.deleted_at).is_(None), col(Usager.id).in_(followed))


def prescription_usager(uow: UnitOfWork, scope: AgentScope, usager_id: int) -> Usager:
    """One usager the agent may book for by prescription; NotFound for any other."""
    usager = uow.session.exec(select(Usager).where(Usager.id == usager_id, prescription_usagers(uow, scope))).first()
    if usager is None:
        raise NotFound("Cet usager n'est pas suivi dans votre territoire.")
    return usager
def own_account(uow: UnitOfWork, agent_id: int) -> Agent:
    """The signed-in agent's own account ("Mon compte"): only theirs, and only while it is active."""
    agent = uow.session.get(Agent, agent_id)
    if agent is None or agent.deleted_at is not None:
        raise NotFound("Compte introuvable.")
    return agent
