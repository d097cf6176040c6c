"""'Nouveau RDV par prescription' ("Élargir la recherche"): what the page shows at each step. Every rule
(which motifs, which usagers, the slots, the booking) lives in services.online_booking.prescription and
services.rdv.lifecycle.prescribe_rdv; ids the browser sends back are checked there again.

Steps: "creneau" (service, motif, lieu or organisation, then a week of slots, or for a collective motif
its open sessions), "usager" (search, or
"Créer un usager"), "recap" ("Confirmer le RDV"), "confirmation". An usager from the link (`?usager=`,
"Trouver un RDV" for an usager) is taken once the service allowed them, and the usager step is skipped.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import reflex as rx

from rdv_app.blocking import in_thread, within
from rdv_app.choices import Option
from rdv_app.db.uow import UnitOfWork
from rdv_app.domain import datefmt
from rdv_app.services.errors import DomainError
from rdv_app.services.integrations import ants as ants_service
from rdv_app.services.integrations.ants import NumberNeed
from rdv_app.services.online_booking import prescription
from rdv_app.services.online_booking.public_search import Availability
from rdv_app.services.rdv.lifecycle import Booked, SlotTaken, prescribe_rdv, prescribe_seat
from rdv_app.services.usagers import usagers
from rdv_app.state.agent import AgentState
from rdv_app.state.loaded import NOT_LOADED
from rdv_app.state.notifications import deliver_after_commit
from rdv_app.state.organisation import OrganisationPageState
from rdv_app.state.typed_event import event

SLOT_GONE = "Ce créneau n'est plus disponible. Veuillez en sélectionner un autre."
USAGER_FIELDS = ("first_name", "last_name", "email", "phone_number", "birth_date")


@dataclass
class PlaceCard:
    motif_id: str
    lieu_id: str  # "" for a motif by phone, at home or by visio
    title: str
    detail: str
    next_slot: str


@dataclass
class TimeOption:
    starts_at: str  # ISO 8601, UTC
    label: str  # "09h30"
    description: str  # "lundi 7 décembre 2026 à 09h30"


@dataclass
class SessionOption:
    rdv_id: str
    name: str
    when: str  # "lundi 7 décembre 2026 à 14h00"
    seats: str  # "3 places restantes"


@dataclass
class DayOption:
    label: str
    closed: bool
    times: list[TimeOption] = field(default_factory=list)


@dataclass
class Line:
    label: str
    value: str


@dataclass
class UsagerOption:
    id: str
    name: str
    detail: str


def _detail(*parts: str | None) -> str:
    return " · ".join(p for p in parts if p)


class PrescriptionState(OrganisationPageState, AgentState):
    step: rx.Field[str] = rx.field("creneau")
    busy: rx.Field[bool] = rx.field(False)
    error: rx.Field[str] = rx.field("")

    services: rx.Field[list[Option]] = rx.field(default_factory=list)
    service_id: rx.Field[str] = rx.field("")
    motifs: rx.Field[list[Option]] = rx.field(default_factory=list)
    motif_key: rx.Field[str] = rx.field("")
    places: rx.Field[list[PlaceCard]] = rx.field(default_factory=list)
    place: rx.Field[str] = rx.field("")  # the place chosen, in words
    motif_id: rx.Field[str] = rx.field("")
    lieu_id: rx.Field[str] = rx.field("")
    week_title: rx.Field[str] = rx.field("")
    days: rx.Field[list[DayOption]] = rx.field(default_factory=list)
    week_is_empty: rx.Field[bool] = rx.field(False)
    next_label: rx.Field[str] = rx.field("")
    has_previous: rx.Field[bool] = rx.field(False)
    has_next: rx.Field[bool] = rx.field(False)
    starts_at: rx.Field[str] = rx.field("")
    when: rx.Field[str] = rx.field("")
    collectif: rx.Field[bool] = rx.field(False)  # the motif chosen is booked by sessions
    sessions: rx.Field[list[SessionOption]] = rx.field(default_factory=list)
    session_id: rx.Field[str] = rx.field("")

    usager_id: rx.Field[str] = rx.field("")
    usager_name: rx.Field[str] = rx.field("")
    usager_from_link: rx.Field[bool] = rx.field(False)
    query: rx.Field[str] = rx.field("")
    searched: rx.Field[bool] = rx.field(False)
    own_usagers: rx.Field[list[UsagerOption]] = rx.field(default_factory=list)
    other_usagers: rx.Field[list[UsagerOption]] = rx.field(default_factory=list)
    creating: rx.Field[bool] = rx.field(False)
    field_errors: dict[str, str] = {}

    recap_lines: rx.Field[list[Line]] = rx.field(default_factory=list)
    # A motif of an ANTS category: the usager's pre-demande number, checked with ANTS on "Confirmer le RDV".
    ants_required: rx.Field[bool] = rx.field(False)
    ants_number: rx.Field[str] = rx.field("")
    ants_error: rx.Field[str] = rx.field("")
    ants_warning: rx.Field[str] = rx.field("")
    ants_warning_link: rx.Field[str] = rx.field("")
    ants_warning_confirmed: rx.Field[bool] = rx.field(False)
    confirmed_lines: rx.Field[list[Line]] = rx.field(default_factory=list)
    confirmed_instruction: rx.Field[str] = rx.field("")
    confirmed_contact: rx.Field[str] = rx.field("")

    _from_day: str = ""
    _next_day: str = ""
    _booking_key: str = ""

    def _who(self) -> tuple[int, int]:
        if self._agent_id is None or not self.current_org_id:
            raise DomainError("Votre session a expiré : reconnectez-vous.")
        return self._agent_id, int(self.current_org_id)

    def _for_usager(self) -> int | None:
        """The usager of the link, whose address the search uses in a sectorised territory."""
        return int(self.usager_id) if self.usager_from_link and self.usager_id.isdigit() else None

    def _before_load(self) -> None:
        self.step, self.error, self.busy = "creneau", "", False
        self.service_id = self.motif_key = self.motif_id = self.lieu_id = self.starts_at = self.session_id = ""
        self.motifs, self.places, self.days, self.sessions = [], [], [], []
        self.collectif = False
        self.usager_id = self.usager_name = ""
        self.usager_from_link = False
        self._reset_usager_search()

    async def _load(self, agent_id: int, organisation_id: int) -> None:
        raw = self.router.url.query_parameters.get("usager", "")
        if raw.isdigit():
            try:
                chosen = await within(UnitOfWork(read_only=True), lambda uow: prescription.chosen_usager(
                    uow, agent_id, organisation_id, int(raw)))
            except DomainError as exc:
                self.error = f"L'usager du lien n'a pas été repris : {exc.message}"
            else:
                self.usager_id, self.usager_name, self.usager_from_link = str(chosen.id), chosen.name, True
        for_usager = self._for_usager()
        found = await within(UnitOfWork(read_only=True),
                             lambda uow: prescription.services(uow, agent_id, organisation_id, usager_id=for_usager))
        self.services = [Option(str(s.id), s.name) for s in found]
        if len(self.services) == 1:
            await self._choose_service(self.services[0].value)

    # ----------------------------------------------------------------------- 1. the slot

    @event
    async def set_service(self, value: str):
        await self._choose_service(value)

    async def _choose_service(self, value: str) -> None:
        self.error = ""
        self.service_id, self.motif_key = value, ""
        self.motifs, self.places, self.days, self.sessions = [], [], [], []
        self.motif_id = self.lieu_id = self.session_id = ""
        self.collectif = False
        if not value.isdigit():
            return
        who, for_usager = self._who(), self._for_usager()
        try:
            found = await within(UnitOfWork(read_only=True),
                                 lambda uow: prescription.motifs(uow, *who, int(value), usager_id=for_usager))
        except DomainError as exc:
            self.error = exc.message
            return
        self.motifs = [Option(m.key, m.display_name) for m in found]

    @event
    async def set_motif(self, value: str):
        self.error = ""
        # Only a motif this page offered (the service checks it again).
        self.motif_key = value if value in {m.value for m in self.motifs} else ""
        self.places, self.days, self.sessions = [], [], []
        self.motif_id = self.lieu_id = self.session_id = ""
        self.collectif = False
        if not self.motif_key:
            return
        self.busy = True
        yield
        who, value, for_usager = self._who(), self.motif_key, self._for_usager()
        public_office = value.startswith("public_office:")
        try:
            if public_office:
                lieux = await within(UnitOfWork(read_only=True),
                                     lambda uow: prescription.lieux(uow, *who, value, usager_id=for_usager))
                self.places = [PlaceCard(str(c.motif_id), str(c.lieu_id), c.name,
                                         _detail(c.address, c.organisation_name), _next(c.next_availability))
                               for c in lieux]
            else:
                cards = await within(UnitOfWork(read_only=True),
                                     lambda uow: prescription.organisations(uow, *who, value,
                                                                            usager_id=for_usager))
                self.places = [PlaceCard(str(c.motif_id), "", c.name, c.phone_number or "",
                                         _next(c.next_availability)) for c in cards]
        except DomainError as exc:
            self.error = exc.message
        finally:
            self.busy = False

    @event
    async def choose_place(self, motif_id: str, lieu_id: str):
        card = next((c for c in self.places if c.motif_id == motif_id and c.lieu_id == lieu_id), None)
        if card is None:
            return
        self.motif_id, self.lieu_id, self.place = motif_id, lieu_id, _detail(card.title, card.detail)
        self._from_day, self.session_id = "", ""
        who = self._who()
        try:
            self.collectif = await within(UnitOfWork(read_only=True), lambda uow: prescription.is_collectif(
                uow, *who, int(motif_id)))
        except (DomainError, ValueError) as exc:
            self.error = exc.message if isinstance(exc, DomainError) else prescription.GONE
            return
        if self.collectif:
            await self._show_sessions()
        else:
            await self._show_week()

    async def _show_sessions(self) -> None:
        """A collective motif: its sessions at the lieu with a seat left, inside the booking delays."""
        if not self.motif_id.isdigit():
            return
        who = self._who()
        motif_id, lieu_id = int(self.motif_id), int(self.lieu_id) if self.lieu_id.isdigit() else None
        try:
            found = await within(UnitOfWork(read_only=True), lambda uow: prescription.open_sessions(
                uow, *who, motif_id, lieu_id))
        except DomainError as exc:
            self.error = exc.message
            return
        self.days = []
        self.sessions = [SessionOption(str(s.rdv_id), s.name, s.label, s.seats) for s in found]

    @event
    async def choose_session(self, rdv_id: str):
        chosen = next((s for s in self.sessions if s.rdv_id == rdv_id), None)
        if chosen is None:  # only a session this page offered
            return
        self.session_id, self.when, self.starts_at = chosen.rdv_id, chosen.when, ""
        self.error = ""
        if self.usager_id:
            await self._show_recap()
        else:
            self.step = "usager"

    @event
    async def shift_week(self, weeks: int):
        if self._from_day:
            self._from_day = (date.fromisoformat(self._from_day) + timedelta(weeks=weeks)).isoformat()
        await self._show_week()

    @event
    async def jump_to_next(self):
        if self._next_day:
            self._from_day = self._next_day
            await self._show_week()

    async def _show_week(self) -> None:
        if not self.motif_id.isdigit():
            return
        who = self._who()
        motif_id, lieu_id = int(self.motif_id), int(self.lieu_id) if self.lieu_id.isdigit() else None
        from_day = date.fromisoformat(self._from_day) if self._from_day else None
        self.error = ""
        try:
            week = await within(UnitOfWork(read_only=True), lambda uow: prescription.week(
                uow, *who, motif_id, lieu_id, from_day, usager_id=self._for_usager()))
        except DomainError as exc:
            self.error = exc.message
            return
        self._from_day = week.first_day.isoformat()
        self.week_title = f"Semaine du {datefmt.long_date(week.first_day)}"
        self.days = [DayOption(d.label, d.closed, [TimeOption(iso, label, f"{d.label} à {label}")
                                                   for iso, label in d.times]) for d in week.days]
        self.week_is_empty = week.is_empty
        self.has_previous, self.has_next = week.has_previous, week.has_next
        following = week.next_availability
        self._next_day = week.following_day.isoformat() if week.following_day else ""
        self.next_label = f"Prochaine disponibilité le {following.label}" if following else ""

    @event
    async def choose_time(self, starts_at: str):
        shown = {t.starts_at: t.description for d in self.days for t in d.times}
        if starts_at not in shown:  # only a time this page offered
            return
        self.starts_at, self.when, self.session_id = starts_at, shown[starts_at], ""
        self.error = ""
        if self.usager_id:
            await self._show_recap()
        else:
            self.step = "usager"

    # ----------------------------------------------------------------------- 2. the usager

    def _reset_usager_search(self) -> None:
        self.query, self.searched, self.creating = "", False, False
        self.own_usagers, self.other_usagers = [], []
        self.field_errors = {}

    @event
    async def search_usagers(self, value: str):
        self.query = value
        who = self._who()
        try:
            found = await within(UnitOfWork(read_only=True),
                                 lambda uow: prescription.search_usagers(uow, *who, value))
        except DomainError as exc:
            self.error = exc.message
            return
        self.searched = bool(value.strip())
        self.own_usagers = [UsagerOption(str(u.id), u.name, _detail(u.birth_date, u.phone_number, u.email))
                            for u in found.usagers]
        self.other_usagers = [UsagerOption(str(u.id), u.name, _detail(u.birth_date, u.phone_number, u.email))
                              for u in found.other_organisations]

    @event
    async def choose_usager(self, usager_id: str):
        if not usager_id.isdigit():
            return
        await self._take_usager(int(usager_id))

    async def _take_usager(self, usager_id: int) -> None:
        who = self._who()
        try:
            chosen = await within(UnitOfWork(read_only=True),
                                  lambda uow: prescription.chosen_usager(uow, *who, usager_id))
        except DomainError as exc:
            self.error = exc.message
            return
        self.usager_id, self.usager_name = str(chosen.id), chosen.name
        self._reset_usager_search()
        await self._show_recap()

    @event
    def open_new_usager(self):
        self.creating = True
        self.field_errors = {}

    @event
    def set_creating(self, opened: bool):
        self.creating = bool(opened)
        self.field_errors = {}

    @event
    async def create_usager(self, form: dict[str, str]):
        if self.busy:
            return
        if not self._is_loaded(form):
            self.error = NOT_LOADED
            return
        self.busy, self.field_errors = True, {}
        yield
        who = self._who()
        values = {name: str(form.get(name, "")).strip() for name in USAGER_FIELDS}
        try:
            birth = date.fromisoformat(values["birth_date"]) if values.get("birth_date") else None
        except ValueError:
            self.field_errors = {"birth_date": "La date de naissance est invalide."}
            self.busy = False
            return
        try:
            usager_id = await within(UnitOfWork(), lambda uow: usagers.create_usager(
                uow, *who, first_name=values.get("first_name", ""), last_name=values.get("last_name", ""),
                email=values.get("email") or None, phone_number=values.get("phone_number") or None,
                birth_date=birth))
        except DomainError as exc:
            if exc.field in USAGER_FIELDS:
                self.field_errors = {exc.field: exc.message}
            else:
                self.error = exc.message
            self.busy = False
            return
        self.busy = False
        await self._take_usager(usager_id)

    # ----------------------------------------------------------------------- 3. recap and booking

    async def _show_recap(self) -> None:
        who = self._who()

        def shown(uow: UnitOfWork) -> tuple[prescription.Recap, NumberNeed]:
            need = prescription.ants_number_need(uow, *who, int(self.motif_id), int(self.usager_id))
            if self.session_id:
                return prescription.session_recap(uow, *who, rdv_id=int(self.session_id),
                                                  usager_id=int(self.usager_id)), need
            return prescription.recap(
                uow, *who, motif_id=int(self.motif_id), lieu_id=int(self.lieu_id) if self.lieu_id else None,
                starts_at=datetime.fromisoformat(self.starts_at), usager_id=int(self.usager_id)), need

        try:
            recap, need = await within(UnitOfWork(read_only=True), shown)
        except (DomainError, ValueError) as exc:
            self.error = exc.message if isinstance(exc, DomainError) else SLOT_GONE
            self.step = "creneau"
            if self.session_id:
                self.session_id = ""
                await self._show_sessions()
            return
        self.recap_lines = [Line("Motif", recap.motif_name), Line("Organisation", recap.organisation_name),
                            Line("Lieu", recap.place), Line("Date du rendez-vous", recap.when),
                            Line("Usager", _detail(recap.usager_name, recap.usager_phone))]
        self.ants_required, self.ants_number = need.required, need.number
        self.ants_error = self.ants_warning = self.ants_warning_link = ""
        self.ants_warning_confirmed = False
        self._booking_key = secrets.token_urlsafe(16)
        self.step = "recap"

    @event
    def set_ants_number(self, value: str):
        self.ants_number, self.ants_error = value, ""
        self.ants_warning = self.ants_warning_link = ""
        self.ants_warning_confirmed = False

    @event
    def set_ants_warning_confirmed(self, value: bool):
        self.ants_warning_confirmed = bool(value)

    async def _ants_number_usable(self) -> bool:
        """ANTS's word on the number, as in the usagers' booking: a number ANTS refuses stops the booking;
        one already used for another RDV goes on once the agent confirms."""
        typed = self.ants_number
        verdict = await in_thread(lambda: ants_service.check_number(typed))
        self.ants_number, self.ants_error = verdict.number, verdict.error or ""
        if verdict.error:
            return False
        if verdict.warning and not (self.ants_warning_confirmed and self.ants_warning == verdict.warning):
            self.ants_warning, self.ants_warning_link = verdict.warning, verdict.warning_link or ""
            self.ants_warning_confirmed = False
            return False
        return True

    @event
    def change_usager(self):
        self.usager_id = self.usager_name = ""
        self.usager_from_link = False
        self._reset_usager_search()
        self.step = "usager"

    @event
    def change_slot(self):
        self.step = "creneau"

    @event
    async def confirm(self):
        if self.busy or self.step != "recap" or not self._booking_key:
            return
        if not self._is_loaded():
            self.error = NOT_LOADED
            return
        self.busy, self.error = True, ""
        yield
        if self.ants_required and not await self._ants_number_usable():
            self.busy = False
            return
        number = self.ants_number if self.ants_required else ""
        who, uow = self._who(), UnitOfWork()

        def book(uow: UnitOfWork) -> Booked:
            if self.session_id:
                return prescribe_seat(uow, *who, usager_id=int(self.usager_id), rdv_id=int(self.session_id),
                                      ants_pre_demande_number=number)
            return prescribe_rdv(
                uow, *who, usager_id=int(self.usager_id), motif_id=int(self.motif_id),
                starts_at=datetime.fromisoformat(self.starts_at),
                lieu_id=int(self.lieu_id) if self.lieu_id else None, booking_key=self._booking_key,
                by_address=self._for_usager() is not None, ants_pre_demande_number=number)

        try:
            booked = await within(uow, book)
        except SlotTaken as taken:
            self.busy, self.step = False, "creneau"
            if self.session_id:
                # The seat-specific reason: the session is full, cancelled or out of the booking delays.
                self.session_id = ""
                await self._show_sessions()
                self.error = taken.message
                return
            await self._show_week()
            self.error = SLOT_GONE
            return
        except DomainError as exc:
            self.busy = False
            if exc.field == "ants_pre_demande_number":
                self.ants_error = exc.message
            else:
                self.error = exc.message
            return
        yield deliver_after_commit(uow)
        usager_id = int(self.usager_id)
        done = await within(UnitOfWork(read_only=True),
                            lambda uow: prescription.prescribed_rdv(uow, *who, booked.rdv_id, usager_id))
        self.confirmed_lines = [Line("Date", done.when), Line("Lieu", done.place),
                                Line("Usager", _detail(done.usager_name, done.usager_phone)),
                                Line("Motif", done.motif_name)]
        self.confirmed_instruction = done.instruction or ""
        self.confirmed_contact = _detail(done.organisation_name, done.organisation_phone, done.organisation_email)
        self._booking_key = ""
        self.busy, self.step = False, "confirmation"


def _next(availability: Availability | None) -> str:
    return (f"Prochaine disponibilité le {availability.label}" if availability
            else "Aucune disponibilité pour l'instant")
