""""Changer la date" of an RDV from "Mes rendez-vous": the week of slots, then the confirmation.

The RDV (`?rdv=`, a participation id), the week (`?semaine=`) and the chosen slot (`?creneau=`) ride in the
address, as in online booking; the services (rdv_app.services.usager_rdvs) check every one of them for the
signed-in usager and decide what may be done. Confirming moves the RDV with the start read by the server
when the page loaded (`_from_starts_at`): a double click or a retry moves it once. A plain click on a link to
another week shows that week in place (`change_week`), as on the booking page.
"""

from __future__ import annotations

import logging
from datetime import date, datetime
from urllib.parse import parse_qsl, urlsplit

import reflex as rx

from rdv_app import routes
from rdv_app.blocking import within
from rdv_app.components.in_place import history_push
from rdv_app.db.uow import UnitOfWork
from rdv_app.domain import clock, datefmt
from rdv_app.services.errors import DomainError, NotFound
from rdv_app.services.online_booking import week_paging
from rdv_app.services.online_booking.public_search import SLOT_NOT_OFFERED, PublicWeek
from rdv_app.services.rdv.lifecycle import SlotTaken
from rdv_app.services.usagers import usager_rdvs
from rdv_app.state.notifications import deliver_after_commit
from rdv_app.state.public_booking import (
    DayView,
    UsagerSessionChecked,
    clicked_week,
    resolve_usager,
    session_token_from,
    set_week,
)
from rdv_app.state.session_guard import revocations
from rdv_app.state.typed_event import event

logger = logging.getLogger(__name__)


def _day(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value or "")
    except ValueError:
        return None


def _instant(value: str | None) -> datetime | None:
    try:
        found = datetime.fromisoformat(value or "")
    except ValueError:
        return None
    return found if found.tzinfo is not None else None


class UsagerRdvMoveState(UsagerSessionChecked, rx.State):
    loading: rx.Field[bool] = rx.field(True)
    signed_in: rx.Field[bool] = rx.field(False)
    step: rx.Field[str] = rx.field("")  # "creneau", "confirmation", "fait"; "" when nothing may be done
    page_error: rx.Field[str] = rx.field("")  # why the date cannot be changed, or the RDV is not found
    notice: rx.Field[str] = rx.field("")  # back to the week: the slot was taken or not offered

    title: rx.Field[str] = rx.field("")
    current_when: rx.Field[str] = rx.field("")
    place: rx.Field[str] = rx.field("")
    new_when: rx.Field[str] = rx.field("")
    week_href: rx.Field[str] = rx.field("")  # back from the confirmation to the week

    week_title: rx.Field[str] = rx.field("")
    days: rx.Field[list[DayView]] = rx.field(default_factory=list)
    slot_base_href: rx.Field[str] = rx.field("")
    week_is_empty: rx.Field[bool] = rx.field(False)
    next_label: rx.Field[str] = rx.field("")
    next_href: rx.Field[str] = rx.field("")
    previous_week_href: rx.Field[str] = rx.field("")
    next_week_href: rx.Field[str] = rx.field("")

    moving: rx.Field[bool] = rx.field(False)
    move_error: rx.Field[str] = rx.field("")

    _usager_id: int | None = None
    _session_checked_at: float = 0.0
    _revocations_seen: int = 0
    _participation_id: int = 0
    _starts_at: datetime | None = None
    _from_starts_at: datetime | None = None
    _time_zone: str = "Europe/Paris"
    _opened_at: float = 0.0  # `clock.timestamp()` as `load` read the RDV; a change of week does not renew it

    def _cookie_header(self) -> str:
        return self.router.headers.cookie

    def _page_without_session(self) -> str:
        return routes.USAGER_RDVS

    @event
    async def load(self):
        self.loading = True
        yield
        self.page_error = self.notice = self.move_error = self.new_when = ""
        self.step, self.moving = "", False
        self._opened_at = clock.timestamp()
        self._usager_id = await resolve_usager(session_token_from(self.router.headers.cookie))
        self._session_checked_at, self._revocations_seen = clock.timestamp(), revocations()
        self.signed_in = self._usager_id is not None
        if self.signed_in:
            await self._open(self.router.url.query_parameters)
        self.loading = False

    async def _open(self, params: dict[str, str]) -> None:
        usager_id = self._usager_id
        assert usager_id is not None
        try:
            participation_id = int(params.get("rdv", ""))
        except ValueError:
            self.page_error = usager_rdvs.NOT_FOUND
            return
        self._participation_id = participation_id
        starts_at, week_day = _instant(params.get("creneau")), _day(params.get("semaine"))
        try:
            choice = await within(UnitOfWork(read_only=True), lambda uow: usager_rdvs.move_choice(
                uow, usager_id, participation_id, starts_at))
        except DomainError as exc:
            self.page_error = exc.message
            return
        self.title, self.current_when, self.place = choice.title, choice.current_when, choice.place
        self._from_starts_at, self._starts_at, self._time_zone = choice.current_starts_at, starts_at, choice.time_zone
        self.week_href = routes.usager_rdv_move(participation_id, week=params.get("semaine", ""))
        if choice.new_when is not None:
            self.new_when, self.step = choice.new_when, "confirmation"
            return
        if starts_at is not None:  # an address edited or kept too long: back to the week
            self.notice = SLOT_NOT_OFFERED
        await self._show_week(week_day)

    async def _show_week(self, week_day: date | None) -> None:
        usager_id, participation_id = self._usager_id, self._participation_id
        assert usager_id is not None
        try:
            week = await within(UnitOfWork(read_only=True), lambda uow: usager_rdvs.move_week(
                uow, usager_id, participation_id, week_day))
        except DomainError as exc:
            self.page_error = exc.message
            return
        self._week(week)
        self.step = "creneau"

    @event
    async def change_week(self, which: str):
        """« Semaine précédente », « Semaine suivante » or « Prochaine disponibilité » clicked (`which`:
        "previous", "next", "following"; the links they are, read here, never sent by the browser): only the
        week is read again, with the usager's right to move this RDV (`usager_rdvs.move_week`), and its
        address pushed into the tab's history. The RDV shown above the week is trusted for
        `week_paging.REUSE_SECONDS` after `load` read it; after that, or when the date can no longer be
        changed, the address is loaded as a page, which says why."""
        href = clicked_week(self, which)
        usager_id, participation_id = self._usager_id, self._participation_id
        if self.step != "creneau" or not href or usager_id is None:
            return None
        if not week_paging.walk_still_fresh(self._opened_at, clock.timestamp()):
            return rx.redirect(href)
        week_day = _day(dict(parse_qsl(urlsplit(href).query)).get(week_paging.WEEK_PARAM))
        try:
            week = await within(UnitOfWork(read_only=True), lambda uow: usager_rdvs.move_week(
                uow, usager_id, participation_id, week_day))
        except DomainError:
            return rx.redirect(href)
        self._week(week)
        self.notice, self.week_href = "", href
        logger.info("usager rdv move page: week changed in place")
        return history_push(href)

    def _week(self, week: PublicWeek) -> None:
        pid = self._participation_id
        set_week(self, week, week_href=lambda day: routes.usager_rdv_move(pid, week=day.isoformat()),
                 slot_base_href=routes.slot_links_base(routes.usager_rdv_move(pid, week=week.first_day.isoformat())))

    @event
    async def confirm(self):
        if self.moving or self.step != "confirmation":
            return
        usager_id, participation_id = self._usager_id, self._participation_id
        starts_at, from_starts_at = self._starts_at, self._from_starts_at
        if usager_id is None or starts_at is None or from_starts_at is None:
            self.signed_in = usager_id is not None
            return
        self.moving, self.move_error = True, ""
        yield
        uow = UnitOfWork()
        try:
            await within(uow, lambda uow: usager_rdvs.move(uow, usager_id, participation_id, starts_at=starts_at,
                                                           from_starts_at=from_starts_at))
        except SlotTaken as exc:  # taken meanwhile: the week of that slot again, saying so
            self.moving, self.new_when = False, ""
            await self._show_week(datefmt.local(starts_at, self._time_zone).date())
            self.notice = exc.message
            return
        except (DomainError, NotFound) as exc:
            self.moving, self.move_error = False, exc.message
            return
        self.moving, self.step = False, "fait"
        yield deliver_after_commit(uow)
