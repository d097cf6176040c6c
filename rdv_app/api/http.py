"""Plain HTTP routes mounted beside the Reflex app, and the security headers of every response."""

from __future__ import annotations

import sqlalchemy as sa
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from rdv_app import routes
from rdv_app.api.demo_mailbox import ROUTES as DEMO_MAILBOX_ROUTES
from rdv_app.api.usager_auth_http import ROUTES as USAGER_AUTH_ROUTES
from rdv_app.api.usager_link import ROUTES as USAGER_LINK_ROUTES
from rdv_app.api.webcal import calendar_feed
from rdv_app.blocking import within
from rdv_app.config import settings
from rdv_app.db.uow import UnitOfWork
from rdv_app.domain.sessions import AGENT_SESSION_IDLE_TIMEOUT
from rdv_app.services.agents import agent_auth


async def health(_request: Request) -> Response:
    try:
        await within(UnitOfWork(read_only=True), lambda uow: uow.session.execute(sa.text("SELECT 1")))
    except sa.exc.SQLAlchemyError:
        return JSONResponse({"status": "error", "database": "unreachable"}, status_code=503)
    return JSONResponse({"status": "ok", "database": "ok"})


def _client_ip(request: Request) -> str:
    return request.client.host if request.client else "0.0.0.0"  # noqa: S104 - a label, not a bind address


async def open_agent_session(request: Request) -> Response:
    """Turns a login ticket into the HttpOnly session cookie, then goes on to the requested page."""
    ticket, ip, user_agent = request.query_params.get("ticket", ""), _client_ip(request), request.headers.get("user-agent")
    opened = await within(UnitOfWork(), lambda uow: agent_auth.open_session(uow, ticket, ip, user_agent))
    if opened is None:
        return RedirectResponse(settings.frontend_url(routes.login()), status_code=303)
    response = RedirectResponse(settings.frontend_url(opened.next_path), status_code=303)
    response.set_cookie(
        routes.AGENT_SESSION_COOKIE, opened.token, max_age=int(AGENT_SESSION_IDLE_TIMEOUT.total_seconds()) * 4,
        httponly=True, secure=settings.secure_cookies, samesite="lax", path="/",
    )
    return response


async def clear_agent_session(_request: Request) -> Response:
    """Only forgets the cookie: the session itself was revoked server-side before the browser came here."""
    response = RedirectResponse(settings.frontend_url(routes.LOGIN), status_code=303)
    response.delete_cookie(routes.AGENT_SESSION_COOKIE, path="/", httponly=True, secure=settings.secure_cookies,
                           samesite="lax")
    return response


http_routes = Starlette(routes=[
    Route(routes.HEALTH, health, methods=["GET", "HEAD"]),
    Route(routes.AUTH_OPEN_SESSION, open_agent_session, methods=["GET"]),
    Route(routes.AUTH_CLEAR_SESSION, clear_agent_session, methods=["GET"]),
    Route(routes.WEBCAL_FEED, calendar_feed, methods=["GET", "HEAD"]),
    *USAGER_LINK_ROUTES,
    *USAGER_AUTH_ROUTES,
    *DEMO_MAILBOX_ROUTES,
])

# Public booking pages may be embedded in other sites (the "iframe" snippet given to organisations);
# every other page may only be framed by the app itself.
EMBEDDABLE_PREFIXES = ("/prendre_rdv", "/org/")


def security_headers(app: ASGIApp) -> ASGIApp:
    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        path: str = scope.get("path", "")
        frame_ancestors = "*" if path.startswith(EMBEDDABLE_PREFIXES) else "'self'"

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", [])
                           if k.lower() not in {b"x-frame-options", b"referrer-policy"}]
                headers += [
                    (b"referrer-policy", b"no-referrer" if path.startswith("/r/") else b"strict-origin-when-cross-origin"),
                    (b"x-content-type-options", b"nosniff"),
                    (b"content-security-policy", f"frame-ancestors {frame_ancestors}".encode()),
                    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
                ]
                if frame_ancestors != "*":
                    headers.append((b"x-frame-options", b"SAMEORIGIN"))
                message["headers"] = headers
            await send(message)

        await app(scope, receive, send_with_headers)

    return wrapped
