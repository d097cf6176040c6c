"""The address of the person behind a request, through the reverse proxies we trust.

Behind RDV_TRUSTED_PROXIES proxies (a number of hops, 0 by default: the app faces the internet), the
peer of every request is the nearest proxy; each proxy appends the address it received the request from
to X-Forwarded-For, so the client is the entry that many places from the end, and whatever comes before
it is the client's own claim. Reflex reads the same setting (`trusted_proxy_hops`, rxconfig.py) for the
client address of its websocket events.
"""

from __future__ import annotations

from starlette.requests import Request

from rdv_app.config import settings

UNKNOWN = "0.0.0.0"  # noqa: S104 - a label, not a bind address


def client_ip(request: Request) -> str:
    peer = request.client.host if request.client else UNKNOWN
    hops = settings.trusted_proxies
    if not hops:
        return peer
    forwarded = [address.strip() for header in request.headers.getlist("x-forwarded-for")
                 for address in header.split(",") if address.strip()]
    return forwarded[-hops] if len(forwarded) >= hops else peer
