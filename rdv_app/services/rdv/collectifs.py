"""The agents' "RDV collectifs" page (issue 28; domain.md sections 1, 2.3 and 6.5): the sessions to come of
the organisation with their fill ("6/8"), and the creation form.

`form_choices` lists what the form offers: the collective motifs the agent may use, the enabled lieux,
and the agents the agent may see. `create` reads the local day and time in the organisation's time zone,
then hands over to `lifecycle.create_collectif_rdv`, which owns the rights and writes the sessions.
Participants, statuses and cancellation are on each session's RDV page (lifecycle transitions too).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import col, select

from rdv_app.db.models import Agent, Lieu, Motif, Rdv, RdvAgent
from rdv_app.db.rows import require_id
from rdv_app.db.uow import UnitOfWork
from rdv_app.domain import clock, collectifs, datefmt, rdv_status
from rdv_app.domain.enums import LieuAvailability
from rdv_app.domain.names import agent_name
from rdv_app.services.boundary import boundary
from rdv_app.services.errors import DomainError
from rdv_app.services.organisation import local_time
from rdv_app.services.rdv import lifecycle
from rdv_app.services.rdv.rdv_planning import Choice, local_start
from rdv_app.services.rights import agent_scope, sees_rdv, visible_agent_ids, visible_motifs

SHOWN_SESSIONS = 200


@dataclass(frozen=True)
class MotifOption:
    id: int
    label: str
    duration_in_min: int


@dataclass(frozen=True)
class SessionForm:
    motifs: list[MotifOption]
    lieux: list[Choice]
    agents: list[Choice]


@dataclass(frozen=True)
class SessionRow:
    rdv_id: int
    when: str  # "lundi 7 décembre 2026 à 14h00"
    motif_name: str
    name: str
    lieu_name: str
    fill: str  # "6/8", or "6" when unlimited
    status_label: str
    cancelled: bool


@boundary
def form_choices(uow: UnitOfWork, actor_agent_id: int, organisation_id: int) -> SessionForm:
    scope = agent_scope(uow, actor_agent_id, organisation_id)
    motifs = [MotifOption(require_id(m), m.name, m.default_duration_in_min)
              for m in visible_motifs(uow, scope) if m.collectif]
    lieux = uow.session.exec(select(Lieu).where(Lieu.organisation_id == organisation_id,
                                                Lieu.availability == LieuAvailability.ENABLED)
                             .order_by(col(Lieu.name), col(Lieu.id))).all()
    agents = uow.session.exec(select(Agent).where(col(Agent.id).in_(visible_agent_ids(uow, scope)),
                                                  col(Agent.deleted_at).is_(None))
                              .order_by(col(Agent.last_name), col(Agent.first_name), col(Agent.id))).all()
    return SessionForm(motifs=motifs, lieux=[Choice(require_id(lieu), lieu.name) for lieu in lieux],
                       agents=[Choice(require_id(a), agent_name(a.first_name, a.last_name)) for a in agents])


@boundary
def create(uow: UnitOfWork, actor_agent_id: int, organisation_id: int, *, motif_id: int, name: str | None,
           day: date | None, start_time: time | None, duration_in_min: int, agent_ids: Sequence[int],
           lieu_id: int | None, max_participants_count: int | None, weekly_count: int = 1) -> list[int]:
    """Creates the session (or the weekly sessions) starting `day` at `start_time`, local time."""
    starts_at = _local_start(uow, organisation_id, day, start_time)
    return lifecycle.create_collectif_rdv(
        uow, actor_agent_id, organisation_id, motif_id=motif_id, name=name, starts_at=starts_at,
        duration_in_min=duration_in_min, agent_ids=agent_ids, lieu_id=lieu_id,
        max_participants_count=max_participants_count, weekly_count=weekly_count)


@boundary
def duplicate(uow: UnitOfWork, actor_agent_id: int, organisation_id: int, rdv_id: int, *, day: date | None,
              start_time: time | None) -> int:
    """A new session like `rdv_id`, without its participants, starting `day` at `start_time`, local time."""
    starts_at = _local_start(uow, organisation_id, day, start_time)
    return lifecycle.duplicate_collectif_rdv(uow, actor_agent_id, organisation_id, rdv_id, starts_at=starts_at)


def _local_start(uow: UnitOfWork, organisation_id: int, day: date | None, start_time: time | None) -> datetime:
    if day is None:
        raise DomainError("Choisissez la date de l'atelier.", "day")
    if start_time is None:
        raise DomainError("Choisissez l'heure de début.", "start_time")
    starts_at = local_start(day, start_time, ZoneInfo(local_time.time_zone(uow, organisation_id)))
    if starts_at is None:
        raise DomainError("Cette heure n'existe pas ce jour-là (changement d'heure) : choisissez-en une autre.",
                          "start_time")
    return starts_at


@boundary
def sessions(uow: UnitOfWork, actor_agent_id: int, organisation_id: int, *,
             now: datetime | None = None) -> list[SessionRow]:
    """The organisation's sessions from today on that the agent may follow, soonest first."""
    now = now or clock.now()
    scope = agent_scope(uow, actor_agent_id, organisation_id)
    tz = local_time.time_zone(uow, organisation_id)
    today = datetime.combine(now.astimezone(ZoneInfo(tz)).date(), time(0), ZoneInfo(tz))
    rows = uow.session.exec(
        select(Rdv, Motif, Lieu).join(Motif, col(Motif.id) == Rdv.motif_id)
        .outerjoin(Lieu, col(Lieu.id) == Rdv.lieu_id)
        .where(Rdv.organisation_id == organisation_id, col(Motif.collectif).is_(True),
               col(Rdv.starts_at) >= today, col(Rdv.starts_at) < today + timedelta(days=366))
        .order_by(col(Rdv.starts_at), col(Rdv.id)).limit(SHOWN_SESSIONS)).all()
    ids = [require_id(rdv) for rdv, _, _ in rows]
    agents: dict[int, set[int]] = {}
    for rdv_id, agent_id in uow.session.exec(select(RdvAgent.rdv_id, RdvAgent.agent_id)
                                             .where(col(RdvAgent.rdv_id).in_(ids))).all():
        agents.setdefault(rdv_id, set()).add(agent_id)
    return [SessionRow(rdv_id=require_id(rdv), when=datefmt.long_datetime(rdv.starts_at, tz), motif_name=motif.name,
                       name=rdv.name or motif.name, lieu_name=lieu.name if lieu else "",
                       fill=collectifs.fill_label(rdv.users_count, rdv.max_participants_count),
                       status_label=rdv_status.status_label(rdv.status, rdv.starts_at, now, tz),
                       cancelled=rdv_status.is_cancelled(rdv.status))
            for rdv, motif, lieu in rows if sees_rdv(scope, motif.service_id, agents.get(require_id(rdv), set()))]
