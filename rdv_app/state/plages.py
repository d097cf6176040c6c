"""Plages d'ouverture: the list, its filters and the create/edit form; every rule lives in services.plages."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, time
from typing import Any

import reflex as rx

from rdv_app.db.uow import UnitOfWork
from rdv_app.domain.recurrence import WEEKDAYS
from rdv_app.services import creneaux, plages
from rdv_app.services.errors import DomainError, NeedsConfirmation
from rdv_app.state.agent import AgentState
from rdv_app.state.creneaux import Option

FORM_HEADING_ID = "formulaire-plage-titre"
LIST_HEADING_ID = "liste-plages-titre"
NO_REPEAT, WEEKLY, MONTHLY = "", "week", "month"

# The form offers Monday to Saturday.
OPEN_DAYS = 6


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


class PlagesState(AgentState):
    agents: list[Option] = []
    motifs: list[Option] = []
    lieux: list[Option] = []

    filter_agent_id: str = ""
    show_expired: bool = False
    loading: bool = True
    rows: list[PlageRow] = []
    list_message: str = ""
    list_error: str = ""

    # The form. Text, date and time inputs are uncontrolled: `form_key` changes to show new values.
    form_key: int = 0
    editing_id: str = ""
    editing_title: str = ""
    title: str = ""
    agent_id: str = ""
    lieu_id: str = ""
    motif_ids: list[str] = []
    first_day: str = ""
    start_time: str = ""
    end_time: str = ""
    repeat: str = NO_REPEAT
    week_days: list[str] = []
    week_interval: str = "1"
    month_ordinal: str = "1"
    month_weekday: str = WEEKDAYS[0]
    until: str = ""

    saving: bool = False
    error_field: str = ""
    error_message: str = ""
    form_error: str = ""
    warnings: list[str] = []
    saved_message: str = ""

    # The form offers no monthly interval; an edited series keeps the one it has.
    _month_interval: int = 1
    # A second click that reached the server after a save must not save the reset form.
    _just_saved: bool = False

    deleting_id: str = ""
    deleting_label: str = ""
    deleting: bool = False

    # ----------------------------------------------------------------------- loading and the list

    def _who(self) -> tuple[int, int]:
        """The signed-in agent and the organisation shown, as the services take them."""
        assert self._agent_id is not None
        return self._agent_id, int(self.current_org_id)

    @rx.event
    def load(self):
        if self._agent_id is None or not self.current_org_id:
            return
        self.loading = True
        yield
        try:
            with UnitOfWork() as uow:
                options = creneaux.search_options(uow, *self._who())
        except DomainError as exc:
            self.list_error = exc.message
            self.loading = False
            return
        self.agents = [Option(str(c.id), c.label) for c in options.agents]
        self.motifs = [Option(str(c.id), c.label) for c in options.motifs]
        self.lieux = [Option(str(c.id), c.label) for c in options.lieux]
        if self.filter_agent_id not in {a.value for a in self.agents}:
            self.filter_agent_id = ""
        self.list_message = ""
        self._reset_form()
        self._refresh()

    def _refresh(self) -> None:
        self.list_error = ""
        chosen = [int(self.filter_agent_id)] if self.filter_agent_id else None
        try:
            with UnitOfWork() as uow:
                views = plages.list_plages(uow, *self._who(), agent_ids=chosen,
                                           include_expired=self.show_expired)
        except DomainError as exc:
            self.rows = []
            self.list_error = exc.message
        else:
            self.rows = [PlageRow(str(v.id), v.title, v.agent_name, v.lieu_name or "Sans lieu",
                                  ", ".join(v.motif_names), v.description, v.is_recurring, v.expired)
                         for v in views]
        self.loading = False

    @rx.event
    def set_filter_agent(self, value: str):
        self.filter_agent_id = value
        self.list_message = ""
        self._refresh()

    @rx.event
    def set_show_expired(self, checked: bool):
        self.show_expired = checked
        self.list_message = ""
        self._refresh()

    # ----------------------------------------------------------------------- the form's fields

    def _touch(self, field: str) -> None:
        """Any change makes the last warnings stale (they were about other values), and the error of the
        field being corrected."""
        self._just_saved = False
        self.warnings = []
        self.saved_message = ""
        if self.error_field == field:
            self.error_field = self.error_message = ""

    @rx.event
    def set_title(self, value: str):
        self.title = value
        self._touch("title")

    @rx.event
    def set_agent(self, value: str):
        self.agent_id = value
        self._touch("agent_id")

    @rx.event
    def set_lieu(self, value: str):
        self.lieu_id = value
        self._touch("lieu_id")

    @rx.event
    def toggle_motif(self, motif_id: str, checked: bool):
        others = [m for m in self.motif_ids if m != motif_id]
        self.motif_ids = [*others, motif_id] if checked else others
        self._touch("motif_ids")

    @rx.event
    def set_first_day(self, value: str):
        self.first_day = value
        self._touch("first_day")

    @rx.event
    def set_start_time(self, value: str):
        self.start_time = value
        self._touch("start_time")

    @rx.event
    def set_end_time(self, value: str):
        self.end_time = value
        self._touch("end_time")

    @rx.event
    def set_repeat(self, value: str):
        self.repeat = value
        day = parse_day(self.first_day)
        if value == MONTHLY and day is not None and day.weekday() < OPEN_DAYS:
            # Start from the plage's own day: "le 2e mardi" for the second Tuesday of its month.
            rank = (day.day - 1) // 7 + 1
            self.month_ordinal = "-1" if rank == 5 else str(rank)
            self.month_weekday = WEEKDAYS[day.weekday()]
        self._touch("recurrence")

    @rx.event
    def toggle_week_day(self, weekday: str, checked: bool):
        others = [d for d in self.week_days if d != weekday]
        self.week_days = [*others, weekday] if checked else others
        self._touch("recurrence")

    @rx.event
    def set_week_interval(self, value: str):
        self.week_interval = value
        self._touch("recurrence")

    @rx.event
    def set_month_ordinal(self, value: str):
        self.month_ordinal = value
        self._touch("recurrence")

    @rx.event
    def set_month_weekday(self, value: str):
        self.month_weekday = value
        self._touch("recurrence")

    @rx.event
    def set_until(self, value: str):
        self.until = value
        self._touch("recurrence")

    @rx.var
    def form_heading(self) -> str:
        if self.editing_id:
            return f"Modifier la plage « {self.editing_title} »"
        return "Créer une plage d'ouverture"

    # ----------------------------------------------------------------------- create, edit, delete

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

    def _show_error(self, exc: DomainError) -> None:
        """Next to its field when the service names one, above the buttons otherwise (rights, not found)."""
        if exc.field:
            self.error_field, self.error_message = exc.field, exc.message
        else:
            self.form_error = exc.message

    def _clear_feedback(self) -> None:
        self.error_field = self.error_message = self.form_error = ""
        self.warnings = []

    @rx.event
    def start_edit(self, plage_id: str):
        self.list_message = ""
        try:
            with UnitOfWork() as uow:
                view = plages.get_plage(uow, *self._who(), int(plage_id))
        except DomainError as exc:
            self.list_error = exc.message
            return None
        self._reset_form()
        self.saved_message = ""
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
        return rx.call_script(f"document.getElementById('{FORM_HEADING_ID}')?.focus()")

    @rx.event
    def start_new(self):
        """The button at the top of the page: an empty form (an edit in progress is dropped), focused."""
        if self.editing_id:
            self._reset_form()
            self.saved_message = ""
        return rx.call_script(f"document.getElementById('{FORM_HEADING_ID}')?.focus()")

    @rx.event
    def cancel_edit(self):
        self._reset_form()
        self.saved_message = ""

    @rx.event
    def dismiss_warnings(self):
        self.warnings = []

    def _recurrence(self) -> dict[str, Any] | None:
        if self.repeat == WEEKLY:
            return weekly_recurrence(self.week_interval, self.week_days, self.until)
        if self.repeat == MONTHLY:
            return {"every": "month", "interval": self._month_interval,
                    "day": {self.month_weekday: as_int(self.month_ordinal)}, "until": self.until or None}
        return None

    @rx.event
    def save(self, confirm_warnings: bool = False):
        if self.saving or self._just_saved:
            return
        self._clear_feedback()
        self.saved_message = ""
        if not self.agent_id.isdigit():
            self.error_field, self.error_message = "agent_id", "Choisissez l'agent de la plage."
            return
        self.saving = True
        yield
        fields = dict(title=self.title, agent_id=int(self.agent_id),
                      lieu_id=int(self.lieu_id) if self.lieu_id.isdigit() else None,
                      motif_ids=[int(m) for m in self.motif_ids if m.isdigit()],
                      first_day=parse_day(self.first_day), start_time=parse_clock(self.start_time),
                      end_time=parse_clock(self.end_time), recurrence=self._recurrence(),
                      confirm_warnings=confirm_warnings)
        try:
            with UnitOfWork() as uow:
                if self.editing_id:
                    plages.update_plage(uow, *self._who(), int(self.editing_id), **fields)
                else:
                    plages.create_plage(uow, *self._who(), **fields)
        except NeedsConfirmation as exc:
            self.warnings = exc.warnings
        except DomainError as exc:
            self._show_error(exc)
        else:
            done = "modifiée" if self.editing_id else "créée"
            title = self.title.strip()
            self._reset_form()
            self.saved_message = f"La plage d'ouverture « {title} » a été {done}."
            self._just_saved = True
            self._refresh()
        finally:
            self.saving = False

    @rx.event
    def ask_delete(self, plage_id: str):
        row = next((r for r in self.rows if r.id == plage_id), None)
        if row is not None:
            self.deleting_id = row.id
            whole = " Elle est répétée : toutes ses occurrences seront supprimées." if row.recurring else ""
            self.deleting_label = f"« {row.title} » de {row.agent} : {row.description}.{whole}"

    @rx.event
    def set_delete_open(self, is_open: bool):
        if not is_open and not self.deleting:
            self.deleting_id = self.deleting_label = ""

    @rx.event
    def delete(self):
        if self.deleting or not self.deleting_id:
            return
        self.deleting = True
        yield
        self.list_message = ""
        try:
            with UnitOfWork() as uow:
                plages.delete_plage(uow, *self._who(), int(self.deleting_id))
        except DomainError as exc:
            self.list_error = exc.message
        else:
            title = next((r.title for r in self.rows if r.id == self.deleting_id), "")
            self.list_message = f"La plage d'ouverture « {title} » a été supprimée."
            if self.editing_id == self.deleting_id:
                self._reset_form()
            self._refresh()
        finally:
            self.deleting = False
            self.deleting_id = self.deleting_label = ""
        # The deleted row held the focus: give it to the list's heading.
        yield rx.call_script(f"document.getElementById('{LIST_HEADING_ID}')?.focus()")
