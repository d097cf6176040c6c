"""Lifetimes of sign-in sessions and tickets."""

from __future__ import annotations

from datetime import datetime, timedelta
from urllib.parse import urlsplit

AGENT_SESSION_IDLE_TIMEOUT = timedelta(days=14)
# Whatever the activity, a session ends this long after its sign-in: a working day for agents (the
# default of RDV_AGENT_SESSION_HOURS, rdv_app.config), a month for usagers, who sign in from their phone.
AGENT_SESSION_LIFETIME_HOURS = 12
USAGER_SESSION_LIFETIME = timedelta(days=30)
LOGIN_TICKET_LIFETIME = timedelta(minutes=2)
# Writing last_seen_at on every page view would turn reads into writes; a minute is precise enough
# for a 14-day idle rule.
SESSION_TOUCH_INTERVAL = timedelta(minutes=1)


def session_is_active(created_at: datetime, last_seen_at: datetime, now: datetime, *, revoked: bool,
                      idle_timeout: timedelta, lifetime: timedelta) -> bool:
    """Not revoked, used within the idle timeout, and younger than its absolute lifetime."""
    return not revoked and now - last_seen_at < idle_timeout and now - created_at < lifetime


def session_needs_touch(last_seen_at: datetime, now: datetime) -> bool:
    return now - last_seen_at >= SESSION_TOUCH_INTERVAL


def safe_next_path(value: str | None, default: str = "/espace") -> str:
    """Only local absolute paths may follow a login: no scheme, no host, no protocol-relative URL, and no
    control or invisible character (browsers drop tabs and newlines, so that a slash, a tab and a slash
    make a protocol-relative URL)."""
    if (not value or not value.isprintable() or not value.startswith("/") or value.startswith("//")
            or "\\" in value):
        return default
    parts = urlsplit(value)
    if parts.scheme or parts.netloc:
        return default
    return value
