"""'Je suis un prescripteur' on the public pages (domain.md section 6.4): a professional books, without an
account, for a bénéficiaire. Every rule lives in services.online_booking.public_prescripteur and
services.rdv.lifecycle.book_by_prescripteur; this state only shows the steps.

The search lives in the address, as the usagers' (`/prescripteur?departement=62` or `?org=<id>`, to which
a partner's link adds `structures`: the Rés'In network's, integrations.md section 2; then the motif, the
lieu or organisation, the week and the slot; for a collective motif, its open sessions, and `creneau` then
holds the session's id), so reload and back keep it. Then, in the tab
only (personal details never go into an address): "prescripteur" (vos coordonnées), "beneficiaire",
"recap" ("Confirmer le RDV") and "confirmation". The entries stay in the tab: after a lost race the
prescripteur picks another time and finds them filled in. A plain click on a link to another week shows that
week in place (`change_week`), as on the usagers' booking page.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field, fields
from datetime import date, datetime
from urllib.parse import parse_qsl, urlencode, urlsplit

import reflex as rx

from rdv_app import routes
from rdv_app.auth.tokens import new_token
from rdv_app.blocking import in_thread, within
from rdv_app.components.in_place import history_push
from rdv_app.db.uow import UnitOfWork
from rdv_app.domain import clock
from rdv_app.domain.sectorisation import SectorAddress
from rdv_app.services.errors import DomainError
from rdv_app.services.integrations import addresses
from rdv_app.services.integrations import ants as ants_service
from rdv_app.services.online_booking import public_prescripteur, public_search, week_paging
from rdv_app.services.online_booking.public_prescripteur import BeneficiaireEntry, PrescripteurEntry
from rdv_app.services.online_booking.public_search import MotifChoice, PublicScope
from rdv_app.services.rdv import lifecycle
from rdv_app.state.notifications import deliver_after_commit
from rdv_app.state.public_booking import (
    ADDRESS_DEBOUNCE_SECONDS,
    ADDRESS_UNAVAILABLE,
    WEEK_FIELDS,
    Choice,
    DayView,
    Recap,
    clicked_week,
    sectorised_scope,
    set_week,
)
from rdv_app.state.typed_event import event

# Query parameters, in the order of the steps: a changed choice drops the later ones.
PARAMS = ("departement", "org", "structures", "adresse", "commune", "rue", "motif", "m", "lieu", "semaine",
          "creneau")
BENEFICIAIRE_NOT_COVERED = "L'adresse du bénéficiaire n'est couverte par aucun secteur"
NOTHING_OPEN = ("Aucun rendez-vous n'est ouvert aux prescripteurs ici pour le moment. Contactez directement le "
                "service concerné.")


def prescripteur_address(params: dict[str, str], **changes: str | int | None) -> str:
    """`/prescripteur` with the query `params`, these ones changed; a changed choice drops the later ones."""
    params = dict(params)
    for name, value in changes.items():
        if name in PARAMS and str(params.get(name, "")) != str(value or ""):
            for later in PARAMS[PARAMS.index(name) + 1:]:
                if later not in changes:
                    params.pop(later, None)
        if value in (None, ""):
            params.pop(name, None)
        else:
            params[name] = str(value)
    query = urlencode({k: params[k] for k in (*PARAMS, "etape", "indisponible") if params.get(k)})
    return f"{routes.PUBLIC_PRESCRIPTEUR}?{query}" if query else routes.PUBLIC_PRESCRIPTEUR


@dataclass
class PrescripteurSearch:
    """What the page shows for an address, worked out on a worker thread, then copied into the state."""

    params: dict[str, str]
    step: str = ""
    page_error: str = ""
    notice: str = ""
    scope_title: str = ""
    place_error: str = ""
    choices: list[Choice] = field(default_factory=list)
    summary: list[Recap] = field(default_factory=list)
    change_href: str = ""
    week_title: str = ""
    days: list[DayView] = field(default_factory=list)
    slot_base_href: str = ""  # a slot's link is this followed by its value (TimeButton)
    week_is_empty: bool = False
    next_label: str = ""
    next_href: str = ""
    previous_week_href: str = ""
    next_week_href: str = ""
    motif_id: int | None = None
    lieu_id: int | None = None
    starts_at: datetime | None = None
    sector: SectorAddress | None = None  # the bénéficiaire's address, in a sectorised territory
    address_label: str = ""
    address_href: str = ""  # to give or change the bénéficiaire's address, in a sectorised territory
    contacts: list[Choice] = field(default_factory=list)  # organisations to call when no sector covers it
    session_id: int | None = None  # a collective motif: the session whose seat is booked

    def url(self, **changes: str | int | None) -> str:
        return prescripteur_address({k: v for k, v in self.params.items() if k != "indisponible"}, **changes)

    def walk(self, uow: UnitOfWork) -> None:
        params = self.params
        organisation_id = _int(params.get("org"))
        if organisation_id is not None:
            info = public_search.organisation_info(uow, organisation_id)
            scope = PublicScope(info.territory_id, info.id)
            self.scope_title = info.name
        else:
            place = params.get("departement", "")
            if not place:
                self.step = "place"
                return
            try:
                found = public_search.find_place(uow, place)
            except DomainError as exc:
                self.step, self.place_error = "place", exc.message
                return
            scope = PublicScope(found.territory_id)
            self.scope_title = f"{found.name} ({found.departement_number})"
            scope = self._structures(uow, scope)
            if self.step:
                return
        if public_search.asks_address(uow, scope):
            scope = self._address(uow, scope)
            if self.step:
                return
        choice = self._motif(uow, scope)
        if choice is None or not self._place(uow, choice, motif_fixed=scope.organisation_ids is not None):
            return
        self._slot(uow)

    def _structures(self, uow: UnitOfWork, scope: PublicScope) -> PublicScope:
        """A partner's link naming structures of the territory (`structures`: their external ids,
        comma-separated; the Rés'In network's `/resin/<ids>`): only their organisations are searched, and the
        motif the link names is the only one offered. A link naming none we know, or nothing that can be an
        id (too long, control characters), says so (`step` "error")."""
        external_ids = [part.strip() for part in self.params.get("structures", "").split(",") if part.strip()]
        if not external_ids:
            return scope
        try:
            scope, known = public_prescripteur.structures_scope(uow, scope, external_ids)
        except DomainError:
            self.step, self.page_error = "error", public_prescripteur.UNKNOWN_STRUCTURES
            return scope
        self.summary.append(Recap("Structures" if len(known) > 1 else "Structure", ", ".join(o.name for o in known)))
        return scope

    def _address(self, uow: UnitOfWork, scope: PublicScope) -> PublicScope:
        """In a sectorised territory, the bénéficiaire's address restricts the motifs, organisations and
        agents as the usager's does (`sectorised_scope`)."""
        return sectorised_scope(self, uow, scope, label="Adresse du bénéficiaire", offers=public_prescripteur.motifs,
                                not_covered=f"{BENEFICIAIRE_NOT_COVERED} : seuls les rendez-vous ouverts à tout le "
                                            "département sont proposés.")

    def _motif(self, uow: UnitOfWork, scope: PublicScope) -> MotifChoice | None:
        key = self.params.get("motif", "")
        structures = scope.organisation_ids  # a partner's link: the motif it names, or nothing
        if key:
            try:
                choice = public_prescripteur.motif_choice(uow, scope, key)
            except DomainError as exc:
                if structures is not None:
                    self.step = "error"
                    self.page_error = public_prescripteur.not_offered_by_structures(key, len(structures))
                    return None
                self.notice = exc.message
            else:
                self.summary.append(Recap("Motif", choice.display_name))
                return choice
        choices = public_prescripteur.motifs(uow, scope)
        if not choices:
            self.step, self.page_error = "error", NOTHING_OPEN
            return None
        self.step = "motif"
        self.change_href = "" if self.params.get("org") else self.url(departement="")
        self.choices = [Choice(c.display_name, self.url(motif=c.key), c.location_label) for c in choices]
        return None

    def _place(self, uow: UnitOfWork, choice: MotifChoice, *, motif_fixed: bool) -> bool:
        """The organisation's motif (and lieu) chosen among those offered; False while still to choose. The
        motif a partner's link names (`motif_fixed`) is not to be changed."""
        motif_id, lieu_id = _int(self.params.get("m")), _int(self.params.get("lieu"))
        self.change_href = "" if motif_fixed else self.url(motif="")
        if choice.needs_lieu:
            cards = public_search.lieux(uow, choice, sector=self.sector)
            chosen = [c for c in cards if (c.motif_id, c.lieu_id) == (motif_id, lieu_id)]
            if chosen:
                self.motif_id, self.lieu_id = motif_id, lieu_id
                self.summary.append(Recap("Lieu", f"{chosen[0].name}, {chosen[0].address}"))
                return True
            self.step = "lieu"
            self.choices = [Choice(c.name, self.url(m=c.motif_id, lieu=c.lieu_id), c.address,
                                   _next_label(c.next_availability)) for c in cards]
            return False
        organisations = public_search.organisations(uow, choice, sector=self.sector)
        offered = [o for o in organisations if o.motif_id == motif_id]
        if not offered and len(organisations) == 1 and self.params.get("org"):
            offered = organisations
        if offered:
            self.motif_id = offered[0].motif_id
            self.summary.append(Recap("Organisation", offered[0].name))
            return True
        self.step = "organisation"
        self.choices = [Choice(o.name, self.url(m=o.motif_id), o.phone_number or "",
                               _next_label(o.next_availability)) for o in organisations]
        return False

    def _slot(self, uow: UnitOfWork) -> None:
        assert self.motif_id is not None
        if public_prescripteur.is_collectif(uow, self.motif_id):
            self._session(uow)
            return
        starts_at = _instant(self.params.get("creneau"))
        if starts_at is not None:
            shown = public_prescripteur.recap(uow, self.motif_id, self.lieu_id, starts_at)
            self.starts_at = starts_at
            self.summary.append(Recap("Date", shown.when))
            self.step = "prescripteur"
            self.change_href = self.url(creneau="")
            return
        self.step = "creneau"
        self.change_href = self.url(m="", lieu="")
        if self.params.get("indisponible"):
            self.notice = lifecycle.SLOT_TAKEN
        self.show_week(uow)

    def show_week(self, uow: UnitOfWork) -> None:
        """The week of `semaine` for the motif, lieu and bénéficiaire's address found before it: the end of a
        whole walk, and all that a change of week works out again (`PublicPrescripteurState.change_week`)."""
        assert self.motif_id is not None
        week = public_prescripteur.week(uow, self.motif_id, self.lieu_id, _day(self.params.get("semaine")),
                                        sector=self.sector)
        # The address for a slot (`url(creneau=…)`) with its value left out; `etape` (the address step, over
        # once there is a week) would follow it.
        set_week(self, week, week_href=lambda day: self.url(semaine=day.isoformat()),
                 slot_base_href=routes.slot_links_base(self.url(creneau="", etape="")))

    def _session(self, uow: UnitOfWork) -> None:
        """A collective motif: the prescripteur chooses a session ("atelier") with a seat left."""
        assert self.motif_id is not None
        offered = public_prescripteur.open_sessions(uow, self.motif_id, self.lieu_id, sector=self.sector)
        rdv_id = _int(self.params.get("creneau"))
        chosen = next((s for s in offered if s.rdv_id == rdv_id), None)
        if chosen is not None:
            self.session_id, self.starts_at = chosen.rdv_id, chosen.starts_at
            self.summary += [Recap("Atelier", chosen.name), Recap("Date", chosen.label)]
            self.step = "prescripteur"
            self.change_href = self.url(creneau="")
            return
        if self.params.get("creneau") or self.params.get("indisponible"):
            self.notice = public_prescripteur.SESSION_GONE
        self.step = "session"
        self.change_href = self.url(m="", lieu="")
        self.choices = [Choice(s.name, self.url(creneau=s.rdv_id), s.label, s.seats) for s in offered]


# What the state keeps of a `PrescripteurSearch` for the handlers, and not for the browser.
_KEPT = {"params": "_params", "motif_id": "_motif_id", "lieu_id": "_lieu_id", "starts_at": "_starts_at",
         "sector": "_sector", "session_id": "_session_id"}
PRESCRIPTEUR_FIELDS = ("first_name", "last_name", "email", "phone_number")
BENEFICIAIRE_FIELDS = ("first_name", "last_name", "phone_number", "email", "address", "ants_pre_demande_number")


class PublicPrescripteurState(rx.State):
    loading: rx.Field[bool] = rx.field(True)
    step: rx.Field[str] = rx.field("")
    page_error: rx.Field[str] = rx.field("")
    notice: rx.Field[str] = rx.field("")
    scope_title: rx.Field[str] = rx.field("")
    place_error: rx.Field[str] = rx.field("")
    choices: rx.Field[list[Choice]] = rx.field(default_factory=list)
    summary: rx.Field[list[Recap]] = rx.field(default_factory=list)
    change_href: rx.Field[str] = rx.field("")
    week_title: rx.Field[str] = rx.field("")
    days: rx.Field[list[DayView]] = rx.field(default_factory=list)
    slot_base_href: rx.Field[str] = rx.field("")
    week_is_empty: rx.Field[bool] = rx.field(False)
    next_label: rx.Field[str] = rx.field("")
    next_href: rx.Field[str] = rx.field("")
    previous_week_href: rx.Field[str] = rx.field("")
    next_week_href: rx.Field[str] = rx.field("")
    address_label: rx.Field[str] = rx.field("")
    address_href: rx.Field[str] = rx.field("")
    contacts: rx.Field[list[Choice]] = rx.field(default_factory=list)
    # The bénéficiaire's address, in a sectorised territory: Base Adresse Nationale suggestions as typed.
    address_suggestions: rx.Field[list[Choice]] = rx.field(default_factory=list)
    address_hint: rx.Field[str] = rx.field("")

    # The forms, as the prescripteur typed them (their own entries: the tab may show them back). Plain dicts:
    # see PublicBookingState.field_errors.
    prescripteur: dict[str, str] = {}
    beneficiaire: dict[str, str] = {}
    phone_required: rx.Field[bool] = rx.field(False)
    address_required: rx.Field[bool] = rx.field(False)
    ants_required: rx.Field[bool] = rx.field(False)  # a motif of an ANTS category: the pre-demande number
    ants_warning: rx.Field[str] = rx.field("")  # ANTS knows the number for another RDV: confirm to go on
    ants_warning_link: rx.Field[str] = rx.field("")
    # Annotated as a plain dict: see PublicBookingState.field_errors.
    field_errors: dict[str, str] = {}
    form_error: rx.Field[str] = rx.field("")
    warning: rx.Field[str] = rx.field("")
    submitting: rx.Field[bool] = rx.field(False)
    recap: rx.Field[list[Recap]] = rx.field(default_factory=list)
    instruction: rx.Field[str] = rx.field("")
    organisation_contact: rx.Field[list[str]] = rx.field(default_factory=list)

    _params: dict[str, str] = {}
    _motif_id: int | None = None
    _lieu_id: int | None = None
    _starts_at: datetime | None = None
    _sector: SectorAddress | None = None
    _address_asked: int = 0
    _session_id: int | None = None
    _booking_key: str = ""
    _prescripteur_line: str = ""  # the récapitulatif's "Prescripteur", as the booking will save it
    _walked_at: float = 0.0  # `clock.timestamp()` as `load` began its whole walk; a change of week keeps it

    @event
    async def load(self):
        self.loading = True
        yield
        self._walked_at = clock.timestamp()
        self.form_error, self.warning, self.field_errors, self.submitting = "", "", {}, False
        self.address_suggestions, self.address_hint = [], ""
        params = {k: v for k, v in self.router.url.query_parameters.items() if isinstance(v, str)}
        page = PrescripteurSearch(params=params)
        try:
            await within(UnitOfWork(read_only=True), page.walk)
        except DomainError as exc:
            page.step, page.page_error = "error", exc.message
        for name in (f.name for f in fields(page)):
            setattr(self, _KEPT.get(name, name), getattr(page, name))
        if page.motif_id is not None and page.starts_at is not None:
            motif_id = page.motif_id
            needs = await within(UnitOfWork(read_only=True),
                                 lambda uow: public_prescripteur.requirements(uow, motif_id))
            self.phone_required, self.address_required, self.ants_required = needs.phone, needs.address, \
                needs.ants_number
        self.loading = False

    @event
    async def change_week(self, which: str):
        """« Semaine précédente », « Semaine suivante » or « Prochaine disponibilité » clicked (`which`:
        "previous", "next", "following"; the links they are, read here, never sent by the browser): only the
        week is read again, for the motif, lieu and bénéficiaire's address the whole walk found
        (`PrescripteurSearch.show_week`, which checks the motif and lieu are still open to prescripteurs),
        and its address pushed into the tab's history. That walk is trusted for `week_paging.REUSE_SECONDS`;
        after that, or for an address changed by more than its week, the address is loaded as a page."""
        href = clicked_week(self, which)
        if self.step != "creneau" or not href or self._motif_id is None:
            return None
        address = urlsplit(href)
        params = dict(parse_qsl(address.query, keep_blank_values=True))
        if not week_paging.only_week_changed(routes.PUBLIC_PRESCRIPTEUR, self._params, address.path, params) \
                or not week_paging.walk_still_fresh(self._walked_at, clock.timestamp()):
            return rx.redirect(href)
        page = PrescripteurSearch(params=params, motif_id=self._motif_id, lieu_id=self._lieu_id, sector=self._sector)
        try:
            await within(UnitOfWork(read_only=True), page.show_week)
        except DomainError:
            return rx.redirect(href)
        self._params = params
        for name in WEEK_FIELDS:
            setattr(self, name, getattr(page, name))
        return history_push(href)

    @event
    async def search_place(self, form: dict[str, str]):
        value = str(form.get("departement") or "").strip()
        try:
            found = await within(UnitOfWork(read_only=True), lambda uow: public_search.find_place(uow, value))
        except DomainError as exc:
            self.place_error = exc.message
            return None
        return rx.redirect(prescripteur_address({}, departement=found.departement_number))

    @event
    def type_address(self, value: str):
        """Suggestions follow the typing, once it pauses (`suggest_addresses`)."""
        self._address_asked += 1
        return PublicPrescripteurState.suggest_addresses(str(value or ""), self._address_asked)

    @event(background=True)
    async def suggest_addresses(self, query: str, asked: int):
        """In the background, so that typing is never queued behind the wait; only the latest typing's
        answer is shown. Each suggestion is a link that keeps the address in the page's address."""
        await asyncio.sleep(ADDRESS_DEBOUNCE_SECONDS)
        async with self:
            if asked != self._address_asked:
                return
        found = await addresses.suggest_addresses(query)
        async with self:
            if asked != self._address_asked:
                return
            kept = {k: v for k, v in self._params.items() if k != "indisponible"}
            links = []
            for suggestion in found or []:
                params = public_search.address_params(suggestion)
                if params is None:
                    continue
                if kept.get("org"):  # one organisation's link: its territory, whatever the address's
                    params.pop("departement", None)
                links.append(Choice(suggestion.label, prescripteur_address(kept, etape="", **params)))
            self.address_suggestions = links
            if found is None:
                self.address_hint = ADDRESS_UNAVAILABLE
            elif not links and addresses.worth_asking(query):
                self.address_hint = ("Aucune adresse ne correspond. Vérifiez l'orthographe ou saisissez le nom de "
                                     "la commune.")
            else:
                self.address_hint = ""

    @event
    def save_prescripteur(self, form: dict[str, str]):
        if self.loading or self._starts_at is None:
            return
        self.form_error, self.field_errors = "", {}
        self.prescripteur = {name: str(form.get(name) or "") for name in PRESCRIPTEUR_FIELDS}
        try:
            who = public_prescripteur.check_prescripteur(PrescripteurEntry(**self.prescripteur))
        except DomainError as exc:
            self._error(exc, "prescripteur_")
            return
        self._prescripteur_line = f"{who.first_name} {who.last_name} ({who.email})"
        self.step = "beneficiaire"

    @event
    async def save_beneficiaire(self, form: dict[str, str]):
        motif_id, starts_at = self._motif_id, self._starts_at
        if self.loading or motif_id is None or starts_at is None:
            return
        self.form_error, self.field_errors, self.warning = "", {}, ""
        self.beneficiaire = {name: str(form.get(name) or "") for name in BENEFICIAIRE_FIELDS}
        entry = BeneficiaireEntry(**self.beneficiaire)
        lieu_id, session_id, sector = self._lieu_id, self._session_id, self._sector

        def check(uow: UnitOfWork) -> tuple[public_prescripteur.CleanBeneficiaire,
                                            public_prescripteur.PrescripteurRecap]:
            person = public_prescripteur.check_beneficiaire(uow, motif_id, entry)
            if session_id is not None:
                return person, public_prescripteur.session_recap(uow, motif_id, session_id, sector=sector)
            return person, public_prescripteur.recap(uow, motif_id, lieu_id, starts_at)

        try:
            person, shown = await within(UnitOfWork(read_only=True), check)
        except DomainError as exc:
            self._error(exc, "beneficiaire_")
            return
        if person.ants_pre_demande_number is not None and not await self._ants_checked(
                person.ants_pre_demande_number, form.get("ants_warning_confirmed") in ("on", "true", True)):
            return
        self.warning = public_prescripteur.NO_PHONE_WARNING if person.phone_number is None else ""
        self.recap = [
            Recap("Motif", f"{shown.motif_name} ({shown.service_name})"),
            Recap("Lieu", shown.place), Recap("Organisation", shown.organisation_name), Recap("Date", shown.when),
            Recap("Bénéficiaire", " ".join(p for p in (person.first_name, person.last_name.upper(),
                                                       person.phone_number or "") if p)),
            *([Recap("Numéro de pré-demande ANTS", person.ants_pre_demande_number)]
              if person.ants_pre_demande_number else []),
            Recap("Prescripteur", self._prescripteur_line),
        ]
        self.instruction = shown.instruction or ""
        self.organisation_contact = list(shown.organisation_contact)
        self._booking_key = new_token(16)  # one per récapitulatif: a double click books once
        self.step = "recap"

    @event
    def edit(self, step: str):
        """"Modifier" on the récapitulatif: back to one of the two forms, as typed."""
        if step in ("prescripteur", "beneficiaire") and self._starts_at is not None and self.step == "recap":
            self.step = step

    @event
    async def confirm(self):
        if self.submitting or self.step != "recap":
            return
        self.submitting, self.form_error = True, ""
        yield
        motif_id, starts_at, lieu_id, key = self._motif_id, self._starts_at, self._lieu_id, self._booking_key
        sector, session_id = self._sector, self._session_id
        if motif_id is None or starts_at is None or not key:
            self.submitting = False
            return
        prescripteur = PrescripteurEntry(**self.prescripteur)
        beneficiaire = BeneficiaireEntry(**self.beneficiaire)
        ip = self.router.session.client_ip or "inconnue"
        uow = UnitOfWork()

        def book(uow: UnitOfWork) -> lifecycle.Booked:
            if session_id is not None:
                return lifecycle.book_seat_by_prescripteur(uow, rdv_id=session_id, prescripteur=prescripteur,
                                                           beneficiaire=beneficiaire, ip=ip, sector=sector)
            return lifecycle.book_by_prescripteur(
                uow, motif_id=motif_id, starts_at=starts_at, lieu_id=lieu_id, booking_key=key,
                prescripteur=prescripteur, beneficiaire=beneficiaire, ip=ip, sector=sector)

        try:
            await within(uow, book)
        except lifecycle.SlotTaken:
            self.submitting = False
            yield rx.redirect(prescripteur_address(self._params, creneau="", indisponible="1"))
            return
        except DomainError as exc:
            self.submitting = False
            self.form_error = exc.message
            return
        self.submitting = False
        self.step = "confirmation"
        self._starts_at = self._session_id = None
        yield deliver_after_commit(uow)

    async def _ants_checked(self, number: str, confirmed: bool) -> bool:
        """ANTS's word on the bénéficiaire's pre-demande number, as in the usagers' booking: a number ANTS
        refuses stops the form; one already used for another RDV goes on once the prescripteur confirms."""
        verdict = await in_thread(lambda: ants_service.check_number(number))
        shown_warning = self.ants_warning
        self.ants_warning = self.ants_warning_link = ""
        if verdict.error:
            self.field_errors = {"beneficiaire_ants_pre_demande_number": verdict.error}
            return False
        if verdict.warning and not (confirmed and shown_warning == verdict.warning):
            self.ants_warning, self.ants_warning_link = verdict.warning, verdict.warning_link or ""
            return False
        self.beneficiaire = {**self.beneficiaire, "ants_pre_demande_number": verdict.number}
        return True

    def _error(self, exc: DomainError, prefix: str) -> None:
        if exc.field:
            self.field_errors = {f"{prefix}{exc.field}": exc.message}
        else:
            self.form_error = exc.message


def _int(value: object) -> int | None:
    text = str(value or "")
    return int(text) if text.isdigit() else None


def _instant(value: str | None) -> datetime | None:
    try:
        moment = datetime.fromisoformat(value or "")
    except ValueError:
        return None
    return moment if moment.utcoffset() is not None else None


def _day(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value or "")
    except ValueError:
        return None


def _next_label(availability: public_search.Availability | None) -> str:
    return f"Prochaine disponibilité le {availability.label}" if availability else "Aucune disponibilité pour le moment"

