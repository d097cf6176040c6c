"""The agents' agenda: everything a calendar shows for some agents over some days, in local time.

RDVs come in their motif colour (cancelled ones flagged, hidden when the agent prefers), other
organisations' RDVs as grey blocks without detail, plages d'ouverture as background and
indisponibilités in grey. Times are the organisation's local wall-clock times: the calendar displays
them as given, whatever the browser's own time zone.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import col, select

from rdv_app.db.models import Agent, Organisation
from rdv_app.db.uow import UnitOfWork
from rdv_app.domain.recurrence import Recurrence
from rdv_app.services import absences, plages, rdvs
from rdv_app.services.rights import agent_scope, visible_agent_ids

ABSENCE_COLOUR = "#6a6a6a"
PLAGE_COLOUR = "#d9e7f7"
MAX_DAYS = 62  # a month view with its leading and trailing weeks


@dataclass(frozen=True)
class AgendaEvent:
    id: str
    title: str
    start: str  # local wall-clock ISO datetime, no offset
    end: str
    colour: str
    kind: str  # rdv, busy, plage, absence
    cancelled: bool = False
    rdv_id: int | None = None


@dataclass(frozen=True)
class AgendaAgent:
    id: int
    name: str


@dataclass(frozen=True)
class Agenda:
    events: list[AgendaEvent]
    now: str  # local wall-clock ISO datetime of the organisation
    display_saturdays: bool
    display_cancelled: bool


def visible_agents(uow: UnitOfWork, actor_agent_id: int, organisation_id: int) -> list[AgendaAgent]:
    """Agents whose agenda the actor may open: admins and secrétaires everyone, others their services."""
    scope = agent_scope(uow, actor_agent_id, organisation_id)
    agents = uow.session.exec(
        select(Agent).where(col(Agent.id).in_(visible_agent_ids(uow, scope)), col(Agent.deleted_at).is_(None))
        .order_by(Agent.last_name, Agent.first_name)
    ).all()
    return [AgendaAgent(a.id, f"{a.first_name or ''} {a.last_name}".strip()) for a in agents]  # type: ignore[arg-type]


def agenda(uow: UnitOfWork, actor_agent_id: int, organisation_id: int, agent_ids: Sequence[int],
           first_day: date, last_day: date, *, now: datetime | None = None) -> Agenda:
    """Events of the agents on the local days first_day..last_day (rights checked by each service)."""
    now = now or datetime.now(UTC)
    last_day = min(last_day, first_day + timedelta(days=MAX_DAYS))
    organisation = uow.session.get(Organisation, organisation_id)
    actor = uow.session.get(Agent, actor_agent_id)
    assert organisation is not None and actor is not None
    tz = ZoneInfo(organisation.timezone or "Europe/Paris")
    start = datetime.combine(first_day, time(0), tz)
    end = datetime.combine(last_day + timedelta(days=1), time(0), tz)
    events = [_rdv_event(e, tz) for e in rdvs.list_rdvs_for_calendar(
        uow, actor_agent_id, organisation_id, agent_ids, start.astimezone(UTC), end.astimezone(UTC), now=now)
        if actor.display_cancelled_rdv or not e.cancelled]
    for plage in plages.list_plages(uow, actor_agent_id, organisation_id, agent_ids, now=now):
        for day in _days(plage.first_day, plage.recurrence, first_day, last_day):
            events.append(AgendaEvent(
                id=f"plage-{plage.id}-{day.isoformat()}", title=plage.title,
                start=_wall(day, plage.start_time), end=_wall(day, plage.end_time), colour=PLAGE_COLOUR,
                kind="plage"))
    for absence in absences.list_absences(uow, actor_agent_id, organisation_id, agent_ids, now=now):
        span = absence.end_day - absence.first_day
        for day in _days(absence.first_day, absence.recurrence, first_day - span, last_day):
            events.append(AgendaEvent(
                id=f"absence-{absence.id}-{day.isoformat()}", title=f"Indisponible : {absence.title}",
                start=_wall(day, absence.start_time), end=_wall(day + span, absence.end_time),
                colour=ABSENCE_COLOUR, kind="absence"))
    return Agenda(events=events, now=now.astimezone(tz).replace(tzinfo=None).isoformat(timespec="minutes"),
                  display_saturdays=actor.display_saturdays, display_cancelled=actor.display_cancelled_rdv)


def _rdv_event(event: rdvs.CalendarEvent, tz: ZoneInfo) -> AgendaEvent:
    title = event.title
    if event.detailed and event.usagers:
        title = f"{event.title} · {', '.join(event.usagers)}"
    return AgendaEvent(
        id=event.id, title=title, start=_local(event.starts_at, tz), end=_local(event.ends_at, tz),
        colour=event.colour, kind="rdv" if event.detailed else "busy", cancelled=event.cancelled,
        rdv_id=event.rdv_id,
    )


def _days(first_day: date, recurrence: dict | None, start: date, end: date) -> list[date]:
    rec = Recurrence.from_json(recurrence, first_day)
    if rec is None:
        return [first_day] if start <= first_day <= end else []
    return list(rec.dates(first_day, start, end))


def _local(instant: datetime, tz: ZoneInfo) -> str:
    return instant.astimezone(tz).replace(tzinfo=None).isoformat(timespec="minutes")


def _wall(day: date, at: time) -> str:
    return datetime.combine(day, at).isoformat(timespec="minutes")
