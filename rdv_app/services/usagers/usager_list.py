""""Vos usagers" (admin-domain.md 1.3 and 1.7): the usagers of the organisation an agent finds by what they
type and by referent agent, 25 a page by name.

Who is listed: the usagers with a profile in the organisation, or in any organisation of its territory
when the territory makes its usagers visible throughout; never an usager of another territory. Usagers
of the territory's other organisations are not listed here, masked or not: RDV Service Public shows them
(masked) only in the search of the RDV form (`usagers.search_usagers`). Nothing is listed before a text
or a referent is given.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlmodel import col, func, select

from rdv_app.db.models import Agent, AgentRole, ReferentAssignation, Usager
from rdv_app.db.rows import not_null, require_id
from rdv_app.db.uow import UnitOfWork
from rdv_app.domain import clock
from rdv_app.domain.ages import birth_date_and_age
from rdv_app.domain.masking import reverse_full_name
from rdv_app.domain.names import agent_name, sort_key
from rdv_app.domain.usager_search import parse_query
from rdv_app.services.boundary import boundary
from rdv_app.services.errors import NotFound
from rdv_app.services.rights import agent_scope
from rdv_app.services.usagers.usagers import by_name, listed_in, matching

PAGE_SIZE = 25


@dataclass(frozen=True)
class UsagerLine:
    id: int
    name: str  # "DUPONT Jeanne"
    relative: bool  # "Proche"
    birth_date: str | None  # "14/07/1985 - 41 ans"
    phone_number: str | None
    email: str | None


@dataclass(frozen=True)
class UsagerList:
    searched: bool  # False: no text and no referent, nothing listed
    lines: tuple[UsagerLine, ...]
    total: int
    page: int  # the page shown, from 1
    page_count: int


@dataclass(frozen=True)
class AgentChoice:
    id: int
    name: str


@boundary
def organisation_agents(uow: UnitOfWork, actor_agent_id: int, organisation_id: int) -> list[AgentChoice]:
    """The agents of the organisation (accounts not closed), by name: the "Agent référent" filter."""
    agent_scope(uow, actor_agent_id, organisation_id)
    return agents_of_organisation(uow, organisation_id)


def agents_of_organisation(uow: UnitOfWork, organisation_id: int) -> list[AgentChoice]:
    agents = uow.session.exec(select(Agent).join(AgentRole, col(AgentRole.agent_id) == Agent.id).where(
        AgentRole.organisation_id == organisation_id, col(Agent.deleted_at).is_(None))).all()
    return [AgentChoice(require_id(a), agent_name(a.first_name, a.last_name))
            for a in sorted(agents, key=lambda a: sort_key(a.first_name, a.last_name))]


def organisation_agent(uow: UnitOfWork, organisation_id: int, agent_id: int) -> Agent:
    """An agent of the organisation; NotFound for anyone else."""
    agent = uow.session.exec(select(Agent).join(AgentRole, col(AgentRole.agent_id) == Agent.id).where(
        AgentRole.organisation_id == organisation_id, Agent.id == agent_id, col(Agent.deleted_at).is_(None))).first()
    if agent is None:
        raise NotFound("Cet agent n'appartient pas à cette organisation.")
    return agent


@boundary
def list_usagers(uow: UnitOfWork, actor_agent_id: int, organisation_id: int, *, query: str = "",
                 referent_agent_id: int | None = None, page: int = 1, today: date | None = None) -> UsagerList:
    """The page `page` of the usagers found (see the module's docstring); a page past the last shows the
    last one."""
    agent_scope(uow, actor_agent_id, organisation_id)
    parsed = parse_query(query)
    if parsed.is_empty and referent_agent_id is None:
        return UsagerList(searched=False, lines=(), total=0, page=1, page_count=0)
    conditions = [col(Usager.deleted_at).is_(None), listed_in(uow, organisation_id)]
    if not parsed.is_empty:
        conditions.append(matching(uow, parsed))
    if referent_agent_id is not None:
        organisation_agent(uow, organisation_id, referent_agent_id)
        conditions.append(col(Usager.id).in_(select(ReferentAssignation.usager_id).where(
            ReferentAssignation.agent_id == referent_agent_id)))
    # One pass gives the page's ids and the number found (a window count over ids: the matches are read
    # once, and sorted without their whole rows); the page's 25 usagers are read after.
    def page_of(number: int) -> list[tuple[int, int]]:
        return [(usager_id, found) for usager_id, found in uow.session.exec(
            select(not_null(Usager.id), func.count().over()).where(*conditions).order_by(*by_name(uow))
            .offset((number - 1) * PAGE_SIZE).limit(PAGE_SIZE)).all()]

    shown = max(1, page)
    rows = page_of(shown)
    if not rows and shown > 1:  # past the last page: the last one
        total = uow.session.exec(select(func.count()).select_from(Usager).where(*conditions)).one()
        shown = max(1, -(-total // PAGE_SIZE))
        rows = page_of(shown)
    total = rows[0][1] if rows else 0
    page_count = -(-total // PAGE_SIZE)
    found_by_id = {require_id(u): u for u in uow.session.exec(
        select(Usager).where(col(Usager.id).in_([usager_id for usager_id, _found in rows]))).all()}
    usagers = [found_by_id[usager_id] for usager_id, _found in rows]
    today = today or clock.now().date()
    lines = tuple(UsagerLine(id=require_id(u), name=reverse_full_name(u.first_name, u.last_name),
                             relative=u.responsible_id is not None, birth_date=birth_date_and_age(u.birth_date, today),
                             phone_number=u.phone_number, email=u.email) for u in usagers)
    return UsagerList(searched=True, lines=lines, total=total, page=shown if total else 1, page_count=page_count)


def usager_ids_sharing_phone(uow: UnitOfWork, organisation_id: int, usager: Usager) -> list[int]:
    """Other usagers of the organisation with the same E.164 phone number."""
    if not usager.phone_number_formatted:
        return []
    return list(uow.session.exec(select(not_null(Usager.id)).where(
        Usager.phone_number_formatted == usager.phone_number_formatted, Usager.id != usager.id,
        col(Usager.deleted_at).is_(None), listed_in(uow, organisation_id, own_only=True))).all())

