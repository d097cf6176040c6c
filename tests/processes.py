"""The environment of the Python processes the tests start (the CLI, servers, workers)."""

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def python_env(**overrides: str) -> dict[str, str]:
    """This process's environment with the project first on the import path. Whatever PYTHONPATH already
    held stays after it: `make test-future` puts the clock shift there, and a child process that lost it
    would live on today's date while its test lives 400 days ahead."""
    path = [str(ROOT), *filter(None, os.environ.get("PYTHONPATH", "").split(os.pathsep))]
    return {**os.environ, "PYTHONPATH": os.pathsep.join(path), **overrides}
