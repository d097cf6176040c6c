"""Plain HTTP routes mounted beside the Reflex app, and the security headers of every response."""

from __future__ import annotations

import contextlib
import re
from collections.abc import AsyncIterator
from urllib.parse import urlsplit

import sqlalchemy as sa
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from rdv_app import logs, routes
from rdv_app.api import html_page
from rdv_app.api.ants import ROUTES as ANTS_ROUTES
from rdv_app.api.client_address import client_ip
from rdv_app.api.demo_mailbox import ROUTES as DEMO_MAILBOX_ROUTES
from rdv_app.api.exports import download_export
from rdv_app.api.metrics import metrics
from rdv_app.api.outlook_http import ROUTES as OUTLOOK_ROUTES
from rdv_app.api.public_links import ROUTES as PUBLIC_LINKS_ROUTES
from rdv_app.api.usager_auth_http import ROUTES as USAGER_AUTH_ROUTES
from rdv_app.api.usager_link import ROUTES as USAGER_LINK_ROUTES
from rdv_app.api.webcal import calendar_feed
from rdv_app.auth import rate_limit, session_forms
from rdv_app.blocking import in_thread, within
from rdv_app.config import demo_mode, settings
from rdv_app.db.migrate import current_revision, head_revision
from rdv_app.db.uow import UnitOfWork
from rdv_app.domain import limits
from rdv_app.services import deployment
from rdv_app.services.agents import agent_auth
from rdv_app.services.errors import DomainError


async def health(_request: Request) -> Response:
    try:
        await within(UnitOfWork(read_only=True), lambda uow: uow.session.execute(sa.text("SELECT 1")))
    except sa.exc.SQLAlchemyError:
        return JSONResponse({"status": "error", "database": "unreachable"}, status_code=503)
    return JSONResponse({"status": "ok", "database": "ok"})


async def ready(_request: Request) -> Response:
    """Whether this process can serve: the database answers and is at the schema of this code, holds no
    demo account unless this is the demo, and the Redis of the rate limits answers when there is one (`/_health` stays the cheap liveness check)."""
    report: dict[str, str] = {}
    try:
        current = await within(UnitOfWork(read_only=True), lambda uow: current_revision(uow.session.connection()))
    except sa.exc.SQLAlchemyError:
        report["database"], report["schema"], schema_ok = "injoignable", "inconnu", False
    else:
        head = await in_thread(head_revision)
        schema_ok = current == head
        report["database"] = "ok"
        report["schema"] = "à jour" if schema_ok else f"en retard ({current or 'vide'} au lieu de {head})"
    demo_ok = True
    if schema_ok and not demo_mode():
        demo_accounts = await within(UnitOfWork(read_only=True), deployment.demo_accounts)
        demo_ok = not demo_accounts
        report["demo"] = "absente" if demo_ok else "comptes de démonstration présents : instance refusée"
    redis = await in_thread(rate_limit.shared_storage_answers)
    report["redis"] = "non configuré" if redis is None else "ok" if redis else "injoignable"
    ok = schema_ok and demo_ok and redis is not False
    return JSONResponse({"status": "ok" if ok else "error", **report}, status_code=200 if ok else 503)


@contextlib.asynccontextmanager
async def deployment_guard() -> AsyncIterator[None]:
    """The app's start (a lifespan task): outside the demo, a database holding the demo's accounts stops it
    (`DemoDatabaseRefused`), even when the server is started without `cli serve`. A database not migrated
    yet (or not reachable) is left to `/_ready`."""
    migrated = None
    if not demo_mode():
        with contextlib.suppress(sa.exc.SQLAlchemyError):
            migrated = await within(UnitOfWork(read_only=True), lambda uow: current_revision(uow.session.connection()))
        if migrated:
            await within(UnitOfWork(read_only=True), deployment.refuse_demo_database)
    yield


def _from_this_site(request: Request) -> bool:
    """A POST sent by a page of this app: refused when the browser says it comes from another site
    (`Origin`, `Sec-Fetch-Site`); the form's token (rdv_app.auth.session_forms) covers browsers that say
    nothing."""
    if request.headers.get("sec-fetch-site", "same-origin") not in {"same-origin", "same-site", "none"}:
        return False
    origin = request.headers.get("origin")
    if origin is None:
        return True
    return origin in {_origin(str(request.url)), _origin(settings.public_url), _origin(settings.api_url)} - {None}


def _refused() -> Response:
    return HTMLResponse(html_page.page("Demande refusée", f"""<h1>Demande refusée</h1>
<p>Cette demande ne vient pas de notre site, ou la page qui l'a envoyée a expiré. Rien n'a été changé.</p>
<div class="actions"><a class="button button-primary" href="{html_page.e(settings.frontend_url(routes.LOGIN))}">
Aller à la page de connexion</a></div>"""), status_code=403, headers={"Cache-Control": "no-store"})


async def session_route_get(_request: Request) -> Response:
    """A GET changes nothing here (a link or an image on another site could send one): it only says where
    to go."""
    return HTMLResponse(html_page.page("Connexion à l'espace agents", f"""<h1>Connexion à l'espace agents</h1>
<p>Cette adresse sert seulement au formulaire de connexion. Pour vous connecter ou vous déconnecter,
passez par la page de connexion.</p>
<div class="actions"><a class="button button-primary" href="{html_page.e(settings.frontend_url(routes.LOGIN))}">
Aller à la page de connexion</a></div>"""), status_code=405,
                        headers={"Allow": "POST", "Cache-Control": "no-store"})


async def open_agent_session(request: Request) -> Response:
    """Turns a login ticket into the HttpOnly session cookie, then goes on to the requested page. A POST
    from the sign-in page, with the proof that this browser asked for the ticket."""
    if not _from_this_site(request):
        return _refused()
    form = await request.form()
    ticket, ip = str(form.get("ticket", "")), client_ip(request)
    binding = request.cookies.get(routes.AGENT_SIGN_IN_BINDING_COOKIE, "")
    if not binding or not session_forms.matches(session_forms.sign_in_proof(ticket, binding), form.get("preuve")):
        return _refused()
    # The browser's own words, kept to identify the session: cut, never a reason to refuse the sign-in.
    user_agent = request.headers.get("user-agent", "")[:limits.NOTE] or None
    try:
        opened = await within(UnitOfWork(), lambda uow: agent_auth.open_session(uow, ticket, ip, user_agent))
    except DomainError:  # a ticket no one was given (too long, unprintable)
        opened = None
    if opened is None:
        return RedirectResponse(settings.frontend_url(routes.login()), status_code=303)
    response = RedirectResponse(settings.frontend_url(opened.next_path), status_code=303)
    # The browser forgets it when the session ends at the latest (its absolute lifetime).
    response.set_cookie(
        routes.AGENT_SESSION_COOKIE, opened.token, max_age=int(agent_auth.session_lifetime().total_seconds()),
        httponly=True, secure=settings.secure_cookies, samesite="lax", path="/",
    )
    response.delete_cookie(routes.AGENT_SIGN_IN_BINDING_COOKIE, path="/", secure=settings.secure_cookies,
                           samesite="strict")
    return response


async def clear_agent_session(request: Request) -> Response:
    """Ends the session of the cookie and forgets the cookie. A POST from an agent page, with the proof
    derived from the session cookie itself (which no page can read)."""
    token = request.cookies.get(routes.AGENT_SESSION_COOKIE, "")
    form = await request.form()
    if token and (not _from_this_site(request)
                  or not session_forms.matches(session_forms.sign_out_proof(token), form.get("preuve"))):
        return _refused()
    await within(UnitOfWork(), lambda uow: agent_auth.revoke_session(uow, token or None))
    response = RedirectResponse(settings.frontend_url(routes.LOGIN), status_code=303)
    response.delete_cookie(routes.AGENT_SESSION_COOKIE, path="/", httponly=True, secure=settings.secure_cookies,
                           samesite="lax")
    return response


async def pages_script(_request: Request) -> Response:
    return Response(html_page.SCRIPT, media_type="text/javascript; charset=utf-8",
                    headers={"Cache-Control": "public, max-age=3600"})


http_routes = Starlette(routes=[
    Route(routes.HEALTH, health, methods=["GET", "HEAD"]),
    Route(routes.READY, ready, methods=["GET", "HEAD"]),
    Route(routes.METRICS, metrics, methods=["GET"]),
    Route(routes.AUTH_OPEN_SESSION, open_agent_session, methods=["POST"]),
    Route(routes.AUTH_OPEN_SESSION, session_route_get, methods=["GET", "HEAD"]),
    Route(routes.AUTH_CLEAR_SESSION, clear_agent_session, methods=["POST"]),
    Route(routes.AUTH_CLEAR_SESSION, session_route_get, methods=["GET", "HEAD"]),
    Route(routes.WEBCAL_FEED, calendar_feed, methods=["GET", "HEAD"]),
    Route(routes.PAGES_SCRIPT, pages_script, methods=["GET"]),
    Route(routes.EXPORT_DOWNLOAD, download_export, methods=["GET"]),
    *USAGER_LINK_ROUTES,
    *USAGER_AUTH_ROUTES,
    *DEMO_MAILBOX_ROUTES,
    *ANTS_ROUTES,
    *PUBLIC_LINKS_ROUTES,
    *OUTLOOK_ROUTES,
])

# Public booking pages may be embedded in other sites (the "iframe" snippet given to organisations);
# every other page may only be framed by the app itself.
EMBEDDABLE_PREFIXES = ("/prendre_rdv", "/org/")
# Pages the server renders itself (in the shell of rdv_app.api.html_page): their policy allows
# scripts from this origin only, the one file at routes.PAGES_SCRIPT; Reflex's pages keep theirs.
SERVER_PAGE_PREFIXES = (f"{routes.USAGER_LINK}/", "/_auth/", routes.DEMO_MAILBOX, "/_exports/")
HSTS = b"max-age=63072000; includeSubDomains"


def _origin(url: str) -> str | None:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else None


def _server_page_policy() -> str:
    # Forms post here; the sign-in link's answer then leads to the pages' origin (another port in `make dev`).
    targets = " ".join(dict.fromkeys(o for o in ("'self'", _origin(settings.public_url), _origin(settings.api_url)) if o))
    return ("default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
            f"form-action {targets}; base-uri 'none'; frame-ancestors 'self'")


def _is_server_page(path: str, headers: list[tuple[bytes, bytes]]) -> bool:
    html = any(k.lower() == b"content-type" and v.startswith(b"text/html") for k, v in headers)
    return html and (path == routes.USAGER_LINK or path.startswith(SERVER_PAGE_PREFIXES))


_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{8,64}")


def request_context(app: ASGIApp) -> ASGIApp:
    """Each HTTP request's records carry its id (the proxy's X-Request-Id when it sends a plausible one)
    and its route (rdv_app.logs); the response says the id back, for an operator to find the lines."""
    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        given = dict(scope.get("headers") or []).get(b"x-request-id", b"").decode("latin-1")
        request_id = given if _REQUEST_ID.fullmatch(given) else logs.new_event_id()

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), (b"x-request-id", request_id.encode())]
            await send(message)

        handler = logs.mask_text(f"http {scope.get('method', '')} {scope.get('path', '')}")
        with logs.context(event_id=request_id, handler=handler):
            await app(scope, receive, send_with_id)

    return wrapped


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
                policy = (_server_page_policy() if _is_server_page(path, headers)
                          else f"frame-ancestors {frame_ancestors}")
                headers += [
                    (b"referrer-policy", b"no-referrer" if path.startswith("/r/") else b"strict-origin-when-cross-origin"),
                    (b"x-content-type-options", b"nosniff"),
                    (b"content-security-policy", policy.encode()),
                    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
                ]
                if frame_ancestors != "*":
                    headers.append((b"x-frame-options", b"SAMEORIGIN"))
                if settings.secure_cookies:
                    headers.append((b"strict-transport-security", HSTS))
                message["headers"] = headers
            await send(message)

        await app(scope, receive, send_with_headers)

    return wrapped
