"""The editor API that the ANTS hub calls (integrations.md 1a): `/api/ants/getManagedMeetingPoints`,
`/api/ants/availableTimeSlots`, `/api/ants/searchApplicationIds`, GET and JSON.

Every request carries `X-HUB-RDV-AUTH-TOKEN` (the hub sends it in lower case; headers are read without
case), compared in constant time with RDV_ANTS_EDITOR_TOKEN; with no token configured, every request is
refused. Repeated parameters (`meeting_point_ids=1&meeting_point_ids=2`) are read as the list they are.
"""

from __future__ import annotations

import hmac
import logging

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from rdv_app import routes
from rdv_app.blocking import within
from rdv_app.config import settings
from rdv_app.db.uow import UnitOfWork
from rdv_app.domain import ants
from rdv_app.services.integrations import ants as ants_service

logger = logging.getLogger(__name__)

TOKEN_HEADER = "x-hub-rdv-auth-token"  # noqa: S105 - a header name, not a secret
_REFUSED = {"error": "X-HUB-RDV-AUTH-TOKEN header is missing or invalid"}


def _authorised(request: Request) -> bool:
    expected = settings.ants_editor_token
    given = request.headers.get(TOKEN_HEADER, "")
    return bool(expected) and hmac.compare_digest(given.encode(), expected.encode())


def _refused() -> Response:
    return JSONResponse(_REFUSED, status_code=401)


def _bad_request(message: str) -> Response:
    return JSONResponse({"error": {"code": 400, "message": message}}, status_code=400)


async def managed_meeting_points(request: Request) -> Response:
    if not _authorised(request):
        return _refused()
    points = await within(UnitOfWork(read_only=True), ants_service.meeting_points)
    return JSONResponse([{"id": p.id, "name": p.name, "longitude": p.longitude, "latitude": p.latitude,
                          "public_entry_address": p.public_entry_address, "zip_code": p.zip_code,
                          "city_name": p.city_name} for p in points])


async def available_time_slots(request: Request) -> Response:
    if not _authorised(request):
        return _refused()
    query = request.query_params
    try:
        asked = ants.slot_request(query.getlist("meeting_point_ids"), query.get("start_date"),
                                  query.get("end_date"), query.get("reason"), query.get("documents_number"))
    except ants.HubRequestError as error:
        if str(error) == "Invalid reason param":
            logger.warning("ANTS: invalid reason param %r", query.get("reason", "")[:40])
        return _bad_request(str(error))
    slots = await within(UnitOfWork(read_only=True), lambda uow: ants_service.available_slots(uow, asked))
    return JSONResponse({lieu_id: [{"datetime": s.datetime, "callback_url": s.callback_url} for s in found]
                         for lieu_id, found in slots.items()})


async def search_application_ids(request: Request) -> Response:
    """Duplicates go through the coordination API: every valid number is answered with no appointment."""
    if not _authorised(request):
        return _refused()
    numbers = ants.hub_application_ids(request.query_params.getlist("application_ids"))
    return JSONResponse({number: [] for number in numbers})


ROUTES = [
    Route(routes.ANTS_MEETING_POINTS, managed_meeting_points, methods=["GET"]),
    Route(routes.ANTS_TIME_SLOTS, available_time_slots, methods=["GET"]),
    Route(routes.ANTS_APPLICATION_IDS, search_application_ids, methods=["GET"]),
]
