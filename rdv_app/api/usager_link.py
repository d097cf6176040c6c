"""HTTP routes of the usager's "Infos et annulation" link (issue 7); the rules are in
rdv_app.services.usager_link, the HTML in rdv_app.api.usager_pages.

- GET  /r/<id>/<token>   checks the link (reading only), sets the 10-minute access cookie, 303 to /r/<id>
- GET  /r/<id>           the 3-letter form, the lockout message, or the summary; once the 10 minutes are
                         over, the 3-letter form again while the link works (issue 26)
- POST /r/<id>/lettres   the 3-letter answer; a right one sets the 10-minute "verified" cookie
- GET  /r/<id>/annulation  the confirmation (with the motif's warning); POST cancels
- GET  /r/<id>/rdv.ics   the .ics file
- GET  /r/<id>/changer-la-date  "Changer la date": the week (?semaine=), or the confirmation of a slot
                         (?creneau=); POST moves the RDV, then 303 to /r/<id>?deplace=1
- GET  /r                what the bare link of the calendar files leads to

Cookies are HttpOnly, SameSite=Lax (sent when the person follows the link from an SMS app, not with a
form posted from another site), limited to /r/<id>, Secure under https. POSTs also carry a token derived
from the access cookie, and are refused when their Origin is another site. Every GET only reads; pages
are `no-store`.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import date, datetime
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from rdv_app import routes
from rdv_app.api import usager_pages
from rdv_app.api.client_address import client_ip
from rdv_app.blocking import within
from rdv_app.config import settings
from rdv_app.db.uow import UnitOfWork
from rdv_app.domain import clock
from rdv_app.domain.usager_link import ACCESS_LIFETIME, VERIFIED_LIFETIME
from rdv_app.services.errors import DomainError, NotFound
from rdv_app.services.online_booking.public_search import SLOT_NOT_OFFERED
from rdv_app.services.rdv.lifecycle import SlotTaken
from rdv_app.services.usagers import usager_link as service

_NO_STORE = {"Cache-Control": "no-store", "X-Robots-Tag": "noindex, nofollow"}


def _uow(request: Request) -> UnitOfWork:
    """The app's database; tests mount these routes on an app whose state names another one."""
    return UnitOfWork(getattr(request.app.state, "database_url", None))


def _html(body: str, status_code: int = 200) -> HTMLResponse:
    return HTMLResponse(body, status_code=status_code, headers=_NO_STORE)


def _invalid() -> HTMLResponse:
    return _html(usager_pages.invalid_link(), 404)


def _see_other(path: str) -> RedirectResponse:
    return RedirectResponse(path, status_code=303, headers=_NO_STORE)


def _set_access(response: Response, request: Request, rdv_id: int, cookie: str) -> None:
    """The access cookie, kept by the browser as long as the link that gave it works (the server checks its
    10 minutes): after them, the page asks the 3 letters again instead of calling the link dead."""
    proof = service.read_proof(rdv_id, cookie)
    keep = int((proof.link_expires_at - clock.now()).total_seconds()) if proof else 0
    _set_cookie(response, routes.USAGER_ACCESS_COOKIE, cookie, rdv_id,
                max(keep, int(ACCESS_LIFETIME.total_seconds())))


def _set_cookie(response: Response, name: str, value: str, rdv_id: int, max_age: int) -> None:
    response.set_cookie(name, value, max_age=max_age, path=routes.usager_link(rdv_id), httponly=True,
                        secure=settings.secure_cookies, samesite="lax")


def _access(request: Request, rdv_id: int) -> service.LinkAccess | None:
    try:
        return service.read_access(rdv_id, request.cookies.get(routes.USAGER_ACCESS_COOKIE))
    except DomainError:  # a cookie we never set (too long, unprintable)
        return None


def _verified(request: Request, access: service.LinkAccess) -> bool:
    try:
        return service.is_verified(access, request.cookies.get(routes.USAGER_VERIFIED_COOKIE))
    except DomainError:
        return False


def _lock_message(uow: UnitOfWork, access: service.LinkAccess) -> str | None:
    """What the 3-letter form says while the link is locked, or None."""
    until = service.locked_until(uow, access)
    return service.lock_message(uow, access, until) if until else None


def _proof(request: Request, rdv_id: int) -> service.LinkProof | None:
    try:
        return service.read_proof(rdv_id, request.cookies.get(routes.USAGER_ACCESS_COOKIE))
    except DomainError:
        return None


async def _after_access(request: Request, rdv_id: int) -> Response:
    """A browser whose 10 minutes are over: the 3 letters again while its link works, what became of a
    cancelled RDV, otherwise the invalid-link page. Reading only."""
    proof = _proof(request, rdv_id)
    if proof is None:
        return _invalid()
    try:
        cookie = await within(_uow(request), lambda uow: service.renew_access(uow, proof))
        if cookie is None:
            notice = await within(_uow(request), lambda uow: service.cancelled_notice(uow, rdv_id, proof=proof))
            return _html(usager_pages.cancelled_rdv(notice)) if notice else _invalid()
    except NotFound:
        return _invalid()
    response = _html(usager_pages.initials_form(rdv_id, _csrf_of(cookie), again=True))
    _set_access(response, request, rdv_id, cookie)
    return response


async def _checked_access(request: Request, rdv_id: int, *, post: bool = False) -> service.LinkAccess | Response:
    """The access of a request past the 3-letter check, or the page to answer instead: the invalid-link
    page (no access, or a POST from elsewhere), or back to the check (also once the 10 minutes are over)."""
    access = _access(request, rdv_id)
    if access is None and _proof(request, rdv_id) is not None:
        return _see_other(routes.usager_link(rdv_id))
    if access is None or (post and not await _post_allowed(request)):
        return _invalid()
    if not _verified(request, access):
        return _see_other(routes.usager_link(rdv_id))
    return access


def _csrf(request: Request) -> str:
    """A form token only this browser can know: derived from its HttpOnly access cookie."""
    return _csrf_of(request.cookies.get(routes.USAGER_ACCESS_COOKIE, ""))


def _csrf_of(cookie: str) -> str:
    return hashlib.sha256(f"csrf:{cookie}".encode()).hexdigest()[:32]


async def _post_allowed(request: Request) -> bool:
    # Under `Referrer-Policy: no-referrer` browsers send "Origin: null" even from our own pages; the
    # SameSite cookie and the form token are what stop other sites.
    origin = request.headers.get("origin")
    if origin and origin != "null" and urlsplit(origin).netloc not in {request.url.netloc, urlsplit(settings.public_url).netloc}:
        return False
    form = await request.form()
    return hmac.compare_digest(str(form.get("csrf", "")), _csrf(request))


async def open_link(request: Request) -> Response:
    rdv_id: int = request.path_params["rdv_id"]
    token, ip = request.path_params["token"], client_ip(request)
    try:
        cookie = await within(_uow(request), lambda uow: service.open_link(uow, rdv_id, token, ip))
    except service.TooManyAttempts as error:
        return _html(usager_pages.too_many_attempts(error.message), 429)
    except DomainError:  # a token no one was sent (too long, unprintable)
        return _invalid()
    if cookie is None:
        try:
            notice = await within(_uow(request), lambda uow: service.cancelled_notice(uow, rdv_id, token=token))
        except NotFound:
            notice = None
        return _html(usager_pages.cancelled_rdv(notice)) if notice else _invalid()
    response = _see_other(routes.usager_link(rdv_id))
    _set_access(response, request, rdv_id, cookie)
    return response


async def link_page(request: Request) -> Response:
    rdv_id: int = request.path_params["rdv_id"]
    access = _access(request, rdv_id)
    if access is None:
        return await _after_access(request, rdv_id)
    if not _verified(request, access):
        try:
            locked = await within(_uow(request), lambda uow: _lock_message(uow, access))
        except NotFound:
            return _invalid()
        return _html(usager_pages.initials_form(rdv_id, _csrf(request), locked=locked))
    try:
        summary = await within(_uow(request), lambda uow: service.summary(uow, access))
    except NotFound:
        return _invalid()
    just_cancelled = request.query_params.get("annule") == "1"
    just_moved = request.query_params.get("deplace") == "1"
    return _html(usager_pages.rdv_summary(summary, just_cancelled=just_cancelled, just_moved=just_moved))


async def submit_initials(request: Request) -> Response:
    rdv_id: int = request.path_params["rdv_id"]
    access = _access(request, rdv_id)
    if access is None and _proof(request, rdv_id) is not None:
        return _see_other(routes.usager_link(rdv_id))
    if access is None or not await _post_allowed(request):
        return _invalid()
    answer, ip = str((await request.form()).get("lettres", "")), client_ip(request)
    try:
        proof = await within(_uow(request), lambda uow: service.check_initials(uow, access, answer, ip))
    except NotFound:
        return _invalid()
    except service.TooManyAttempts as error:
        return _html(usager_pages.too_many_attempts(error.message), 429)
    except service.LinkLocked as error:
        return _html(usager_pages.initials_form(rdv_id, _csrf(request), locked=error.message), 429)
    except DomainError as error:
        return _html(usager_pages.initials_form(rdv_id, _csrf(request), error=error.message), 422)
    response = _see_other(routes.usager_link(rdv_id))
    _set_cookie(response, routes.USAGER_VERIFIED_COOKIE, proof, rdv_id, int(VERIFIED_LIFETIME.total_seconds()))
    return response


async def confirm_cancel(request: Request) -> Response:
    rdv_id: int = request.path_params["rdv_id"]
    access = await _checked_access(request, rdv_id)
    if isinstance(access, Response):
        return access
    try:
        summary = await within(_uow(request), lambda uow: service.summary(uow, access))
    except NotFound:
        return _invalid()
    if not summary.can_cancel:
        return _see_other(routes.usager_link(rdv_id))
    return _html(usager_pages.confirm_cancel(summary, _csrf(request)))


async def cancel(request: Request) -> Response:
    rdv_id: int = request.path_params["rdv_id"]
    access = await _checked_access(request, rdv_id, post=True)
    if isinstance(access, Response):
        return access
    try:
        await within(_uow(request), lambda uow: service.cancel(uow, access))
    except NotFound:
        return _invalid()
    except DomainError as error:
        summary = await within(_uow(request), lambda uow: service.summary(uow, access))
        return _html(usager_pages.rdv_summary(summary, error=error.message), 409)
    return _see_other(f"{routes.usager_link(rdv_id)}?annule=1")


async def calendar_file(request: Request) -> Response:
    rdv_id: int = request.path_params["rdv_id"]
    access = await _checked_access(request, rdv_id)
    if isinstance(access, Response):
        return access
    try:
        ics = await within(_uow(request), lambda uow: service.calendar_file(uow, access))
    except NotFound:
        return _invalid()
    return Response(ics.content, media_type="text/calendar; charset=utf-8",
                    headers={**_NO_STORE, "Content-Disposition": f'attachment; filename="{ics.filename}"'})


def _instant(value: object) -> datetime | None:
    try:
        found = datetime.fromisoformat(str(value or ""))
    except ValueError:
        return None
    return found if found.tzinfo is not None else None


def _week_day(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value or "")
    except ValueError:
        return None


async def _move_view(request: Request, rdv_id: int, access: service.LinkAccess, slot: str, week: str, *,
                     notice: str | None = None, status_code: int = 200) -> Response:
    """The confirmation of `slot` when it is offered, otherwise the week (saying so when a slot was asked);
    the summary with the reason when the date cannot be changed."""
    starts_at = _instant(slot)
    try:
        choice = await within(_uow(request), lambda uow: service.move_choice(uow, access, starts_at))
        if choice.new_when is not None and notice is None:
            return _html(usager_pages.confirm_move(rdv_id, choice, slot, week, _csrf(request)))
        if starts_at is not None and notice is None:
            notice = SLOT_NOT_OFFERED
        found = await within(_uow(request), lambda uow: service.move_week(uow, access, _week_day(week)))
    except NotFound:
        return _invalid()
    except DomainError as error:
        summary = await within(_uow(request), lambda uow: service.summary(uow, access))
        return _html(usager_pages.rdv_summary(summary, error=error.message), 409)
    return _html(usager_pages.move_week(rdv_id, choice, found, notice=notice), status_code)


async def move_page(request: Request) -> Response:
    rdv_id: int = request.path_params["rdv_id"]
    access = await _checked_access(request, rdv_id)
    if isinstance(access, Response):
        return access
    return await _move_view(request, rdv_id, access, request.query_params.get("creneau", ""),
                            request.query_params.get("semaine", ""))


async def move(request: Request) -> Response:
    rdv_id: int = request.path_params["rdv_id"]
    access = await _checked_access(request, rdv_id, post=True)
    if isinstance(access, Response):
        return access
    form = await request.form()
    starts_at, from_starts_at = _instant(form.get("creneau")), _instant(form.get("depuis"))
    if starts_at is None or from_starts_at is None:
        return await _move_view(request, rdv_id, access, "", "", notice=SLOT_NOT_OFFERED, status_code=422)
    try:
        await within(_uow(request), lambda uow: service.move(uow, access, starts_at=starts_at,
                                                             from_starts_at=from_starts_at))
    except NotFound:
        return _invalid()
    except SlotTaken as taken:
        return await _move_view(request, rdv_id, access, "", "", notice=taken.message, status_code=409)
    except DomainError as error:
        summary = await within(_uow(request), lambda uow: service.summary(uow, access))
        return _html(usager_pages.rdv_summary(summary, error=error.message), 409)
    return _see_other(f"{routes.usager_link(rdv_id)}?deplace=1")


async def link_help(_request: Request) -> Response:
    return _html(usager_pages.link_help())


# The token route comes last: its second segment would also match the fixed names before it.
ROUTES = [
    Route(routes.USAGER_LINK, link_help, methods=["GET"]),
    Route(routes.USAGER_LINK_PAGE, link_page, methods=["GET"]),
    Route(routes.USAGER_LINK_INITIALS, submit_initials, methods=["POST"]),
    Route(routes.USAGER_LINK_CANCEL, confirm_cancel, methods=["GET"]),
    Route(routes.USAGER_LINK_CANCEL, cancel, methods=["POST"]),
    Route(routes.USAGER_LINK_ICS, calendar_file, methods=["GET"]),
    Route(routes.USAGER_LINK_MOVE, move_page, methods=["GET"]),
    Route(routes.USAGER_LINK_MOVE, move, methods=["POST"]),
    Route(routes.USAGER_LINK_OPEN, open_link, methods=["GET"]),
]
