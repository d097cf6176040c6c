"""Planning an RDV: its usagers, the recap of its date, time, duration, agents and lieu, the participants'
notifications, and the confirmation. Every rule lives in services.rdv_planning (and rdvs, usagers).

The choices ride in the page's address (motif, start, agents, lieu, duration, usagers) so that a reload
or a link sent to a colleague opens the same RDV in the making.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from datetime import date, time
from typing import Any

import reflex as rx
from reflex.event import EventSpec

from rdv_app import routes
from rdv_app.blocking import within
from rdv_app.choices import Option
from rdv_app.db.uow import UnitOfWork
from rdv_app.services.errors import DomainError, NeedsConfirmation
from rdv_app.services.organisation.admin_lieux import SingleUseLieu
from rdv_app.services.rdv import rdv_planning
from rdv_app.services.usagers import usagers
from rdv_app.state.agent import AgentState
from rdv_app.state.loaded import NOT_LOADED
from rdv_app.state.notifications import deliver_after_commit
from rdv_app.state.organisation import OrganisationPageState
from rdv_app.state.typed_event import event

SEARCH_FIELD_ID = "recherche-usager"
CONFIRM_HEADING_ID = "confirmation-titre"
MIN_SEARCH_LETTERS = 2
# The lieu select's last choice: an address typed for this RDV only (a lieu ponctuel).
SINGLE_USE = "ponctuel"
SINGLE_USE_LABEL = "Autre adresse (lieu ponctuel, pour ce RDV seulement)"
# The element that shows each field's error, for the focus to move there.
FIELD_IDS = {"day": "rdv-date", "start_time": "rdv-heure", "duration_in_min": "rdv-duree", "agent_ids": "rdv-agents",
             "lieu_id": "rdv-lieu", "single_use_name": "rdv-lieu-ponctuel-nom",
             "single_use_address": "rdv-lieu-ponctuel-adresse", "usager_ids": SEARCH_FIELD_ID, "notify": CONFIRM_HEADING_ID,
             "first_name": "usager-prenom", "last_name": "usager-nom", "email": "usager-email",
             "phone_number": "usager-telephone", "birth_date": "usager-naissance"}


@dataclass
class ParticipantRow:
    id: str
    name: str
    details: str
    from_other_organisation: bool
    notified_through: str
    note: str
    can_notify: bool
    lifecycle: bool
    reminder: bool


@dataclass
class FoundUsager:
    id: str
    name: str
    details: str


def replace_query(address: str) -> EventSpec:
    """Shows the query of `address` in the address bar without a new page; the path stays as the router
    wrote it (with its trailing slash)."""
    query = address.partition("?")[2]
    return rx.call_script(
        f"window.history.replaceState(window.history.state, '', window.location.pathname + {json.dumps('?' + query if query else '')})")


def _day(value: str) -> date | None:
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


def _clock(value: str) -> time | None:
    try:
        return time.fromisoformat(value)
    except ValueError:
        return None


def _ids(value: str) -> list[int]:
    return [int(part) for part in value.split(",") if part.strip().isdigit()]


def _number(value: str) -> int | None:
    return int(value) if value.strip().isdigit() else None


def _found(summary: usagers.UsagerSummary | usagers.UsagerPreview) -> FoundUsager:
    details = [f"Né(e) le {summary.birth_date}" if summary.birth_date else "",
               f"Tél. {summary.phone_number}" if summary.phone_number else "", summary.email or ""]
    return FoundUsager(str(summary.id), summary.name, " · ".join(d for d in details if d))


class RdvNewState(OrganisationPageState, AgentState):
    motif_id: rx.Field[str] = rx.field("")
    motif_name: rx.Field[str] = rx.field("")
    motif_colour: rx.Field[str] = rx.field("")
    service_name: rx.Field[str] = rx.field("")
    place_label: rx.Field[str] = rx.field("")
    needs_lieu: rx.Field[bool] = rx.field(True)
    agent_choices: rx.Field[list[Option]] = rx.field(default_factory=list)
    lieu_choices: rx.Field[list[Option]] = rx.field(default_factory=list)

    # The recap. Text, date and time inputs are uncontrolled: `form_key` changes to show new values.
    form_key: rx.Field[int] = rx.field(0)
    day: rx.Field[str] = rx.field("")
    start_time: rx.Field[str] = rx.field("")
    duration: rx.Field[str] = rx.field("")
    agent_ids: rx.Field[list[str]] = rx.field(default_factory=list)
    lieu_id: rx.Field[str] = rx.field("")
    single_use_name: rx.Field[str] = rx.field("")
    single_use_address: rx.Field[str] = rx.field("")

    participants: rx.Field[list[ParticipantRow]] = rx.field(default_factory=list)
    contact_warning: rx.Field[str] = rx.field("")
    usager_message: rx.Field[str] = rx.field("")

    search_key: rx.Field[int] = rx.field(0)
    query: rx.Field[str] = rx.field("")
    searching: rx.Field[bool] = rx.field(False)
    results: rx.Field[list[FoundUsager]] = rx.field(default_factory=list)
    other_results: rx.Field[list[FoundUsager]] = rx.field(default_factory=list)

    creating_usager: rx.Field[bool] = rx.field(False)
    create_key: rx.Field[int] = rx.field(0)
    new_first_name: rx.Field[str] = rx.field("")
    new_last_name: rx.Field[str] = rx.field("")
    new_email: rx.Field[str] = rx.field("")
    new_phone: rx.Field[str] = rx.field("")
    new_birth_date: rx.Field[str] = rx.field("")
    saving_usager: rx.Field[bool] = rx.field(False)

    saving: rx.Field[bool] = rx.field(False)
    error_field: rx.Field[str] = rx.field("")
    error_message: rx.Field[str] = rx.field("")
    form_error: rx.Field[str] = rx.field("")
    warnings: rx.Field[list[str]] = rx.field(default_factory=list)

    _location_type: str = ""
    # A second click that reached the server after the RDV was created must not create it again.
    _created: bool = False

    def _who(self) -> tuple[int, int]:
        assert self._agent_id is not None
        return self._agent_id, int(self.current_org_id)

    # ----------------------------------------------------------------------- loading

    def _before_load(self) -> None:
        self._reset()

    async def _load(self, agent_id: int, organisation_id: int) -> EventSpec | None:
        params = self.router.url.query_parameters
        motif = params.get("motif", "")
        if not motif.isdigit():
            self.denied = ("Choisissez d'abord un créneau dans « Trouver un RDV » ou un horaire libre de "
                           "l'agenda : le motif du RDV manque.")
            return None
        day_text, _, time_text = params.get("debut", "").partition("T")
        choices: dict[str, Any] = dict(motif_id=int(motif), day=_day(day_text), start_time=_clock(time_text),
                       agent_ids=_ids(params.get("agents", "")), lieu_id=_number(params.get("lieu", "")),
                       duration_in_min=_number(params.get("duree", "")))
        usager_ids = _ids(params.get("usagers", ""))

        def read(uow: UnitOfWork) -> tuple[rdv_planning.PlanningDraft, str]:
            try:
                return rdv_planning.draft(uow, agent_id, organisation_id, usager_ids=usager_ids, **choices), ""
            except DomainError as exc:
                if not usager_ids:
                    raise
                # The usagers of the link may not be shown here: the rest of the RDV still is.
                return (rdv_planning.draft(uow, agent_id, organisation_id, **choices),
                        f"Les usagers du lien n'ont pas été repris : {exc.message}")

        draft, self.usager_message = await within(UnitOfWork(read_only=True), read)
        self._take(draft)
        return self._sync_address()

    def _reset(self) -> None:
        self.usager_message = self.contact_warning = ""
        self.participants, self.results, self.other_results = [], [], []
        self.query = ""
        self.search_key += 1
        self.creating_usager = self.saving = self.saving_usager = self.searching = False
        self._clear_new_usager()
        self._clear_feedback()
        self._created = False

    def _take(self, draft: rdv_planning.PlanningDraft) -> None:
        self.motif_id = str(draft.motif_id)
        self.motif_name, self.motif_colour = draft.motif_name, draft.motif_colour
        self.service_name, self.place_label, self.needs_lieu = draft.service_name, draft.place_label, draft.needs_lieu
        self._location_type = draft.location_type
        self.agent_choices = [Option(str(c.id), c.label) for c in draft.agents]
        self.lieu_choices = [Option(str(c.id), c.label) for c in draft.lieux]
        self.day = draft.day.isoformat() if draft.day else ""
        self.start_time = draft.start_time.strftime("%H:%M") if draft.start_time else ""
        self.duration = str(draft.duration_in_min)
        self.agent_ids = [str(a) for a in draft.agent_ids]
        self.lieu_id = str(draft.lieu_id) if draft.lieu_id is not None else ""
        self.single_use_name = self.single_use_address = ""
        self._take_participants(draft.participants)
        self.form_key += 1

    def _take_participants(self, people: list[rdv_planning.PlanningParticipant]) -> None:
        """The participants as the service sees them; the flags already set on the page are kept."""
        kept = {p.id: (p.lifecycle, p.reminder) for p in self.participants}
        rows = []
        for person in people:
            lifecycle, reminder = kept.get(str(person.id), (person.send_lifecycle_notifications,
                                                            person.send_reminder_notification))
            rows.append(ParticipantRow(
                id=str(person.id), name=person.name, details=" · ".join(person.details),
                from_other_organisation=person.from_other_organisation, notified_through=person.notified_through,
                note=person.notification_note, can_notify=person.can_be_notified,
                lifecycle=lifecycle and person.can_be_notified, reminder=reminder and person.can_be_notified))
        self.participants = rows
        self.contact_warning = rdv_planning.contact_warning(self._location_type, people)

    def _sync_address(self) -> EventSpec:
        """The address follows the choices, without a new page: a reload or a shared link keeps them."""
        start = f"{self.day}T{self.start_time}" if self.day and self.start_time else self.day
        address = routes.rdv_new(motif_id=self.motif_id, start=start, agent_ids=self.agent_ids,
                                 lieu_id="" if self.lieu_id == SINGLE_USE else self.lieu_id, duration=self.duration.strip(),
                                 usager_ids=[p.id for p in self.participants])
        return replace_query(address)

    # ----------------------------------------------------------------------- 1. usagers

    @event
    async def search_usagers(self, value: str):
        self.query = value
        self.usager_message = ""
        if len(value.strip()) < MIN_SEARCH_LETTERS:
            self.results, self.other_results = [], []
            return
        self.searching = True
        yield
        who = self._who()
        try:
            found = await within(UnitOfWork(read_only=True), lambda uow: usagers.search_usagers(uow, *who, value))
        except DomainError as exc:
            self.usager_message = exc.message
            self.results, self.other_results = [], []
        else:
            self.results = [_found(u) for u in found.usagers]
            self.other_results = [_found(u) for u in found.other_organisations]
        finally:
            self.searching = False

    @rx.var
    def participant_ids(self) -> list[str]:
        return [p.id for p in self.participants]

    @rx.var
    def searched(self) -> bool:
        return len(self.query.strip()) >= MIN_SEARCH_LETTERS

    async def _set_participants(self, usager_ids: list[int]) -> None:
        who, motif_id = self._who(), int(self.motif_id)
        people = await within(UnitOfWork(read_only=True), lambda uow: rdv_planning.participants(
            uow, *who, motif_id=motif_id, usager_ids=usager_ids))
        self._take_participants(people)
        self._touch("usager_ids")

    @event
    async def add_usager(self, usager_id: str):
        if usager_id in self.participant_ids or not usager_id.isdigit():
            return None
        try:
            await self._set_participants([int(p.id) for p in self.participants] + [int(usager_id)])
        except DomainError as exc:
            self.usager_message = exc.message
            return None
        name = next(p.name for p in self.participants if p.id == usager_id)
        self.usager_message = f"{name} est ajouté(e) au RDV."
        self.query = ""
        self.results, self.other_results = [], []
        self.search_key += 1
        return [self._sync_address(),
                rx.call_script(f"document.getElementById('{SEARCH_FIELD_ID}')?.focus()")]

    @event
    async def remove_usager(self, usager_id: str):
        name = next((p.name for p in self.participants if p.id == usager_id), "")
        try:
            await self._set_participants([int(p.id) for p in self.participants if p.id != usager_id])
        except DomainError as exc:
            self.usager_message = exc.message
            return None
        self.usager_message = f"{name} est retiré(e) du RDV."
        return [self._sync_address(),
                rx.call_script(f"document.getElementById('{SEARCH_FIELD_ID}')?.focus()")]

    @event
    def open_new_usager(self):
        self.creating_usager = True
        self._clear_new_usager()
        self.create_key += 1
        # The last name is often what was just searched. The first name takes the focus as it appears.
        self.new_last_name = self.query.strip()

    @event
    def close_new_usager(self):
        self.creating_usager = False
        self._clear_new_usager()
        return rx.call_script(f"document.getElementById('{SEARCH_FIELD_ID}')?.focus()")

    def _clear_new_usager(self) -> None:
        self.new_first_name = self.new_last_name = self.new_email = self.new_phone = self.new_birth_date = ""
        if self.error_field in ("first_name", "last_name", "email", "phone_number", "birth_date"):
            self.error_field = self.error_message = ""

    @event
    def set_new_first_name(self, value: str):
        self.new_first_name = value
        self._touch("first_name")

    @event
    def set_new_last_name(self, value: str):
        self.new_last_name = value
        self._touch("last_name")

    @event
    def set_new_email(self, value: str):
        self.new_email = value
        self._touch("email")

    @event
    def set_new_phone(self, value: str):
        self.new_phone = value
        self._touch("phone_number")

    @event
    def set_new_birth_date(self, value: str):
        self.new_birth_date = value
        self._touch("birth_date")

    @event
    async def create_usager(self):
        if self.saving_usager:
            return
        self.saving_usager = True
        yield
        who, uow = self._who(), UnitOfWork()
        fields = dict(first_name=self.new_first_name, last_name=self.new_last_name, email=self.new_email or None,
                      phone_number=self.new_phone or None, birth_date=_day(self.new_birth_date))
        try:
            usager_id = await within(uow, lambda uow: usagers.create_usager(uow, *who, **fields))
            await self._set_participants([int(p.id) for p in self.participants] + [usager_id])
            yield deliver_after_commit(uow)
        except DomainError as exc:
            self._show_error(exc)
            yield self._focus_error()
            return
        finally:
            self.saving_usager = False
        self.creating_usager = False
        self._clear_new_usager()
        name = next(p.name for p in self.participants if p.id == str(usager_id))
        self.usager_message = f"{name} est créé(e) et ajouté(e) au RDV."
        self.query = ""
        self.results, self.other_results = [], []
        self.search_key += 1
        yield self._sync_address()
        yield rx.call_script(f"document.getElementById('{SEARCH_FIELD_ID}')?.focus()")

    # ----------------------------------------------------------------------- 2. recap

    def _touch(self, field: str) -> None:
        """A change makes the last warnings stale, and clears the error of the field corrected."""
        self.warnings = []
        self.form_error = ""
        if self.error_field == field:
            self.error_field = self.error_message = ""

    @event
    def set_day(self, value: str):
        self.day = value
        self._touch("day")
        return self._sync_address()

    @event
    def set_start_time(self, value: str):
        self.start_time = value
        self._touch("start_time")
        return self._sync_address()

    @event
    def set_duration(self, value: str):
        self.duration = value
        self._touch("duration_in_min")
        return self._sync_address()

    @event
    def toggle_agent(self, agent_id: str, checked: bool):
        others = [a for a in self.agent_ids if a != agent_id]
        self.agent_ids = [*others, agent_id] if checked else others
        self._touch("agent_ids")
        return self._sync_address()

    @event
    def set_lieu(self, value: str):
        self.lieu_id = value
        self._touch("lieu_id")
        return self._sync_address()

    @event
    def set_single_use_name(self, value: str):
        self.single_use_name = value
        self._touch("single_use_name")

    @event
    def set_single_use_address(self, value: str):
        self.single_use_address = value
        self._touch("single_use_address")

    @rx.var
    def lieu_options(self) -> list[Option]:
        return [*self.lieu_choices, Option(SINGLE_USE, SINGLE_USE_LABEL)]

    @rx.var
    def summary(self) -> str:
        """The RDV in one sentence, above the confirmation."""
        day, start = _day(self.day), _clock(self.start_time)
        when = rdv_planning.describe(day, start) if day and start else "date ou heure à préciser"
        agents = ", ".join(o.label for o in self.agent_choices if o.value in self.agent_ids) or "agent à choisir"
        place = (next((o.label for o in self.lieu_choices if o.value == self.lieu_id), "lieu à choisir")
                 if self.needs_lieu else self.place_label)
        if self.needs_lieu and self.lieu_id == SINGLE_USE:
            place = " ".join(f"{self.single_use_name.strip()} (lieu ponctuel)".split()) or "lieu à préciser"
        duration = f"{self.duration.strip()} min" if self.duration.strip().isdigit() else "durée à préciser"
        return f"{self.motif_name} · {when} · {duration} · {agents} · {place}"

    # ----------------------------------------------------------------------- 3. notifications, confirm

    @event
    def set_lifecycle(self, usager_id: str, checked: bool):
        self.participants = [dataclasses.replace(p, lifecycle=checked and p.can_notify) if p.id == usager_id else p
                             for p in self.participants]
        self._touch("notify")

    @event
    def set_reminder(self, usager_id: str, checked: bool):
        self.participants = [dataclasses.replace(p, reminder=checked and p.can_notify) if p.id == usager_id else p
                             for p in self.participants]
        self._touch("notify")

    def _show_error(self, exc: DomainError) -> None:
        """Under its field when the service names one, next to the button otherwise (duplicate, rights)."""
        if exc.field in FIELD_IDS:
            self.error_field, self.error_message = exc.field, exc.message
        else:
            self.form_error = exc.message

    def _focus_error(self) -> EventSpec:
        """The field in error (the first box of a group), or the confirmation's heading."""
        target = json.dumps(FIELD_IDS.get(self.error_field, CONFIRM_HEADING_ID))
        return rx.call_script(
            f"(() => {{ const el = document.getElementById({target}); if (!el) return; "
            "const field = el.matches('input, select, textarea, h2') ? el : el.querySelector('input, select'); "
            "(field || el).focus(); })()")

    def _clear_feedback(self) -> None:
        self.error_field = self.error_message = self.form_error = ""
        self.warnings = []

    @event
    def dismiss_warnings(self):
        self.warnings = []

    @event
    async def confirm(self, confirm_warnings: bool = False):
        if self.saving or self._created or not self.motif_id.isdigit():
            return
        self._clear_feedback()
        if not self._is_loaded():
            self.form_error = NOT_LOADED
            return
        self.saving = True
        yield
        who, uow = self._who(), UnitOfWork()
        choices: dict[str, Any] = dict(motif_id=int(self.motif_id), day=_day(self.day), start_time=_clock(self.start_time),
                       duration_in_min=_number(self.duration), agent_ids=[int(a) for a in self.agent_ids if a.isdigit()],
                       lieu_id=_number(self.lieu_id), usager_ids=[int(p.id) for p in self.participants],
                       single_use_lieu=(SingleUseLieu(self.single_use_name, self.single_use_address)
                                        if self.needs_lieu and self.lieu_id == SINGLE_USE else None),
                       notify={int(p.id): (p.lifecycle, p.reminder) for p in self.participants},
                       confirm_warnings=bool(confirm_warnings))
        try:
            rdv_id = await within(uow, lambda uow: rdv_planning.plan(uow, *who, **choices))
        except NeedsConfirmation as exc:
            self.warnings = exc.warnings
            self.saving = False
            yield rx.call_script(f"document.getElementById('{CONFIRM_HEADING_ID}')?.focus()")
            return
        except DomainError as exc:
            self._show_error(exc)
            self.saving = False
            yield self._focus_error()
            return
        self._created = True
        yield deliver_after_commit(uow)
        # The button keeps its spinner until the agenda opens on the RDV's day.
        yield rx.redirect(routes.agenda(day=self.day, created_rdv_id=rdv_id))
