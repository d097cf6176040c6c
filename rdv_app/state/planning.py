"""What the organisation's forms share: who acts on which organisation, a service's error shown where the
agent looks, the create/edit steps of a listed item, deleting an item behind a confirmation; and what the
plages d'ouverture and indisponibilités pages share besides: the list's filters and the common form fields."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Protocol, TypeVar

import reflex as rx
from reflex.event import EventSpec

from rdv_app.blocking import within
from rdv_app.choices import Option
from rdv_app.components.forms import FieldErrorLink
from rdv_app.db.uow import UnitOfWork
from rdv_app.domain.motif_rules import MotifRuleError
from rdv_app.services.availability import creneaux
from rdv_app.services.errors import DomainError, FieldErrors
from rdv_app.state.loaded import NOT_LOADED
from rdv_app.state.notifications import deliver_after_commit
from rdv_app.state.typed_event import event

View = TypeVar("View")


class PlanningRow(Protocol):
    """What the planning pages' lists show of a row (`PlageRow`, `AbsenceRow`)."""

    @property
    def id(self) -> str: ...
    @property
    def title(self) -> str: ...
    @property
    def agent(self) -> str: ...
    @property
    def description(self) -> str: ...
    @property
    def recurring(self) -> bool: ...


class OrgFormMixin(rx.State, mixin=True):
    """A form about the organisation shown. Its text inputs are uncontrolled: `form_key` changes to show new
    values."""

    form_key: rx.Field[int] = rx.field(0)
    error_field: rx.Field[str] = rx.field("")
    error_message: rx.Field[str] = rx.field("")
    form_error: rx.Field[str] = rx.field("")
    # Every empty required field of the last submission (FieldErrors), and the summary's links to them.
    field_errors: dict[str, str] = {}
    error_links: rx.Field[list[FieldErrorLink]] = rx.field(default_factory=list)
    saving: rx.Field[bool] = rx.field(False)
    saved_message: rx.Field[str] = rx.field("")

    if TYPE_CHECKING:  # from AgentState, which every state using these mixins also has
        _agent_id: int | None
        current_org_id: str

    def _who(self) -> tuple[int, int]:
        """The signed-in agent and the organisation shown, as the services take them."""
        assert self._agent_id is not None
        return self._agent_id, int(self.current_org_id)

    def _field_ids(self) -> dict[str, str]:
        """The id of each field of the form, by the name the services give it: the error summary's links."""
        return {}

    def _touch(self, field: str) -> None:
        """A change makes the last confirmation stale, and the error of the field being corrected."""
        self.saved_message = ""
        if self.error_field == field:
            self.error_field = self.error_message = ""
        if field in self.field_errors:
            self._show_field_errors({name: message for name, message in self.field_errors.items() if name != field})

    def _show_field_errors(self, errors: dict[str, str]) -> None:
        self.field_errors = errors
        ids = self._field_ids()
        self.error_links = [FieldErrorLink(f"#{ids.get(name, name)}", message) for name, message in errors.items()]

    def _show_error(self, exc: DomainError | MotifRuleError) -> None:
        """Next to its field when the service names one (every field at once when it names several, listed
        in the summary above the form too), above the buttons otherwise (rights, not found)."""
        if isinstance(exc, FieldErrors):
            self._show_field_errors(exc.errors)
        elif exc.field:
            self.error_field, self.error_message = exc.field, exc.message
        else:
            self.form_error = exc.message

    def _clear_feedback(self) -> None:
        self.error_field = self.error_message = self.form_error = ""
        self._show_field_errors({})


class OrgEditMixin(OrgFormMixin, mixin=True):
    """A list of the organisation's items with one form to create or edit them; the state defines
    `_reset_form` and `_refresh` (async: it reads the list off the event loop).

    The form is loaded (`rdv_app.state.loaded`) for the item it edits, or for a new one: an item being
    read is not loaded until its values fill the form (`_opened`, with the version the save gives back to
    the service); an empty form is loaded for a new item (`_blank_form`)."""

    list_message: rx.Field[str] = rx.field("")
    list_error: rx.Field[str] = rx.field("")
    editing_id: rx.Field[str] = rx.field("")
    # A second click that reached the server after a save must not save the reset form.
    _just_saved: bool = False
    # The version of the item edited, as loaded (rdv_app.services.versions).
    _editing_version: str = ""

    if TYPE_CHECKING:  # defined by each state; the rest by OrganisationPageState's LoadedForMixin
        def _reset_form(self) -> None: ...
        def _loading(self) -> None: ...
        def _mark_loaded(self) -> None: ...
        def _is_loaded(self, form: dict | None = None) -> bool: ...

    def _loaded_record(self) -> str:
        return f"{self.current_org_id}|{self.editing_id or 'nouveau'}"

    def _blank_form(self) -> None:
        """An empty form, loaded for a new item."""
        self._reset_form()
        self._editing_version = ""
        self._mark_loaded()

    def _opened(self, version: str) -> None:
        """The item's values fill the form: loaded for it, at this version."""
        self._editing_version = version
        self._mark_loaded()

    def _refuses_unloaded(self) -> bool:
        """A save of a form not loaded for the item it would write: ignored, with the reason above the
        buttons."""
        if self._is_loaded():
            return False
        self.form_error = NOT_LOADED
        return True

    def _form_heading_id(self) -> str:
        raise TypeError("an edit page names its form heading")

    def _focus_form(self) -> EventSpec:
        return rx.call_script(f"document.getElementById('{self._form_heading_id()}')?.focus()")

    @event
    def start_new(self):
        """The button at the top of the page: an empty form (an edit in progress is dropped), focused."""
        if self.editing_id:
            self._blank_form()
        self.saved_message = ""
        return self._focus_form()

    @event
    def cancel_edit(self):
        self._blank_form()
        self.saved_message = ""

    async def _open_for_edit(self, fetch: Callable[[UnitOfWork], View]) -> View | None:
        """The item `fetch` reads (on a worker thread: give it plain values), with an empty form to fill;
        None (and the list's error) when it cannot."""
        self.list_message = ""
        try:
            view = await within(UnitOfWork(read_only=True), fetch)
        except DomainError as exc:
            self.list_error = exc.message
            return None
        self._reset_form()
        self._loading()
        self.saved_message = ""
        return view

    async def _saved(self, message: str) -> None:
        """After a create or an update: an empty form, the confirmation, and the list again."""
        self._blank_form()
        self.saved_message = message
        self._just_saved = True
        await self._refresh()

    async def _refresh(self) -> None:
        raise TypeError(f"{type(self).__name__} lists its items")

    async def _create_or_update(self, create: Callable[[UnitOfWork], object],
                                update: Callable[[UnitOfWork, int], object], saved_message: str) -> UnitOfWork:
        """Updates the item edited, or creates one (on a worker thread: give them plain values); then the
        service's error in the form, or `_saved`. Returns the unit of work, for what it has to deliver."""
        uow = UnitOfWork()
        editing = int(self.editing_id) if self.editing_id.isdigit() else None
        try:
            await within(uow, lambda uow: create(uow) if editing is None else update(uow, editing))
        except DomainError as exc:
            self._show_error(exc)
        else:
            await self._saved(saved_message)
        finally:
            self.saving = False
        return uow


class DeleteConfirmMixin(OrgEditMixin, mixin=True):
    """Deleting a listed item once the agent has confirmed it in a dialog; the state sets `deleting_id` and
    `deleting_label` to open the dialog."""

    deleting_id: rx.Field[str] = rx.field("")
    deleting_label: rx.Field[str] = rx.field("")
    deleting: rx.Field[bool] = rx.field(False)

    def _list_heading_id(self) -> str:
        raise TypeError("a page names its list heading")

    def _deletion(self, item_id: int) -> Callable[[UnitOfWork], str]:
        """The use case that deletes the item (it runs on a worker thread: it holds plain values only), and
        returns what the list then says."""
        raise TypeError("a page deletes its items")

    @event
    def set_delete_open(self, is_open: bool):
        if not is_open and not self.deleting:
            self.deleting_id = self.deleting_label = ""

    @event
    async def delete(self):
        if self.deleting or not self.deleting_id.isdigit():
            return
        self.deleting = True
        yield
        self.list_message = ""
        uow = UnitOfWork()
        try:
            message = await within(uow, self._deletion(int(self.deleting_id)))
        except DomainError as exc:
            self.list_error = exc.message
        else:
            self.list_message = message
            if self.editing_id == self.deleting_id:
                self._blank_form()
            await self._refresh()
        finally:
            self.deleting = False
            self.deleting_id = self.deleting_label = ""
        yield deliver_after_commit(uow)
        # The deleted row held the focus: give it to the list's heading.
        yield rx.call_script(f"document.getElementById('{self._list_heading_id()}')?.focus()")


class PlanningPageMixin(DeleteConfirmMixin, mixin=True):
    """Plages d'ouverture and indisponibilités; with `OrganisationPageState`, whose `load` calls `_load`."""

    agents: rx.Field[list[Option]] = rx.field(default_factory=list)
    filter_agent_id: rx.Field[str] = rx.field("")
    show_expired: rx.Field[bool] = rx.field(False)

    # The form's fields.
    editing_title: rx.Field[str] = rx.field("")
    title: rx.Field[str] = rx.field("")
    agent_id: rx.Field[str] = rx.field("")
    first_day: rx.Field[str] = rx.field("")
    start_time: rx.Field[str] = rx.field("")
    end_time: rx.Field[str] = rx.field("")
    week_days: rx.Field[list[str]] = rx.field(default_factory=list)
    week_interval: rx.Field[str] = rx.field("1")
    until: rx.Field[str] = rx.field("")

    warnings: rx.Field[list[str]] = rx.field(default_factory=list)

    if TYPE_CHECKING:  # defined by each state, with its own row type
        @property
        def rows(self) -> Sequence[PlanningRow]: ...

    def _take_options(self, options: creneaux.SearchOptions) -> None:
        """The choices a page needs besides the agents (none by default)."""

    async def _load(self, agent_id: int, organisation_id: int) -> None:
        options = await within(UnitOfWork(read_only=True),
                               lambda uow: creneaux.search_options(uow, agent_id, organisation_id))
        self.agents = [Option(str(c.id), c.label) for c in options.agents]
        self._take_options(options)
        if self.filter_agent_id not in {a.value for a in self.agents}:
            self.filter_agent_id = ""
        self.list_message = ""
        self._blank_form()
        await self._refresh()

    def _filters_in_address(self) -> EventSpec | None:
        """After a filter changed: the address showing the page's filters, where a page keeps them there."""
        return None

    @event
    async def set_filter_agent(self, value: str):
        self.filter_agent_id = value
        self.list_message = ""
        await self._refresh()
        return self._filters_in_address()

    @event
    async def set_show_expired(self, checked: bool):
        self.show_expired = checked
        self.list_message = ""
        await self._refresh()
        return self._filters_in_address()

    def _touch(self, field: str) -> None:
        """Any change makes the last warnings stale too (they were about other values)."""
        self._just_saved = False
        self.warnings = []
        super()._touch(field)

    @event
    def set_title(self, value: str):
        self.title = value
        self._touch("title")

    @event
    def set_agent(self, value: str):
        self.agent_id = value
        self._touch("agent_id")

    @event
    def set_first_day(self, value: str):
        self.first_day = value
        self._touch("first_day")

    @event
    def set_start_time(self, value: str):
        self.start_time = value
        self._touch("start_time")

    @event
    def set_end_time(self, value: str):
        self.end_time = value
        self._touch("end_time")

    @event
    def toggle_week_day(self, weekday: str, checked: bool):
        others = [d for d in self.week_days if d != weekday]
        self.week_days = [*others, weekday] if checked else others
        self._touch("recurrence")

    @event
    def set_week_interval(self, value: str):
        self.week_interval = value
        self._touch("recurrence")

    @event
    def set_until(self, value: str):
        self.until = value
        self._touch("recurrence")

    def _clear_feedback(self) -> None:
        super()._clear_feedback()
        self.warnings = []

    @event
    def start_new(self):
        """The button at the top of the page: an empty form (an edit in progress is dropped), focused; the
        last confirmation stays while no edit was dropped."""
        if self.editing_id:
            self._blank_form()
            self.saved_message = ""
        return self._focus_form()

    @event
    def ask_delete(self, item_id: str):
        row = next((r for r in self.rows if r.id == item_id), None)
        if row is not None:
            self.deleting_id = row.id
            whole = " Elle est répétée : toutes ses occurrences seront supprimées." if row.recurring else ""
            self.deleting_label = f"« {row.title} » de {row.agent} : {row.description}.{whole}"

    def _deleted(self, noun: str) -> str:
        """What the list says once the item being deleted is gone."""
        title = next((r.title for r in self.rows if r.id == self.deleting_id), "")
        return f"{noun} « {title} » a été supprimée."
