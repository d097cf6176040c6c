"""The production server (one port) in two processes, one after the other: `build_command` builds the frontend
for the port into `.web` (`reflex export --frontend-only`, the build `reflex run --env prod` does before it
serves) and exits; then `python -m rdv_app.serve_built PORT`, a fresh process that never built, serves that
build and the backend (`reflex run` would serve from workers forked from the process that built, ~130 MiB
more each). `cli serve` and the browser tests' servers (tests/app_server.py) start them with `environment`.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping

# The pid of the server's master process, for its worker (rdv_app.recycle).
MASTER_SETTING = "RDV_SERVER_MASTER_PID"


def environment(port: int) -> dict[str, str]:
    """Reflex's settings for both processes: production mode, the port of the frontend's URLs and of the
    server (as `reflex run --env prod --single-port --frontend-port PORT --backend-port PORT`)."""
    return {"REFLEX_ENV_MODE": "prod", "REFLEX_FRONTEND_PORT": str(port), "REFLEX_BACKEND_PORT": str(port)}


def build_command() -> list[str]:
    return [sys.executable, "-m", "reflex", "export", "--frontend-only", "--no-zip", "--env", "prod"]


def serve_command(port: int) -> list[str]:
    return [sys.executable, "-m", "rdv_app.serve_built", str(port)]


def serve_environment(environ: Mapping[str, str]) -> dict[str, str]:
    """What the serving process adds to `environ`. Reflex's flag that the frontend is built (the server does
    not compile the app again). With Redis (several app processes), unless the operator set them:
    - Reflex's opportunistic lock: a page's state stays in the memory of the process that serves its tab
      and is written back to Redis at the latest after the lock's hold time (5 s, half of Reflex's lock
      expiration), or at once when another process asks for it (a tab reconnected elsewhere); an event
      no longer reads and writes the state in Redis each time (a quarter less CPU per event under load);
    - one worker: an instance scales by its app processes, one per core (`deploy/`), each a worker that
      keeps its tabs' states (Reflex's default is twice the cores plus one workers per process, about 190
      MiB each; two processes of two workers on two cores had twice the 95th-percentile latency of two
      processes of one, `make load`)."""
    defaults = {"REFLEX_OPLOCK_ENABLED": "true", "GRANIAN_WORKERS": "1"} \
        if environ.get("REFLEX_REDIS_URL", "").strip() else {}
    return {"__REFLEX_SKIP_COMPILE": "true", **{k: v for k, v in defaults.items() if k not in environ}}


def main(port: int) -> None:
    from reflex.utils import exec as reflex_exec
    from reflex_base.config import get_config

    # Its worker may ask this process (Granian's master) for a fresh one (rdv_app.recycle).
    os.environ[MASTER_SETTING] = str(os.getpid())
    config = get_config()
    reflex_exec.run_backend_prod(config.backend_host, port, config.loglevel.subprocess_level(),
                                 mount_frontend_compiled_app=True)


if __name__ == "__main__":
    main(int(sys.argv[1]))
