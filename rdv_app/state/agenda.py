"""The agenda page: which agents are shown, the events of the visible range, live refresh."""

from __future__ import annotations

import dataclasses
import secrets
import zlib
from datetime import date, datetime, timedelta

import reflex as rx

from rdv_app import routes
from rdv_app.blocking import within
from rdv_app.db.uow import UnitOfWork
from rdv_app.domain import datefmt
from rdv_app.services.availability import agenda, creneaux
from rdv_app.services.errors import DomainError
from rdv_app.services.rdv import rdv_planning
from rdv_app.state.agenda_feed import agenda_feed, only_loop_of_tab
from rdv_app.state.agent import AgentState
from rdv_app.state.organisation import OrganisationPageState
from rdv_app.state.rdv_new import replace_query
from rdv_app.state.typed_event import event

# How often a watching agenda without news checks that its tab is still open on it.
STILL_OPEN_SECONDS = 5.0

# What the agenda service reads: agent, organisation, agents shown, first and last day.
AgendaQuery = tuple[int, int, tuple[int, ...], date, date]


@dataclasses.dataclass
class AgentChoice:
    value: str
    label: str
    initials: str = ""  # the agents' legend: their initials and colour, as their events carry them
    colour: str = ""


@dataclasses.dataclass
class ListedEvent:
    """A line of the "Liste" view: the calendar's events as text, for screen readers and printing."""

    day: str  # "mardi 8 décembre 2026"
    hours: str  # "09:40–10:00"
    text: str  # what it is, and whose
    href: str  # an RDV's page, else ""


KIND_LABELS = {"plage": "Plage d'ouverture", "absence": "Indisponibilité", "busy": "Occupé ailleurs"}


def _listed(event: agenda.AgendaEvent) -> ListedEvent:
    hours = f"{event.start[11:16]}–{event.end[11:16]}"
    text = event.description.removeprefix(hours + " · ") or event.title
    if event.kind == "plage":
        text = f"{KIND_LABELS['plage']} : {text}"
    if event.cancelled:
        text += " (annulé)"
    return ListedEvent(day=datefmt.long_date(date.fromisoformat(event.start[:10])), hours=hours, text=text,
                       href=routes.rdv_page(event.rdv_id) if event.kind == "rdv" and event.rdv_id else "")


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
    # The description in the id: FullCalendar mounts an event again when its id changes, and its tooltip is
    # set when it is mounted (rdv_app.components.calendar).
    data = {"id": f"{event.id}-{zlib.crc32(event.description.encode()):x}", "title": event.title, "start": event.start, "end": event.end, "color": event.colour,
            "textColor": event.text_colour, "extendedProps": {"description": event.description},
            "classNames": [f"agenda-{event.kind}", *(["agenda-cancelled"] if event.cancelled else []),
                           *(["agenda-team"] if event.agent_colour else [])]}
    if event.agent_colour:  # its agent's colour as the event's left stripe (its initials are in the title)
        data["borderColor"] = event.agent_colour
    if event.kind == "plage":
        data["display"] = "background"
    if event.kind == "rdv" and event.rdv_id is not None:
        # A real link: keyboard, middle click and "open in a new tab" reach the RDV's page.
        data["url"] = routes.rdv_page(event.rdv_id)
    return data


async def _read(query: AgendaQuery) -> agenda.Agenda:
    return await within(UnitOfWork(read_only=True), lambda uow: agenda.agenda(uow, *query))


class AgendaState(OrganisationPageState, AgentState):
    agent_choices: rx.Field[list[AgentChoice]] = rx.field(default_factory=list)
    shown_agents: rx.Field[list[str]] = rx.field(default_factory=list)
    events: rx.Field[list[dict]] = rx.field(default_factory=list)
    # The "Liste" view: the same events, by day and time, as a table.
    listed: rx.Field[list[ListedEvent]] = rx.field(default_factory=list)
    list_open: rx.Field[bool] = rx.field(False)
    now_local: rx.Field[str] = rx.field("")
    hidden_days: rx.Field[list[int]] = rx.field(default_factory=lambda: [0])
    error: rx.Field[str] = rx.field("")
    # FullCalendar reads `now` and its first day only when it starts: it starts once they are known.
    calendar_ready: rx.Field[bool] = rx.field(False)
    initial_date: rx.Field[str] = rx.field("")
    created_message: rx.Field[str] = rx.field("")
    created_link: rx.Field[str] = rx.field("")
    # Planning from an empty time of the calendar.
    motif_choices: rx.Field[list[AgentChoice]] = rx.field(default_factory=list)
    new_rdv_open: rx.Field[bool] = rx.field(False)
    new_rdv_start: rx.Field[str] = rx.field("")  # local wall-clock time ("2026-12-07T09:30"), or a day from the month view
    new_rdv_label: rx.Field[str] = rx.field("")
    new_rdv_motif: rx.Field[str] = rx.field("")
    new_rdv_agent: rx.Field[str] = rx.field("")
    new_rdv_error: rx.Field[str] = rx.field("")

    _first_day: str = ""
    _last_day: str = ""
    _watch: str = ""

    def _before_load(self) -> None:
        self.calendar_ready = self.new_rdv_open = False
        self.created_message = self.created_link = ""

    async def _load(self, agent_id: int, organisation_id: int) -> list:
        params = self.router.url.query_parameters
        day = _iso_day(params.get("jour", ""))
        created = params.get("rdv-cree", "")

        def read(uow: UnitOfWork) -> tuple[list[agenda.AgendaAgent], creneaux.SearchOptions, str, list[str]]:
            summary, its_agents = "", []
            if created.isdigit():
                try:
                    summary = rdv_planning.created_summary(uow, agent_id, organisation_id, int(created))
                    its_agents = [str(a) for a in rdv_planning.created_rdv_agents(uow, agent_id, organisation_id,
                                                                                  int(created))]
                except DomainError:
                    summary, its_agents = "", []
            return (agenda.visible_agents(uow, agent_id, organisation_id),
                    creneaux.search_options(uow, agent_id, organisation_id), summary, its_agents)

        choices, options, self.created_message, created_agents = await within(UnitOfWork(read_only=True), read)
        self.created_link = routes.rdv_page(int(created)) if self.created_message else ""
        self.agent_choices = [AgentChoice(str(a.id), a.name, a.initials, a.colour) for a in choices]
        self.motif_choices = [AgentChoice(str(m.id), m.label) for m in options.motifs]
        known = {c.value for c in self.agent_choices}
        shown = [a for a in self.shown_agents if a in known] or [str(agent_id)]
        # The RDV just created is in sight: its agents' agendas are shown too.
        self.shown_agents = shown + [a for a in created_agents if a in known and a not in shown]
        # The organisation's "now" and the display preferences, before the calendar starts.
        self.initial_date = day or options.today.isoformat()
        self._first_day = self._last_day = self.initial_date
        await self._refresh()
        opening = day or agenda.opening_day(options.today, self.hidden_days).isoformat()
        if opening != self.initial_date:
            self.initial_date = self._first_day = self._last_day = opening
            await self._refresh()
        self.calendar_ready = True
        self._watch = secrets.token_hex(8)
        # A reload must not announce the creation again.
        return [AgendaState.watch, *([replace_query(routes.agenda(day=day))] if created else [])]

    def _query(self) -> AgendaQuery | None:
        if self._agent_id is None or not self.current_org_id or not self._first_day:
            return None
        return (self._agent_id, int(self.current_org_id), tuple(int(a) for a in self.shown_agents if a.isdigit()),
                date.fromisoformat(self._first_day), date.fromisoformat(self._last_day))

    async def _refresh(self) -> None:
        query = self._query()
        if query is not None:
            self._show(await _read(query))

    def _show(self, data: agenda.Agenda) -> None:
        events = [_calendar_event(e) for e in data.events]
        if events != self.events:
            self.events = events
            self.listed = [_listed(e) for e in sorted(data.events, key=lambda e: (e.start, e.end, e.title))]
        self.now_local = data.now
        self.hidden_days = data.hidden_days

    @event
    async def range_changed(self, start: str, end: str, _view: str):
        """FullCalendar reports the visible range (end excluded): load only that."""
        try:
            first, after = date.fromisoformat(start[:10]), date.fromisoformat(end[:10])
        except ValueError:
            return
        self._first_day, self._last_day = first.isoformat(), (after - timedelta(days=1)).isoformat()
        try:
            await self._refresh()
            self.error = ""
        except DomainError as exc:
            self.error = exc.message

    @event
    def toggle_list(self):
        self.list_open = not self.list_open

    @event
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

    @event
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

    @event
    def set_new_rdv_motif(self, value: str):
        self.new_rdv_motif = value
        self.new_rdv_error = ""

    @event
    def set_new_rdv_agent(self, value: str):
        self.new_rdv_agent = value

    @event
    def close_new_rdv(self, is_open: bool):
        self.new_rdv_open = is_open

    @event
    def plan_new_rdv(self):
        if not self.new_rdv_motif:
            self.new_rdv_error = "Choisissez le motif du RDV."
            return None
        return rx.redirect(routes.rdv_new(motif_id=self.new_rdv_motif, start=self.new_rdv_start,
                                          agent_ids=[self.new_rdv_agent]))

    @event
    async def toggle_agent(self, agent_id: str, checked: bool):
        if agent_id not in {c.value for c in self.agent_choices}:
            return
        others = [a for a in self.shown_agents if a != agent_id]
        self.shown_agents = [*others, agent_id] if checked else others or [str(self._agent_id)]
        await self._refresh()

    @event(background=True)
    async def watch(self):
        """Reads the visible range again whenever the process's change feed (`agenda_feed`) reports a change
        that may show in it, while this agenda stays open in this tab and its session holds.

        Started only for a valid session (`rdv_app.state.session_guard` checks it before any event); one per
        tab: a new one (the agenda loaded again, or a client sending the event again) ends the previous."""
        async with self:
            token, client, agent_id = self._watch, self.router.session.client_token, self._agent_id
            # The agent's other organisations too (the one shown among them): their RDVs show here as busy time.
            organisations = {int(o["id"]) for o in self.organisations}
        if agent_id is None:
            return
        async with only_loop_of_tab(client):
            await self._follow_changes(token, client, agent_id, organisations)

    async def _follow_changes(self, token: str, client: str, agent_id: int, organisations: set[int]) -> None:
        async with agenda_feed.watch(organisations, agent_id) as changes:
            changes.notify()  # once joined, read again what may have changed while joining
            while True:
                changed = await changes.wait(STILL_OPEN_SECONDS)
                if not _client_connected(client):
                    return
                async with self:
                    if self._watch != token or not await self._session_still_valid():
                        return
                    query = self._query()
                if not changed or query is None:
                    continue
                try:
                    data = await _read(query)  # without holding the state: the agent's clicks go on
                except DomainError:
                    return
                async with self:
                    if self._watch == token and self._query() == query:
                        self._show(data)
