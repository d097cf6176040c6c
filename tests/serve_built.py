"""Serves, on one port, the production frontend already built in `.web` for that port and the backend, as
`reflex run --env prod --single-port` does once it has built. `reflex run` builds the frontend again every
time (a minute or more on two cores); the browser tests' servers use this after the first build for a port.
The caller sets REFLEX_ENV_MODE, the ports and Reflex's skip-compile flag (tests/app_server.py)."""

import sys

from reflex.utils import exec as reflex_exec
from reflex_base.config import get_config

port = int(sys.argv[1])
config = get_config()
reflex_exec.run_backend_prod(config.backend_host, port, config.loglevel.subprocess_level(),
                             mount_frontend_compiled_app=True)
