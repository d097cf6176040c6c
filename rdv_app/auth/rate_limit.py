"""Rate limits (the `limits` library, moving windows, in-process memory storage).

The production server is one process; several processes would share a Redis storage instead
(`limits.storage.RedisStorage`), which is one line here.
"""

from __future__ import annotations

from limits import RateLimitItem, parse
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter

from rdv_app.domain import clock

_storage = MemoryStorage()
_limiter = MovingWindowRateLimiter(_storage)

LOGIN_FAILURES = parse("5/minute")


def is_blocked(limit: RateLimitItem, *keys: str) -> int:
    """Seconds to wait when any of the keys has used up the limit, else 0."""
    wait = 0
    for key in keys:
        if not _limiter.test(limit, key):
            reset_at = _limiter.get_window_stats(limit, key).reset_time
            wait = max(wait, max(1, int(reset_at - clock.timestamp()) + 1))
    return wait


def record(limit: RateLimitItem, *keys: str) -> None:
    for key in keys:
        _limiter.hit(limit, key)


def reset_all() -> None:
    _storage.reset()
