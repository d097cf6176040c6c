"""The agenda page: which agents are shown, the events of the visible range, live refresh."""

from __future__ import annotations

import asyncio
import dataclasses
import secrets
from datetime import date, timedelta

import reflex as rx

from rdv_app.db.uow import UnitOfWork
from rdv_app.services import agenda, rdvs
from rdv_app.services.errors import DomainError
from rdv_app.state.agent import AgentState

# Another agent's change reaches an open agenda within this delay (issue: at most 2 seconds).
REFRESH_SECONDS = 1.0


@dataclasses.dataclass
class AgentChoice:
    value: str
    label: str


def _client_connected(token: str) -> bool:
    from reflex.utils.prerequisites import get_app

    namespace = get_app().app.event_namespace
    return namespace is not None and token in namespace.token_to_sid


def _calendar_event(event: agenda.AgendaEvent) -> dict:
    """FullCalendar's event object; plages are drawn as background, cancelled RDVs struck through."""
    data = {"id": event.id, "title": event.title, "start": event.start, "end": event.end, "color": event.colour,
            "classNames": [f"agenda-{event.kind}", *(["agenda-cancelled"] if event.cancelled else [])]}
    if event.kind == "plage":
        data["display"] = "background"
    return data


class AgendaState(AgentState):
    agent_choices: list[AgentChoice] = []
    shown_agents: list[str] = []
    events: list[dict] = []
    now_local: str = ""
    hidden_days: list[int] = [0]
    error: str = ""
    selected_title: str = ""
    selected_lines: list[str] = []

    _first_day: str = ""
    _last_day: str = ""
    _watch: str = ""

    @rx.event
    def load(self):
        if self._agent_id is None or not self.current_org_id:
            return None
        with UnitOfWork() as uow:
            choices = agenda.visible_agents(uow, self._agent_id, int(self.current_org_id))
        self.agent_choices = [AgentChoice(str(a.id), a.name) for a in choices]
        known = {c.value for c in self.agent_choices}
        self.shown_agents = [a for a in self.shown_agents if a in known] or [str(self._agent_id)]
        self._watch = secrets.token_hex(8)
        return AgendaState.watch

    def _fetch(self) -> agenda.Agenda | None:
        if self._agent_id is None or not self._first_day:
            return None
        with UnitOfWork() as uow:
            return agenda.agenda(uow, self._agent_id, int(self.current_org_id), [int(a) for a in self.shown_agents],
                                 date.fromisoformat(self._first_day), date.fromisoformat(self._last_day))

    def _show(self, data: agenda.Agenda | None) -> None:
        if data is None:
            return
        events = [_calendar_event(e) for e in data.events]
        if events != self.events:
            self.events = events
        self.now_local = data.now
        self.hidden_days = [0] if data.display_saturdays else [0, 6]

    @rx.event
    def range_changed(self, start: str, end: str, _view: str):
        """FullCalendar reports the visible range (end excluded): load only that."""
        first, after = date.fromisoformat(start[:10]), date.fromisoformat(end[:10])
        self._first_day, self._last_day = first.isoformat(), (after - timedelta(days=1)).isoformat()
        try:
            self._show(self._fetch())
            self.error = ""
        except DomainError as exc:
            self.error = exc.message

    @rx.event
    def toggle_agent(self, agent_id: str, checked: bool):
        others = [a for a in self.shown_agents if a != agent_id]
        self.shown_agents = [*others, agent_id] if checked else others or [str(self._agent_id)]
        self._show(self._fetch())

    @rx.event
    def open_event(self, event_id: str):
        self.selected_title, self.selected_lines = "", []
        if not event_id.startswith("rdv-"):
            return
        try:
            with UnitOfWork() as uow:
                details = rdvs.get_rdv(uow, self._agent_id, int(self.current_org_id), int(event_id.split("-")[1]))
        except (DomainError, ValueError):
            return
        self.selected_title = details.motif_name
        self.selected_lines = [
            f"Le {details.day} à {details.time} ({details.duration_in_min} min)",
            f"Lieu : {details.lieu}",
            "Avec : " + ", ".join(a.name for a in details.agents),
            "Usagers : " + (", ".join(p.name for p in details.participants) or "aucun"),
            f"Statut : {details.status_label}",
        ]

    @rx.event
    def close_event(self):
        self.selected_title, self.selected_lines = "", []

    @rx.event(background=True)
    async def watch(self):
        """Reloads the visible range every second while this agenda stays open in this tab."""
        async with self:
            token = self._watch
            client = self.router.session.client_token
        while True:
            await asyncio.sleep(REFRESH_SECONDS)
            if not _client_connected(client):
                return
            async with self:
                if self._watch != token:
                    return
                try:
                    self._show(self._fetch())
                except DomainError:
                    return
