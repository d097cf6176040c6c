"""The agents' "Trouver un RDV": which motifs and agents they may search, a week of slots, lieux.

Rights are enforced here, not only in the page: a basic agent asking for another service's motif or
agents gets PermissionDenied, and a search without an agent filter covers only the agents they may see.
Agents have no booking delays; the next availability looks six months ahead.

The "Équipes" filter (admin-domain.md section 3.3): the teams of the organisation's territory that have a
member the agent sees; choosing one restricts the agents searched to its members (and, when agents are
ticked too, to those of them in the team).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import col, select

from rdv_app.db.models import Agent, AgentTeam, Lieu, Organisation, Service, Team
from rdv_app.db.rows import require_id
from rdv_app.db.uow import UnitOfWork
from rdv_app.domain import clock, datefmt
from rdv_app.domain.enums import LieuAvailability, LocationType
from rdv_app.domain.labels import LOCATION_TYPE_LABELS
from rdv_app.domain.names import agent_name
from rdv_app.domain.slots import Searcher, Slot, displayed_slots, next_availabilities, next_availability
from rdv_app.metrics import SLOT_SEARCH, timed
from rdv_app.services.availability.slot_inputs import MotifContext, horizon, load_search, motif_context
from rdv_app.services.boundary import boundary
from rdv_app.services.errors import DomainError, NotFound, PermissionDenied, require_filled
from rdv_app.services.rights import agent_scope, visible_agent_ids, visible_motifs

WEEK = 7
# Distinct, readable on white (WCAG AA for white text on them), assigned by agent id.
AGENT_COLOURS = ("#1f4e9c", "#8a3b12", "#1b6b3a", "#6a2c91", "#8c1d40", "#0f5f6b", "#5c4a00", "#3d3d9e")


@dataclass(frozen=True)
class Choice:
    id: int
    label: str
    group: int | None = None  # motifs: their service; agents: unused


@dataclass(frozen=True)
class SearchOptions:
    services: list[Choice]
    motifs: list[Choice]
    agents: list[Choice]
    lieux: list[Choice]
    today: date  # in the organisation's time zone
    teams: list[Choice] = field(default_factory=list)  # group unused; members in `team_members`
    team_members: dict[int, frozenset[int]] = field(default_factory=dict)

    def preselected(self, service_id: int | None = None) -> tuple[int | None, int | None]:
        """What leaves the agent no choice, chosen for them as RDV Service Public does: the service when
        only one is offered (else `service_id`, the one chosen), and the motif when only one is offered
        (of that service). None where there is a choice to make."""
        if service_id is None and len(self.services) == 1:
            service_id = self.services[0].id
        shown = [m.id for m in self.motifs if service_id is None or m.group == service_id]
        return service_id, (shown[0] if len(shown) == 1 else None)


@dataclass(frozen=True)
class AgentBadge:
    id: int
    name: str
    initials: str
    colour: str


@dataclass(frozen=True)
class SlotView:
    starts_at: datetime
    day: date
    time: str
    agent: AgentBadge
    lieu_id: int | None
    lieu_name: str

    def describe(self, timezone: str) -> str:
        return f"{datefmt.long_datetime(self.starts_at, timezone)} avec {self.agent.name}"


@dataclass(frozen=True)
class DaySlots:
    day: date
    label: str
    slots: list[SlotView]


@dataclass(frozen=True)
class Week:
    first_day: date
    days: list[DaySlots]
    next_availability: SlotView | None  # only when the week has no slot
    timezone: str

    @property
    def is_empty(self) -> bool:
        return not any(d.slots for d in self.days)


@dataclass(frozen=True)
class LieuAvailabilityView:
    lieu_id: int
    name: str
    address: str
    next_slot: SlotView | None


@boundary
def search_options(uow: UnitOfWork, agent_id: int, organisation_id: int,
                   now: datetime | None = None) -> SearchOptions:
    """What the search form offers this agent in this organisation (a few queries, whatever the data)."""
    scope = agent_scope(uow, agent_id, organisation_id)
    organisation = uow.session.get(Organisation, organisation_id)
    assert organisation is not None
    today = (now or clock.now()).astimezone(ZoneInfo(organisation.time_zone)).date()
    motifs = [m for m in visible_motifs(uow, scope) if not m.collectif]
    service_ids = {m.service_id for m in motifs}
    services = uow.session.exec(select(Service).where(col(Service.id).in_(service_ids)).order_by(Service.name)).all()
    agents = uow.session.exec(
        select(Agent).where(col(Agent.id).in_(visible_agent_ids(uow, scope)), col(Agent.deleted_at).is_(None))
        .order_by(col(Agent.last_name), col(Agent.first_name))
    ).all()
    lieux = uow.session.exec(
        select(Lieu).where(Lieu.organisation_id == organisation_id, Lieu.availability == LieuAvailability.ENABLED)
        .order_by(Lieu.name)
    ).all()
    visible = {require_id(a) for a in agents}
    members = _team_members(uow, organisation)
    teams = uow.session.exec(select(Team).where(col(Team.id).in_(
        [team_id for team_id, agent_ids in members.items() if agent_ids & visible]))).all()
    return SearchOptions(
        services=[Choice(require_id(s), s.name) for s in services],
        motifs=[Choice(require_id(m), _motif_label(m.name, m.location_type), m.service_id) for m in motifs],
        agents=[Choice(require_id(a), agent_name(a.first_name, a.last_name)) for a in agents],
        lieux=[Choice(require_id(lieu), lieu.name) for lieu in lieux],
        today=today,
        teams=[Choice(require_id(t), t.name) for t in sorted(teams, key=lambda t: t.name.casefold())],
        team_members={require_id(t): members[require_id(t)] & visible for t in teams},
    )


def _team_members(uow: UnitOfWork, organisation: Organisation) -> dict[int, frozenset[int]]:
    """The teams of the organisation's territory, each with its members."""
    rows = uow.session.exec(select(AgentTeam.team_id, AgentTeam.agent_id).join(Team, col(Team.id) == AgentTeam.team_id)
                            .where(Team.territory_id == organisation.territory_id)).all()
    found: dict[int, set[int]] = {}
    for team_id, agent_id in rows:
        found.setdefault(team_id, set()).add(agent_id)
    return {team_id: frozenset(agent_ids) for team_id, agent_ids in found.items()}


def check_criteria(motif_id: int | None, from_day: date | None) -> None:
    """The search's required criteria, each missing one named under its field at once (FieldErrors)."""
    require_filled({"motif_id": (motif_id, "Choisissez un motif pour afficher les créneaux."),
                    "from_day": (from_day, "Indiquez le jour à partir duquel chercher.")})


@boundary
@timed(SLOT_SEARCH, kind="agent")
def find_week(uow: UnitOfWork, agent_id: int, organisation_id: int, motif_id: int, from_day: date, *,
              agent_ids: Collection[int] | None = None, lieu_id: int | None = None,
              team_id: int | None = None, now: datetime | None = None) -> Week:
    """Seven days of slots from `from_day` (one per start and agent), and the next availability when
    those seven days have none."""
    now = now or clock.now()
    context, allowed_agents = _checked(uow, agent_id, organisation_id, motif_id, agent_ids, team_id)
    last_day = from_day + timedelta(days=WEEK - 1)
    search = load_search(uow, context, from_day, last_day, searcher=Searcher.AGENT, now=now,
                         agent_ids=allowed_agents, lieu_id=lieu_id)
    slots = displayed_slots(search, from_day, last_day, lieu_id=lieu_id)
    following = None
    if not slots:
        start = last_day + timedelta(days=1)
        ahead = load_search(uow, context, start, horizon(context, Searcher.AGENT, now), searcher=Searcher.AGENT,
                            now=now, agent_ids=allowed_agents, lieu_id=lieu_id)
        following = next_availability(ahead, from_day=start, lieu_id=lieu_id)
    views = _views(uow, [*slots, *([following] if following else [])], context)
    by_day: dict[date, list[SlotView]] = {from_day + timedelta(days=i): [] for i in range(WEEK)}
    for view in views[:len(slots)]:
        by_day[view.day].append(view)
    return Week(
        first_day=from_day,
        days=[DaySlots(day, datefmt.long_date(day), day_slots) for day, day_slots in by_day.items()],
        next_availability=views[-1] if following else None,
        timezone=context.organisation.time_zone,
    )


@boundary
def lieux_availability(uow: UnitOfWork, agent_id: int, organisation_id: int, motif_id: int, *,
                       agent_ids: Collection[int] | None = None, team_id: int | None = None,
                       now: datetime | None = None) -> list[LieuAvailabilityView]:
    """Lieux offering the motif, each with its next availability (six months), soonest first."""
    now = now or clock.now()
    context, allowed_agents = _checked(uow, agent_id, organisation_id, motif_id, agent_ids, team_id)
    if context.motif.location_type != LocationType.PUBLIC_OFFICE:
        return []
    today = now.astimezone(context.time_zone).date()
    search = load_search(uow, context, today, horizon(context, Searcher.AGENT, now), searcher=Searcher.AGENT,
                         now=now, agent_ids=allowed_agents)
    lieu_ids = {p.lieu_id for p in search.plages if p.lieu_id is not None}
    lieux = uow.session.exec(select(Lieu).where(col(Lieu.id).in_(lieu_ids),
                                                Lieu.availability != LieuAvailability.DISABLED)).all()
    found = next_availabilities(search, [require_id(lieu) for lieu in lieux])
    views = dict(zip(found, _views(uow, list(found.values()), context), strict=True))
    result = [LieuAvailabilityView(require_id(lieu), lieu.name, lieu.address, views.get(require_id(lieu))) for lieu in lieux]
    far = datetime.max.replace(tzinfo=UTC)
    return sorted(result, key=lambda r: (r.next_slot.starts_at if r.next_slot else far, r.name))


def _checked(uow: UnitOfWork, agent_id: int, organisation_id: int, motif_id: int,
             agent_ids: Collection[int] | None, team_id: int | None = None) -> tuple[MotifContext, set[int]]:
    scope = agent_scope(uow, agent_id, organisation_id)
    if motif_id not in {m.id for m in visible_motifs(uow, scope)}:
        raise PermissionDenied("Ce motif n'est pas accessible depuis votre compte.")
    context = motif_context(uow, motif_id, organisation_id)
    if context.motif.collectif:
        raise DomainError("Les motifs collectifs se réservent sur les ateliers existants, pas par créneau.")
    allowed = visible_agent_ids(uow, scope)
    if agent_ids:
        if not set(agent_ids) <= allowed:
            raise PermissionDenied("Vous ne pouvez pas consulter l'agenda de cet agent.")
        allowed = set(agent_ids)
    if team_id is not None:
        team = uow.session.get(Team, team_id)
        if team is None or team.territory_id != context.organisation.territory_id:
            raise NotFound("Cette équipe n'existe pas dans le territoire de l'organisation.")
        allowed &= _team_members(uow, context.organisation).get(team_id, frozenset())
    return context, allowed


def _views(uow: UnitOfWork, slots: list[Slot], context: MotifContext) -> list[SlotView]:
    if not slots:
        return []
    agent_ids = {s.agent_id for s in slots}
    lieu_ids = {s.lieu_id for s in slots if s.lieu_id is not None}
    agents = {a.id: a for a in uow.session.exec(select(Agent).where(col(Agent.id).in_(agent_ids))).all()}
    lieux = dict(uow.session.exec(select(Lieu.id, Lieu.name).where(col(Lieu.id).in_(lieu_ids))).all())
    badges = {agent_id: _badge(agents[agent_id]) for agent_id in agent_ids}
    tz = context.time_zone
    default_place = LOCATION_TYPE_LABELS[LocationType(context.motif.location_type)]
    views = []
    for slot in slots:
        local = slot.starts_at.astimezone(tz)
        views.append(SlotView(starts_at=slot.starts_at, day=local.date(), time=datefmt.hour(local),
                              agent=badges[slot.agent_id], lieu_id=slot.lieu_id,
                              lieu_name=lieux.get(slot.lieu_id, default_place)))
    return views


def _badge(agent: Agent) -> AgentBadge:
    initials = f"{(agent.first_name or ' ')[0]}{agent.last_name[0]}".strip().upper()
    return AgentBadge(id=require_id(agent), name=agent_name(agent.first_name, agent.last_name), initials=initials,
                      colour=AGENT_COLOURS[require_id(agent) % len(AGENT_COLOURS)])


_LOCATION_SUFFIXES = {LocationType.PHONE: ("téléphone", " (par téléphone)"),
                      LocationType.HOME: ("domicile", " (à domicile)"),
                      LocationType.VISIO: ("visio", " (en visioconférence)")}


def _motif_label(name: str, location_type: str) -> str:
    """The motif's name, with where it takes place unless the name already says it."""
    keyword, suffix = _LOCATION_SUFFIXES.get(LocationType(location_type), ("", ""))
    return name if not suffix or keyword in name.lower() else f"{name}{suffix}"

