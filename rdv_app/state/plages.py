"""Plages d'ouverture: the list, its filters and the create/edit form; every rule lives in services.plages."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, time
from typing import Any
from urllib.parse import urlencode

import reflex as rx
from reflex.event import EventSpec

from rdv_app.blocking import within
from rdv_app.choices import Option
from rdv_app.db.uow import UnitOfWork
from rdv_app.domain.recurrence import WEEKDAY_LABELS_FR, WEEKDAYS
from rdv_app.domain.usager_search import MAX_QUERY_LENGTH
from rdv_app.services.availability import creneaux, plages
from rdv_app.services.errors import DomainError, NeedsConfirmation
from rdv_app.state.agent import AgentState
from rdv_app.state.notifications import deliver_after_commit
from rdv_app.state.organisation import OrganisationPageState
from rdv_app.state.planning import PlanningPageMixin
from rdv_app.state.rdv_new import replace_query
from rdv_app.state.typed_event import event

FORM_HEADING_ID = "formulaire-plage-titre"
LIST_HEADING_ID = "liste-plages-titre"
NO_REPEAT, WEEKLY, MONTHLY = "", "week", "month"
SEARCH_PARAMETER = "recherche"

# The form offers Monday to Saturday.
OPEN_DAYS = 6
OPEN_WEEKDAYS = [Option(name, label.capitalize())
                 for name, label in zip(WEEKDAYS[:OPEN_DAYS], WEEKDAY_LABELS_FR[:OPEN_DAYS], strict=True)]
REPEAT_CHOICES = [Option(NO_REPEAT, "Pas de répétition"), Option(WEEKLY, "Chaque semaine, les jours choisis"),
                  Option(MONTHLY, "Chaque mois, un jour de la semaine donné")]


@dataclass
class PlageRow:
    id: str
    title: str
    agent: str
    lieu: str
    motifs: str
    description: str
    recurring: bool
    expired: bool


# --------------------------------------------------------------------------- form input parsing, shared


def parse_day(value: str) -> date | None:
    """The browser sends ISO days; anything else is 'no day', which the service reports on its field."""
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


def parse_clock(value: str) -> time | None:
    try:
        return time.fromisoformat(value)
    except ValueError:
        return None


def as_int(value: str) -> int | str:
    """A number from a select; anything else is passed on as is so that the service names the problem."""
    return int(value) if value.lstrip("-").isdigit() else value


def weekly_recurrence(interval: str, weekdays: list[str], until: str) -> dict[str, Any]:
    """The JSON of domain/recurrence.py, weekdays in week order."""
    return {"every": "week", "interval": as_int(interval), "on": [d for d in WEEKDAYS if d in weekdays],
            "until": until or None}


class PlagesState(PlanningPageMixin, OrganisationPageState, AgentState):
    motifs: rx.Field[list[Option]] = rx.field(default_factory=list)
    lieux: rx.Field[list[Option]] = rx.field(default_factory=list)

    rows: rx.Field[list[PlageRow]] = rx.field(default_factory=list)

    # The list's search, besides the agent and the expired ones (PlanningPageMixin).
    search_query: rx.Field[str] = rx.field("")
    search_key: rx.Field[int] = rx.field(0)  # a new key shows a search set by the address
    filter_lieu_id: rx.Field[str] = rx.field("")
    filter_motif_id: rx.Field[str] = rx.field("")

    lieu_id: rx.Field[str] = rx.field("")
    motif_ids: rx.Field[list[str]] = rx.field(default_factory=list)
    repeat: rx.Field[str] = rx.field(NO_REPEAT)
    month_ordinal: rx.Field[str] = rx.field("1")
    month_weekday: rx.Field[str] = rx.field(WEEKDAYS[0])

    # The form offers no monthly interval; an edited series keeps the one it has.
    _month_interval: int = 1

    def _list_heading_id(self) -> str:
        return LIST_HEADING_ID

    def _form_heading_id(self) -> str:
        return FORM_HEADING_ID

    def _deletion(self, item_id: int) -> Callable[[UnitOfWork], str]:
        who, message = self._who(), self._deleted("La plage d'ouverture")

        def delete(uow: UnitOfWork) -> str:
            plages.delete_plage(uow, *who, item_id)
            return message

        return delete

    def _take_options(self, options: creneaux.SearchOptions) -> None:
        self.motifs = [Option(str(c.id), c.label) for c in options.motifs]
        self.lieux = [Option(str(c.id), c.label) for c in options.lieux]
        if self.filter_lieu_id not in {o.value for o in self.lieux}:
            self.filter_lieu_id = ""
        if self.filter_motif_id not in {o.value for o in self.motifs}:
            self.filter_motif_id = ""

    # ----------------------------------------------------------------------- loading, the list, its search

    def _before_load(self) -> None:
        """The search and filters of the address (`?recherche=…&agent=…&lieu=…&motif=…&expirees=1`); ids
        not offered are dropped once the choices are read."""
        params = self.router.url.query_parameters
        self.search_query = str(params.get(SEARCH_PARAMETER, ""))[:MAX_QUERY_LENGTH]
        self.search_key += 1
        self.filter_agent_id = str(params.get("agent", ""))
        self.filter_lieu_id = str(params.get("lieu", ""))
        self.filter_motif_id = str(params.get("motif", ""))
        self.show_expired = params.get("expirees") == "1"

    def _filters_in_address(self) -> EventSpec:
        shown = {SEARCH_PARAMETER: self.search_query.strip(), "agent": self.filter_agent_id,
                 "lieu": self.filter_lieu_id, "motif": self.filter_motif_id,
                 "expirees": "1" if self.show_expired else ""}
        return replace_query("?" + urlencode({key: value for key, value in shown.items() if value}))

    @event
    async def search(self, value: str):
        self.search_query = value[:MAX_QUERY_LENGTH]
        self.list_message = ""
        await self._refresh()
        return self._filters_in_address()

    @event
    async def set_filter_lieu(self, value: str):
        self.filter_lieu_id = value if value in {o.value for o in self.lieux} else ""
        self.list_message = ""
        await self._refresh()
        return self._filters_in_address()

    @event
    async def set_filter_motif(self, value: str):
        self.filter_motif_id = value if value in {o.value for o in self.motifs} else ""
        self.list_message = ""
        await self._refresh()
        return self._filters_in_address()

    async def _refresh(self) -> None:
        self.list_error = ""
        who, include_expired, query = self._who(), self.show_expired, self.search_query
        chosen = [int(self.filter_agent_id)] if self.filter_agent_id.isdigit() else None
        lieu_id = int(self.filter_lieu_id) if self.filter_lieu_id.isdigit() else None
        motif_id = int(self.filter_motif_id) if self.filter_motif_id.isdigit() else None
        try:
            views = await within(UnitOfWork(read_only=True), lambda uow: plages.list_plages(
                uow, *who, agent_ids=chosen, include_expired=include_expired, query=query, lieu_id=lieu_id,
                motif_id=motif_id))
        except DomainError as exc:
            self.rows = []
            self.list_error = exc.message
        else:
            self.rows = [PlageRow(str(v.id), v.title, v.agent_name, v.lieu_name or "Sans lieu",
                                  ", ".join(v.motif_names), v.description, v.is_recurring, v.expired)
                         for v in views]

    # ----------------------------------------------------------------------- the form's fields

    @event
    def set_lieu(self, value: str):
        self.lieu_id = value
        self._touch("lieu_id")

    @event
    def toggle_motif(self, motif_id: str, checked: bool):
        others = [m for m in self.motif_ids if m != motif_id]
        self.motif_ids = [*others, motif_id] if checked else others
        self._touch("motif_ids")

    @event
    def set_repeat(self, value: str):
        self.repeat = value
        day = parse_day(self.first_day)
        if value == MONTHLY and day is not None and day.weekday() < OPEN_DAYS:
            # Start from the plage's own day: "le 2e mardi" for the second Tuesday of its month.
            rank = (day.day - 1) // 7 + 1
            self.month_ordinal = "-1" if rank == 5 else str(rank)
            self.month_weekday = WEEKDAYS[day.weekday()]
        self._touch("recurrence")

    @event
    def set_month_ordinal(self, value: str):
        self.month_ordinal = value
        self._touch("recurrence")

    @event
    def set_month_weekday(self, value: str):
        self.month_weekday = value
        self._touch("recurrence")

    @rx.var
    def form_heading(self) -> str:
        if self.editing_id:
            return f"Modifier la plage « {self.editing_title} »"
        return "Créer une plage d'ouverture"

    # ----------------------------------------------------------------------- create, edit, delete

    def _field_ids(self) -> dict[str, str]:
        return {"title": "plage-titre", "agent_id": "plage-agent", "lieu_id": "plage-lieu", "motif_ids": "plage-motifs",
                "first_day": "plage-date", "start_time": "plage-debut", "end_time": "plage-fin"}

    def _reset_form(self) -> None:
        self.form_key += 1
        self.editing_id = self.editing_title = ""
        self.title = self.lieu_id = self.first_day = self.start_time = self.end_time = self.until = ""
        own = str(self._agent_id)
        self.agent_id = own if own in {a.value for a in self.agents} else ""
        self.motif_ids = []
        self.repeat = NO_REPEAT
        self.week_days = []
        self.week_interval = "1"
        self.month_ordinal = "1"
        self.month_weekday = WEEKDAYS[0]
        self._month_interval = 1
        self._clear_feedback()

    @event
    async def start_edit(self, plage_id: str):
        if not plage_id.isdigit():
            return None
        who = self._who()
        view = await self._open_for_edit(lambda uow: plages.get_plage(uow, *who, int(plage_id)))
        if view is None:
            return None
        self.editing_id, self.editing_title = str(view.id), view.title
        self.title = view.title
        self.agent_id = str(view.agent_id)
        self.lieu_id = str(view.lieu_id) if view.lieu_id is not None else ""
        self.motif_ids = [str(m) for m in view.motif_ids]
        self.first_day = view.first_day.isoformat()
        self.start_time = view.start_time.strftime("%H:%M")
        self.end_time = view.end_time.strftime("%H:%M")
        recurrence = view.recurrence or {}
        self.repeat = recurrence.get("every", NO_REPEAT)
        self.until = recurrence.get("until") or ""
        if self.repeat == WEEKLY:
            self.week_days = list(recurrence.get("on", []))
            self.week_interval = str(recurrence.get("interval", 1))
        elif self.repeat == MONTHLY:
            ((weekday, ordinal),) = recurrence["day"].items()
            self.month_weekday, self.month_ordinal = weekday, str(ordinal)
            self._month_interval = recurrence.get("interval", 1)
        self._opened(view.version)
        return self._focus_form()

    @event
    def dismiss_warnings(self):
        self.warnings = []

    def _recurrence(self) -> dict[str, Any] | None:
        if self.repeat == WEEKLY:
            return weekly_recurrence(self.week_interval, self.week_days, self.until)
        if self.repeat == MONTHLY:
            return {"every": "month", "interval": self._month_interval,
                    "day": {self.month_weekday: as_int(self.month_ordinal)}, "until": self.until or None}
        return None

    @event
    async def save(self, confirm_warnings: bool = False):
        if self.saving or self._just_saved:
            return
        self._clear_feedback()
        self.saved_message = ""
        if self._refuses_unloaded():
            return
        self.saving = True
        yield
        fields: dict[str, Any] = dict(title=self.title, agent_id=int(self.agent_id) if self.agent_id.isdigit() else None,
                      lieu_id=int(self.lieu_id) if self.lieu_id.isdigit() else None,
                      motif_ids=[int(m) for m in self.motif_ids if m.isdigit()],
                      first_day=parse_day(self.first_day), start_time=parse_clock(self.start_time),
                      end_time=parse_clock(self.end_time), recurrence=self._recurrence(),
                      confirm_warnings=confirm_warnings)
        who, editing = self._who(), int(self.editing_id) if self.editing_id.isdigit() else None
        version = self._editing_version
        uow = UnitOfWork()
        try:
            await within(uow, lambda uow: plages.create_plage(uow, *who, **fields) if editing is None
                         else plages.update_plage(uow, *who, editing, **fields, expected_version=version))
        except NeedsConfirmation as exc:
            self.warnings = exc.warnings
        except DomainError as exc:
            self._show_error(exc)
        else:
            done = "modifiée" if self.editing_id else "créée"
            await self._saved(f"La plage d'ouverture « {self.title.strip()} » a été {done}.")
        finally:
            self.saving = False
        yield deliver_after_commit(uow)
