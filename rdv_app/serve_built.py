"""The production server (one port) in two processes, one after the other: `build_command` builds the frontend
for the port into `.web` (`reflex export --frontend-only`, the build `reflex run --env prod` does before it
serves) and exits; then `python -m rdv_app.serve_built PORT`, a fresh process that never built, serves that
build and the backend (`reflex run` would serve from workers forked from the process that built, ~130 MiB
more each). `cli serve` and the browser tests' servers (tests/app_server.py) start them with `environment`.
"""

from __future__ import annotations

import sys


def environment(port: int) -> dict[str, str]:
    """Reflex's settings for both processes: production mode, the port of the frontend's URLs and of the
    server (as `reflex run --env prod --single-port --frontend-port PORT --backend-port PORT`)."""
    return {"REFLEX_ENV_MODE": "prod", "REFLEX_FRONTEND_PORT": str(port), "REFLEX_BACKEND_PORT": str(port)}


def build_command() -> list[str]:
    return [sys.executable, "-m", "reflex", "export", "--frontend-only", "--no-zip", "--env", "prod"]


def serve_command(port: int) -> list[str]:
    return [sys.executable, "-m", "rdv_app.serve_built", str(port)]


# Reflex's flag that the frontend is built: the server process does not compile the app again.
SERVE_ENVIRONMENT = {"__REFLEX_SKIP_COMPILE": "true"}


def main(port: int) -> None:
    from reflex.utils import exec as reflex_exec
    from reflex_base.config import get_config

    config = get_config()
    reflex_exec.run_backend_prod(config.backend_host, port, config.loglevel.subprocess_level(),
                                 mount_frontend_compiled_app=True)


if __name__ == "__main__":
    main(int(sys.argv[1]))
