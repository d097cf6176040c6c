"""What the plages d'ouverture and indisponibilités pages share: the list's filters, the common form
fields with their error handling, and deleting an item behind a confirmation."""

from __future__ import annotations

import reflex as rx

from rdv_app.db.uow import UnitOfWork
from rdv_app.services import creneaux
from rdv_app.services.errors import DomainError
from rdv_app.state.creneaux import Option
from rdv_app.state.notifications import deliver_after_commit


class PlanningPageMixin(rx.State, mixin=True):
    agents: list[Option] = []
    filter_agent_id: str = ""
    show_expired: bool = False
    loading: bool = True
    list_message: str = ""
    list_error: str = ""

    # The form. Text, date and time inputs are uncontrolled: `form_key` changes to show new values.
    form_key: int = 0
    editing_id: str = ""
    editing_title: str = ""
    title: str = ""
    agent_id: str = ""
    first_day: str = ""
    start_time: str = ""
    end_time: str = ""
    week_days: list[str] = []
    week_interval: str = "1"
    until: str = ""

    saving: bool = False
    error_field: str = ""
    error_message: str = ""
    form_error: str = ""
    warnings: list[str] = []
    saved_message: str = ""

    # A second click that reached the server after a save must not save the reset form.
    _just_saved: bool = False

    deleting_id: str = ""
    deleting_label: str = ""
    deleting: bool = False

    # Each page says what it lists and how to delete one item.
    def _item_noun(self) -> str:
        raise TypeError("a planning page names its items")

    def _list_heading_id(self) -> str:
        raise TypeError("a planning page names its list heading")

    def _delete_item(self, uow: UnitOfWork, item_id: int) -> None:
        raise TypeError("a planning page deletes its items")

    def _take_options(self, options: creneaux.SearchOptions) -> None:
        """The choices a page needs besides the agents (none by default)."""

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
        self._take_options(options)
        if self.filter_agent_id not in {a.value for a in self.agents}:
            self.filter_agent_id = ""
        self.list_message = ""
        self._reset_form()
        self._refresh()

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
    def toggle_week_day(self, weekday: str, checked: bool):
        others = [d for d in self.week_days if d != weekday]
        self.week_days = [*others, weekday] if checked else others
        self._touch("recurrence")

    @rx.event
    def set_week_interval(self, value: str):
        self.week_interval = value
        self._touch("recurrence")

    @rx.event
    def set_until(self, value: str):
        self.until = value
        self._touch("recurrence")

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
    def ask_delete(self, item_id: str):
        row = next((r for r in self.rows if r.id == item_id), None)
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
                self._delete_item(uow, int(self.deleting_id))
        except DomainError as exc:
            self.list_error = exc.message
        else:
            title = next((r.title for r in self.rows if r.id == self.deleting_id), "")
            self.list_message = f"{self._item_noun()} « {title} » a été supprimée."
            if self.editing_id == self.deleting_id:
                self._reset_form()
            self._refresh()
        finally:
            self.deleting = False
            self.deleting_id = self.deleting_label = ""
        yield deliver_after_commit(uow)
        # The deleted row held the focus: give it to the list's heading.
        yield rx.call_script(f"document.getElementById('{self._list_heading_id()}')?.focus()")
