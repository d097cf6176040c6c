"""`GET /calendrier/<secret>.ics`: an agent's feed for calendar software (rdv_app.services.webcal).

Conditional requests: `If-None-Match` (the body's hash) first, else `If-Modified-Since`; an unchanged
feed answers 304 with no body. Rate limits (the `limits` library): per feed address, so that one
misconfigured client cannot load the server, and per client address for unknown secrets, so that
addresses cannot be guessed by trying many. A calendar service (Google) fetches many feeds from the same
addresses, hence no plain per-address limit on known feeds.
"""

from __future__ import annotations

from email.utils import format_datetime, parsedate_to_datetime

from limits import parse
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from rdv_app.api.client_address import client_ip
from rdv_app.auth import rate_limit
from rdv_app.blocking import in_thread, within
from rdv_app.db.uow import UnitOfWork
from rdv_app.services.agents import webcal
from rdv_app.services.errors import InvalidInput, NotFound

FEED_REQUESTS = parse("30/minute")
UNKNOWN_FEEDS = parse("20/minute")
CACHE_CONTROL = "private, max-age=300"


def _unchanged(request: Request, feed: webcal.Feed) -> bool:
    if_none_match = request.headers.get("if-none-match")
    if if_none_match is not None:
        tags = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
        return "*" in tags or feed.etag in tags
    if_modified_since = request.headers.get("if-modified-since")
    if if_modified_since:
        try:
            since = parsedate_to_datetime(if_modified_since)
        except (TypeError, ValueError):
            return False
        return since.tzinfo is not None and feed.last_modified.replace(microsecond=0) <= since
    return False


async def calendar_feed(request: Request) -> Response:
    calendar_uid: str = request.path_params["calendar_uid"]
    client = client_ip(request)
    feed_key, client_key = f"webcal:{calendar_uid}", f"webcal-inconnu:{client}"
    # The counts may live in Redis (rate_limit): asked on a worker thread, like the database.
    wait = await in_thread(lambda: rate_limit.is_blocked(FEED_REQUESTS, feed_key)
                           or rate_limit.is_blocked(UNKNOWN_FEEDS, client_key))
    if wait:
        return PlainTextResponse("Trop de requêtes : réessayez plus tard.", status_code=429,
                                 headers={"Retry-After": str(wait)})
    await in_thread(rate_limit.record, FEED_REQUESTS, feed_key)
    try:
        feed = await within(UnitOfWork(), lambda uow: webcal.agent_feed(uow, calendar_uid))
    except (NotFound, InvalidInput):
        await in_thread(rate_limit.record, UNKNOWN_FEEDS, client_key)
        return PlainTextResponse("Calendrier introuvable : le lien a peut-être été réinitialisé.", status_code=404)
    headers = {"ETag": feed.etag, "Last-Modified": format_datetime(feed.last_modified, usegmt=True),
               "Cache-Control": CACHE_CONTROL}
    if _unchanged(request, feed):
        return Response(status_code=304, headers=headers)
    headers["Content-Disposition"] = 'inline; filename="agenda.ics"'
    return Response(feed.body, media_type="text/calendar; charset=utf-8", headers=headers)
