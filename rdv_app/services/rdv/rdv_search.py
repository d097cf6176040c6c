""""Liste des RDV" (admin-domain.md 9.1): the RDVs an agent may see, filtered, 10 a page by start; the
same query feeds the exports (rdv_app.services.rdv.rdv_export), so that a file never holds an RDV the
list would not show (RDV Service Public exported other services' RDVs to basic agents; we do not).

Rules:
- organisations: the one shown in the header by default; an agent of several may pick several of theirs
  (or all). Naming one where they hold no role is PermissionDenied, for the list and for an export;
- in each organisation the RDV visibility rule of rdv_app.services.rights (`visible_rdvs`) applies: admins
  and secrétaires see every RDV, a basic agent those of their services' motifs and those they are on;
- agent: RDVs this agent is on; usager: RDVs where they take part (an usager the agent does not see in
  full is NotFound, as on the usager's page); lieux, motifs: ids of the chosen organisations only;
- statut: an RDV status, or "unknown" split at now: `unknown_past` "À renseigner" (started before now),
  `unknown_future` "Rendez-vous à venir";
- période: `start` ≤ the local day of the RDV's start, the local day of its end ≤ `end`, in each
  organisation's own time zone. Bounds are instants, and the rights are a condition on the RDV's own
  columns (`rights.visible_rdvs_alone`), so that the count and the page run on the index `ix_rdv_list`,
  in the order of the pages, without reading the RDVs themselves.

Pages: 10 RDVs, by start then id (pages never repeat or skip an RDV of the same minute). A page is
reached from a neighbour ("keyset" pagination), never by skipping the RDVs before it (OFFSET read them
all: page 5,000 read 50,000): the next page starts at the RDV after the page's last one (`RdvPage.next`),
the previous one ends before the page's first (`RdvPage.start`), and "Rafraîchir la liste" starts again
at that first RDV. The list counts its RDVs up to COUNT_LIMIT ("Plus de 1 000 RDV trouvés", "Page 3"
without "sur N"); an export counts them all when it is asked for (rdv_export), so that no page pays for
counting 120,000 RDVs.

Speed (200,000 RDVs in an organisation, tests/bench/test_bench_rdv_list.py):
- a page is found in two steps: the ids of its 10 RDVs from the index alone (`ix_rdv_list` holds every
  column the conditions and the order read: organisation, start, id, end, motif, status, lieu), read from
  the page's first RDV on, one query per organisation merged (an OR of organisations sorted all their
  RDVs); then those 10 RDVs with their motif, service and lieu, as plain rows;
- the count stops at COUNT_LIMIT + 1 RDVs in each organisation;
- "the agent is on the RDV" (a basic agent's visibility rule, the agent filter) is looked up RDV by RDV
  on the index `rdv_agent (agent_id, rdv_id)` (`rights.agent_is_on`): reading all the agent's RDVs first
  (36,000 in the benchmark) cost more than the few dozen a page or a capped count tests. The agent
  filter's count goes the other way, from the agent's RDVs to each RDV;
- an usager has few RDVs: their ids are read first (up to `FEW_RDVS`) and the list looks them up by id,
  where a subquery let both databases scan the organisation's RDVs testing each (neither knows how few an
  usager's are). SQLite, without statistics, still prefers the organisation's index to a list of ids:
  the organisation is then compared as `organisation_id + 0`, which no index answers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.sql.visitors import replacement_traverse
from sqlmodel import col, func, select

from rdv_app.db.models import (
    Agent,
    AgentRole,
    Lieu,
    Motif,
    Organisation,
    Participation,
    Rdv,
    RdvAgent,
    Service,
    Usager,
)
from rdv_app.db.rows import not_null, require_id, table_of
from rdv_app.db.uow import UnitOfWork
from rdv_app.domain import clock, datefmt
from rdv_app.domain.ages import birth_date_and_age
from rdv_app.domain.enums import LieuAvailability, RdvStatus
from rdv_app.domain.masking import reverse_full_name
from rdv_app.domain.names import agent_name, sort_key
from rdv_app.domain.rdv_list import STATUS_LABELS, RdvFilters
from rdv_app.services.boundary import boundary
from rdv_app.services.errors import NotFound
from rdv_app.services.rights import (
    AgentScope,
    agent_is_on,
    agent_scope,
    visible_agent_ids,
    visible_rdvs_alone,
    visible_usagers,
)

PAGE_SIZE = 10
COUNT_LIMIT = 1_000  # the list counts up to this ("Plus de 1 000 RDV trouvés"); an export counts them all
FEW_RDVS = 500  # an usager's RDVs up to which the list looks them up by id (beyond: as a subquery)


@dataclass(frozen=True)
class Choice:
    id: int
    label: str
    group: str = ""  # the organisation of a lieu, the service of a motif


@dataclass(frozen=True)
class ListChoices:
    """What the filters offer the agent."""

    organisations: tuple[Choice, ...]  # the agent's, by name (the filter shows for two or more)
    agents: tuple[Choice, ...]
    lieux: tuple[Choice, ...]
    motifs: tuple[Choice, ...]  # archived ones end with "(supprimé)"
    today: date  # in the organisation shown: "Afficher les RDVs du jour"


@dataclass(frozen=True)
class UsagerBrief:
    name: str
    birth_date: str | None  # "14/07/1985 - 41 ans"
    phone_number: str | None
    email: str | None


@dataclass(frozen=True)
class RdvLine:
    id: int
    day: date  # local day of the start
    day_label: str  # "lundi 7 décembre 2026"
    hours: str  # "09h30 – 10h00"
    motif: str
    service: str
    lieu: str
    agents: str
    usagers: tuple[UsagerBrief, ...]
    status: str  # a key of rdv_app.domain.rdv_list.STATUS_LABELS
    status_label: str
    organisation: str


@dataclass(frozen=True)
class Cursor:
    """An RDV's place in the list's order (start, id), where a page starts; the previous page ends before it."""

    starts_at: datetime
    id: int


@dataclass(frozen=True)
class RdvPage:
    lines: tuple[RdvLine, ...]
    total: int  # up to COUNT_LIMIT
    total_exact: bool  # False: more than COUNT_LIMIT RDVs
    start: Cursor | None  # the page's first RDV; None on the first page
    next: Cursor | None  # the first RDV of the next page; None on the last
    usager_name: str  # of the usager filter, "" without one
    banner: tuple[str, ...]  # what the agent sees, organisation by organisation
    agenda_of: str  # "Agenda de Camille Martin" / "Agenda de PMI Arras", the printed title


@dataclass(frozen=True)
class Scoped:
    """The checked filters: the agent's scope in each organisation listed, what they see there (a condition
    on `Rdv` alone), and the organisations' time zones."""

    scopes: tuple[AgentScope, ...]
    visible: dict[int, sa.ColumnElement[bool]]
    zones: dict[int, str]
    names: dict[int, str]
    filters: RdvFilters
    usager_rdv_ids: tuple[int, ...] | None = None  # the usager's RDVs, when the filter names one with few


def scoped(uow: UnitOfWork, agent_id: int, organisation_id: int, filters: RdvFilters) -> Scoped:
    """Checks every id of `filters` against what the agent may name (see the module's docstring)."""
    organisation_ids = filters.organisation_ids or (organisation_id,)
    scopes = tuple(agent_scope(uow, agent_id, org) for org in sorted(set(organisation_ids)))
    ids = [scope.organisation_id for scope in scopes]
    organisations = uow.session.exec(select(Organisation).where(col(Organisation.id).in_(ids))).all()
    zones = {require_id(o): o.time_zone for o in organisations}
    names = {require_id(o): o.name for o in organisations}
    if filters.agent_id is not None and uow.session.exec(select(AgentRole.id).where(
            AgentRole.agent_id == filters.agent_id, col(AgentRole.organisation_id).in_(ids))).first() is None:
        raise NotFound("Cet agent n'appartient pas à ces organisations.")
    for model, wanted, message in ((Lieu, filters.lieu_ids, "Ce lieu n'appartient pas à ces organisations."),
                                   (Motif, filters.motif_ids, "Ce motif n'appartient pas à ces organisations.")):
        if wanted:
            found = set(uow.session.exec(select(model.id).where(  # type: ignore[attr-defined]
                col(model.id).in_(wanted), col(model.organisation_id).in_(ids))).all())  # type: ignore[attr-defined]
            if found != set(wanted):
                raise NotFound(message)
    if filters.usager_id is not None:
        usager_visible = False
        for scope in scopes:
            try:
                visible_usagers(uow, scope, [filters.usager_id])
            except NotFound:
                continue
            usager_visible = True
            break
        if not usager_visible:
            raise NotFound("Cet usager n'existe pas ou n'est pas suivi par votre organisation.")
    visible = {scope.organisation_id: visible_rdvs_alone(uow, scope, row_by_row=True) for scope in scopes}
    usager_rdv_ids = None
    if filters.usager_id is not None:
        found_ids = uow.session.exec(select(Participation.rdv_id).where(
            Participation.usager_id == filters.usager_id).limit(FEW_RDVS + 1)).all()
        usager_rdv_ids = tuple(found_ids) if len(found_ids) <= FEW_RDVS else None
    return Scoped(scopes, visible, zones, names, filters, usager_rdv_ids)


def _midnight(day: date, zone: str) -> datetime:
    return datetime.combine(day, time(0), ZoneInfo(zone))


def _organisation_not_indexed(element: Any, **_: Any) -> Any:
    """`rdv.organisation_id` as `rdv.organisation_id + 0`, which no index answers (see the module's docstring)."""
    organisation_id = table_of(Rdv).c.organisation_id
    if isinstance(element, sa.ColumnElement) and element.compare(organisation_id):
        return organisation_id + 0
    return None


def _organisation_bounds(checked: Scoped, scope: AgentScope) -> sa.ColumnElement[bool]:
    """What the agent sees in this organisation, in the period (in its time zone)."""
    f = checked.filters
    zone = checked.zones[scope.organisation_id]
    visible = checked.visible[scope.organisation_id]
    if checked.usager_rdv_ids is not None:  # found by id (see the module's docstring)
        visible = replacement_traverse(visible, {}, _organisation_not_indexed)
    bounds = [visible]
    if f.start is not None:
        bounds.append(col(Rdv.starts_at) >= _midnight(f.start, zone))
    if f.end is not None:
        bounds.append(col(Rdv.ends_at) < _midnight(f.end + timedelta(days=1), zone))
    return sa.and_(*bounds)


def _filtered(checked: Scoped, now: datetime, agent: bool = True) -> list[sa.ColumnElement[bool]]:
    """The filters that do not depend on the organisation (without the agent's: `agent=False`)."""
    f = checked.filters
    where: list[sa.ColumnElement[bool]] = []
    # An agent's RDVs are tested RDV by RDV on their index (`agent_is_on`); an usager's, few, are found first.
    if f.agent_id is not None and agent:
        where.append(agent_is_on(f.agent_id))
    if checked.usager_rdv_ids is not None:
        where.append(col(Rdv.id).in_(checked.usager_rdv_ids))
    elif f.usager_id is not None:
        where.append(col(Rdv.id).in_(select(Participation.rdv_id).where(Participation.usager_id == f.usager_id)))
    if f.lieu_ids:
        where.append(col(Rdv.lieu_id).in_(f.lieu_ids))
    if f.motif_ids:
        where.append(col(Rdv.motif_id).in_(f.motif_ids))
    if f.status in ("unknown_past", "unknown_future"):
        where.append(col(Rdv.status) == RdvStatus.UNKNOWN.value)
        where.append(col(Rdv.starts_at) < now if f.status == "unknown_past" else col(Rdv.starts_at) >= now)
    elif f.status:
        where.append(col(Rdv.status) == f.status)
    return where


def conditions(checked: Scoped, now: datetime) -> list[sa.ColumnElement[bool]]:
    """The WHERE of the list, for a query on `Rdv` (no join needed)."""
    return [sa.or_(*(_organisation_bounds(checked, scope) for scope in checked.scopes)), *_filtered(checked, now)]


def list_status(status: str, starts_at: datetime, now: datetime) -> str:
    """The key of STATUS_LABELS of an RDV (or participation) status: unknown is told by its start."""
    if status != RdvStatus.UNKNOWN:
        return status
    return "unknown_past" if starts_at < now else "unknown_future"


def count_rdvs(uow: UnitOfWork, checked: Scoped, now: datetime) -> int:
    """The exact count, for an export (the list counts up to COUNT_LIMIT: `count_listed`)."""
    return uow.session.exec(select(func.count()).select_from(Rdv).where(*conditions(checked, now))).one()


def count_listed(uow: UnitOfWork, checked: Scoped, now: datetime) -> tuple[int, bool]:
    """(count, exact): the RDVs listed, counted in each organisation up to COUNT_LIMIT + 1 (then not exact).
    With the agent filter, from the agent's RDVs (index rdv_agent (agent_id, rdv_id)) to each RDV: the
    first COUNT_LIMIT are reached sooner than by testing the organisation's RDVs one by one."""
    agent_id = checked.filters.agent_id
    filtered = _filtered(checked, now, agent=False)
    counted = 0
    for scope in checked.scopes:
        listed = select(col(Rdv.id))
        if agent_id is not None:
            listed = listed.select_from(RdvAgent).join(Rdv, col(Rdv.id) == RdvAgent.rdv_id).where(
                RdvAgent.agent_id == agent_id)
        capped = (listed.where(_organisation_bounds(checked, scope), *filtered)
                  .limit(COUNT_LIMIT + 1).subquery())
        counted += uow.session.exec(select(func.count()).select_from(capped)).one()
    return min(counted, COUNT_LIMIT), counted <= COUNT_LIMIT


def _page_keys(uow: UnitOfWork, checked: Scoped, now: datetime, start: Cursor | None,
               before: Cursor | None) -> list[Cursor]:
    """Up to PAGE_SIZE + 1 RDVs from `start` on (or, backwards, the last ones before `before`), in the
    list's order."""
    key = sa.tuple_(col(Rdv.starts_at), col(Rdv.id))

    def at(cursor: Cursor) -> Any:
        return sa.tuple_(sa.literal(cursor.starts_at, table_of(Rdv).c.starts_at.type), sa.literal(cursor.id))

    where = _filtered(checked, now)
    if start is not None:
        where.append(key >= at(start))
    if before is not None:
        where.append(key < at(before))
    backwards = before is not None

    def ordered(starts_at: Any, rdv_id: Any) -> tuple[Any, Any]:
        return (starts_at.desc(), rdv_id.desc()) if backwards else (starts_at, rdv_id)

    # One query per organisation, each in the order of its index, merged: an OR of organisations would sort them all.
    parts = [select(col(Rdv.starts_at), col(Rdv.id)).where(_organisation_bounds(checked, scope), *where)
             .order_by(*ordered(col(Rdv.starts_at), col(Rdv.id))).limit(PAGE_SIZE + 1) for scope in checked.scopes]
    if len(parts) == 1:
        query = parts[0]
    else:
        merged = sa.union_all(*(select(part.subquery()) for part in parts)).subquery()
        query = select(merged.c.starts_at, merged.c.id).order_by(*ordered(merged.c.starts_at, merged.c.id)).limit(
            PAGE_SIZE + 1)
    keys = [Cursor(starts_at, rdv_id) for starts_at, rdv_id in uow.session.execute(query).all()]
    return keys[::-1] if backwards else keys


def _banner(uow: UnitOfWork, checked: Scoped) -> tuple[str, ...]:
    lines = []
    several = len(checked.scopes) > 1
    for scope in checked.scopes:
        where = f" de {checked.names[scope.organisation_id]}" if several else " de l'organisation"
        if scope.access_level == "admin":
            text = f"En tant qu'administrateur, vous voyez tous les RDV{where}."
        elif scope.is_secretary:
            text = f"En tant que membre du service secrétariat, vous voyez tous les RDV{where}."
        else:
            services = uow.session.exec(select(Service.name).where(col(Service.id).in_(scope.service_ids))
                                        .order_by(Service.name)).all()
            named = f" ({', '.join(services)})" if services else ""
            text = (f"En tant qu'agent, vous voyez uniquement les RDV de vos services{named}{where}. "
                    "Vous voyez également les RDV auxquels vous êtes associé.")
        lines.append(text)
    return tuple(dict.fromkeys(lines))


@boundary
def list_choices(uow: UnitOfWork, actor_agent_id: int, organisation_id: int) -> ListChoices:
    """The filters' choices: the agent's organisations, and the agents, lieux and motifs of those the
    agent may see in each of them (agents and motifs by the rights module's rules)."""
    agent_scope(uow, actor_agent_id, organisation_id)
    organisations = uow.session.exec(
        select(not_null(Organisation.id), Organisation.name).join(AgentRole, col(AgentRole.organisation_id) == Organisation.id)
        .where(AgentRole.agent_id == actor_agent_id).order_by(Organisation.name)).all()
    several = len(organisations) > 1
    agent_ids: set[int] = set()
    motifs: list[Choice] = []
    lieux: list[Choice] = []
    for org_id, org_name in organisations:
        scope = agent_scope(uow, actor_agent_id, org_id)
        agent_ids |= visible_agent_ids(uow, scope)
        motif_query = (select(Motif, Service.name).join(Service, col(Service.id) == Motif.service_id)
                       .where(Motif.organisation_id == org_id))
        if not scope.sees_whole_organisation:
            motif_query = motif_query.where(col(Motif.service_id).in_(scope.service_ids))
        for motif, service in uow.session.exec(motif_query.order_by(Service.name, Motif.name)).all():
            label = motif.name + (" (supprimé)" if motif.deleted_at is not None else "")
            motifs.append(Choice(require_id(motif), label, f"{service} – {org_name}" if several else service))
        lieux.extend(Choice(require_id(lieu), lieu.name, org_name) for lieu in uow.session.exec(
            select(Lieu).where(Lieu.organisation_id == org_id, Lieu.availability == LieuAvailability.ENABLED.value)
            .order_by(Lieu.name)).all())
    agents = uow.session.exec(select(Agent).where(col(Agent.id).in_(agent_ids))).all()
    zone = uow.session.exec(select(Organisation.timezone).where(Organisation.id == organisation_id)).one()
    return ListChoices(
        organisations=tuple(Choice(org_id, name) for org_id, name in organisations),
        agents=tuple(Choice(require_id(a), agent_name(a.first_name, a.last_name))
                     for a in sorted(agents, key=lambda a: sort_key(a.first_name, a.last_name))),
        lieux=tuple(lieux), motifs=tuple(motifs), today=datefmt.local(clock.now(), zone or "Europe/Paris").date())


@boundary
def search_rdvs(uow: UnitOfWork, actor_agent_id: int, organisation_id: int, filters: RdvFilters,
                start: Cursor | None = None, before: Cursor | None = None, now: datetime | None = None) -> RdvPage:
    """The first page of the RDVs listed, the page starting at `start` (a page's `next`, or its own `start`
    to show it again) or the page ending before `before` (a page's `start`: the previous one); see the
    module's docstring. When nothing is left there (RDVs deleted meanwhile), the first page."""
    now = now or clock.now()
    checked = scoped(uow, actor_agent_id, organisation_id, filters)
    total, exact = count_listed(uow, checked, now)
    keys = _page_keys(uow, checked, now, start, before) if start or before else []
    following: Cursor | None
    if before is not None and len(keys) > PAGE_SIZE:
        keys, following, first_page = keys[-PAGE_SIZE:], before, False
    else:
        if before is not None or not keys:  # back to the first page, or nothing left from `start`
            start = None
            keys = _page_keys(uow, checked, now, None, None)
        following = keys[PAGE_SIZE] if len(keys) > PAGE_SIZE else None
        keys, first_page = keys[:PAGE_SIZE], start is None
    page_ids = [key.id for key in keys]
    rows = uow.session.execute(
        sa.select(col(Rdv.id), col(Rdv.organisation_id), col(Rdv.starts_at), col(Rdv.ends_at), col(Rdv.status),
               col(Motif.name), col(Service.name), col(Lieu.name))
        .join(Motif, col(Motif.id) == Rdv.motif_id).join(Service, col(Service.id) == Motif.service_id)
        .outerjoin(Lieu, col(Lieu.id) == Rdv.lieu_id)
        .where(col(Rdv.id).in_(page_ids)).order_by(col(Rdv.starts_at), col(Rdv.id))).all() if page_ids else []
    lines = _lines(uow, checked, [_PageRow(*row) for row in rows], now)
    usager_name = ""
    if filters.usager_id is not None:
        usager = uow.session.get(Usager, filters.usager_id)
        usager_name = reverse_full_name(usager.first_name, usager.last_name) if usager else ""
    if filters.agent_id is not None:
        agent = uow.session.get(Agent, filters.agent_id)
        agenda_of = f"Agenda de {agent_name(agent.first_name, agent.last_name)}" if agent else ""
    else:
        agenda_of = "Agenda de " + ", ".join(checked.names[s.organisation_id] for s in checked.scopes)
    return RdvPage(lines=lines, total=total, total_exact=exact,
                   start=None if first_page or not keys else keys[0], next=following,
                   usager_name=usager_name, banner=_banner(uow, checked), agenda_of=agenda_of)


@boundary
def count_all(uow: UnitOfWork, actor_agent_id: int, organisation_id: int, filters: RdvFilters,
              now: datetime | None = None) -> int:
    """The exact number of RDVs listed with these filters, asked after a page whose count stopped at
    COUNT_LIMIT: the page shows at once, its "Plus de 1 000" becomes the number when this answers."""
    now = now or clock.now()
    return count_rdvs(uow, scoped(uow, actor_agent_id, organisation_id, filters), now)


@dataclass(frozen=True)
class _PageRow:
    id: int
    organisation_id: int
    starts_at: datetime
    ends_at: datetime
    status: str
    motif: str
    service: str
    lieu: str | None


def _lines(uow: UnitOfWork, checked: Scoped, rows: Sequence[_PageRow], now: datetime) -> tuple[RdvLine, ...]:
    rdv_ids = [row.id for row in rows]
    agents: dict[int, list[str]] = {}
    for rdv_id, first, last in uow.session.exec(
            select(RdvAgent.rdv_id, Agent.first_name, Agent.last_name).join(Agent, col(Agent.id) == RdvAgent.agent_id)
            .where(col(RdvAgent.rdv_id).in_(rdv_ids))).all():
        agents.setdefault(rdv_id, []).append(agent_name(first, last))
    usagers: dict[int, list[UsagerBrief]] = {}
    today = now.date()
    for rdv_id, first_name, last_name, birth_date, phone_number, email in uow.session.execute(
            sa.select(col(Participation.rdv_id), col(Usager.first_name), col(Usager.last_name), col(Usager.birth_date),
                      col(Usager.phone_number), col(Usager.email)).join(Usager, col(Usager.id) == Participation.usager_id)
            .where(col(Participation.rdv_id).in_(rdv_ids)).order_by(Usager.last_name, Usager.first_name)).all():
        usagers.setdefault(rdv_id, []).append(UsagerBrief(
            reverse_full_name(first_name, last_name), birth_date_and_age(birth_date, today), phone_number, email))
    lines = []
    for row in rows:
        zone = checked.zones[row.organisation_id]
        start, end = datefmt.local(row.starts_at, zone), datefmt.local(row.ends_at, zone)
        status = list_status(row.status, row.starts_at, now)
        lines.append(RdvLine(
            id=row.id, day=start.date(), day_label=datefmt.long_date(start.date()),
            hours=f"{datefmt.hour(start)} – {datefmt.hour(end)}", motif=row.motif, service=row.service,
            lieu=row.lieu or "", agents=", ".join(sorted(agents.get(row.id, []))),
            usagers=tuple(usagers.get(row.id, ())), status=status, status_label=STATUS_LABELS[status],
            organisation=checked.names[row.organisation_id]))
    return tuple(lines)
