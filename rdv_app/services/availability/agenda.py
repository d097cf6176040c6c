"""The agents' agenda: everything a calendar shows for some agents over some days, in local time.

RDVs come in their motif colour (cancelled ones flagged, hidden when the agent prefers), other
organisations' RDVs as grey blocks without detail, plages d'ouverture as background and
indisponibilités in grey. When several agents are shown, every event names its agents by their initials
(text, not colour alone) and carries their colour; each event has its whole description for a tooltip. Times are the organisation's local wall-clock times: the calendar displays
them as given, whatever the browser's own time zone.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import Mapped
from sqlmodel import col, select

from rdv_app.db.models import Absence, Agent, AgentRole, AuditLog, Organisation, PlageOuverture
from rdv_app.db.rows import not_null
from rdv_app.db.uow import UnitOfWork
from rdv_app.domain import clock
from rdv_app.domain.colours import LIGHT_TEXT, agent_colour, readable_text_colour
from rdv_app.domain.names import agent_name, distinct_initials, sort_key
from rdv_app.domain.recurrence import Recurrence
from rdv_app.services.availability.inputs import running
from rdv_app.services.boundary import boundary
from rdv_app.services.rdv import queries
from rdv_app.services.rights import agent_scope
from rdv_app.services.rights import visible_agents as visible_agents_of

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
    text_colour: str = LIGHT_TEXT  # readable on `colour` (motif colours are chosen by admins)
    agent_colour: str = ""  # the colour of its (first) agent, when several agents are shown
    description: str = ""  # everything about it in one line: "09:00–09:20 · Suivi · Léa DUPONT · Camille Martin"


@dataclass(frozen=True)
class AgendaAgent:
    id: int
    name: str
    initials: str  # unique in the team: "CM", "CMa"
    colour: str


@dataclass(frozen=True)
class Agenda:
    events: list[AgendaEvent]
    now: str  # local wall-clock ISO datetime of the organisation
    display_saturdays: bool
    display_cancelled: bool
    hidden_days: list[int]  # the week days not drawn (0 Sunday, 6 Saturday), none of which has an RDV shown


@dataclass(frozen=True)
class RecentChanges:
    after: int  # `rows` are the audit rows after this id
    rows: list[tuple[int, int | None]]  # (audit row id, its organisation id)
    preferences: dict[int, tuple[bool, bool]]  # agent id: (display_saturdays, display_cancelled_rdv)


@boundary
def recent_changes(uow: UnitOfWork, after: int | None, agent_ids: Collection[int], *,
                   lookback: int) -> RecentChanges:
    """What open agendas watch to know when to read again (rdv_app.state.agenda_feed), in two cheap
    queries whatever the number of agendas open: the services audit every change to RDVs, plages,
    indisponibilités and motifs in its transaction, with its organisation, so the audit rows after `after`
    (with None: the last `lookback` ones) tell which organisations changed; and the agents' display
    preferences, which their agendas follow too."""
    if after is None:
        after = max(0, (uow.session.exec(select(sa.func.max(AuditLog.id))).one() or 0) - lookback)
    rows = uow.session.exec(select(not_null(AuditLog.id), AuditLog.organisation_id).where(col(AuditLog.id) > after)
                            .order_by(col(AuditLog.id))).all()
    preferences = uow.session.exec(select(not_null(Agent.id), Agent.display_saturdays, Agent.display_cancelled_rdv)
                                   .where(col(Agent.id).in_(agent_ids))).all() if agent_ids else []
    return RecentChanges(after=after, rows=[(row_id, organisation_id) for row_id, organisation_id in rows],
                         preferences={agent_id: (saturdays, cancelled) for agent_id, saturdays, cancelled in preferences})


@boundary
def visible_agents(uow: UnitOfWork, actor_agent_id: int, organisation_id: int) -> list[AgendaAgent]:
    """Agents whose agenda the actor may open (admins and secrétaires everyone, others their services), by
    name, with the initials and colour their events carry."""
    names = visible_agents_of(uow, agent_scope(uow, actor_agent_id, organisation_id))
    team = _team(uow, names)
    return [team[agent_id] for agent_id in sorted(names, key=lambda agent_id: sort_key(*names[agent_id]))]


def _team(uow: UnitOfWork, names: dict[int, tuple[str | None, str]]) -> dict[int, AgendaAgent]:
    """Each agent's name, initials and colour (the one they chose in "Mon compte", else the palette's)."""
    labels = distinct_initials(names)
    chosen = dict(uow.session.exec(select(not_null(Agent.id), Agent.agenda_colour)
                                   .where(col(Agent.id).in_(names), col(Agent.agenda_colour).is_not(None))).all())
    return {agent_id: AgendaAgent(agent_id, agent_name(first, last), labels[agent_id],
                                  agent_colour(agent_id, chosen.get(agent_id)))
            for agent_id, (first, last) in names.items()}


@boundary
def agenda(uow: UnitOfWork, actor_agent_id: int, organisation_id: int, agent_ids: Sequence[int],
           first_day: date, last_day: date, *, now: datetime | None = None) -> Agenda:
    """Events of the agents on the local days first_day..last_day. The rights are checked once, and the
    number of queries grows neither with the number of agents nor with the number of events."""
    now = now or clock.now()
    last_day = min(last_day, first_day + timedelta(days=MAX_DAYS))
    scope = agent_scope(uow, actor_agent_id, organisation_id)
    names = visible_agents_of(uow, scope)
    wanted = queries.calendar_agents(uow, scope, agent_ids, visible=names.keys())
    team = _team(uow, names)
    time_zone, display_saturdays, display_cancelled = uow.session.exec(
        select(Organisation.timezone, Agent.display_saturdays, Agent.display_cancelled_rdv)
        .select_from(AgentRole)
        .join(Organisation, col(Organisation.id) == AgentRole.organisation_id)
        .join(Agent, col(Agent.id) == AgentRole.agent_id)
        .where(AgentRole.agent_id == actor_agent_id, AgentRole.organisation_id == organisation_id)
    ).one()
    tz = ZoneInfo(time_zone or "Europe/Paris")
    start = datetime.combine(first_day, time(0), tz)
    end = datetime.combine(last_day + timedelta(days=1), time(0), tz)
    local = _local_times(tz)
    found = [_rdv_event(e, local) for e in queries.calendar_events(
        uow, scope, wanted, start.astimezone(UTC), end.astimezone(UTC), time_zone=tz.key, now=now)
        if display_cancelled or not e.cancelled]
    if wanted:
        today = now.astimezone(tz).date()
        found += _plage_events(uow, organisation_id, wanted, today, first_day, last_day)
        found += _absence_events(uow, wanted, today, first_day, last_day)
    events = [_attributed(event, [team[a] for a in agents], several=len(wanted) > 1) for event, agents in found]
    return Agenda(events=events, now=local(now), display_saturdays=display_saturdays,
                  display_cancelled=display_cancelled, hidden_days=_hidden_days(display_saturdays, events))


def opening_day(today: date, hidden_days: Sequence[int]) -> date:
    """The day the agenda opens on when none is asked for: today, unless the calendar does not draw today
    (`Agenda.hidden_days` of today: a Sunday, or a Saturday the agent hides, without an RDV): then the next
    day drawn, so that a Saturday opens the week to come rather than the one gone by."""
    day = today
    while day.isoweekday() % 7 in hidden_days:
        day += timedelta(days=1)
    return day


def _hidden_days(display_saturdays: bool, events: list[AgendaEvent]) -> list[int]:
    """Sundays, and Saturdays unless the agent shows them, are left out of the calendar, except on the
    weeks an RDV falls on one: an RDV is never hidden by a display preference."""
    booked = {(date.fromisoformat(e.start[:10]).isoweekday() % 7) for e in events if e.kind in ("rdv", "busy")}
    return [day for day in ([0] if display_saturdays else [0, 6]) if day not in booked]


def _attributed(event: AgendaEvent, agents: list[AgendaAgent], *, several: bool) -> AgendaEvent:
    """The event named by its agents' initials when several agendas are shown, with its agent's colour and
    its whole description ("09:00–09:20 · title · agents")."""
    hours = f"{event.start[11:16]}–{event.end[11:16]}" if event.start[:10] == event.end[:10] else ""
    who = ", ".join(f"{a.name} ({a.initials})" if several else a.name for a in agents)
    description = " · ".join(part for part in (hours, event.title, who) if part)
    if not several or not agents:
        return replace(event, description=description)
    return replace(event, title=f"{', '.join(a.initials for a in agents)} · {event.title}",
                   agent_colour=agents[0].colour, description=description)


def _plage_events(uow: UnitOfWork, organisation_id: int, agent_ids: Sequence[int], today: date, first_day: date,
                  last_day: date) -> list[tuple[AgendaEvent, tuple[int, ...]]]:
    """The agents' running plages of the organisation, as background, on the days they open."""
    rows = uow.session.exec(
        # sqlmodel types select() for at most 4 entities.
        select(PlageOuverture.id, PlageOuverture.title, PlageOuverture.first_day, PlageOuverture.start_time,  # type: ignore[call-overload]
               PlageOuverture.end_time, PlageOuverture.recurrence, PlageOuverture.agent_id)
        .where(PlageOuverture.organisation_id == organisation_id, col(PlageOuverture.agent_id).in_(agent_ids),
               running(PlageOuverture, col(PlageOuverture.first_day), today),
               _may_meet(PlageOuverture, col(PlageOuverture.first_day), first_day, last_day))
        .order_by(PlageOuverture.agent_id, PlageOuverture.first_day, PlageOuverture.start_time, PlageOuverture.id)
    ).all()
    return [(AgendaEvent(id=f"plage-{plage_id}-{day.isoformat()}", title=title, start=_wall(day, start_time),
                         end=_wall(day, end_time), colour=PLAGE_COLOUR, kind="plage"), (agent_id,))
            for plage_id, title, plage_day, start_time, end_time, recurrence, agent_id in rows
            for day in _days(plage_day, recurrence, first_day, last_day)]


def _absence_events(uow: UnitOfWork, agent_ids: Sequence[int], today: date, first_day: date,
                    last_day: date) -> list[tuple[AgendaEvent, tuple[int, ...]]]:
    """The agents' running indisponibilités (in any organisation), in grey, each occurrence whole."""
    rows = uow.session.exec(
        # sqlmodel types select() for at most 4 entities.
        select(Absence.id, Absence.title, Absence.first_day, Absence.start_time, Absence.end_day, Absence.end_time,  # type: ignore[call-overload]
               Absence.recurrence, Absence.agent_id)
        .where(col(Absence.agent_id).in_(agent_ids), running(Absence, col(Absence.end_day), today),
               _may_meet(Absence, col(Absence.end_day), first_day, last_day))
        .order_by(Absence.agent_id, Absence.first_day, Absence.start_time, Absence.id)
    ).all()
    events: list[tuple[AgendaEvent, tuple[int, ...]]] = []
    for absence_id, title, absence_day, start_time, end_day, end_time, recurrence, agent_id in rows:
        span = end_day - absence_day
        events += [(AgendaEvent(id=f"absence-{absence_id}-{day.isoformat()}", title=f"Indisponible : {title}",
                                start=_wall(day, start_time), end=_wall(day + span, end_time),
                                colour=ABSENCE_COLOUR, kind="absence"), (agent_id,))
                   for day in _days(absence_day, recurrence, first_day - span, last_day)]
    return events


def _may_meet(model: type[PlageOuverture] | type[Absence], last_day_column: Mapped[date], first_day: date,
              last_day: date) -> sa.ColumnElement[bool]:
    """Rows that may have an occurrence on first_day..last_day: a one-off by its days, a series by its span."""
    one_off = sa.and_(col(model.recurrence).is_(None), last_day_column >= first_day)
    series = sa.and_(col(model.recurrence).is_not(None),
                     sa.or_(col(model.recurrence_until).is_(None), col(model.recurrence_until) >= first_day))
    return sa.and_(col(model.first_day) <= last_day, sa.or_(one_off, series))


def _rdv_event(event: queries.CalendarEvent,
               local: Callable[[datetime], str]) -> tuple[AgendaEvent, tuple[int, ...]]:
    title = event.title
    if event.detailed and event.motif_name and event.usagers:
        title = f"{event.motif_name} · {event.title}"  # the title already names the usagers
    return AgendaEvent(
        id=event.id, title=title, start=local(event.starts_at), end=local(event.ends_at),
        colour=event.colour, kind="rdv" if event.detailed else "busy", cancelled=event.cancelled,
        rdv_id=event.rdv_id, text_colour=_text_colour(event.colour),
    ), event.agent_ids


@lru_cache(maxsize=1024)
def _text_colour(background: str) -> str:
    return readable_text_colour(background)


def _days(first_day: date, recurrence: dict | None, start: date, end: date) -> list[date]:
    rec = Recurrence.from_json(recurrence, first_day)
    if rec is None:
        return [first_day] if start <= first_day <= end else []
    return list(rec.dates(first_day, start, end))


def _local_times(tz: ZoneInfo) -> Callable[[datetime], str]:
    """Instants as local wall-clock ISO text without offset ("2026-12-07T09:00"), each converted once:
    the RDVs of agents shown side by side share their times."""
    return lru_cache(maxsize=None)(lambda instant: instant.astimezone(tz).isoformat(timespec="minutes")[:16])


def _wall(day: date, at: time) -> str:
    return datetime.combine(day, at).isoformat(timespec="minutes")
