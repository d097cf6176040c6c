"""Rate limits shared by every process of the app through Redis (REFLEX_REDIS_URL), as in production
with several app servers: a real redis-server on a free loopback port, and two Python processes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from processes import python_env

ROOT = Path(__file__).resolve().parents[2]

# Each process records failed logins for the same key, then says whether the key is blocked.
PROCESS = """
import sys
from rdv_app.auth import rate_limit
for _ in range(int(sys.argv[1])):
    rate_limit.record(rate_limit.LOGIN_FAILURES, "login:email:camille@demo.test")
print(type(rate_limit.storage()).__name__, rate_limit.is_blocked(rate_limit.LOGIN_FAILURES,
                                                                  "login:email:camille@demo.test") > 0)
"""



def _process(failures: int, redis_url: str | None) -> str:
    env = python_env()
    env.pop("REFLEX_REDIS_URL", None)
    if redis_url:
        env["REFLEX_REDIS_URL"] = redis_url
    result = subprocess.run([sys.executable, "-c", PROCESS, str(failures)], cwd=ROOT, env=env, capture_output=True,
                            text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_two_processes_share_the_limit_through_redis(redis_url: str) -> None:
    assert _process(3, redis_url) == "RedisStorage False"
    # The second process has seen 2 failures itself: the 5 together block the address for both.
    assert _process(2, redis_url) == "RedisStorage True"
    assert _process(0, redis_url) == "RedisStorage True"


def test_without_redis_each_process_counts_alone() -> None:
    assert _process(3, None) == "MemoryStorage False"
    assert _process(2, None) == "MemoryStorage False"
