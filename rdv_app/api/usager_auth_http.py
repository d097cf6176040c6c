"""Usager sign-in over plain HTTP: the email link and FranceConnect set the HttpOnly session cookie.

- `GET /_auth/usager/lien?jeton=…` only shows a button; `POST` consumes the link and signs in, so a mail
  scanner or a link preview that fetches the address changes nothing. A POST from another site is
  refused (Origin check), so nobody can sign a person into someone else's account.
- `GET /_auth/franceconnect?suivant=…` starts the OpenID Connect flow (state and nonce in a short-lived
  HttpOnly cookie); `GET /_auth/franceconnect/retour` finishes it.
- `GET /_auth/usager/sortie` forgets the cookie; the session was revoked server-side before.
- `GET /_auth/usager/rdv/<id>.ics`: an RDV of the signed-in usager (or of a relative) for their calendar.
"""

from __future__ import annotations

import logging
from html import escape
from urllib.parse import urlparse

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from rdv_app import routes
from rdv_app.api.html_page import e, page
from rdv_app.auth.franceconnect import Flow, FranceConnectClient, FranceConnectError, FranceConnectSettings
from rdv_app.blocking import within
from rdv_app.config import settings
from rdv_app.db.uow import UnitOfWork
from rdv_app.domain.sessions import USAGER_SESSION_LIFETIME, safe_next_path
from rdv_app.notify.ics import IcsFile
from rdv_app.services.errors import DomainError
from rdv_app.services.usagers import usager_auth, usager_rdvs

logger = logging.getLogger(__name__)

# The browser forgets the cookie when the session ends at the latest (its absolute lifetime).
_SESSION_MAX_AGE = int(USAGER_SESSION_LIFETIME.total_seconds())


def _page(title: str, body: str, status_code: int = 200) -> HTMLResponse:
    return HTMLResponse(page(title, f"<h1>{escape(title, quote=False)}</h1>{body}"), status_code=status_code,
                        headers={"Cache-Control": "no-store"})


def _set_session(response: Response, token: str) -> None:
    response.set_cookie(routes.USAGER_SESSION_COOKIE, token, max_age=_SESSION_MAX_AGE, httponly=True,
                        secure=settings.secure_cookies, samesite="lax", path="/")


def _same_origin(request: Request) -> bool:
    origin = request.headers.get("origin")
    if not origin or origin == "null":
        return origin is None
    allowed = {f"{request.url.scheme}://{request.url.netloc}"}
    allowed |= {f"{urlparse(u).scheme}://{urlparse(u).netloc}" for u in (settings.public_url, settings.api_url) if u}
    return origin in allowed


async def _leads_to_rdvs(token: str) -> bool:
    """Whether the link was asked from « Mes rendez-vous » (else from a booking, or unknown)."""
    try:
        return await within(UnitOfWork(read_only=True), lambda uow: usager_auth.email_link_leads_to_rdvs(uow, token))
    except DomainError:  # a token no one was sent (too long, unprintable)
        return False


async def email_link_form(request: Request) -> Response:
    token = request.query_params.get("jeton", "")
    if await _leads_to_rdvs(token):
        purpose, button = "retrouver vos rendez-vous", "Me connecter et voir mes rendez-vous"
    else:
        purpose, button = "reprendre votre réservation là où vous l'aviez laissée", "Me connecter et reprendre ma réservation"
    return _page("Connexion à votre compte", f"""
<p>Confirmez votre connexion pour {purpose}.</p>
<form method="post" action="{e(settings.api_path(routes.USAGER_EMAIL_LINK))}" data-busy="Connexion…">
<input type="hidden" name="jeton" value="{e(token)}">
<div class="actions"><button class="button button-primary" type="submit">{button}</button>
</div></form>""")


async def email_link_sign_in(request: Request) -> Response:
    if not _same_origin(request):
        return _page("Demande refusée", "<p>Cette demande ne vient pas de notre site.</p>", status_code=403)
    token = str((await request.form()).get("jeton", ""))
    try:
        opened = await within(UnitOfWork(), lambda uow: usager_auth.open_email_link(uow, token))
    except DomainError:  # a token no one was sent (too long, unprintable)
        opened = None
    if opened is None:
        where, path, label = (("« Mes rendez-vous »", routes.USAGER_RDVS, "Mes rendez-vous") if await _leads_to_rdvs(token)
                              else ("la page de réservation", routes.PUBLIC_BOOKING, "Prendre rendez-vous"))
        return _page("Ce lien n'est plus valide", f"""
<p>Ce lien de connexion a déjà servi ou a expiré (il est valable 24 heures, une seule fois).
Demandez un nouveau lien depuis {where}.</p>
<div class="actions"><a class="button button-primary" href="{e(settings.frontend_url(path))}">
{label}</a></div>""",
                     status_code=400)
    # What finds a sign-in whose page never showed (issue 26): the usager, the step it leads to.
    logger.info("usager signed in by email link: usager %s, back to %s", opened.usager_id,
                opened.next_path.split("?", 1)[0])
    response = RedirectResponse(settings.frontend_url(opened.next_path), status_code=303)
    _set_session(response, opened.token)
    return response


def _client() -> FranceConnectClient | None:
    fc = FranceConnectSettings.from_env()
    if fc is None:
        return None
    return FranceConnectClient(fc, f"{settings.api_url or settings.public_url}{routes.FRANCECONNECT_CALLBACK}")


async def franceconnect_start(request: Request) -> Response:
    client = _client()
    next_path = safe_next_path(request.query_params.get("suivant"), routes.PUBLIC_BOOKING)
    if client is None:
        return RedirectResponse(settings.frontend_url(next_path), status_code=303)
    flow = Flow.start(next_path)
    try:
        url = await client.authorize_url(flow)
    except (FranceConnectError, OSError, ValueError):
        return _fc_failed(FranceConnectError("FranceConnect ne répond pas pour le moment. Réessayez dans "
                                             "quelques minutes ou créez un compte."), next_path)
    response = RedirectResponse(url, status_code=303)
    response.set_cookie(routes.FRANCECONNECT_FLOW_COOKIE, flow.dumps(), max_age=15 * 60, httponly=True,
                        secure=settings.secure_cookies, samesite="lax", path=routes.FRANCECONNECT_START)
    return response


async def franceconnect_callback(request: Request) -> Response:
    client = _client()
    flow = Flow.loads(request.cookies.get(routes.FRANCECONNECT_FLOW_COOKIE))
    next_path = flow.next_path if flow else routes.PUBLIC_BOOKING
    if client is None:
        return RedirectResponse(settings.frontend_url(next_path), status_code=303)
    params = request.query_params
    try:
        identity, id_token = await client.finish(flow, code=params.get("code"), state=params.get("state"),
                                                 error=params.get("error"))
    except FranceConnectError as error:
        return _fc_failed(error, next_path)
    except (OSError, ValueError):
        return _fc_failed(FranceConnectError(), next_path)
    try:
        opened = await within(UnitOfWork(),
                              lambda uow: usager_auth.sign_in_with_franceconnect(uow, identity, id_token, next_path))
    except DomainError as error:  # an identity our limits refuse (a name longer than any form allows)
        return _fc_failed(FranceConnectError(error.message), next_path)
    response = RedirectResponse(settings.frontend_url(opened.next_path), status_code=303)
    _set_session(response, opened.token)
    response.delete_cookie(routes.FRANCECONNECT_FLOW_COOKIE, path=routes.FRANCECONNECT_START, httponly=True,
                           secure=settings.secure_cookies, samesite="lax")
    return response


def _fc_failed(error: FranceConnectError, next_path: str) -> Response:
    next_path = safe_next_path(next_path, routes.PUBLIC_BOOKING)
    return _page("Connexion impossible", f"""<p class="alert" role="alert">{e(error.message)}</p>
<div class="actions"><a class="button button-primary" href="{e(settings.frontend_url(next_path))}">
Revenir à ma réservation</a></div>""",
                 status_code=400)


async def sign_out(_request: Request) -> Response:
    response = RedirectResponse(settings.frontend_url(routes.PUBLIC_BOOKING), status_code=303)
    response.delete_cookie(routes.USAGER_SESSION_COOKIE, path="/", httponly=True, secure=settings.secure_cookies,
                           samesite="lax")
    return response


async def calendar_file(request: Request) -> Response:
    rdv_id: int = request.path_params["rdv_id"]
    token = request.cookies.get(routes.USAGER_SESSION_COOKIE)
    try:
        ics = await within(UnitOfWork(), lambda uow: _calendar_file(uow, token, rdv_id))
    except DomainError as error:
        return _page("Rendez-vous introuvable", f'<p class="alert" role="alert">{e(error.message)}</p>',
                     status_code=404)
    return Response(ics.content, media_type="text/calendar; charset=utf-8",
                    headers={"Cache-Control": "no-store",
                             "Content-Disposition": f'attachment; filename="{ics.filename}"'})


def _calendar_file(uow: UnitOfWork, token: str | None, rdv_id: int) -> IcsFile:
    usager_id = usager_auth.resolve_session(uow, token)
    if usager_id is None:
        raise DomainError("Connectez-vous pour ajouter ce rendez-vous à votre agenda.")
    return usager_rdvs.calendar_file(uow, usager_id, rdv_id)


ROUTES = [
    Route(routes.USAGER_EMAIL_LINK, email_link_form, methods=["GET"]),
    Route(routes.USAGER_EMAIL_LINK, email_link_sign_in, methods=["POST"]),
    Route(routes.FRANCECONNECT_START, franceconnect_start, methods=["GET"]),
    Route(routes.FRANCECONNECT_CALLBACK, franceconnect_callback, methods=["GET"]),
    Route(routes.USAGER_SIGN_OUT, sign_out, methods=["GET"]),
    Route(routes.USAGER_RDV_ICS, calendar_file, methods=["GET"]),
]
