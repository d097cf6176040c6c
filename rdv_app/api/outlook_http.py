"""An agent connects their Outlook calendar over plain HTTP (admin-domain.md 11.2): the authorization
code flow with PKCE of rdv_app.auth.microsoft.

- `GET /_auth/outlook` (the "S'identifier avec Microsoft" link of "Mon compte"): only for a signed-in
  agent (the HttpOnly session cookie); draws state and verifier, keeps them sealed in a short-lived
  HttpOnly cookie with the agent's id, and sends the browser to Microsoft with `login_hint` = the agent's
  email. It changes nothing.
- `GET /_auth/outlook/retour`: the same browser, the same agent still signed in, the same state; the
  code is exchanged with the verifier, then the tokens are stored and the agent's RDVs queued
  (rdv_app.services.agents.outlook.connect_outlook). Back to "Mon compte", which says it is connected;
  a failure says why on a page with the way back.
"""

from __future__ import annotations

from html import escape

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from rdv_app import routes
from rdv_app.api.html_page import e, page
from rdv_app.auth import microsoft
from rdv_app.auth.microsoft import Flow, MicrosoftError, MicrosoftSettings
from rdv_app.blocking import in_thread, within
from rdv_app.config import settings
from rdv_app.db.uow import UnitOfWork
from rdv_app.services.agents import agent_auth
from rdv_app.services.agents import outlook as outlook_service
from rdv_app.services.errors import DomainError

CONNECTED = "connecte"  # ?outlook= on "Mon compte" after a connection
_ACCOUNT_SECTION = f"{routes.ACCOUNT}?outlook={CONNECTED}"


def _redirect_uri() -> str:
    return f"{settings.api_url or settings.public_url}{routes.OUTLOOK_CALLBACK}"


async def _agent(request: Request) -> agent_auth.AgentIdentity | None:
    token = request.cookies.get(routes.AGENT_SESSION_COOKIE)
    if not token:
        return None
    return await within(UnitOfWork(), lambda uow: agent_auth.resolve_session(uow, token))


def _failed(message: str, status_code: int = 400) -> Response:
    title = "Connexion à Outlook impossible"
    return HTMLResponse(page(title, f"""<h1>{escape(title, quote=False)}</h1>
<p class="alert" role="alert">{e(message)}</p>
<div class="actions"><a class="button button-primary" href="{e(settings.frontend_url(routes.ACCOUNT))}">
Revenir à mon compte</a></div>"""), status_code=status_code, headers={"Cache-Control": "no-store"})


async def outlook_start(request: Request) -> Response:
    microsoft_settings = MicrosoftSettings.from_env()
    if microsoft_settings is None:
        return _failed("La synchronisation avec Outlook n'est pas proposée sur ce site.", 404)
    agent = await _agent(request)
    if agent is None:
        return RedirectResponse(settings.frontend_url(routes.login(routes.ACCOUNT)), status_code=303)
    flow = Flow.start(agent.agent_id)
    url = microsoft.authorize_url(microsoft_settings, flow, _redirect_uri(), agent.email or None)
    response = RedirectResponse(url, status_code=303)
    response.set_cookie(routes.OUTLOOK_FLOW_COOKIE, flow.dumps(), max_age=microsoft.FLOW_LIFETIME_SECONDS,
                        httponly=True, secure=settings.secure_cookies, samesite="lax", path=routes.OUTLOOK_START)
    response.headers["Cache-Control"] = "no-store"
    return response


async def outlook_callback(request: Request) -> Response:
    microsoft_settings = MicrosoftSettings.from_env()
    if microsoft_settings is None:
        return _failed("La synchronisation avec Outlook n'est pas proposée sur ce site.", 404)
    agent = await _agent(request)
    if agent is None:
        return RedirectResponse(settings.frontend_url(routes.login(routes.ACCOUNT)), status_code=303)
    flow = Flow.loads(request.cookies.get(routes.OUTLOOK_FLOW_COOKIE))
    if flow is not None and flow.agent_id != agent.agent_id:
        flow = None  # started by another agent in this browser: not theirs to finish
    params = request.query_params
    try:
        tokens = await in_thread(lambda: microsoft.exchange_code(
            microsoft_settings, flow, code=params.get("code"), state=params.get("state"), error=params.get("error"),
            redirect_uri=_redirect_uri()))
        await within(UnitOfWork(), lambda uow: outlook_service.connect_outlook(
            uow, agent.agent_id, tokens.access_token, tokens.refresh_token or "", tokens.expires_at))
    except MicrosoftError as error:
        return _failed(error.message)
    except DomainError as error:
        return _failed(error.message)
    response = RedirectResponse(settings.frontend_url(_ACCOUNT_SECTION), status_code=303)
    response.delete_cookie(routes.OUTLOOK_FLOW_COOKIE, path=routes.OUTLOOK_START, httponly=True,
                           secure=settings.secure_cookies, samesite="lax")
    return response


ROUTES = [
    Route(routes.OUTLOOK_START, outlook_start, methods=["GET"]),
    Route(routes.OUTLOOK_CALLBACK, outlook_callback, methods=["GET"]),
]
