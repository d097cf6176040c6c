"""'Trouver un RDV': the form's choices and the week shown; every rule lives in services.creneaux."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

import reflex as rx

from rdv_app import routes
from rdv_app.blocking import within
from rdv_app.choices import Option
from rdv_app.db.uow import UnitOfWork
from rdv_app.domain import datefmt
from rdv_app.services.availability import creneaux
from rdv_app.services.errors import DomainError, FieldErrors, NotFound
from rdv_app.services.online_booking import prescription
from rdv_app.services.usagers import usagers
from rdv_app.state.agent import AgentState
from rdv_app.state.organisation import OrganisationPageState
from rdv_app.state.typed_event import event


@dataclass
class SlotButton:
    href: str  # planning an RDV on this slot
    time: str
    initials: str
    colour: str
    agent: str
    lieu: str
    description: str


@dataclass
class DayColumn:
    label: str
    slots: list[SlotButton] = field(default_factory=list)


@dataclass
class LieuCard:
    lieu_id: str
    name: str
    address: str
    next_slot: str



def _day(value: str) -> date | None:
    """The day of a date input (yyyy-mm-dd), None when empty or not a day."""
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None

class CreneauxState(OrganisationPageState, AgentState):
    services: rx.Field[list[Option]] = rx.field(default_factory=list)
    motifs: rx.Field[list[Option]] = rx.field(default_factory=list)
    agents: rx.Field[list[Option]] = rx.field(default_factory=list)
    lieux: rx.Field[list[Option]] = rx.field(default_factory=list)
    teams: rx.Field[list[Option]] = rx.field(default_factory=list)
    team_members: rx.Field[dict[str, list[str]]] = rx.field(default_factory=dict)

    team_id: rx.Field[str] = rx.field("")
    service_id: rx.Field[str] = rx.field("")
    motif_id: rx.Field[str] = rx.field("")
    agent_ids: rx.Field[list[str]] = rx.field(default_factory=list)
    lieu_id: rx.Field[str] = rx.field("")
    from_day: rx.Field[str] = rx.field("")

    # The usager the RDV is for, from "Trouver un RDV" on their page (`?usager=`), once the service
    # allowed them: the slots' links carry them to the RDV's form.
    usager_id: rx.Field[str] = rx.field("")
    usager_name: rx.Field[str] = rx.field("")
    usager_message: rx.Field[str] = rx.field("")

    searching: rx.Field[bool] = rx.field(False)
    error: rx.Field[str] = rx.field("")
    field_errors: dict[str, str] = {}  # a required criterion left empty, under its field
    searched: rx.Field[bool] = rx.field(False)
    week_title: rx.Field[str] = rx.field("")
    days: rx.Field[list[DayColumn]] = rx.field(default_factory=list)
    week_is_empty: rx.Field[bool] = rx.field(False)
    next_label: rx.Field[str] = rx.field("")
    lieu_cards: rx.Field[list[LieuCard]] = rx.field(default_factory=list)
    # "Élargir la recherche": the territory has motifs open to prescription that this agent may book.
    prescription_offered: rx.Field[bool] = rx.field(False)

    _next_day: str = ""
    _options: creneaux.SearchOptions | None = None

    async def _load(self, agent_id: int, organisation_id: int) -> None:
        options = await within(UnitOfWork(read_only=True),
                               lambda uow: creneaux.search_options(uow, agent_id, organisation_id))
        self.services = [Option(str(c.id), c.label) for c in options.services]
        self.motifs = [Option(str(c.id), c.label, str(c.group)) for c in options.motifs]
        self.agents = [Option(str(c.id), c.label) for c in options.agents]
        self.lieux = [Option(str(c.id), c.label) for c in options.lieux]
        self.teams = [Option(str(c.id), c.label) for c in options.teams]
        self.team_members = {str(team_id): sorted(str(a) for a in members)
                             for team_id, members in options.team_members.items()}
        if self.team_id not in self.team_members:
            self.team_id = ""
        if self.service_id not in {s.value for s in self.services}:
            self.service_id = ""
        if self.motif_id not in {m.value for m in self.motifs}:
            service, motif = options.preselected(int(self.service_id) if self.service_id else None)
            self.service_id = "" if service is None else str(service)
            self.motif_id = "" if motif is None else str(motif)
        self._options = options
        self.agent_ids = [a for a in self.agent_ids if a in {o.value for o in self.agents}]
        if self.lieu_id not in {o.value for o in self.lieux}:
            self.lieu_id = ""
        self.from_day = self.from_day or options.today.isoformat()
        self.prescription_offered = await within(UnitOfWork(read_only=True), lambda uow: prescription.is_offered(
            uow, agent_id, organisation_id))
        await self._read_usager(agent_id, organisation_id)
        self._clear_results()

    async def _read_usager(self, agent_id: int, organisation_id: int) -> None:
        raw = self.router.url.query_parameters.get("usager", "")
        self.usager_id = self.usager_name = self.usager_message = ""
        if not raw:
            return
        try:
            if not raw.isdigit():
                raise NotFound("Cet usager n'existe pas.")
            found = await within(UnitOfWork(read_only=True), lambda uow: usagers.usager_for_planning(
                uow, agent_id, organisation_id, int(raw)))
        except DomainError as exc:
            self.usager_message = f"L'usager du lien n'a pas été repris : {exc.message}"
            return
        self.usager_id, self.usager_name = str(found.id), found.name

    def _clear_results(self) -> None:
        self.searched = False
        self.error = ""
        self.field_errors = {}
        self.days = []
        self.lieu_cards = []
        self.week_is_empty = False

    @rx.var
    def prescription_href(self) -> str:
        return routes.prescription(self.usager_id or None)

    @rx.var
    def motifs_shown(self) -> list[Option]:
        return [m for m in self.motifs if not self.service_id or m.group == self.service_id]

    @rx.var
    def agents_shown(self) -> list[Option]:
        """The agents offered: those of the team chosen, else all."""
        if not self.team_id:
            return self.agents
        members = set(self.team_members.get(self.team_id, []))
        return [a for a in self.agents if a.value in members]

    @event
    def set_team(self, value: str):
        self.team_id = value if value in self.team_members else ""
        if self.team_id:
            members = set(self.team_members[self.team_id])
            self.agent_ids = [a for a in self.agent_ids if a in members]

    @event
    def set_service(self, value: str):
        self.service_id = value if value in {s.value for s in self.services} else ""
        if self.motif_id and self.motif_id not in {m.value for m in self.motifs_shown}:
            self.motif_id = ""
        if not self.motif_id and self._options is not None:
            _, motif = self._options.preselected(int(self.service_id) if self.service_id else None)
            self.motif_id = "" if motif is None else str(motif)

    @event
    def set_motif(self, value: str):
        self.motif_id = value
        self.field_errors = {k: v for k, v in self.field_errors.items() if k != "motif_id"}

    @event
    def set_lieu(self, value: str):
        self.lieu_id = value

    @event
    def set_from_day(self, value: str):
        self.from_day = value
        self.field_errors = {k: v for k, v in self.field_errors.items() if k != "from_day"}

    @event
    def toggle_agent(self, agent_id: str, checked: bool):
        others = [a for a in self.agent_ids if a != agent_id]
        self.agent_ids = [*others, agent_id] if checked else others

    @event
    async def search(self):
        self.error, self.field_errors = "", {}
        if self._agent_id is None or not self.current_org_id:
            return
        chosen_motif = int(self.motif_id) if self.motif_id.isdigit() else None
        day = _day(self.from_day)
        try:
            creneaux.check_criteria(chosen_motif, day)
        except FieldErrors as exc:
            self.field_errors = exc.errors
            return
        assert chosen_motif is not None and day is not None  # check_criteria
        self.searching = True
        yield
        agent_id, organisation_id, motif_id, agent_ids = (self._agent_id, int(self.current_org_id),
                                                          chosen_motif, self._agents())
        team_id = int(self.team_id) if self.team_id in self.team_members else None
        try:
            if not self.lieu_id:
                cards = await within(UnitOfWork(read_only=True), lambda uow: creneaux.lieux_availability(
                    uow, agent_id, organisation_id, motif_id, agent_ids=agent_ids, team_id=team_id))
                if len(cards) > 1:
                    self._show_lieux(cards)
                    return
                if cards:
                    self.lieu_id = str(cards[0].lieu_id)
            lieu_id = int(self.lieu_id) if self.lieu_id.isdigit() else None
            week = await within(UnitOfWork(read_only=True), lambda uow: creneaux.find_week(
                uow, agent_id, organisation_id, motif_id, day, agent_ids=agent_ids, lieu_id=lieu_id,
                team_id=team_id))
            self._show_week(week)
        except DomainError as exc:
            self.error = exc.message
        finally:
            self.searching = False

    def _agents(self) -> list[int] | None:
        return [int(a) for a in self.agent_ids if a.isdigit()] or None

    def _show_lieux(self, cards: list[creneaux.LieuAvailabilityView]) -> None:
        self.searched = True
        self.days = []
        self.lieu_cards = [
            LieuCard(str(c.lieu_id), c.name, c.address,
                     f"Prochaine disponibilité le {datefmt.long_date(c.next_slot.day)} à {c.next_slot.time}"
                     if c.next_slot else "Aucune disponibilité dans les six prochains mois")
            for c in cards
        ]

    def _show_week(self, week: creneaux.Week) -> None:
        self.searched = True
        self.lieu_cards = []
        self.from_day = week.first_day.isoformat()
        self.week_title = f"Semaine du {datefmt.long_date(week.first_day)}"
        columns = []
        for day in week.days:
            buttons = []
            for slot in day.slots:
                # The name starts with what the button shows, its time and the agent's initials (RGAA 6.1).
                description = (f"{slot.time} {slot.agent.initials} : planifier un RDV le {datefmt.long_date(slot.day)} "
                               f"à {slot.time}, avec {slot.agent.name}, {slot.lieu_name}")
                href = routes.rdv_new(motif_id=self.motif_id, start=f"{slot.day.isoformat()}T{slot.time.replace('h', ':')}",
                                      agent_ids=[str(slot.agent.id)], lieu_id=slot.lieu_id or "",
                                      usager_ids=[self.usager_id] if self.usager_id else None)
                buttons.append(SlotButton(href, slot.time, slot.agent.initials, slot.agent.colour, slot.agent.name,
                                          slot.lieu_name, description))
            columns.append(DayColumn(day.label, buttons))
        self.days = columns
        self.week_is_empty = week.is_empty
        following = week.next_availability
        self._next_day = following.day.isoformat() if following else ""
        self.next_label = (f"Prochaine disponibilité le {datefmt.long_date(following.day)} à {following.time}"
                           if following else "")

    @event
    def choose_lieu(self, lieu_id: str):
        self.lieu_id = lieu_id
        return CreneauxState.search

    @event
    def shift_week(self, weeks: int):
        self.from_day = (date.fromisoformat(self.from_day) + timedelta(weeks=weeks)).isoformat()
        return CreneauxState.search

    @event
    def jump_to_next(self):
        if self._next_day:
            self.from_day = self._next_day
            return CreneauxState.search
        return None
