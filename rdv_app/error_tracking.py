"""Error tracking with Sentry (or any server that speaks its protocol), on when `SENTRY_DSN` is set.

Nothing personal leaves: no default PII, no local variables, no request bodies, cookies, headers or
state, no breadcrumb text, and no exception message (a database error quotes the values it refused, names
and phone numbers included): an event carries the exception's type, its stack trace, the release and
the environment. The reference shown to a person whose request failed (rdv_app.state.failures) is the
event's id, so that an operator finds the event from what the person quotes.
"""

from __future__ import annotations

import os
from importlib.metadata import version

import sentry_sdk
from sentry_sdk.integrations.logging import ignore_logger
from sentry_sdk.types import Breadcrumb, BreadcrumbHint, Event, Hint

DSN_SETTING = "SENTRY_DSN"
_KEPT_REQUEST_FIELDS = ("method", "url")


def init_error_tracking(environment: str) -> bool:
    """Starts the client when SENTRY_DSN is set; whether it did."""
    dsn = os.environ.get(DSN_SETTING, "").strip()
    if not dsn:
        return False
    sentry_sdk.init(dsn=dsn, environment=environment, release=f"rdv-app@{version('rdv-app')}",
                    send_default_pii=False, include_local_variables=False, max_request_body_size="never",
                    before_send=scrub_event, before_breadcrumb=scrub_breadcrumb)
    # The failure handler reports its exception itself, with the reference the person sees.
    ignore_logger("rdv_app.state.failures")
    return True


def capture(exception: BaseException) -> str | None:
    """The event id of `exception` sent to the tracker, or None when tracking is off."""
    if not sentry_sdk.get_client().is_active():
        return None
    return sentry_sdk.capture_exception(exception)


def scrub_event(event: Event, _hint: Hint) -> Event:
    request = event.get("request")
    if request:
        event["request"] = {key: request[key] for key in _KEPT_REQUEST_FIELDS if key in request}
    event.pop("user", None)
    event.pop("extra", None)
    event.pop("server_name", None)
    for exception in (event.get("exception") or {}).get("values", []):
        exception.pop("value", None)
        for frame in (exception.get("stacktrace") or {}).get("frames", []):
            frame.pop("vars", None)
    event.pop("logentry", None)
    event.pop("message", None)
    event.get("contexts", {}).pop("state", None)
    return event


def scrub_breadcrumb(breadcrumb: Breadcrumb, _hint: BreadcrumbHint) -> Breadcrumb:
    return {key: breadcrumb[key] for key in ("type", "category", "level", "timestamp") if key in breadcrumb}
