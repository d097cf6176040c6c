"""An RDV's page for agents: details, participants, status, edit, cancel, history and receipts. Every rule
lives in services.rdvs and services.rdv_follow; this state keeps only what the page shows.

The page is born loaded (rdv_app.state.loaded): its forms stay disabled until the RDV of the address is
loaded, a change asked before is refused (`NOT_LOADED`), and every change gives the services the version
of the RDV the page showed (`queries.rdv_version`): one changed since by someone else is refused."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import reflex as rx

from rdv_app import routes
from rdv_app.blocking import within
from rdv_app.choices import Option
from rdv_app.components.forms import FieldErrorLink
from rdv_app.db.uow import UnitOfWork
from rdv_app.domain import datefmt
from rdv_app.domain.collectifs import name_warning
from rdv_app.domain.labels import RDV_STATUS_LABELS
from rdv_app.domain.rdv_status import allowed_statuses, is_cancelled
from rdv_app.services.errors import DomainError, FieldErrors, NeedsConfirmation, NotFound, PermissionDenied
from rdv_app.services.organisation.admin_lieux import SingleUseLieu
from rdv_app.services.rdv import collectifs, lifecycle, queries, rdv_follow
from rdv_app.services.rdv.lifecycle import RdvChange
from rdv_app.services.usagers import usagers
from rdv_app.state.agent import AgentState
from rdv_app.state.loaded import NOT_LOADED, LoadedForMixin
from rdv_app.state.notifications import deliver_after_commit
from rdv_app.state.plages import as_int, parse_clock, parse_day
from rdv_app.state.rdv_new import SINGLE_USE, SINGLE_USE_LABEL
from rdv_app.state.typed_event import event

EDIT_HEADING_ID = "modifier-rdv-titre"
DUPLICATE_HEADING_ID = "dupliquer-atelier-titre"
STATUS_HEADING_ID = "statut-rdv-titre"
# The edit form's fields, by the name the services give them: the error summary's links.
EDIT_FIELD_IDS = {"day": "rdv-date", "start_time": "rdv-heure", "duration_in_min": "rdv-duree", "agent_ids": "rdv-agents"}
# After a change, its receipts are looked for every RECEIPTS_FOLLOW_PAUSE seconds, this long at most.
RECEIPTS_FOLLOW_SECONDS = 20.0
RECEIPTS_FOLLOW_PAUSE = 0.5
# The receipts shown before "Afficher les N autres" (an RDV re-sent many times had a page of 8,900 px).
RECEIPTS_SHOWN = 5


@dataclass
class ParticipantRow:
    usager_id: str
    name: str
    responsible: str
    status: str
    status_label: str
    lifecycle: str
    reminder: str
    reaches: list[str]


@dataclass
class SeatCandidate:
    """An usager found to add to a collective session."""

    usager_id: str
    name: str
    details: str


@dataclass
class HistoryRow:
    when: str
    author: str
    action: str
    details: list[str]


@dataclass
class ReceiptRow:
    when: str
    channel: str
    event: str
    result: str
    failed: bool
    recipient: str
    destination: str
    segments: str
    error: str


def _yes(flag: bool) -> str:
    return "oui" if flag else "non"


async def _receipts(who: tuple[int, int, int]) -> list[rdv_follow.ReceiptView] | None:
    """The RDV's receipts, or None when it left the agent's reach (the next load says so)."""
    try:
        return await within(UnitOfWork(read_only=True), lambda uow: rdv_follow.list_receipts(uow, *who))
    except DomainError:
        return None


class RdvPageState(LoadedForMixin, AgentState):
    loading: rx.Field[bool] = rx.field(True)
    unavailable_title: rx.Field[str] = rx.field("")
    unavailable_message: rx.Field[str] = rx.field("")

    motif_name: rx.Field[str] = rx.field("")
    motif_colour: rx.Field[str] = rx.field("")
    service_name: rx.Field[str] = rx.field("")
    organisation_name: rx.Field[str] = rx.field("")
    day: rx.Field[str] = rx.field("")
    time: rx.Field[str] = rx.field("")
    end_time: rx.Field[str] = rx.field("")
    duration: rx.Field[str] = rx.field("")
    timezone: rx.Field[str] = rx.field("")
    where: rx.Field[list[str]] = rx.field(default_factory=list)
    agents: rx.Field[list[str]] = rx.field(default_factory=list)
    created_by: rx.Field[str] = rx.field("")
    created_when: rx.Field[str] = rx.field("")
    # "Rendez-vous pris par <agent>" (prescription): the agent's name, and how to reach them.
    prescriber: rx.Field[str] = rx.field("")
    prescriber_contact: rx.Field[str] = rx.field("")
    context: rx.Field[str] = rx.field("")
    status: rx.Field[str] = rx.field("")
    status_label: rx.Field[str] = rx.field("")
    cancelled: rx.Field[bool] = rx.field(False)
    collectif: rx.Field[bool] = rx.field(False)
    session_name: rx.Field[str] = rx.field("")
    participants: rx.Field[list[ParticipantRow]] = rx.field(default_factory=list)
    status_choices: rx.Field[list[Option]] = rx.field(default_factory=list)
    history: rx.Field[list[HistoryRow]] = rx.field(default_factory=list)
    receipts: rx.Field[list[ReceiptRow]] = rx.field(default_factory=list)
    receipts_expanded: rx.Field[bool] = rx.field(False)

    # Status changes (the RDV's, or one participant's).
    chosen_status: rx.Field[str] = rx.field("")
    status_saving: rx.Field[bool] = rx.field(False)
    status_error: rx.Field[str] = rx.field("")
    # An RDV not begun yet said "honoré" or "absence non excusée": the question, until confirmed or changed.
    status_warning: rx.Field[str] = rx.field("")
    action_message: rx.Field[str] = rx.field("")

    # The edit form. Text, date and time inputs are uncontrolled: `form_key` changes to show new values.
    editing: rx.Field[bool] = rx.field(False)
    form_key: rx.Field[int] = rx.field(0)
    edit_day: rx.Field[str] = rx.field("")
    edit_time: rx.Field[str] = rx.field("")
    edit_duration: rx.Field[str] = rx.field("")
    edit_lieu_id: rx.Field[str] = rx.field("")
    # "Autre adresse (lieu ponctuel)": a place typed for this RDV only, written with the change.
    edit_single_use_name: rx.Field[str] = rx.field("")
    edit_single_use_address: rx.Field[str] = rx.field("")
    edit_agent_ids: rx.Field[list[str]] = rx.field(default_factory=list)
    # A collective session's name and seats.
    edit_name: rx.Field[str] = rx.field("")
    edit_seats: rx.Field[str] = rx.field("")
    edit_unlimited: rx.Field[bool] = rx.field(False)
    agent_choices: rx.Field[list[Option]] = rx.field(default_factory=list)
    lieu_choices: rx.Field[list[Option]] = rx.field(default_factory=list)
    saving: rx.Field[bool] = rx.field(False)
    error_field: rx.Field[str] = rx.field("")
    error_message: rx.Field[str] = rx.field("")
    form_error: rx.Field[str] = rx.field("")
    # Every empty required field of the edit form (FieldErrors), and the summary's links to them.
    field_errors: dict[str, str] = {}
    error_links: rx.Field[list[FieldErrorLink]] = rx.field(default_factory=list)
    warnings: rx.Field[list[str]] = rx.field(default_factory=list)

    cancel_open: rx.Field[bool] = rx.field(False)
    cancelling: rx.Field[bool] = rx.field(False)
    receipts_loading: rx.Field[bool] = rx.field(False)

    # A collective session: its fill, every participant status, and adding or removing participants.
    fill: rx.Field[str] = rx.field("")
    participant_status_choices: rx.Field[list[Option]] = rx.field(default_factory=list)
    seat_query: rx.Field[str] = rx.field("")
    seat_key: rx.Field[int] = rx.field(0)
    seat_results: rx.Field[list[SeatCandidate]] = rx.field(default_factory=list)
    seat_lifecycle: rx.Field[bool] = rx.field(True)
    seat_reminder: rx.Field[bool] = rx.field(True)
    seat_busy: rx.Field[bool] = rx.field(False)
    seat_error: rx.Field[str] = rx.field("")
    # Duplicating a collective session: the new session's day and time.
    duplicating: rx.Field[bool] = rx.field(False)
    dup_key: rx.Field[int] = rx.field(0)
    dup_day: rx.Field[str] = rx.field("")
    dup_time: rx.Field[str] = rx.field("")
    dup_busy: rx.Field[bool] = rx.field(False)
    dup_error_field: rx.Field[str] = rx.field("")
    dup_error: rx.Field[str] = rx.field("")

    _organisation_id: int | None = None
    _rdv: int | None = None
    _lieu_id: str = ""
    _agent_ids: list[str] = []
    _name: str = ""
    _seats: int | None = None
    # The version of the RDV the page shows (rdv_app.services.versions), given back with every change.
    _version: str = ""

    if TYPE_CHECKING:  # the argument of routes.RDV_PAGE, a var Reflex adds to every state
        rdv_page_id: str

    # ----------------------------------------------------------------------- loading

    @event
    async def load(self):
        """Not an `OrganisationPageState`: the RDV decides the organisation the page is about."""
        self.loading = True
        self.unavailable_title = self.unavailable_message = ""
        self.action_message = self.status_error = ""
        self.editing = self.duplicating = False
        self.cancel_open = False
        self.receipts_expanded = False
        self._loading()
        agent_id = self._agent_id
        if agent_id is None:
            return
        raw = str(self.rdv_page_id)  # the route's argument
        yield
        try:
            if not raw.isdigit():
                raise NotFound(rdv_follow.NOT_FOUND)
            organisation_id = await within(UnitOfWork(read_only=True),
                                           lambda uow: rdv_follow.rdv_organisation(uow, agent_id, int(raw)))
            # A link opens the RDV in its own organisation, which the header then shows.
            self.current_org_id = str(organisation_id)
            self._organisation_id, self._rdv = organisation_id, int(raw)
            await self._refresh()
            self._mark_loaded()
        except PermissionDenied as exc:
            self._unavailable("Accès impossible", exc.message)
        except DomainError as exc:
            self._unavailable("Rendez-vous introuvable", exc.message)
        finally:
            self.loading = False

    def _unavailable(self, title: str, message: str) -> None:
        self._rdv = None
        self.unavailable_title, self.unavailable_message = title, message

    def _loaded_record(self) -> str:
        """The RDV of the page's address: a change reaching the server for another one is refused."""
        return str(self.rdv_page_id)

    def _refuses_unloaded(self) -> bool:
        """A change asked before the page showed the RDV of its address."""
        return self._rdv is None or not self._is_loaded()

    def _who(self) -> tuple[int, int, int]:
        assert self._agent_id is not None and self._organisation_id is not None and self._rdv is not None
        return self._agent_id, self._organisation_id, self._rdv

    async def _refresh(self) -> None:
        who = self._who()

        def read(uow: UnitOfWork) -> tuple[queries.RdvDetails, list[rdv_follow.ReceiptView]]:
            return queries.get_rdv(uow, *who), rdv_follow.list_receipts(uow, *who)

        details, receipts = await within(UnitOfWork(read_only=True), read)
        self.motif_name, self.motif_colour = details.motif_name, details.motif_colour
        self.service_name, self.organisation_name = details.service_name, details.organisation_name
        self.day, self.time, self.end_time = details.day, details.time, details.end_time
        self.duration = f"{details.duration_in_min} min"
        self.timezone = details.timezone
        self.where = list(details.where)
        self.agents = [a.name for a in details.agents]
        self.created_by, self.created_when = details.created_by or "Inconnu", details.created_when
        prescribed = details.prescribed_by
        self.prescriber = prescribed.name if prescribed else ""
        self.prescriber_contact = (", ".join(p for p in (prescribed.organisation_name, prescribed.email,
                                                         prescribed.phone_number) if p)
                                   if prescribed else "")
        self.context = details.context or ""
        self.status, self.status_label = details.status, details.status_label
        self.cancelled = is_cancelled(details.status)
        self.collectif = details.collectif
        self.chosen_status = details.status
        self.status_choices = [Option(value, label) for value, label in details.status_choices]
        self.fill = details.fill
        self.participant_status_choices = [Option(s.value, RDV_STATUS_LABELS[s]) for s in allowed_statuses(False)]
        self.participants = [
            ParticipantRow(str(p.usager_id), p.name, p.responsible_name or "", p.status, p.status_label,
                           _yes(p.send_lifecycle_notifications), _yes(p.send_reminder_notification), list(p.reaches))
            for p in details.participants
        ]
        self.history = [HistoryRow(h.when, h.author, h.action, list(h.details)) for h in reversed(details.history)]
        self._version = details.version
        self._show_receipts(receipts)
        self._edit_values(details)

    def _show_receipts(self, receipts: list[rdv_follow.ReceiptView]) -> None:
        self.receipts = [
            ReceiptRow(r.when, r.channel, r.event, r.result, r.failed, r.recipient, r.destination,
                       "" if r.sms_count is None else str(r.sms_count), r.error or "")
            for r in receipts
        ]

    def _edit_values(self, details: queries.RdvDetails) -> None:
        local = datefmt.local(details.starts_at, details.timezone)
        self.edit_day, self.edit_time = local.date().isoformat(), local.strftime("%H:%M")
        self.edit_duration = str(details.duration_in_min)
        self._lieu_id = str(details.lieu_id) if details.lieu_id is not None else ""
        self.edit_lieu_id = self._lieu_id
        self._agent_ids = [str(a.id) for a in details.agents]
        self.edit_agent_ids = list(self._agent_ids)
        self._name, self._seats = details.name or "", details.max_participants_count
        self.session_name = self._name
        self._edit_session_values()
        self.form_key += 1

    def _edit_session_values(self) -> None:
        self.edit_name = self._name
        self.edit_unlimited = self._seats is None
        self.edit_seats = "" if self._seats is None else str(self._seats)

    # ----------------------------------------------------------------------- notifications

    async def _after_change(self, change: RdvChange | None, message: str) -> list:
        """Shows the RDV as it now is; its receipts follow as its notifications are sent (the handler
        yields `deliver_after_commit` next, which starts sending them)."""
        await self._refresh()
        self.action_message = message
        if change is not None and change.outbox_ids:
            self.receipts_loading = True
            return [RdvPageState.follow_receipts(len(self.receipts) + len(change.outbox_ids))]
        return []

    @event(background=True)
    async def follow_receipts(self, expected: int):
        """Refreshes the receipts until the change's messages have theirs (one receipt per attempt), at
        most RECEIPTS_FOLLOW_SECONDS; the "Actualiser" button shows later ones."""
        deadline = time.monotonic() + RECEIPTS_FOLLOW_SECONDS
        while True:
            await asyncio.sleep(RECEIPTS_FOLLOW_PAUSE)
            async with self:
                who = self._who() if self._rdv is not None else None
            # Read without holding the state: the person's other events go on meanwhile.
            receipts = await _receipts(who) if who is not None else None
            async with self:
                if receipts is not None and self._rdv is not None:
                    self._show_receipts(receipts)
                if receipts is None or self._rdv is None or len(self.receipts) >= expected \
                        or time.monotonic() > deadline:
                    self.receipts_loading = False
                    return

    @rx.var
    def shown_receipts(self) -> list[ReceiptRow]:
        """The most recent receipts, all of them once the agent asked."""
        return self.receipts if self.receipts_expanded else self.receipts[:RECEIPTS_SHOWN]

    @rx.var
    def older_receipts(self) -> int:
        return max(0, len(self.receipts) - RECEIPTS_SHOWN)

    @event
    def toggle_receipts(self):
        self.receipts_expanded = not self.receipts_expanded

    @event
    async def reload_receipts(self):
        if self._rdv is None:
            return
        who = self._who()
        self._show_receipts(await within(UnitOfWork(read_only=True), lambda uow: rdv_follow.list_receipts(uow, *who)))

    # ----------------------------------------------------------------------- statuses

    @event
    def set_chosen_status(self, value: str):
        self.chosen_status = value
        self.status_error = self.status_warning = ""

    @event
    async def save_status(self):
        async for update in self._save_status(confirmed=False):
            yield update

    @event
    async def confirm_status(self):
        """"Oui, enregistrer": the status the warning was about, still the one chosen."""
        if self.status_warning:
            async for update in self._save_status(confirmed=True):
                yield update

    async def _save_status(self, *, confirmed: bool):
        if self.status_saving or self._rdv is None:
            return
        if self._refuses_unloaded():
            self.status_error = NOT_LOADED
            return
        self.status_error = self.action_message = self.status_warning = ""
        self.status_saving = True
        yield
        who, status, version, uow = self._who(), self.chosen_status, self._version, UnitOfWork()
        try:
            change = await within(uow, lambda uow: lifecycle.change_status(
                uow, *who, status, confirm_warnings=confirmed, expected_version=version))
        except NeedsConfirmation as exc:
            self.status_warning = exc.message
        except DomainError as exc:
            self.status_error = exc.message
            yield RdvPageState.reload_silently
        else:
            label = next((o.label for o in self.status_choices if o.value == status), "")
            yield await self._after_change(change, f"Le statut du rendez-vous est maintenant « {label} ».")
            yield deliver_after_commit(uow)
        finally:
            self.status_saving = False

    @event
    async def set_participant_status(self, usager_id: str, value: str):
        if self.status_saving or self._rdv is None or not usager_id.isdigit():
            return
        if self._refuses_unloaded():
            self.status_error = NOT_LOADED
            return
        self.status_error = self.action_message = ""
        self.status_saving = True
        yield
        name = next((p.name for p in self.participants if p.usager_id == usager_id), "")
        who, version, uow = self._who(), self._version, UnitOfWork()
        try:
            change = await within(uow, lambda uow: lifecycle.change_participation_status(
                uow, *who, int(usager_id), value, expected_version=version))
        except DomainError as exc:
            self.status_error = exc.message
            yield RdvPageState.reload_silently
        else:
            label = next((o.label for o in self.participant_status_choices if o.value == value), "")
            yield await self._after_change(change, f"Le statut de {name} est maintenant « {label} ».")
            yield deliver_after_commit(uow)
        finally:
            self.status_saving = False

    @event
    async def reload_silently(self):
        """After a refused change, show the RDV as it is (another agent may have changed it)."""
        if self._rdv is None:
            return
        try:
            await self._refresh()
        except DomainError as exc:
            self._unavailable("Rendez-vous introuvable", exc.message)

    # ----------------------------------------------------------------------- editing

    @event
    async def start_edit(self):
        if self._rdv is None:
            return None
        self.editing = True
        self.action_message = ""
        self._clear_feedback()
        self.edit_lieu_id, self.edit_agent_ids = self._lieu_id, list(self._agent_ids)
        self._edit_session_values()
        self.form_key += 1
        who = self._who()
        try:
            choices = await within(UnitOfWork(read_only=True), lambda uow: rdv_follow.edit_choices(uow, *who))
        except DomainError as exc:
            self.form_error = exc.message
            return None
        self.agent_choices = [Option(str(c.id), c.label) for c in choices.agents]
        self.lieu_choices = [Option(str(c.id), c.label) for c in choices.lieux]
        if self.lieu_choices:
            self.lieu_choices.append(Option(SINGLE_USE, SINGLE_USE_LABEL))
        self.edit_single_use_name = self.edit_single_use_address = ""
        return rx.call_script(f"document.getElementById('{EDIT_HEADING_ID}')?.focus()")

    @event
    def cancel_edit(self):
        self.editing = False
        self._clear_feedback()

    def _clear_feedback(self) -> None:
        self.error_field = self.error_message = self.form_error = ""
        self._show_field_errors({})
        self.warnings = []

    def _show_field_errors(self, errors: dict[str, str]) -> None:
        self.field_errors = errors
        self.error_links = [FieldErrorLink(f"#{EDIT_FIELD_IDS.get(name, name)}", message)
                            for name, message in errors.items()]

    def _touch(self, field: str) -> None:
        self.warnings = []
        if self.error_field == field:
            self.error_field = self.error_message = ""
        if field in self.field_errors:
            self._show_field_errors({name: message for name, message in self.field_errors.items() if name != field})

    @event
    def set_edit_day(self, value: str):
        self.edit_day = value
        self._touch("day")

    @event
    def set_edit_time(self, value: str):
        self.edit_time = value
        self._touch("start_time")

    @event
    def set_edit_duration(self, value: str):
        self.edit_duration = value
        self._touch("duration_in_min")

    @event
    def set_edit_lieu(self, value: str):
        self.edit_lieu_id = value
        self._touch("lieu_id")

    @event
    def set_edit_single_use_name(self, value: str):
        self.edit_single_use_name = value
        self._touch("single_use_name")

    @event
    def set_edit_single_use_address(self, value: str):
        self.edit_single_use_address = value
        self._touch("single_use_address")

    @event
    def toggle_edit_agent(self, agent_id: str, checked: bool):
        others = [a for a in self.edit_agent_ids if a != agent_id]
        self.edit_agent_ids = [*others, agent_id] if checked else others
        self._touch("agent_ids")

    @event
    def set_edit_name(self, value: str):
        self.edit_name = value
        self._touch("name")

    @event
    def set_edit_seats(self, value: str | float):
        self.edit_seats = str(value)  # a number field's value may come as a number
        self._touch("max_participants_count")

    @event
    def set_edit_unlimited(self, checked: bool):
        self.edit_unlimited = checked
        self._touch("max_participants_count")

    @rx.var
    def edit_name_warning(self) -> str:
        """Said while the agent types: SMS cut a long session name."""
        return name_warning(self.edit_name.strip()) or ""

    @event
    def dismiss_warnings(self):
        self.warnings = []

    @event
    async def save_edit(self, confirm_warnings: bool = False):
        if self.saving or self._rdv is None or not self.editing:
            return
        self._clear_feedback()
        self.action_message = ""
        if self._refuses_unloaded():
            self.form_error = NOT_LOADED
            return
        self.saving = True
        yield
        who, uow = self._who(), UnitOfWork()
        session = None
        if self.collectif:
            seats: int | None = None
            if not self.edit_unlimited:
                parsed = as_int(self.edit_seats.strip())
                if not isinstance(parsed, int):
                    self.error_field = "max_participants_count"
                    self.error_message = "Indiquez le nombre de places, ou cochez « Places illimitées »."
                    self.saving = False
                    return
                seats = parsed
            session = lifecycle.SessionSettings(self.edit_name, seats)
        values: dict[str, Any] = dict(day=parse_day(self.edit_day), start_time=parse_clock(self.edit_time),
                      duration_in_min=as_int(self.edit_duration) if self.edit_duration.strip() else None,
                      lieu_id=int(self.edit_lieu_id) if self.edit_lieu_id.isdigit() else None,
                      agent_ids=[int(a) for a in self.edit_agent_ids if a.isdigit()], session=session,
                      single_use_lieu=(SingleUseLieu(self.edit_single_use_name, self.edit_single_use_address)
                                       if self.edit_lieu_id == SINGLE_USE else None),
                      confirm_warnings=bool(confirm_warnings), expected_version=self._version)
        try:
            change = await within(uow, lambda uow: rdv_follow.edit_rdv(uow, *who, **values))
        except NeedsConfirmation as exc:
            self.warnings = exc.warnings
        except FieldErrors as exc:
            self._show_field_errors(exc.errors)
        except DomainError as exc:
            if exc.field:
                self.error_field, self.error_message = exc.field, exc.message
            else:
                self.form_error = exc.message
        else:
            self.editing = False
            message = "Le rendez-vous a été modifié." if change else "Aucune modification à enregistrer."
            yield await self._after_change(change, message)
            yield deliver_after_commit(uow)
            yield rx.call_script(f"document.getElementById('{STATUS_HEADING_ID}')?.focus()")
        finally:
            self.saving = False

    # ----------------------------------------------------------------------- duplicating a session

    @event
    def start_duplicate(self):
        if self._rdv is None or not self.collectif:
            return None
        self.duplicating = True
        self.action_message = self.dup_error = self.dup_error_field = ""
        self.dup_day, self.dup_time = "", self.edit_time
        self.dup_key += 1
        return rx.call_script(f"document.getElementById('{DUPLICATE_HEADING_ID}')?.focus()")

    @event
    def cancel_duplicate(self):
        self.duplicating = False
        self.dup_error = self.dup_error_field = ""

    @event
    def set_dup_day(self, value: str):
        self.dup_day = value
        if self.dup_error_field == "day":
            self.dup_error = self.dup_error_field = ""

    @event
    def set_dup_time(self, value: str):
        self.dup_time = value
        if self.dup_error_field == "start_time":
            self.dup_error = self.dup_error_field = ""

    @event
    async def duplicate(self):
        if self.dup_busy or self._rdv is None or not self.duplicating:
            return
        if self._refuses_unloaded():
            self.dup_error = NOT_LOADED
            return
        self.dup_busy, self.dup_error, self.dup_error_field = True, "", ""
        yield
        (agent_id, organisation_id, rdv_id), uow = self._who(), UnitOfWork()
        day, start_time = parse_day(self.dup_day), parse_clock(self.dup_time)
        try:
            new_id = await within(uow, lambda uow: collectifs.duplicate(
                uow, agent_id, organisation_id, rdv_id, day=day, start_time=start_time))
        except DomainError as exc:
            self.dup_error, self.dup_error_field = exc.message, exc.field or ""
            self.dup_busy = False
            return
        self.duplicating = self.dup_busy = False
        yield deliver_after_commit(uow)
        yield rx.redirect(routes.rdv_page(new_id))

    # ----------------------------------------------------------------------- cancelling

    @event
    def set_cancel_open(self, is_open: bool):
        if not self.cancelling:
            self.cancel_open = is_open

    @event
    async def cancel_rdv(self, excused: bool):
        if self.cancelling or self._rdv is None:
            return
        if self._refuses_unloaded():
            self.status_error, self.cancel_open = NOT_LOADED, False
            return
        self.cancelling = True
        self.status_error = self.action_message = ""
        yield
        who, by_usager, version, uow = self._who(), bool(excused), self._version, UnitOfWork()
        try:
            change = await within(uow, lambda uow: lifecycle.cancel_rdv(uow, *who, excused=by_usager,
                                                                        expected_version=version))
        except DomainError as exc:
            self.status_error = exc.message
            yield RdvPageState.reload_silently
        else:
            by = "à la demande de l'usager" if by_usager else "par le service"
            yield await self._after_change(change, f"Le rendez-vous a été annulé {by}.")
            yield deliver_after_commit(uow)
        finally:
            self.cancelling = False
            self.cancel_open = False

    # ----------------------------------------------------------------------- collective sessions: participants

    @event
    async def search_seat_usagers(self, value: str):
        self.seat_query, self.seat_error = value, ""
        if self._rdv is None or len(value.strip()) < 2:
            self.seat_results = []
            return
        who = self._who()
        try:
            found = await within(UnitOfWork(read_only=True),
                                 lambda uow: usagers.search_usagers(uow, who[0], who[1], value))
        except DomainError as exc:
            self.seat_error, self.seat_results = exc.message, []
            return
        taken = {p.usager_id for p in self.participants if not is_cancelled(p.status)}
        self.seat_results = [
            SeatCandidate(str(u.id), u.name, " · ".join(d for d in (u.birth_date and f"Né(e) le {u.birth_date}",
                                                                    u.phone_number, u.email) if d))
            for u in found.usagers if str(u.id) not in taken]

    @event
    def set_seat_lifecycle(self, checked: bool):
        self.seat_lifecycle = checked

    @event
    def set_seat_reminder(self, checked: bool):
        self.seat_reminder = checked

    @event
    async def add_seat(self, usager_id: str):
        if self.seat_busy or self._rdv is None or not usager_id.isdigit():
            return
        if self._refuses_unloaded():
            self.seat_error = NOT_LOADED
            return
        self.seat_busy, self.seat_error, self.action_message = True, "", ""
        yield
        name = next((r.name for r in self.seat_results if r.usager_id == usager_id), "")
        who, flags, version, uow = self._who(), (self.seat_lifecycle, self.seat_reminder), self._version, UnitOfWork()
        try:
            change = await within(uow, lambda uow: lifecycle.add_participant(uow, *who, int(usager_id), notify=flags,
                                                                             expected_version=version))
        except DomainError as exc:
            self.seat_error = exc.message
            yield RdvPageState.reload_silently
        else:
            self.seat_query, self.seat_results = "", []
            self.seat_key += 1
            yield await self._after_change(change, f"{name} est inscrit(e) à l'atelier.")
            yield deliver_after_commit(uow)
        finally:
            self.seat_busy = False

    @event
    async def remove_seat(self, usager_id: str):
        if self.seat_busy or self._rdv is None or not usager_id.isdigit():
            return
        if self._refuses_unloaded():
            self.seat_error = NOT_LOADED
            return
        self.seat_busy, self.seat_error, self.action_message = True, "", ""
        yield
        name = next((p.name for p in self.participants if p.usager_id == usager_id), "")
        who, version, uow = self._who(), self._version, UnitOfWork()
        try:
            await within(uow, lambda uow: lifecycle.remove_participant(uow, *who, int(usager_id),
                                                                       expected_version=version))
        except DomainError as exc:
            self.seat_error = exc.message
            yield RdvPageState.reload_silently
        else:
            yield await self._after_change(None, f"{name} est retiré(e) de l'atelier.")
            yield deliver_after_commit(uow)
        finally:
            self.seat_busy = False
