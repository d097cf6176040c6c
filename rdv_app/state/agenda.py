"""The agenda page: which agents are shown, the events of the visible range, live refresh."""

from __future__ import annotations

import asyncio
import dataclasses
import secrets
from datetime import date, datetime, timedelta

import reflex as rx

from rdv_app import routes
from rdv_app.db.uow import UnitOfWork
from rdv_app.domain import datefmt
from rdv_app.services.availability import agenda, creneaux
from rdv_app.services.errors import DomainError
from rdv_app.services.rdv import rdv_planning
from rdv_app.state.agent import AgentState
from rdv_app.state.rdv_new import replace_query

# Another agent's change reaches an open agenda within this delay (issue: at most 2 seconds).
REFRESH_SECONDS = 1.0


@dataclasses.dataclass
class AgentChoice:
    value: str
    label: str


def _iso_day(value: str) -> str:
    try:
        return date.fromisoformat(value).isoformat()
    except ValueError:
        return ""


def _client_connected(token: str) -> bool:
    from reflex.utils.prerequisites import get_app

    namespace = get_app().app.event_namespace
    return namespace is not None and token in namespace.token_to_sid


def _calendar_event(event: agenda.AgendaEvent) -> dict:
    """FullCalendar's event object; plages are drawn as background, cancelled RDVs struck through."""
    data = {"id": event.id, "title": event.title, "start": event.start, "end": event.end, "color": event.colour,
            "textColor": event.text_colour,
            "classNames": [f"agenda-{event.kind}", *(["agenda-cancelled"] if event.cancelled else [])]}
    if event.kind == "plage":
        data["display"] = "background"
    if event.kind == "rdv" and event.rdv_id is not None:
        # A real link: keyboard, middle click and "open in a new tab" reach the RDV's page.
        data["url"] = routes.rdv_page(event.rdv_id)
    return data


class AgendaState(AgentState):
    agent_choices: list[AgentChoice] = []
    shown_agents: list[str] = []
    events: list[dict] = []
    now_local: str = ""
    hidden_days: list[int] = [0]
    error: str = ""
    # FullCalendar reads `now` and its first day only when it starts: it starts once they are known.
    calendar_ready: bool = False
    initial_date: str = ""
    created_message: str = ""
    created_link: str = ""
    # Planning from an empty time of the calendar.
    motif_choices: list[AgentChoice] = []
    new_rdv_open: bool = False
    new_rdv_start: str = ""  # local wall-clock time ("2026-12-07T09:30"), or a day from the month view
    new_rdv_label: str = ""
    new_rdv_motif: str = ""
    new_rdv_agent: str = ""
    new_rdv_error: str = ""

    _first_day: str = ""
    _last_day: str = ""
    _watch: str = ""

    @rx.event
    def load(self):
        if self._agent_id is None or not self.current_org_id:
            return
        self.calendar_ready = self.new_rdv_open = False
        yield
        params = self.router.url.query_parameters
        day = _iso_day(params.get("jour", ""))
        self.created_message = self.created_link = ""
        with UnitOfWork(read_only=True) as uow:
            choices = agenda.visible_agents(uow, self._agent_id, int(self.current_org_id))
            options = creneaux.search_options(uow, self._agent_id, int(self.current_org_id))
            created = params.get("rdv-cree", "")
            created_agents: list[str] = []
            if created.isdigit():
                try:
                    organisation_id, rdv_id = int(self.current_org_id), int(created)
                    self.created_message = rdv_planning.created_summary(uow, self._agent_id, organisation_id, rdv_id)
                    self.created_link = routes.rdv_page(rdv_id)
                    created_agents = [str(a) for a in rdv_planning.created_rdv_agents(uow, self._agent_id,
                                                                                      organisation_id, rdv_id)]
                except DomainError:
                    self.created_message = ""
        self.agent_choices = [AgentChoice(str(a.id), a.name) for a in choices]
        self.motif_choices = [AgentChoice(str(m.id), m.label) for m in options.motifs]
        known = {c.value for c in self.agent_choices}
        self.shown_agents = [a for a in self.shown_agents if a in known] or [str(self._agent_id)]
        # The RDV just created is in sight: its agents' agendas are shown too.
        self.shown_agents += [a for a in created_agents if a in known and a not in self.shown_agents]
        # The organisation's "now" and the display preferences, before the calendar starts.
        self.initial_date = day or options.today.isoformat()
        self._first_day = self._last_day = self.initial_date
        self._show(self._fetch())
        self.calendar_ready = True
        self._watch = secrets.token_hex(8)
        yield AgendaState.watch
        if created:
            # A reload must not announce the creation again.
            yield replace_query(routes.agenda(day=day))

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
    def ask_new_rdv(self, moment: str, all_day: bool):
        """An empty time was clicked (a day in the month view): the motif is chosen next."""
        try:
            clicked = datetime.fromisoformat(moment.removesuffix("Z"))
        except ValueError:
            return
        if all_day:
            self.new_rdv_start = clicked.date().isoformat()
            self.new_rdv_label = "Le " + datefmt.long_date(clicked.date())
        else:
            self.new_rdv_start = clicked.strftime("%Y-%m-%dT%H:%M")
            self.new_rdv_label = "Le " + rdv_planning.describe(clicked.date(), clicked.time())
        self._open_new_rdv()

    @rx.event
    def ask_new_rdv_anytime(self):
        """The button next to the calendar: the date and time are chosen on the planning page."""
        self.new_rdv_start = self.new_rdv_label = ""
        self._open_new_rdv()

    def _open_new_rdv(self) -> None:
        if self.new_rdv_motif not in {m.value for m in self.motif_choices}:
            self.new_rdv_motif = self.motif_choices[0].value if len(self.motif_choices) == 1 else ""
        mine = str(self._agent_id)
        self.new_rdv_agent = mine if mine in self.shown_agents else self.shown_agents[0]
        self.new_rdv_error = ""
        self.new_rdv_open = True

    @rx.var
    def shown_agent_choices(self) -> list[AgentChoice]:
        return [c for c in self.agent_choices if c.value in self.shown_agents]

    @rx.event
    def set_new_rdv_motif(self, value: str):
        self.new_rdv_motif = value
        self.new_rdv_error = ""

    @rx.event
    def set_new_rdv_agent(self, value: str):
        self.new_rdv_agent = value

    @rx.event
    def close_new_rdv(self, is_open: bool):
        self.new_rdv_open = is_open

    @rx.event
    def plan_new_rdv(self):
        if not self.new_rdv_motif:
            self.new_rdv_error = "Choisissez le motif du RDV."
            return None
        return rx.redirect(routes.rdv_new(motif_id=self.new_rdv_motif, start=self.new_rdv_start,
                                          agent_ids=[self.new_rdv_agent]))

    @rx.event
    def toggle_agent(self, agent_id: str, checked: bool):
        others = [a for a in self.shown_agents if a != agent_id]
        self.shown_agents = [*others, agent_id] if checked else others or [str(self._agent_id)]
        self._show(self._fetch())

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
