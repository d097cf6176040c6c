"""Public booking flow: every choice lives in the address, so reload, back and sharing keep it.

The page is one route per entry point (`/prendre_rdv`, `/org/<id>`, `/org/<id>/<slug>`); `load` reads the
query and works out the step (`BookingPage`, on a worker thread): place → service → motif → lieu (or
organisation) → slot → identification → informations → who the RDV is for → recap → confirmation. Choosing
is following a link to the same page with one more parameter. Rules live in the services (public_search,
usager_auth, booking).
"""

from __future__ import annotations

import asyncio
import copy
import dataclasses
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, fields
from datetime import date, datetime
from http.cookies import SimpleCookie
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import parse_qsl, urlencode, urlsplit

import reflex as rx
from reflex.event import EventSpec, IndividualEventType

from rdv_app import routes
from rdv_app.auth.franceconnect import FranceConnectClient, FranceConnectError, FranceConnectSettings
from rdv_app.auth.tokens import new_token
from rdv_app.blocking import in_thread, within
from rdv_app.components.forms import FieldErrorLink, field_error_links
from rdv_app.components.in_place import history_push
from rdv_app.config import settings
from rdv_app.db.uow import UnitOfWork
from rdv_app.domain import ants, clock, datefmt, sectorisation
from rdv_app.domain.sectorisation import SectorAddress
from rdv_app.services.errors import DomainError, FieldErrors
from rdv_app.services.integrations import addresses
from rdv_app.services.integrations import ants as ants_service
from rdv_app.services.online_booking import booking, public_prescripteur, public_search, sessions, week_paging
from rdv_app.services.online_booking.public_search import DaySlots, MotifChoice, PublicScope, PublicWeek
from rdv_app.services.organisation.public_links import organisation_id_from_path
from rdv_app.services.rdv import lifecycle
from rdv_app.services.usagers import usager_auth
from rdv_app.state.agent import full_navigation
from rdv_app.state.notifications import deliver_after_commit
from rdv_app.state.session_guard import (
    USAGER_SESSION_ENDED,
    note_revocation,
    recheck_due,
    revocations,
    saying_session_ended,
    says_session_ended,
)
from rdv_app.state.typed_event import event

logger = logging.getLogger(__name__)
SESSION_GONE = "Cet atelier est complet ou n'est plus ouvert à la réservation. Choisissez une autre date."

ADDRESS_DEBOUNCE_SECONDS = 0.3
ADDRESS_UNAVAILABLE = ("La recherche d'adresses ne répond pas pour l'instant. Réessayez dans quelques instants, "
                       "ou contactez directement le service concerné.")

# Query parameters, in the order of the steps; `documents` (the ANTS titles booked at once, from the hub's
# link) first, so that no change of choice drops it.
PARAMS = ("documents", "departement", "adresse", "commune", "rue", "service", "motif", "m", "lieu", "semaine", "creneau", "etape", "pour", "cle")
AFTER = {name: PARAMS[index + 1:] for index, name in enumerate(PARAMS)}


def session_token_from(cookie_header: str) -> str | None:
    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(cookie_header or "")
    except Exception:  # noqa: BLE001 - a malformed Cookie header means "no session"
        return None
    morsel = jar.get(routes.USAGER_SESSION_COOKIE)
    return morsel.value if morsel else None


@dataclass
class Choice:
    label: str
    href: str
    detail: str = ""
    extra: str = ""


@dataclass
class TimeButton:
    """A start of the week, as little as the browser needs: its time ("09h00") and its value in the address
    (`routes.slot_link_value`); its link is the week's `slot_base_href` followed by `value`."""

    label: str
    value: str


@dataclass
class DayView:
    """A day of the week; `label` as in a sentence ("lundi 7 décembre 2026"): the page capitalises it for the
    day's heading and names each start "<label> à <time>"."""

    label: str
    closed: bool
    times: list[TimeButton] = field(default_factory=list)


def day_views(days: Iterable[DaySlots]) -> list[DayView]:
    """The days of a week of slots, for the page (`slot_base_href` holds the rest of their links)."""
    return [DayView(d.label, d.closed, [TimeButton(label, routes.slot_link_value(iso)) for iso, label in d.times])
            for d in days]


# The fields of a week of slots, as `slot_week` shows them (`set_week`).
WEEK_FIELDS = ("week_title", "days", "slot_base_href", "week_is_empty", "next_label", "next_href",
               "previous_week_href", "next_week_href")


_WEEK_LINKS = {"previous": "previous_week_href", "next": "next_week_href", "following": "next_href"}


def clicked_week(page: object, which: str) -> str:
    """The link to another week that a click names (`which`: "previous", "next", "following"), as the page
    shows it (`set_week`); "" for any other name."""
    name = _WEEK_LINKS.get(which)
    return str(getattr(page, name)) if name else ""


def set_week(page: object, week: PublicWeek, *, week_href: Callable[[date], str], slot_base_href: str) -> None:
    """A week of slots on a page (its state, or what fills it): the fields `slot_week` shows, named alike on
    the booking page, « Changer la date » and the prescripteurs' search. `week_href` is the page's address
    for the week from a day; a slot's link is `slot_base_href` followed by the slot's value."""
    following = week.next_availability
    shown = {
        "week_title": f"Semaine du {datefmt.long_date(week.first_day)}",
        "days": day_views(week.days),
        "slot_base_href": slot_base_href,
        "week_is_empty": week.is_empty,
        "next_label": f"Prochaine disponibilité le {following.label}" if following else "",
        "next_href": week_href(week.following_day) if week.following_day else "",
        "previous_week_href": week_href(week.previous_first_day) if week.previous_first_day else "",
        "next_week_href": week_href(week.next_first_day) if week.next_first_day else "",
    }
    for name in WEEK_FIELDS:
        setattr(page, name, shown[name])


@dataclass
class Recap:
    label: str
    value: str


def booking_address(base: str, params: dict[str, str], **changes: str | int | None) -> str:
    """`base` with the query `params`, these ones changed; a changed choice drops the later ones."""
    params = dict(params)
    for name, value in changes.items():
        if name in AFTER and str(params.get(name, "")) != str(value or ""):
            for later in AFTER[name]:
                if later not in changes:
                    params.pop(later, None)
        if value in (None, ""):
            params.pop(name, None)
        else:
            params[name] = str(value)
    query = urlencode(shown_params(params))
    return f"{base}?{query}" if query else base


def shown_params(params: dict[str, str]) -> dict[str, str]:
    """The parameters an address of the page carries, in the order of the steps."""
    return {k: params[k] for k in PARAMS if params.get(k)}


async def resolve_usager(token: str | None) -> int | None:
    """The usager of a session token (the HttpOnly cookie), or None."""
    if not token:
        return None
    # A write: resolving the session may note its last activity.
    return await within(UnitOfWork(), lambda uow: usager_auth.resolve_session(uow, token))


class UsagerSessionChecked:
    """A usager page whose tab was signed in re-checks the session on every event (at most every 30
    seconds, `rdv_app.state.session_guard`). Once it ended (signed out elsewhere, 30 days after the sign-in),
    the event is refused and the page loads again without it: it then offers to sign in, and says why
    (`USAGER_SESSION_ENDED`). A tab that
    was never signed in has nothing to check: its handlers ask to sign in themselves."""

    if TYPE_CHECKING:
        _usager_id: int | None
        _session_checked_at: float
        _revocations_seen: int

        def _cookie_header(self) -> str: ...
        def _page_without_session(self) -> str: ...

    def _resolves_session(self, handler_name: str) -> bool:
        return handler_name == "load"

    async def _session_still_valid(self) -> bool:
        if self._usager_id is None or not recheck_due(self._session_checked_at, self._revocations_seen):
            return True
        if await resolve_usager(session_token_from(self._cookie_header())) != self._usager_id:
            return False
        self._session_checked_at, self._revocations_seen = clock.timestamp(), revocations()
        return True

    def _session_refused(self) -> list[EventSpec]:
        self._usager_id = None
        self._session_checked_at = 0.0
        return [rx.redirect(saying_session_ended(self._page_without_session()), replace=True)]


class AddressedPage(Protocol):
    """A public search page that may ask an address (the usagers' booking, the prescripteurs')."""

    params: dict[str, str]
    step: str
    change_href: str
    notice: str
    summary: list[Recap]
    sector: SectorAddress | None
    address_label: str
    address_href: str
    contacts: list[Choice]

    def url(self, **changes: str | int | None) -> str: ...


def sectorised_scope(page: AddressedPage, uow: UnitOfWork, scope: PublicScope, *, label: str,
                     offers: Callable[[UnitOfWork, PublicScope], object], not_covered: str) -> PublicScope:
    """The scope at the address of the page (`adresse`, `commune`, `rue`), in a sectorised territory. Without
    an address, only the motifs open to the whole département are offered, with a link to give it (the
    address step `etape=adresse`); an address no sector covers leaves those too (`not_covered` says so when
    `offers` finds some), or the organisations to contact when there are none ("hors-secteur")."""
    sector = sectorisation.address_of(page.params.get("commune", ""), page.params.get("rue", ""))
    page.address_href = page.url(adresse="", commune="", rue="", etape="adresse")
    if sector is None:
        if page.params.get("etape") == "adresse":
            page.step = "adresse"
            page.change_href = page.url(etape="")
        page.sector = sectorisation.UNKNOWN_ADDRESS
        return dataclasses.replace(scope, sector=page.sector)
    page.sector = sector
    scope = dataclasses.replace(scope, sector=sector)
    page.address_label = page.params.get("adresse") or sector.city_code
    page.summary.append(Recap(label, page.address_label))
    if public_search.address_covered(uow, scope):
        return scope
    if offers(uow, scope):
        page.notice = not_covered
        return scope
    page.step = "hors-secteur"
    page.change_href = page.address_href
    page.contacts = [Choice(o.name, "", o.phone_number or "", o.email or "")
                     for o in public_search.uncovered_contacts(uow, scope)]
    return scope


@dataclass
class BookingPage:
    """What the page shows for an address: plain values, worked out on a worker thread by `open` and then
    copied into the state (`PublicBookingState._show`), under the same names."""

    params: dict[str, str]
    base: str
    usager_id: int | None
    step: str = ""
    page_error: str = ""
    notice: str = ""  # e.g. the slot was taken meanwhile
    scope_title: str = ""
    organisation_scoped: bool = False
    place: str = ""
    place_error: str = ""
    choices: list[Choice] = field(default_factory=list)
    summary: list[Recap] = field(default_factory=list)
    change_href: str = ""  # back to the previous step
    week_title: str = ""
    days: list[DayView] = field(default_factory=list)
    slot_base_href: str = ""  # a slot's link is this followed by its value (TimeButton)
    week_is_empty: bool = False
    next_label: str = ""
    next_href: str = ""
    previous_week_href: str = ""
    next_week_href: str = ""
    signed_in: bool = False
    account_name: str = ""
    franceconnect_href: str = ""
    first_name: str = ""
    last_name: str = ""
    phone_number: str = ""
    address: str = ""
    names_certified: bool = False
    phone_required: bool = False
    address_required: bool = False
    relatives: list[Choice] = field(default_factory=list)
    restriction: str = ""
    instruction: str = ""
    organisation_name: str = ""
    organisation_phone: str = ""
    organisation_phone_href: str = ""
    organisation_email: str = ""
    calendar_href: str = ""
    ants_required: bool = False  # the motif is of an ANTS category: a pre-demande number is asked
    ants_number: str = ""
    motif_id: int | None = None
    lieu_id: int | None = None
    starts_at: datetime | None = None
    for_usager_id: int | None = None
    session_id: int | None = None  # a collective motif: the session whose seat is booked
    documents_number: int = 1  # ANTS titles booked at once (the hub's link): the slots last that many times longer
    prescripteur_href: str = ""  # "Je suis un prescripteur", where motifs are open to prescripteurs
    sector: SectorAddress | None = None  # the usager's address, in a sectorised territory
    address_label: str = ""  # as chosen among the suggestions
    address_href: str = ""  # to give or change the address, in a sectorised territory
    contacts: list[Choice] = field(default_factory=list)  # organisations to call when no sector covers it
    # For a change of week (`PublicBookingState._walked`), not shown: the notice of the steps before the week
    # (an address no sector covers).
    walk_notice: str = ""

    def url(self, **changes: str | int | None) -> str:
        return booking_address(self.base, self.params, **changes)

    def open(self, uow: UnitOfWork, path: str) -> None:
        if path.startswith(routes.PUBLIC_CONFIRMATION):
            self.base = routes.PUBLIC_CONFIRMATION
            self.confirmation(uow)
        else:
            self.walk(uow, path)

    def walk(self, uow: UnitOfWork, path: str) -> None:
        params = self.params
        organisation_id = organisation_id_from_path(path)
        if organisation_id is not None:
            info = public_search.organisation_info(uow, organisation_id)
            self.base = path
            scope = PublicScope(info.territory_id, info.id)
            self.scope_title = info.name
            self.organisation_scoped = True
            if public_search.asks_address(uow, scope):  # motifs by sector are booked from the search by address
                self.sector = sectorisation.UNKNOWN_ADDRESS
                scope = PublicScope(info.territory_id, info.id, sector=self.sector)
        else:
            self.base = routes.PUBLIC_BOOKING
            self.organisation_scoped = False
            self.place = params.get("departement", "")
            if not self.place:
                self.step = "place"
                return
            try:
                found = public_search.find_place(uow, self.place)
            except DomainError as exc:
                self.step, self.place_error = "place", exc.message
                return
            scope = PublicScope(found.territory_id)
            self.scope_title = f"{found.name} ({found.departement_number})"
            if public_search.asks_address(uow, scope):
                scope = self._address(uow, scope)
                if self.step:
                    return
        if public_prescripteur.motifs(uow, scope):
            where: dict[str, str] = ({"org": str(scope.organisation_id)} if scope.organisation_id
                                     else {"departement": self.place})
            if self.address_label:  # the address given here is the bénéficiaire's
                where |= {k: self.params.get(k, "") for k in ("adresse", "commune", "rue")}
            self.prescripteur_href = routes.PUBLIC_PRESCRIPTEUR + "?" + urlencode(
                {k: v for k, v in where.items() if v})

        choice = self._motif_choice(uow, scope)
        if choice is None:
            return
        self.summary.append(Recap("Motif", choice.display_name))
        if not self._place_of(uow, choice):
            return
        if not self._slot(uow):
            return
        self._after_slot(uow)

    def _address(self, uow: UnitOfWork, scope: PublicScope) -> PublicScope:
        """In a sectorised territory, the usager's address (`adresse`, `commune`, `rue`: a Base Adresse
        Nationale suggestion chosen, on the first step or on the address step `etape=adresse`)."""
        return sectorised_scope(self, uow, scope, label="Adresse", offers=public_search.services,
                                not_covered=f"{public_search.ADDRESS_NOT_COVERED} : seuls les rendez-vous ouverts "
                                            "à tout le département vous sont proposés.")

    def _motif_choice(self, uow: UnitOfWork, scope: PublicScope) -> MotifChoice | None:
        params = self.params
        if params.get("motif", "").isdigit():  # a deep link to one organisation's motif
            try:
                key, motif_id = public_search.motif_key_of(uow, scope, int(params["motif"]))
            except DomainError as exc:
                self.notice = exc.message
            else:
                params["motif"] = key
                params.setdefault("m", str(motif_id))
        if params.get("motif"):
            try:
                return public_search.motif_choice(uow, scope, params["motif"])
            except DomainError as exc:
                self.notice = exc.message
        services = public_search.services(uow, scope)
        if not services:
            self.step = "error"
            self.page_error = ("Aucun rendez-vous n'est proposé en ligne ici pour le moment. Contactez directement "
                               "le service concerné.")
            return None
        service_id = _int(params.get("service"))
        if service_id not in {s.id for s in services}:
            if len(services) > 1:
                self.step = "service"
                self.choices = [Choice(s.name, self.url(service=s.id)) for s in services]
                return None
            service_id = services[0].id
            self.params["service"] = str(service_id)
        self.step = "motif"
        self.change_href = self.url(service="") if len(services) > 1 else ""
        self.choices = [Choice(c.name, self.url(motif=c.key), c.location_label)
                        for c in public_search.motifs(uow, scope, service_id)]
        return None

    def _place_of(self, uow: UnitOfWork, choice: MotifChoice) -> bool:
        """The organisation's motif and lieu chosen; False while the usager still has to choose."""
        motif_id, lieu_id = _int(self.params.get("m")), _int(self.params.get("lieu"))
        if motif_id in choice.motif_ids and (lieu_id is not None or not choice.needs_lieu):
            self.motif_id = motif_id
            if choice.needs_lieu and lieu_id is not None:  # needs_lieu: the lieu is known here
                name, address = public_search.lieu_card(uow, motif_id, lieu_id)
                self.lieu_id = lieu_id
                self.summary.append(Recap("Lieu", f"{name}, {address}"))
            else:
                self.summary.append(Recap("Organisation", public_search.motif_details(uow, motif_id).organisation.name))
            return True
        self.change_href = self.url(motif="")
        if choice.needs_lieu:
            cards = public_search.lieux(uow, choice, sector=self.sector)
            if lieu_id is not None:  # a deep link fixing the lieu
                fixed = [c for c in cards if c.lieu_id == lieu_id]
                if fixed:
                    self.params["m"] = str(fixed[0].motif_id)
                    return self._place_of(uow, choice)
            self.step = "lieu"
            self.choices = [Choice(c.name, self.url(m=c.motif_id, lieu=c.lieu_id), c.address,
                                   _next_label(c.next_availability)) for c in cards]
        else:
            organisations = public_search.organisations(uow, choice, sector=self.sector)
            if len(organisations) == 1 and self.organisation_scoped:
                self.params["m"] = str(organisations[0].motif_id)
                return self._place_of(uow, choice)
            self.step = "organisation"
            self.choices = [Choice(o.name, self.url(m=o.motif_id), o.phone_number or "",
                                   _next_label(o.next_availability)) for o in organisations]
        return False

    def _slot(self, uow: UnitOfWork) -> bool:
        assert self.motif_id is not None
        details = public_search.motif_details(uow, self.motif_id, ants.documents_in_link(self.params.get("documents")))
        if details.collectif:
            return self._session(uow, details)
        self.documents_number = details.documents_number
        if details.documents_number > 1:
            self.summary.append(Recap("Demandes de titres", f"{details.documents_number} (rendez-vous de "
                                                             f"{details.duration_in_min} minutes)"))
        starts_at = _instant(self.params.get("creneau"))
        if starts_at is not None and public_search.slot_offered(uow, self.motif_id, self.lieu_id, starts_at,
                                                                sector=self.sector,
                                                                documents_number=self.documents_number):
            self.starts_at = starts_at
            self.summary.append(Recap("Date", datefmt.long_datetime(starts_at, details.timezone)))
            return True
        self.walk_notice = self.notice
        if self.params.get("creneau"):  # an address edited or kept too long: back to the week
            self.notice = public_search.SLOT_NOT_OFFERED
            for name in ("creneau", *AFTER["creneau"]):
                self.params.pop(name, None)
        self.step = "creneau"
        self.change_href = self.url(m="")
        self.show_week(uow)
        return False

    def show_week(self, uow: UnitOfWork) -> None:
        """The week of `semaine` at step `creneau`, for the motif, lieu, sector and documents found before it:
        the end of a whole walk, and all that a change of week works out again (`PublicBookingState.load`)."""
        assert self.motif_id is not None
        if self.params.get("indisponible"):
            self.notice = lifecycle.SLOT_TAKEN
        week = public_search.week(uow, self.motif_id, self.lieu_id, _day(self.params.get("semaine")),
                                  sector=self.sector, documents_number=self.documents_number)
        # The address for a slot (`url(creneau=…)`) with its value left out: `creneau` drops the later choices.
        slot_base = routes.slot_links_base(self.url(**{name: "" for name in ("creneau", *AFTER["creneau"])}))
        set_week(self, week, week_href=lambda day: self.url(semaine=day.isoformat()), slot_base_href=slot_base)

    def _session(self, uow: UnitOfWork, details: public_search.MotifDetails) -> bool:
        """A collective motif: the usager chooses a session ("atelier"); `creneau` then holds its id."""
        assert self.motif_id is not None
        rdv_id = _int(self.params.get("creneau"))
        chosen = sessions.open_session(uow, self.motif_id, rdv_id, sector=self.sector) if rdv_id is not None else None
        if chosen is not None:
            self.session_id, self.starts_at = chosen.rdv_id, chosen.starts_at
            self.summary.append(Recap("Atelier", chosen.name))
            self.summary.append(Recap("Date", chosen.label))
            return True
        if self.params.get("creneau") or self.params.get("indisponible"):
            self.notice = SESSION_GONE
            for name in ("creneau", *AFTER["creneau"]):
                self.params.pop(name, None)
        self.step = "session"
        self.change_href = self.url(m="")
        self.choices = [Choice(s.name, self.url(creneau=s.rdv_id), s.label, s.seats)
                        for s in sessions.open_sessions(uow, self.motif_id, self.lieu_id, sector=self.sector)]
        return False

    def _after_slot(self, uow: UnitOfWork) -> None:
        assert self.motif_id is not None
        details = public_search.motif_details(uow, self.motif_id)
        self.change_href = self.url(creneau="")
        if self.usager_id is None:
            self.step = "identification"
            comeback = self.url(etape="informations")
            fc = FranceConnectSettings.from_env()
            self.franceconnect_href = (settings.api_path(routes.FRANCECONNECT_START) + "?"
                                       + urlencode({"suivant": comeback})) if fc else ""
            return
        account = usager_auth.account(uow, self.usager_id)
        self.signed_in, self.account_name = True, account.name
        self.names_certified = account.franceconnect
        self.phone_required = details.location_type == "phone"
        self.address_required = details.location_type == "home"
        step = self.params.get("etape", "informations")
        if step not in ("informations", "pour", "recap"):
            step = "informations"
        if step == "informations":
            self.step = "informations"
            self.first_name, self.last_name = account.first_name, account.last_name
            self.phone_number, self.address = account.phone_number or "", account.address or ""
            return
        self.change_href = self.url(etape="informations")
        self.relatives = [Choice(f"{account.name} (moi)", self.url(pour=account.id, etape="recap", cle=new_token(16)))]
        self.relatives += [Choice(r.name, self.url(pour=r.id, etape="recap", cle=new_token(16)))
                           for r in account.relatives]
        for_id = _int(self.params.get("pour"))
        known = {account.id: account.name, **{r.id: r.name for r in account.relatives}}
        if step == "pour" or for_id not in known or not self.params.get("cle"):
            self.step = "pour"
            return
        self.for_usager_id = for_id
        assert self.motif_id is not None
        need = ants_service.booking_number(uow, self.usager_id, for_id, self.motif_id)
        self.ants_required, self.ants_number = need.required, need.number
        self.step = "recap"
        self.change_href = self.url(etape="pour")
        self.summary.insert(0, Recap("Pour", known[for_id]))
        self.summary.insert(1, Recap("Service", details.service_name))
        self.restriction = details.restriction or ""

    def confirmation(self, uow: UnitOfWork) -> None:
        rdv_id = _int(self.params.get("rdv"))
        if self.usager_id is None or rdv_id is None:
            raise DomainError("Connectez-vous pour voir ce rendez-vous.")
        shown = booking.booked_rdv(uow, self.usager_id, rdv_id)
        self.step = "confirmation"
        if self.params.get("deja"):
            self.notice = lifecycle.ALREADY_REGISTERED
        self.summary = [Recap("Date", shown.when), Recap("Motif", shown.motif_name), Recap("Lieu", shown.place),
                        Recap("Pour", shown.participant)]
        self.instruction = shown.instruction or ""
        self.organisation_name = shown.organisation_name
        self.organisation_phone = shown.organisation_phone or ""
        self.organisation_phone_href = shown.organisation_phone_href or ""
        self.organisation_email = shown.organisation_email or ""
        self.calendar_href = settings.api_path(routes.usager_rdv_ics(rdv_id))


# Each step's name in the page's title.
STEP_TITLES = {
    "place": "Indiquer votre adresse", "service": "Choisir un service", "motif": "Choisir un motif",
    "lieu": "Choisir un lieu", "organisation": "Choisir un service près de chez vous",
    "creneau": "Choisir un créneau", "identification": "Vous identifier", "informations": "Vos informations",
    "pour": "Choisir pour qui", "recap": "Vérifier votre rendez-vous", "confirmation": "Rendez-vous confirmé",
    "error": "Erreur", "adresse": "Indiquer votre adresse", "session": "Choisir une date d'atelier",
}


# What the state keeps of a `BookingPage` for the handlers, and not for the browser.
_KEPT = {"params": "_params", "base": "_base", "usager_id": "_usager_id", "motif_id": "_motif_id",
         "lieu_id": "_lieu_id", "starts_at": "_starts_at", "for_usager_id": "_for_usager_id", "sector": "_sector",
         "session_id": "_session_id", "documents_number": "_documents_number"}
# What the state never keeps of it (only the page a change of week reuses, `WalkedWeek`).
_NOT_SHOWN = frozenset({"walk_notice"})


@dataclass
class WalkedWeek:
    """A tab's last whole walk that reached step `creneau` (`PublicBookingState._walked`, never sent to the
    browser): a change of week within `week_paging.REUSE_SECONDS` of it shows the page it found with
    another week (`BookingPage.show_week`)."""

    path: str
    query: dict[str, str]  # the parameters of the page shown, as its own links carry them (`shown_params`)
    usager_id: int | None
    walked_at: float  # `clock.timestamp()` as the whole walk began; a change of week does not renew it
    page: BookingPage


class PublicBookingState(UsagerSessionChecked, rx.State):
    loading: rx.Field[bool] = rx.field(True)
    step: rx.Field[str] = rx.field("")
    page_error: rx.Field[str] = rx.field("")
    notice: rx.Field[str] = rx.field("")
    scope_title: rx.Field[str] = rx.field("")
    organisation_scoped: rx.Field[bool] = rx.field(False)

    place: rx.Field[str] = rx.field("")
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

    signed_in: rx.Field[bool] = rx.field(False)
    has_session: rx.Field[bool] = rx.field(False)  # any step: links to "Mes rendez-vous"
    account_name: rx.Field[str] = rx.field("")
    franceconnect_href: rx.Field[str] = rx.field("")
    link_sent: rx.Field[str] = rx.field("")
    form_error: rx.Field[str] = rx.field("")
    # Annotated as a plain dict: on the class, mypy reads `rx.Field[dict[...]]` as an ArrayVar without `.get`
    # (it wrongly matches Reflex's `Field[SEQUENCE_TYPE] | Field[SEQUENCE_TYPE | None]` overload first).
    field_errors: dict[str, str] = {}
    error_summary: rx.Field[list[FieldErrorLink]] = rx.field(default_factory=list)
    submitting: rx.Field[bool] = rx.field(False)

    first_name: rx.Field[str] = rx.field("")
    last_name: rx.Field[str] = rx.field("")
    phone_number: rx.Field[str] = rx.field("")
    address: rx.Field[str] = rx.field("")
    names_certified: rx.Field[bool] = rx.field(False)
    phone_required: rx.Field[bool] = rx.field(False)
    address_required: rx.Field[bool] = rx.field(False)
    relatives: rx.Field[list[Choice]] = rx.field(default_factory=list)

    restriction: rx.Field[str] = rx.field("")
    accepted: rx.Field[bool] = rx.field(False)
    instruction: rx.Field[str] = rx.field("")
    organisation_name: rx.Field[str] = rx.field("")
    organisation_phone: rx.Field[str] = rx.field("")
    organisation_phone_href: rx.Field[str] = rx.field("")
    organisation_email: rx.Field[str] = rx.field("")
    calendar_href: rx.Field[str] = rx.field("")

    # A random id of this browser: sign-up and sign-in links are limited per device before the IP's ceiling.
    device: str = rx.Cookie("", name=routes.USAGER_DEVICE_COOKIE, path="/", same_site="lax", max_age=60 * 60 * 24 * 365)
    prescripteur_href: rx.Field[str] = rx.field("")

    # The usager's address in a sectorised territory: Base Adresse Nationale suggestions as they type.
    address_suggestions: rx.Field[list[Choice]] = rx.field(default_factory=list)
    address_hint: rx.Field[str] = rx.field("")
    contacts: rx.Field[list[Choice]] = rx.field(default_factory=list)
    address_label: rx.Field[str] = rx.field("")
    address_href: rx.Field[str] = rx.field("")
    _sector: SectorAddress | None = None
    _address_asked: int = 0

    @rx.var
    def page_title(self) -> str:
        """The browser tab's title names the step (RGAA 8.6): "Choisir un créneau – Prendre rendez-vous – PMI
        Arras"; the place searched, or the product, last."""
        step = "" if self.loading else STEP_TITLES.get(self.step, "")
        return " – ".join(part for part in (step, "Prendre rendez-vous", self.scope_title or settings.product_name)
                          if part)

    # The pre-demande number of an ANTS motif, checked live with ANTS (integrations.md 1d).
    ants_required: rx.Field[bool] = rx.field(False)
    ants_number: rx.Field[str] = rx.field("")
    ants_checking: rx.Field[bool] = rx.field(False)
    ants_checked: rx.Field[str] = rx.field("")  # the number the messages below are about
    ants_error: rx.Field[str] = rx.field("")
    ants_warning: rx.Field[str] = rx.field("")
    ants_warning_link: rx.Field[str] = rx.field("")
    ants_warning_confirmed: rx.Field[bool] = rx.field(False)

    _params: dict[str, str] = {}
    _base: str = routes.PUBLIC_BOOKING
    _usager_id: int | None = None
    _motif_id: int | None = None
    _lieu_id: int | None = None
    _starts_at: datetime | None = None
    _for_usager_id: int | None = None
    _session_id: int | None = None
    _documents_number: int = 1
    _walked: WalkedWeek | None = None
    _session_checked_at: float = 0.0
    _revocations_seen: int = 0

    def _cookie_header(self) -> str:
        return self.router.headers.cookie

    def _page_without_session(self) -> str:
        """Back to the identification step, every choice before it kept."""
        return self._url(etape="")

    def _url(self, **changes: str | int | None) -> str:
        """The current address with these parameters changed; a changed choice drops the later ones."""
        return booking_address(self._base, self._params, **changes)

    # ----------------------------------------------------------------------- loading

    @event
    async def load(self):
        self.loading = True
        yield
        started = clock.timestamp()
        self.link_sent = self.form_error = ""
        self._field_errors({})
        self.submitting = self.accepted = False
        self._forget_ants_check()
        self.address_suggestions, self.address_hint = [], ""
        params = {k: v for k, v in self.router.url.query_parameters.items() if isinstance(v, str)}
        path = self.router.url.path or routes.PUBLIC_BOOKING
        usager_id = await resolve_usager(session_token_from(self.router.headers.cookie))
        if not self.device:
            self.device = new_token(16)
        page = await self._other_week(path, params, usager_id)
        week_only = page is not None
        if page is None:
            page = BookingPage(params=dict(params), base=routes.PUBLIC_BOOKING, usager_id=usager_id)
            try:
                await within(UnitOfWork(read_only=True), lambda uow: page.open(uow, path))
            except DomainError as exc:
                page.step, page.page_error = "error", exc.message
            walked = page.step == "creneau" and page.motif_id is not None
            self._walked = WalkedWeek(path, shown_params(page.params), usager_id, started,
                                      copy.deepcopy(page)) if walked else None
        self._show(page)
        self._session_checked_at, self._revocations_seen = clock.timestamp(), revocations()
        self.has_session = usager_id is not None
        logger.info("public booking page: step %s%s, signed in %s, loaded in %.2f s", page.step,
                    " (week only)" if week_only else "", usager_id is not None, clock.timestamp() - started)
        if usager_id is None and says_session_ended(params):
            self.form_error = USAGER_SESSION_ENDED
        self.loading = False

    async def _other_week(self, path: str, params: dict[str, str], usager_id: int | None) -> BookingPage | None:
        """The page of the last whole walk with the week of `params`, when the address changed by its week
        only (`week_paging`) for the same usager, soon enough after that walk; None to walk the whole page
        (also when the week can no longer be shown: the motif closed meanwhile)."""
        walked = self._walked
        if walked is None or walked.usager_id != usager_id \
                or not week_paging.only_week_changed(walked.path, walked.query, path, params) \
                or not week_paging.walk_still_fresh(walked.walked_at, clock.timestamp()):
            return None
        # `show_week` replaces the week's fields and changes no list in place: the walk's lists are shared.
        page = dataclasses.replace(walked.page, params=dict(params), notice=walked.page.walk_notice)
        try:
            await within(UnitOfWork(read_only=True), page.show_week)
        except DomainError:
            return None
        self._walked = dataclasses.replace(walked, query=params, page=page)
        return page

    @event
    async def change_week(self, which: str):
        """« Semaine précédente », « Semaine suivante » or « Prochaine disponibilité » clicked (`which`:
        "previous", "next", "following"; the links they are, read here, never sent by the browser): the week
        shown as a change of week is (`_other_week`) in this one event, its address pushed into the tab's
        history (back then loads the week before as any navigation). A page that cannot be paged so (walked
        over a minute ago, the motif closed meanwhile) is loaded at that address."""
        href = clicked_week(self, which)
        if self.step != "creneau" or not href:
            return None
        address = urlsplit(href)
        page = await self._other_week(address.path, dict(parse_qsl(address.query, keep_blank_values=True)),
                                      self._usager_id)
        if page is None:
            return rx.redirect(href)
        self._show(page)
        logger.info("public booking page: week changed in place")
        return history_push(href)

    def _show(self, page: BookingPage) -> None:
        """The page's fields; only those that changed are set, so that the browser receives only them (a
        change of week sends the week's days and links, not the whole page again)."""
        for name in (f.name for f in fields(page) if f.name not in _NOT_SHOWN):
            target, value = _KEPT.get(name, name), getattr(page, name)
            if target in _KEPT.values() or getattr(self, target) != value:
                setattr(self, target, value)

    # ----------------------------------------------------------------------- forms

    @event
    async def search_place(self, form: dict[str, str]):
        value = str(form.get("departement") or "").strip()
        try:
            found = await within(UnitOfWork(read_only=True), lambda uow: public_search.find_place(uow, value))
        except DomainError as exc:
            self.place_error = exc.message
            return None
        return rx.redirect(f"{routes.PUBLIC_BOOKING}?{urlencode({'departement': found.departement_number})}")

    @event
    def type_address(self, value: str):
        """Suggestions follow the typing, once it pauses (`suggest_addresses`)."""
        self._address_asked += 1
        return PublicBookingState.suggest_addresses(str(value or ""), self._address_asked)

    @event(background=True)
    async def suggest_addresses(self, query: str, asked: int):
        """In the background, so that typing is never queued behind the wait; only the latest typing's
        answer is shown."""
        await asyncio.sleep(ADDRESS_DEBOUNCE_SECONDS)
        async with self:
            if asked != self._address_asked:
                return  # typed again meanwhile
        found = await addresses.suggest_addresses(query)
        async with self:
            if asked != self._address_asked:
                return
            links = [(s.label, public_search.address_params(s)) for s in found or []]
            self.address_suggestions = [Choice(label, self._url(**params)) for label, params in links if params]
            if found is None:
                self.address_hint = ADDRESS_UNAVAILABLE
            elif not self.address_suggestions and addresses.worth_asking(query):
                self.address_hint = ("Aucune adresse ne correspond. Vérifiez l'orthographe ou saisissez le nom de "
                                     "la commune.")
            else:
                self.address_hint = ""

    @event
    async def create_account(self, form: dict[str, str]):
        return await self._send_link(form, create=True)

    @event
    async def send_sign_in_link(self, form: dict[str, str]):
        return await self._send_link(form, create=False)

    async def _send_link(self, form: dict[str, str], *, create: bool) -> IndividualEventType[()] | None:
        self.form_error, self.link_sent = "", ""
        self._field_errors({})
        comeback = self._url(etape="informations")
        ip = self.router.session.client_ip or "inconnue"
        text = {name: str(form.get(name) or "") for name in ("first_name", "last_name", "email", "sign_in_email")}
        phone_number = form.get("phone_number")
        device = self.device

        def send(uow: UnitOfWork) -> None:
            if create:
                usager_auth.request_account(uow, first_name=text["first_name"], last_name=text["last_name"],
                                            email=text["email"], phone_number=phone_number, next_path=comeback,
                                            ip=ip, device=device)
            else:
                usager_auth.request_sign_in_link(uow, email=text["sign_in_email"], next_path=comeback, ip=ip,
                                                 device=device)

        uow = UnitOfWork()
        try:
            await within(uow, send)
        except DomainError as exc:
            self._error(exc, prefix="" if create else "sign_in_")
            return None
        self.link_sent = usager_auth.LINK_SENT
        return deliver_after_commit(uow)

    @event
    async def save_informations(self, form: dict[str, str]):
        self.form_error = ""
        self._field_errors({})
        usager_id = self._usager_id
        if usager_id is None:
            return rx.redirect(self._url(etape=""))
        values: dict[str, Any] = dict(first_name=form.get("first_name", self.first_name), last_name=form.get("last_name", self.last_name),
                      phone_number=form.get("phone_number"), address=form.get("address"),
                      phone_required=self.phone_required, address_required=self.address_required)
        try:
            await within(UnitOfWork(), lambda uow: usager_auth.update_informations(uow, usager_id, **values))
        except DomainError as exc:
            self._error(exc)
            return None
        return rx.redirect(self._url(etape="pour"))

    @event
    async def add_relative(self, form: dict[str, str]):
        self.form_error = ""
        self._field_errors({})
        usager_id = self._usager_id
        if usager_id is None:
            return rx.redirect(self._url(etape=""))
        birth = form.get("relative_birth_date", "")
        try:
            birth_date = date.fromisoformat(birth) if birth else None
        except ValueError:
            self._field_errors({"relative_birth_date": "La date de naissance n'est pas valide."})
            return None
        names: dict[str, Any] = dict(first_name=form.get("relative_first_name", ""), last_name=form.get("relative_last_name", ""))
        try:
            relative_id = await within(UnitOfWork(), lambda uow: usager_auth.add_relative(
                uow, usager_id, **names, birth_date=birth_date))
        except DomainError as exc:
            self._error(exc)
            return None
        return rx.redirect(self._url(pour=relative_id, etape="recap", cle=new_token(16)))

    @event
    def set_accepted(self, value: bool):
        self.accepted = value

    def _forget_ants_check(self) -> None:
        self.ants_checked = self.ants_error = self.ants_warning = self.ants_warning_link = ""
        self.ants_checking = self.ants_warning_confirmed = False

    async def _check_ants(self, typed: str) -> bool:
        """ANTS's word on the number (format first): the messages under the field; True when it may be used."""
        self._forget_ants_check()
        self.ants_number = typed.strip().upper()
        if not self.ants_number:
            self.ants_error = f"Renseignez le {ants.FIELD_LABEL.lower()}."
            return False
        verdict = await in_thread(lambda: ants_service.check_number(typed))
        self.ants_number, self.ants_checked = verdict.number, verdict.number
        self.ants_error = verdict.error or ""
        self.ants_warning, self.ants_warning_link = verdict.warning or "", verdict.warning_link or ""
        return verdict.error is None

    @event
    async def check_ants_number(self, value: str):
        """Leaving the field: the number it shows is checked at once. The events of a page are handled one
        after the other, so a check asked while an earlier one runs follows it, and its verdict is shown
        last."""
        if value.strip().upper() == self.ants_checked:
            return
        self.ants_checking = True
        yield
        try:
            await self._check_ants(value)
        finally:
            self.ants_checking = False

    @event
    def set_ants_number(self, value: str):
        """Typing: the earlier verdict no longer applies."""
        if value.strip().upper() != self.ants_checked:
            self._forget_ants_check()
        self.ants_number = value

    @event
    def set_ants_warning_confirmed(self, value: bool):
        self.ants_warning_confirmed = value

    @event
    async def confirm(self):
        if self.submitting:
            return
        self.submitting, self.form_error = True, ""
        yield
        usager_id = self._usager_id
        if usager_id is None or self._motif_id is None or self._starts_at is None:
            self.submitting = False
            yield rx.redirect(self._url(etape=""))
            return
        for_usager_id = self._for_usager_id
        if self.ants_required:
            number = self.ants_number
            if (self.ants_checked != number.upper() or not number) and not await self._check_ants(number):
                self.submitting = False
                return
            if self.ants_error or (self.ants_warning and not self.ants_warning_confirmed):
                self.submitting = False
                return
            try:
                await within(UnitOfWork(), lambda uow: ants_service.save_booking_number(
                    uow, usager_id, for_usager_id or usager_id, number))
            except DomainError as exc:
                self.submitting = False
                self.ants_error = exc.message
                return
        choice = dict(motif_id=self._motif_id, starts_at=self._starts_at, lieu_id=self._lieu_id,
                      booking_key=self._params.get("cle", ""), for_usager_id=self._for_usager_id,
                      accepted_conditions=self.accepted, sector=self._sector,
                      documents_number=self._documents_number)
        uow = UnitOfWork()
        session_id = self._session_id
        try:
            if session_id is not None:
                booked = await within(uow, lambda uow: lifecycle.book_seat(
                    uow, usager_id, rdv_id=session_id, for_usager_id=for_usager_id,
                    accepted_conditions=self.accepted, sector=self._sector))
            else:
                booked = await within(uow, lambda uow: lifecycle.book_rdv(uow, usager_id, **choice))
        except lifecycle.SlotTaken:
            self.submitting = False
            yield rx.redirect(self._url(creneau="") + "&indisponible=1")
            return
        except DomainError as exc:
            self.submitting = False
            self.form_error = exc.message
            return
        yield deliver_after_commit(uow)
        shown = {"rdv": booked.rdv_id, **({"deja": 1} if session_id is not None and not booked.created else {})}
        yield rx.redirect(f"{routes.PUBLIC_CONFIRMATION}?{urlencode(shown)}")

    @event
    def add_to_calendar(self):
        """The .ics comes from a plain HTTP route: leave the single-page app's router to download it."""
        return full_navigation(self.calendar_href) if self.calendar_href else None

    @event
    def start_franceconnect(self):
        """FranceConnect starts on a plain HTTP route: leave the single-page app to reach it."""
        return full_navigation(self.franceconnect_href) if self.franceconnect_href else None

    @event
    async def sign_out(self):
        """Ends our session, then FranceConnect's when the usager came through it, then forgets the cookie."""
        token = session_token_from(self.router.headers.cookie)
        id_token = await within(UnitOfWork(), lambda uow: usager_auth.revoke_session(uow, token))
        note_revocation()
        self._usager_id = None
        self.signed_in = self.has_session = False
        clear_cookie = f"{settings.api_url or settings.public_url}{routes.USAGER_SIGN_OUT}"
        fc = FranceConnectSettings.from_env()
        if id_token and fc is not None:
            client = FranceConnectClient(fc, f"{settings.api_url or settings.public_url}{routes.FRANCECONNECT_CALLBACK}")
            try:
                return full_navigation(await client.logout_url(id_token, clear_cookie))
            except (FranceConnectError, OSError, ValueError):
                pass  # FranceConnect unreachable: our session is ended all the same
        return full_navigation(settings.api_path(routes.USAGER_SIGN_OUT))

    def _error(self, exc: DomainError, prefix: str = "") -> None:
        if isinstance(exc, FieldErrors):
            self._field_errors({f"{prefix}{name}": message for name, message in exc.errors.items()})
        elif exc.field:
            self._field_errors({f"{prefix}{exc.field}": exc.message})
        else:
            self.form_error = exc.message

    def _field_errors(self, errors: dict[str, str]) -> None:
        self.field_errors = errors
        self.error_summary = field_error_links(errors)

    @event
    def check_field(self, name: str, value: str):
        """A field the last submission refused, checked again as the person leaves it: its error goes
        once it is fixed (or changes to what is still wrong)."""
        if name not in self.field_errors:
            return
        required = (name == "phone_number" and self.phone_required) or (name == "address" and self.address_required)
        problem = usager_auth.field_problem(name, str(value or ""), required=required)
        if problem is None:
            return
        errors = dict(self.field_errors)
        if problem:
            errors[name] = problem
        else:
            errors.pop(name)
        self._field_errors(errors)


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
