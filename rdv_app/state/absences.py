"""Indisponibilités: the list, its filters and the create/edit form; every rule lives in services.absences."""

from __future__ import annotations

from dataclasses import dataclass

import reflex as rx

from rdv_app.db.uow import UnitOfWork
from rdv_app.services import absences
from rdv_app.services.errors import DomainError
from rdv_app.state.agent import AgentState
from rdv_app.state.notifications import deliver_after_commit
from rdv_app.state.plages import parse_clock, parse_day, weekly_recurrence
from rdv_app.state.planning import PlanningPageMixin

FORM_HEADING_ID = "formulaire-indisponibilite-titre"
LIST_HEADING_ID = "liste-indisponibilites-titre"


@dataclass
class AbsenceRow:
    id: str
    title: str
    agent: str
    description: str
    recurring: bool
    expired: bool


class AbsencesState(PlanningPageMixin, AgentState):

    rows: list[AbsenceRow] = []

    end_day: str = ""
    repeat: bool = False

    def _item_noun(self) -> str:
        return "L'indisponibilité"

    def _list_heading_id(self) -> str:
        return LIST_HEADING_ID

    def _delete_item(self, uow: UnitOfWork, item_id: int) -> None:
        absences.delete_absence(uow, *self._who(), item_id)

    # ----------------------------------------------------------------------- loading and the list

    def _refresh(self) -> None:
        self.list_error = ""
        chosen = [int(self.filter_agent_id)] if self.filter_agent_id else None
        try:
            with UnitOfWork() as uow:
                views = absences.list_absences(uow, *self._who(), agent_ids=chosen,
                                               include_expired=self.show_expired)
        except DomainError as exc:
            self.rows = []
            self.list_error = exc.message
        else:
            self.rows = [AbsenceRow(str(v.id), v.title, v.agent_name, v.description, v.is_recurring,
                                    v.expired) for v in views]
        self.loading = False

    # ----------------------------------------------------------------------- the form's fields

    @rx.event
    def set_end_day(self, value: str):
        self.end_day = value
        self._touch("end_day")

    @rx.event
    def set_repeat(self, checked: bool):
        self.repeat = checked
        self._touch("recurrence")

    @rx.var
    def single_day(self) -> bool:
        """Only a single-day indisponibilité may repeat: the form offers repetition for those alone."""
        return self.end_day in ("", self.first_day)

    @rx.var
    def form_heading(self) -> str:
        if self.editing_id:
            return f"Modifier l'indisponibilité « {self.editing_title} »"
        return "Créer une indisponibilité"

    # ----------------------------------------------------------------------- create, edit, delete

    def _reset_form(self) -> None:
        self.form_key += 1
        self.editing_id = self.editing_title = ""
        self.title = self.first_day = self.start_time = self.end_day = self.end_time = self.until = ""
        own = str(self._agent_id)
        self.agent_id = own if own in {a.value for a in self.agents} else ""
        self.repeat = False
        self.week_days = []
        self.week_interval = "1"
        self._clear_feedback()

    @rx.event
    def start_edit(self, absence_id: str):
        self.list_message = ""
        try:
            with UnitOfWork() as uow:
                view = absences.get_absence(uow, *self._who(), int(absence_id))
        except DomainError as exc:
            self.list_error = exc.message
            return None
        self._reset_form()
        self.saved_message = ""
        self.editing_id, self.editing_title = str(view.id), view.title
        self.agent_id = str(view.agent_id)
        self.title = view.title
        self.first_day = view.first_day.isoformat()
        self.start_time = view.start_time.strftime("%H:%M")
        self.end_day = view.end_day.isoformat()
        self.end_time = view.end_time.strftime("%H:%M")
        if view.recurrence is not None:
            self.repeat = True
            self.week_days = list(view.recurrence.get("on", []))
            self.week_interval = str(view.recurrence.get("interval", 1))
            self.until = view.recurrence.get("until") or ""
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
    def save(self):
        if self.saving or self._just_saved:
            return
        self._clear_feedback()
        self.saved_message = ""
        if not self.agent_id.isdigit():
            self.error_field, self.error_message = "agent_id", "Choisissez l'agent concerné."
            return
        self.saving = True
        yield
        # What is sent is what the form shows: no repetition once several days are chosen.
        recurrence = (weekly_recurrence(self.week_interval, self.week_days, self.until)
                      if self.repeat and self.single_day else None)
        fields = dict(agent_id=int(self.agent_id), title=self.title, first_day=parse_day(self.first_day),
                      start_time=parse_clock(self.start_time), end_day=parse_day(self.end_day),
                      end_time=parse_clock(self.end_time), recurrence=recurrence)
        try:
            with UnitOfWork() as uow:
                if self.editing_id:
                    absences.update_absence(uow, *self._who(), int(self.editing_id), **fields)
                else:
                    absences.create_absence(uow, *self._who(), **fields)
        except DomainError as exc:
            self._show_error(exc)
        else:
            done = "modifiée" if self.editing_id else "créée"
            title = self.title.strip()
            self._reset_form()
            self.saved_message = f"L'indisponibilité « {title} » a été {done}."
            self._just_saved = True
            self._refresh()
        finally:
            self.saving = False
        yield deliver_after_commit(uow)
