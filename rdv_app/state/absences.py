"""Indisponibilités: the list, its filters and the create/edit form; every rule lives in services.absences."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import reflex as rx

from rdv_app.blocking import within
from rdv_app.db.uow import UnitOfWork
from rdv_app.services.availability import absences
from rdv_app.services.errors import DomainError
from rdv_app.state.agent import AgentState
from rdv_app.state.notifications import deliver_after_commit
from rdv_app.state.organisation import OrganisationPageState
from rdv_app.state.plages import parse_clock, parse_day, weekly_recurrence
from rdv_app.state.planning import PlanningPageMixin
from rdv_app.state.rdv_new import replace_query
from rdv_app.state.typed_event import event

FORM_HEADING_ID = "formulaire-indisponibilite-titre"
LIST_HEADING_ID = "liste-indisponibilites-titre"
# The list's two tabs, as the address names them (`?periode=passees`; "À venir" is the page without it).
UPCOMING, PAST = "a-venir", "passees"
PERIOD_PARAMETER = "periode"


@dataclass
class AbsenceRow:
    id: str
    title: str
    agent: str
    description: str
    recurring: bool
    expired: bool


class AbsencesState(PlanningPageMixin, OrganisationPageState, AgentState):

    rows: rx.Field[list[AbsenceRow]] = rx.field(default_factory=list)

    period: rx.Field[str] = rx.field(UPCOMING)

    end_day: rx.Field[str] = rx.field("")
    repeat: rx.Field[bool] = rx.field(False)

    def _list_heading_id(self) -> str:
        return LIST_HEADING_ID

    def _form_heading_id(self) -> str:
        return FORM_HEADING_ID

    def _deletion(self, item_id: int) -> Callable[[UnitOfWork], str]:
        who, message = self._who(), self._deleted("L'indisponibilité")

        def delete(uow: UnitOfWork) -> str:
            absences.delete_absence(uow, *who, item_id)
            return message

        return delete

    # ----------------------------------------------------------------------- loading and the list

    def _before_load(self) -> None:
        asked = self.router.url.query_parameters.get(PERIOD_PARAMETER, "")
        self.period = PAST if asked == PAST else UPCOMING

    @event
    async def set_period(self, value: str):
        """The "À venir" / "Passées" tabs; the address keeps the tab, to share or come back to it."""
        self.period = PAST if value == PAST else UPCOMING
        self.list_message = ""
        await self._refresh()
        return replace_query(f"?{PERIOD_PARAMETER}={PAST}" if self.period == PAST else "")

    async def _refresh(self) -> None:
        self.list_error = ""
        who, past = self._who(), self.period == PAST
        chosen = [int(self.filter_agent_id)] if self.filter_agent_id.isdigit() else None
        try:
            views = await within(UnitOfWork(read_only=True), lambda uow: absences.list_absences(
                uow, *who, agent_ids=chosen, past=past))
        except DomainError as exc:
            self.rows = []
            self.list_error = exc.message
        else:
            self.rows = [AbsenceRow(str(v.id), v.title, v.agent_name, v.description, v.is_recurring,
                                    v.expired) for v in views]

    # ----------------------------------------------------------------------- the form's fields

    @event
    def set_end_day(self, value: str):
        self.end_day = value
        self._touch("end_day")

    @event
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

    def _field_ids(self) -> dict[str, str]:
        return {"agent_id": "indisponibilite-agent", "title": "indisponibilite-titre",
                "first_day": "indisponibilite-premier-jour", "start_time": "indisponibilite-debut",
                "end_day": "indisponibilite-dernier-jour", "end_time": "indisponibilite-fin"}

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

    @event
    async def start_edit(self, absence_id: str):
        if not absence_id.isdigit():
            return None
        who = self._who()
        view = await self._open_for_edit(lambda uow: absences.get_absence(uow, *who, int(absence_id)))
        if view is None:
            return None
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
        self._opened(view.version)
        return self._focus_form()

    @event
    async def save(self):
        if self.saving or self._just_saved:
            return
        self._clear_feedback()
        self.saved_message = ""
        if self._refuses_unloaded():
            return
        self.saving = True
        yield
        # What is sent is what the form shows: no repetition once several days are chosen.
        recurrence = (weekly_recurrence(self.week_interval, self.week_days, self.until)
                      if self.repeat and self.single_day else None)
        fields = dict(agent_id=int(self.agent_id) if self.agent_id.isdigit() else None, title=self.title, first_day=parse_day(self.first_day),
                      start_time=parse_clock(self.start_time), end_day=parse_day(self.end_day),
                      end_time=parse_clock(self.end_time), recurrence=recurrence)
        done, who, version = "modifiée" if self.editing_id else "créée", self._who(), self._editing_version
        uow = await self._create_or_update(
            lambda uow: absences.create_absence(uow, *who, **fields),
            lambda uow, absence_id: absences.update_absence(uow, *who, absence_id, **fields,
                                                            expected_version=version),
            f"L'indisponibilité « {self.title.strip()} » a été {done}.")
        yield deliver_after_commit(uow)
