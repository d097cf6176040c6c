"""The production server (one port) as `make run` serves it, started by the browser tests and `make load`."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import psutil
from pg import free_port

from rdv_app import serve_built

ROOT = Path(__file__).resolve().parents[1]
WEB = ROOT / ".web"
# The port the frontend in `.web` was last built for by this process, and the port the servers that name
# none share, so that they build once (rdv_app.serve_built).
_built_for: int | None = None
_shared_port: int | None = None
# The server now on the shared port: a server started there later stops it first (the browser tests that
# start their own run last, after every test of the session's server).
_on_shared_port: subprocess.Popen | None = None


def shared_port() -> int:
    """One port for this process's servers that name none, one after another: the first builds the frontend
    for it (its address is in the JavaScript), the next ones serve that build."""
    global _shared_port
    if _shared_port is None:
        _shared_port = free_port()
    return _shared_port


def _serves_built_frontend(port: int) -> bool:
    """Whether `.web` holds the frontend this process built for `port`, not one built since for another
    port (by another server's build)."""
    try:
        endpoints = json.loads((WEB / "env.json").read_text())
    except (OSError, ValueError):
        return False
    return (_built_for == port and endpoints.get("PING") == f"http://localhost:{port}/ping"
            and (WEB / "build" / "client" / "index.html").exists())


def wait_for(url: str, process: subprocess.Popen, log: Path, timeout: float = 600) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the app server exited ({process.returncode}):\n{log.read_text()[-4000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise RuntimeError(f"the app server did not answer in {timeout}s:\n{log.read_text()[-4000:]}")


@contextlib.contextmanager
def running_app(database_url: str, data: Path, port: int | None = None, **environment: str) -> Iterator[str]:
    """The production server (one port) on `database_url`, as `make run` serves it, with `environment`
    over the test's own: migrated (and, in the demo, seeded) by `cli prepare` first. Yields its URL.
    Without `port`, the server takes `shared_port()` and, after the first time, the frontend built for it."""
    global _built_for, _on_shared_port
    port = port or shared_port()
    if port == _shared_port and _on_shared_port is not None:
        _stop(_on_shared_port)
    base_url = f"http://localhost:{port}"
    env = {**os.environ, "REFLEX_DB_URL": database_url, "RDV_PUBLIC_URL": base_url,
           "REFLEX_TELEMETRY_ENABLED": "false", "REFLEX_CHECK_LATEST_VERSION": "false",
           "PYTHONUNBUFFERED": "1", **environment}
    subprocess.run([sys.executable, "-m", "rdv_app.cli", "prepare"], cwd=ROOT, env=env, check=True,
                   capture_output=True)
    env.update(serve_built.environment(port))
    log = data / f"server-{port}.log"
    with log.open("w") as out:
        # The frontend is built for the port by a process that exits, then served by a fresh one (as `cli serve`).
        if not _serves_built_frontend(port) and subprocess.run(serve_built.build_command(), cwd=ROOT, env=env,
                                                               stdout=out, stderr=subprocess.STDOUT).returncode:
            raise RuntimeError(f"the frontend build failed:\n{log.read_text()[-4000:]}")
        process = subprocess.Popen(serve_built.serve_command(port), cwd=ROOT,
                                   env={**env, **serve_built.serve_environment(env)}, stdout=out,
                                   stderr=subprocess.STDOUT, start_new_session=True)
    if port == _shared_port:
        _on_shared_port = process
    try:
        wait_for(f"http://127.0.0.1:{port}/_health", process, log)
        _built_for = port
        yield base_url
    finally:
        _stop(process)
        if _on_shared_port is process:
            _on_shared_port = None


def _stop(process: subprocess.Popen) -> None:
    """Stops a server and its processes, unless a test (or a later server on its port) did already."""
    if process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)


def server_master(port: int) -> psutil.Process:
    """The master process (rdv_app.serve_built) of the app server listening on `port`; its worker is its child."""
    process = psutil.Process(next(c.pid for c in psutil.net_connections(kind="tcp")
                                  if c.laddr and c.laddr.port == port and c.status == psutil.CONN_LISTEN and c.pid))
    while (parent := process.parent()) is not None and "rdv_app.serve_built" in " ".join(parent.cmdline()):
        process = parent
    return process
