"""The usager's record form, to create (`routes.USAGER_NEW`) or edit (`routes.USAGER_EDIT`) one; every rule
lives in services.usagers.usager_form, this state holds what the form shows.

The form stays disabled until the record it shows is loaded: `loaded_for` names the record loaded ("" while
loading, after a save and once the form leaves the page), and `save` does nothing unless it is the record
the tab's address asks for, so that the defaults rendered before the load, or another record's values, can
never be submitted.
The usager edited and the responsible chosen are kept on the server (`_usager_id`, `_responsible_id`): the
browser sends no id but the index of a choice it was shown."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING

import reflex as rx

from rdv_app import routes
from rdv_app.blocking import within
from rdv_app.choices import Option
from rdv_app.db.uow import UnitOfWork
from rdv_app.domain import ants
from rdv_app.domain.enums import UsagerKind
from rdv_app.services.errors import DomainError, NotFound
from rdv_app.services.integrations import addresses
from rdv_app.services.integrations.addresses import AddressSuggestion
from rdv_app.services.usagers import usager_form
from rdv_app.services.usagers.usager_form import (
    RESPONSIBLE_PREFIX,
    Duplicate,
    DuplicateWarnings,
    ResponsibleChoice,
    UsagerFields,
    UsagerForm,
    UsagerFormInvalid,
)
from rdv_app.state.agent import AgentState
from rdv_app.state.notifications import deliver_after_commit
from rdv_app.state.organisation import OrganisationPageState
from rdv_app.state.plages import parse_day
from rdv_app.state.typed_event import event

NEW = "nouveau"  # `loaded_for` of a new usager's form
EXISTING, CREATE = "existant", "nouveau"  # the responsible's tabs
TEXT_FIELDS = tuple(f.name for f in fields(UsagerFields) if f.type == "str")
CHECKS = ("notify_by_sms", "notify_by_email")
ERROR_KEYS = ("kind", "responsible_id", "birth_date", *CHECKS, *TEXT_FIELDS,
              *(RESPONSIBLE_PREFIX + name for name in ("birth_date", *CHECKS, *TEXT_FIELDS)))
ADDRESS_DEBOUNCE_SECONDS = 0.3
ADDRESS_UNAVAILABLE = ("La suggestion d'adresses ne répond pas pour l'instant : saisissez l'adresse complète, "
                       "elle sera enregistrée telle quelle.")
FORM_HEADING_ID = "fiche-usager-titre"
WARNINGS_HEADING_ID = "avertissements-titre"


@dataclass
class DuplicateRow:
    index: int
    message: str
    name: str
    details: list[str]
    in_organisation: bool
    shown: bool  # an usager the agent may see (otherwise nothing of it is shown)


def _empty_values() -> dict[str, str]:
    return dict.fromkeys((*TEXT_FIELDS, "birth_date"), "")


def _values(values: UsagerFields) -> dict[str, str]:
    shown = {name: str(getattr(values, name)) for name in TEXT_FIELDS}
    return {**shown, "birth_date": values.birth_date.isoformat() if values.birth_date else ""}


def _row(index: int, duplicate: Duplicate) -> DuplicateRow:
    details = [d for d in (duplicate.birth_date and f"Né(e) le {duplicate.birth_date}", duplicate.address,
                           duplicate.email, duplicate.phone_number) if d]
    about = "Nouvel usager responsable : " if duplicate.about_responsible else ""
    return DuplicateRow(index, about + duplicate.message, duplicate.name, details, duplicate.in_organisation,
                        duplicate.usager_id is not None)


class UsagerFormState(OrganisationPageState, AgentState):
    loaded_for: rx.Field[str] = rx.field("")
    editing: rx.Field[bool] = rx.field(False)
    form_key: rx.Field[int] = rx.field(0)
    kind: rx.Field[str] = rx.field(UsagerKind.RESPONSIBLE.value)
    values: rx.Field[dict[str, str]] = rx.field(default_factory=_empty_values)
    notify_by_sms: rx.Field[bool] = rx.field(True)
    notify_by_email: rx.Field[bool] = rx.field(True)
    toggles: rx.Field[dict[str, bool]] = rx.field(default_factory=dict)
    franceconnect: rx.Field[bool] = rx.field(False)
    notifications_locked: rx.Field[bool] = rx.field(False)

    # A relative's responsible: an usager of the organisation, or a new one (its own fields).
    responsible_mode: rx.Field[str] = rx.field(EXISTING)
    responsible_label: rx.Field[str] = rx.field("")
    responsible_query: rx.Field[str] = rx.field("")
    responsible_results: rx.Field[list[Option]] = rx.field(default_factory=list)
    responsible_message: rx.Field[str] = rx.field("")
    r_values: rx.Field[dict[str, str]] = rx.field(default_factory=_empty_values)
    invite: rx.Field[bool] = rx.field(False)
    r_notify_by_sms: rx.Field[bool] = rx.field(True)
    r_notify_by_email: rx.Field[bool] = rx.field(True)

    # Address suggestions, for the usager ("") and for a new responsible (RESPONSIBLE_PREFIX).
    suggestions: rx.Field[list[str]] = rx.field(default_factory=list)
    suggestions_for: rx.Field[str] = rx.field("")
    address_hint: rx.Field[str] = rx.field("")

    errors: rx.Field[dict[str, str]] = rx.field(default_factory=lambda: dict.fromkeys(ERROR_KEYS, ""))
    form_error: rx.Field[str] = rx.field("")
    duplicates: rx.Field[list[DuplicateRow]] = rx.field(default_factory=list)
    warned: rx.Field[bool] = rx.field(False)  # the duplicates are warnings the agent may confirm past
    saving: rx.Field[bool] = rx.field(False)
    importing: rx.Field[bool] = rx.field(False)

    _usager_id: int | None = None
    _responsible_id: int | None = None
    _choices: list[ResponsibleChoice] = []
    _suggested: list[AddressSuggestion] = []
    _address_asked: int = 0
    _matches: list[int | None] = []

    # The pre-demande number, checked with ANTS as the agent leaves the field (integrations.md 1d): the
    # error goes under the field, a number already used for another RDV is a warning (confirmed at saving).
    ants_checking: rx.Field[bool] = rx.field(False)
    ants_checked: rx.Field[str] = rx.field("")  # the number the messages are about
    ants_warning: rx.Field[str] = rx.field("")
    ants_warning_link: rx.Field[str] = rx.field("")
    ants_key: rx.Field[int] = rx.field(0)  # a new value shown in the field (upper-cased) mounts a fresh input

    if TYPE_CHECKING:  # the argument of routes.USAGER_EDIT, a var Reflex adds to every state
        usager_edit_id: str

    @rx.var
    def is_relative(self) -> bool:
        return self.kind == UsagerKind.RELATIVE

    # ----------------------------------------------------------------------- loading

    def _before_load(self) -> None:
        self.loaded_for = ""
        self._clear_feedback()
        self.suggestions, self.address_hint = [], ""

    async def _load(self, agent_id: int, organisation_id: int) -> None:
        raw = str(self.usager_edit_id or "")  # the route's argument; none on the new usager's page
        editing = raw != ""
        if editing and not raw.isdigit():
            raise NotFound(usager_form.NOT_FOUND)
        usager_id = int(raw) if editing else None
        view = await within(UnitOfWork(read_only=True),
                            lambda uow: usager_form.usager_form(uow, agent_id, organisation_id, usager_id))
        self._usager_id, self.editing = view.usager_id, view.usager_id is not None
        self.toggles = {f.name: getattr(view.toggles, f.name) for f in fields(view.toggles)} | {"ants": view.ants}
        self.kind = view.kind
        self.values = _values(view.values)
        self.notify_by_sms, self.notify_by_email = view.values.notify_by_sms, view.values.notify_by_email
        self.franceconnect, self.notifications_locked = view.franceconnect, view.notifications_locked
        self._responsible_id = view.responsible.id if view.responsible else None
        self.responsible_label = view.responsible.name if view.responsible else ""
        self.responsible_mode = EXISTING
        self.responsible_query, self.responsible_results, self.responsible_message = "", [], ""
        self._choices = []
        self.r_values = _empty_values()
        self.r_notify_by_sms = self.r_notify_by_email = True
        self.invite = False
        self.form_key += 1
        self.loaded_for = raw if editing else NEW

    def _clear_feedback(self) -> None:
        self.errors = dict.fromkeys(ERROR_KEYS, "")
        self.form_error = ""
        self.duplicates, self.warned, self._matches = [], False, []
        self._forget_ants_check()

    def _forget_ants_check(self) -> None:
        self.ants_checked = self.ants_warning = self.ants_warning_link = ""

    def _touch(self, key: str) -> None:
        """A change makes the warnings stale (they were about other values), and the field's error."""
        self.duplicates, self.warned, self._matches = [], False, []
        self.form_error = ""
        if self.errors.get(key):
            self.errors = {**self.errors, key: ""}

    # ----------------------------------------------------------------------- typing

    @event
    def set_kind(self, value: str):
        if not self.editing and value in {k.value for k in UsagerKind}:
            self.kind = value
            self._touch("kind")

    @event
    def set_value(self, field: str, value: str):
        if field in self.values:
            self.values = {**self.values, field: str(value)}
            self._touch(field)
            if field == "ants_pre_demande_number" and ants.normalized_number(str(value)) != self.ants_checked:
                self._forget_ants_check()

    @event
    async def check_ants_number(self, value: str):
        """Leaving the pre-demande number's field: the number is upper-cased and checked with ANTS at once,
        through the same service rules as at saving."""
        typed = str(value or "")
        if (self.ants_checking or not self.loaded_for or self.loaded_for != self._expected()
                or not self.toggles.get("ants") or ants.normalized_number(typed) == self.ants_checked):
            return
        self.ants_checking = True
        yield
        assert self._agent_id is not None
        who, usager_id = (self._agent_id, int(self.current_org_id)), self._usager_id
        try:
            verdict = await within(UnitOfWork(read_only=True), lambda uow: usager_form.check_ants_number(
                uow, *who, usager_id, typed))
        except DomainError as exc:
            self.form_error = exc.message
            return
        finally:
            self.ants_checking = False
        if verdict.number != typed:
            self.ants_key += 1
        self.values = {**self.values, "ants_pre_demande_number": verdict.number}
        self.errors = {**self.errors, "ants_pre_demande_number": verdict.error or ""}
        self.ants_checked = verdict.number
        self.ants_warning, self.ants_warning_link = verdict.warning or "", verdict.warning_link or ""

    @event
    def set_responsible_value(self, field: str, value: str):
        if field in self.r_values:
            self.r_values = {**self.r_values, field: str(value)}
            self._touch(RESPONSIBLE_PREFIX + field)

    @event
    def set_check(self, field: str, checked: bool):
        if field == "notify_by_sms":
            self.notify_by_sms = bool(checked)
        elif field == "notify_by_email":
            self.notify_by_email = bool(checked)
        elif field == "invite":
            self.invite = bool(checked)
        elif field == RESPONSIBLE_PREFIX + "notify_by_sms":
            self.r_notify_by_sms = bool(checked)
        elif field == RESPONSIBLE_PREFIX + "notify_by_email":
            self.r_notify_by_email = bool(checked)
        self._touch(field)

    @event
    def set_responsible_mode(self, value: str):
        if value in (EXISTING, CREATE):
            self.responsible_mode = value
            self._touch("responsible_id")

    # ----------------------------------------------------------------------- the responsible

    @event
    async def search_responsible(self, value: str):
        self.responsible_query = str(value)
        self.responsible_message = ""
        if not self._agent_id or not self.current_org_id:
            return
        who, query, usager_id = (self._agent_id, int(self.current_org_id)), self.responsible_query, self._usager_id
        try:
            choices = await within(UnitOfWork(read_only=True), lambda uow: usager_form.responsible_choices(
                uow, *who, query, usager_id))
        except DomainError as exc:
            self.responsible_results, self.responsible_message = [], exc.message
            return
        self._choices = choices
        self.responsible_results = [Option(str(index), c.name) for index, c in enumerate(choices)]
        if query.strip() and not choices:
            self.responsible_message = "Aucun usager responsable ne correspond : créez-le dans l'onglet « Nouvel usager »."

    @event
    def choose_responsible(self, index: str):
        if index.isdigit() and int(index) < len(self._choices):
            chosen = self._choices[int(index)]
            self._responsible_id, self.responsible_label = chosen.id, chosen.name
            self.responsible_results, self.responsible_message = [], f"{chosen.name} est le responsable choisi."
            self._touch("responsible_id")

    # ----------------------------------------------------------------------- the address

    @event
    def set_address(self, prefix: str, value: str):
        """Typing by hand: the codes of a suggestion chosen before no longer apply."""
        target = "r_values" if prefix == RESPONSIBLE_PREFIX else "values"
        typed = {**getattr(self, target), "address": str(value), "post_code": "", "city_code": "", "city_name": ""}
        setattr(self, target, typed)
        self._touch(prefix + "address")
        self._address_asked += 1
        return UsagerFormState.suggest_addresses(prefix if prefix == RESPONSIBLE_PREFIX else "", self._address_asked)

    @event(background=True)
    async def suggest_addresses(self, prefix: str, asked: int):
        await asyncio.sleep(ADDRESS_DEBOUNCE_SECONDS)
        async with self:
            if asked != self._address_asked:
                return  # typed again meanwhile
            query = (self.r_values if prefix else self.values).get("address", "")
        found = await addresses.suggest_addresses(query)
        async with self:
            if asked != self._address_asked:
                return
            self._suggested = found or []
            self.suggestions = [s.label for s in self._suggested]
            self.suggestions_for = prefix
            self.address_hint = ADDRESS_UNAVAILABLE if found is None else ""

    @event
    def choose_address(self, index: int):
        if not isinstance(index, int) or not 0 <= index < len(self._suggested):
            return
        chosen = self._suggested[index]
        target = "r_values" if self.suggestions_for == RESPONSIBLE_PREFIX else "values"
        setattr(self, target, {**getattr(self, target), "address": chosen.label, "post_code": chosen.post_code,
                               "city_code": chosen.city_code, "city_name": chosen.city_name})
        self._address_asked += 1
        self.suggestions, self._suggested = [], []
        self.form_key += 1  # the address input shows the label chosen

    # ----------------------------------------------------------------------- saving

    def _fields(self, values: dict[str, str], sms: bool, email: bool) -> UsagerFields:
        return UsagerFields(**{name: values.get(name, "") for name in TEXT_FIELDS},
                            birth_date=parse_day(values.get("birth_date", "")), notify_by_sms=sms,
                            notify_by_email=email)

    def _form(self) -> UsagerForm:
        usager = self._fields(self.values, self.notify_by_sms, self.notify_by_email)
        if self.kind != UsagerKind.RELATIVE:
            return UsagerForm(kind=self.kind, usager=usager, invite=self.invite and not self.editing)
        if self.responsible_mode == CREATE:
            return UsagerForm(kind=self.kind, usager=usager,
                              new_responsible=self._fields(self.r_values, self.r_notify_by_sms, self.r_notify_by_email))
        return UsagerForm(kind=self.kind, usager=usager, responsible_id=self._responsible_id)

    def _expected(self) -> str:
        """The record the tab's address asks for, as `loaded_for` names it."""
        return str(self.usager_edit_id or "") or NEW

    def _load_key(self) -> str:
        """This form's key is the record alone (`rdv_app.state.loaded`): its page's links are made of it."""
        return self._expected()

    @event
    def leave(self):
        """The form left the page: until the next load, nothing shown of it may be sent."""
        self.loaded_for = ""

    @event
    async def save(self, confirm: bool = False):
        if self.saving or self.loading or not self.loaded_for or self.loaded_for != self._expected():
            return
        self.saving = True
        self._clear_feedback()
        yield
        assert self._agent_id is not None
        who, usager_id, form = (self._agent_id, int(self.current_org_id)), self._usager_id, self._form()
        uow = UnitOfWork()
        try:
            saved = await within(uow, lambda uow: usager_form.save_usager(uow, *who, usager_id, form,
                                                                            confirm_warnings=confirm is True))
        except UsagerFormInvalid as exc:
            self.errors = {**dict.fromkeys(ERROR_KEYS, ""), **exc.errors}
            self.form_error = exc.message
            self._show_duplicates(exc.duplicates, warned=False)
            yield rx.call_script(f"document.getElementById('{FORM_HEADING_ID}')?.focus()")
            return
        except DuplicateWarnings as exc:
            self._show_duplicates(exc.duplicates, warned=True)
            yield rx.call_script(f"document.getElementById('{WARNINGS_HEADING_ID}')?.focus()")
            return
        except DomainError as exc:  # the services' boundary: a value of the wrong shape or size
            if exc.field in self.errors:
                self.errors = {**self.errors, exc.field: exc.message}
            self.form_error = exc.message
            return
        finally:
            self.saving = False
        self.loaded_for = ""  # this form is done: nothing more is sent from it
        yield deliver_after_commit(uow)
        yield rx.toast.success(saved.message, position="top-center", duration=8000)
        yield rx.redirect(routes.usager_page(saved.usager_id))

    def _show_duplicates(self, duplicates: list[Duplicate], *, warned: bool) -> None:
        self._matches = [d.usager_id for d in duplicates]
        self.duplicates = [_row(index, d) for index, d in enumerate(duplicates)]
        self.warned = warned

    @event
    async def import_match(self, index: int):
        """"Importer cet usager": the usager found joins the organisation; its page opens."""
        if self.importing or not isinstance(index, int) or not 0 <= index < len(self._matches):
            return
        usager_id = self._matches[index]
        if usager_id is None or self._agent_id is None:
            return
        self.importing = True
        yield
        who, uow = (self._agent_id, int(self.current_org_id)), UnitOfWork()
        try:
            await within(uow, lambda uow: usager_form.import_usager(uow, *who, usager_id))
        except DomainError as exc:
            self.form_error = exc.message
            return
        finally:
            self.importing = False
        self.loaded_for = ""
        yield deliver_after_commit(uow)
        yield rx.toast.success(usager_form.IMPORTED, position="top-center", duration=8000)
        yield rx.redirect(routes.usager_page(usager_id))

    @event
    def open_match(self, index: int, edit: bool):
        """"Choisir cet usager" (its page) or "Modifier cet usager" (its form), for one of the organisation."""
        if isinstance(index, int) and 0 <= index < len(self._matches):
            usager_id = self._matches[index]
            if usager_id is not None:
                return rx.redirect(routes.usager_edit(usager_id) if edit else routes.usager_page(usager_id))
        return None
