"""Rate limits (the `limits` library, moving windows).

Where the counts live: in Redis when `REFLEX_REDIS_URL` is set (the Redis of Reflex's state manager), so
that every process of the app, on every machine, counts the same attempts; in this process's memory
otherwise (one app process, as `make run`). Callers pass keys that hold the client's real address
(rdv_app.api.client_address, and Reflex's `trusted_proxy_hops` for websocket events).
"""

from __future__ import annotations

import os

from limits import RateLimitItem, parse
from limits.storage import MemoryStorage, Storage, storage_from_string
from limits.strategies import MovingWindowRateLimiter

from rdv_app.domain import clock

REDIS_URL_SETTING = "REFLEX_REDIS_URL"


def _storage_from_env() -> Storage:
    url = os.environ.get(REDIS_URL_SETTING, "").strip()
    storage = storage_from_string(url) if url else MemoryStorage()
    if not isinstance(storage, Storage):  # limits also builds asyncio storages ("async+redis://")
        raise RuntimeError(f"{REDIS_URL_SETTING} doit désigner un stockage synchrone (reçu : {url!r}).")
    return storage


_storage = _storage_from_env()
_limiter = MovingWindowRateLimiter(_storage)

LOGIN_FAILURES = parse("5/minute")


def storage() -> Storage:
    return _storage


def shared_storage_answers() -> bool | None:
    """Whether the Redis of the limits answers; None when there is none (counts in this process)."""
    if isinstance(_storage, MemoryStorage):
        return None
    return bool(_storage.check())


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
