"""The public links feed read by the Conseillers Numériques map (integrations.md section 2), kept identical
to RDV Service Public's: `GET /api/v1/public_links?territory=CN` and its legacy alias
`/public_api/public_links`, no authentication.

- 200 `{"public_links": [{"external_id", "public_link"}]}`; 400 `{"missing": "territory"}`; 404
  `{"not_found": "territory"}`.
- Each territory's answer is kept one minute (the map polls; the database is asked once a minute).
- Per client address, at most `REQUESTS` a minute; over it, 429 with `RateLimit-Limit`,
  `RateLimit-Remaining: 0`, `Retry-After` and a French message.

Also the short link `/org/ext/<territory>/<external_id>[/<slug>]`, to an organisation's public booking
page by its external id, the Rés'In network's `/resin/<external ids>`, and our lieux in the "Lieux de
médiation numérique" schema (`/api/v1/lieux_mediation_numerique.csv` or `.json`, `?territory=CN`).
"""

from __future__ import annotations

from limits import parse
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from rdv_app import routes
from rdv_app.api.client_address import client_ip
from rdv_app.auth import rate_limit
from rdv_app.blocking import in_thread, within
from rdv_app.config import settings
from rdv_app.db.uow import UnitOfWork
from rdv_app.domain import clock, limits
from rdv_app.domain import mediation_numerique as mediation
from rdv_app.services.errors import DomainError
from rdv_app.services.integrations import conseillers_numeriques

REQUESTS = 50
PER_CLIENT = parse(f"{REQUESTS}/minute")
CACHE_SECONDS = 60.0
_THROTTLED = {"errors": ["Limite d'appels API atteinte. Merci de patienter.\n"]}
_cache: dict[str, tuple[float, Response]] = {}


def forget_cache() -> None:
    """Tests, and an operator's shell: the next request reads the database."""
    _cache.clear()


async def public_links(request: Request) -> Response:
    key = f"public_links:{client_ip(request)}"
    wait = await in_thread(rate_limit.is_blocked, PER_CLIENT, key)
    if wait:
        return JSONResponse(_THROTTLED, status_code=429, headers={
            "RateLimit-Limit": str(REQUESTS), "RateLimit-Remaining": "0", "Retry-After": str(wait)})
    await in_thread(rate_limit.record, PER_CLIENT, key)
    territory = request.query_params.get("territory", "").strip()
    if not territory:
        return JSONResponse({"missing": "territory"}, status_code=400)
    if len(territory) > limits.CODE:
        return JSONResponse({"not_found": "territory"}, status_code=404)
    cached = _cache.get(territory)
    if cached is not None and cached[0] > clock.timestamp():
        return cached[1]
    try:
        links = await within(UnitOfWork(read_only=True),
                             lambda uow: conseillers_numeriques.public_links(uow, territory))
    except DomainError:  # a territory no one could name (control characters)
        links = None
    if links is None:
        return JSONResponse({"not_found": "territory"}, status_code=404)
    response = JSONResponse({"public_links": [{"external_id": link.external_id, "public_link": link.public_link}
                                              for link in links]})
    _cache[territory] = (clock.timestamp() + CACHE_SECONDS, response)
    return response


async def external_organisation(request: Request) -> Response:
    territory, external_id = request.path_params["territory"], request.path_params["external_id"]
    try:
        found = await within(UnitOfWork(read_only=True), lambda uow: conseillers_numeriques.organisation_by_external_id(
            uow, territory, external_id))
    except DomainError:
        found = None
    if found is None:
        return RedirectResponse(settings.frontend_url(routes.PUBLIC_BOOKING), status_code=302)
    organisation_id, slug = found
    return RedirectResponse(settings.frontend_url(f"/org/{organisation_id}/{slug}"), status_code=302)


async def resin(request: Request) -> Response:
    """The link given to the Rés'In network (Lyon): `/resin/<external ids, comma-separated>`."""
    ids = [part.strip() for part in request.path_params["external_ids"].split(",") if part.strip()][:50]
    return RedirectResponse(settings.frontend_url(conseillers_numeriques.resin_target(ids)), status_code=302)


async def lieux_mediation(request: Request) -> Response:
    """Our lieux in the "Lieux de médiation numérique" schema: `.csv` or `.json`, `?territory=CN`."""
    kind = request.path_params["format"]
    if kind not in ("csv", "json"):
        return JSONResponse({"not_found": "format"}, status_code=404)
    territory = request.query_params.get("territory", "").strip()
    if not territory:
        return JSONResponse({"missing": "territory"}, status_code=400)
    try:
        rows = await within(UnitOfWork(read_only=True),
                            lambda uow: conseillers_numeriques.lieux_mediation(uow, territory))
    except DomainError:
        rows = None
    if rows is None:
        return JSONResponse({"not_found": "territory"}, status_code=404)
    if kind == "csv":
        return Response(mediation.as_csv(rows), media_type="text/csv; charset=utf-8")
    return JSONResponse(mediation.as_json(rows))


ROUTES = [
    Route(routes.PUBLIC_LINKS_API, public_links, methods=["GET"]),
    Route(routes.PUBLIC_LINKS_LEGACY, public_links, methods=["GET"]),
    Route(routes.ORGANISATION_BY_EXTERNAL_ID, external_organisation, methods=["GET"]),
    Route(routes.ORGANISATION_BY_EXTERNAL_ID_SLUG, external_organisation, methods=["GET"]),
    Route(routes.RESIN, resin, methods=["GET"]),
    Route(routes.LIEUX_MEDIATION, lieux_mediation, methods=["GET"]),
]
