"""Error tracking (issue 27): with SENTRY_DSN set, an unforeseen failure reaches a loopback server that speaks
Sentry's envelope protocol, under the reference the person was shown, with its type, stack trace, release and
environment, and nothing personal: no name, email, phone number, token, exception message or local variable.
Run in a process of its own, as the app does at start."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
import threading
import zlib
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from processes import python_env

ROOT = Path(__file__).resolve().parents[2]

# A handler fails with personal data in its locals and in the database error's message.
FAILING_PROCESS = """
import sentry_sdk
from rdv_app.error_tracking import init_error_tracking
from rdv_app.state.failures import report_failure

assert init_error_tracking("recette")

def confirm(email, phone):
    usager = {"first_name": "Jeanne", "last_name": "Dupont", "email": email, "phone": phone}
    raise ValueError(f"duplicate key (email)=({email}) for Jeanne Dupont, phone {phone}, token tK3n-sEcR3t")

try:
    confirm("jeanne.dupont@example.fr", "+33612345678")
except ValueError as error:
    print(report_failure(error))
sentry_sdk.flush(timeout=10)
"""
PERSONAL = ("Jeanne", "Dupont", "jeanne.dupont@example.fr", "+33612345678", "0612345678", "tK3n-sEcR3t")


class _Collector(BaseHTTPRequestHandler):
    envelopes: list[bytes] = []

    def do_POST(self) -> None:  # noqa: N802 - the name http.server calls
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        encoding = self.headers.get("Content-Encoding", "")
        if encoding == "gzip":
            body = gzip.decompress(body)
        elif encoding == "deflate":
            body = zlib.decompress(body)
        elif encoding == "br":  # the SDK compresses so when brotli is installed (`make load` brings it)
            import brotli  # type: ignore[import-not-found,unused-ignore]

            body = brotli.decompress(body)
        self.envelopes.append(body)
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *_args: object) -> None:
        pass


@pytest.fixture
def sentry_server() -> Iterator[tuple[str, list[bytes]]]:
    _Collector.envelopes = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Collector)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://public-key@127.0.0.1:{server.server_port}/42", _Collector.envelopes
    server.shutdown()


def test_a_failure_reaches_the_tracker_under_the_persons_reference_without_personal_data(
        sentry_server: tuple[str, list[bytes]]) -> None:
    dsn, envelopes = sentry_server
    env = python_env(SENTRY_DSN=dsn)
    result = subprocess.run([sys.executable, "-c", FAILING_PROCESS], cwd=ROOT, env=env, capture_output=True,
                            text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    reference = result.stdout.strip()
    assert len(reference) == 32

    events = [json.loads(line) for envelope in envelopes for line in envelope.splitlines()[1:]
              if line.startswith(b"{") and b'"exception"' in line]
    assert [event["event_id"] for event in events] == [reference]
    [event] = events
    assert event["environment"] == "recette" and event["release"].startswith("rdv-app@")
    [exception] = event["exception"]["values"]
    assert exception["type"] == "ValueError" and "value" not in exception
    assert [frame["function"] for frame in exception["stacktrace"]["frames"]][-1] == "confirm"
    raw = b"".join(envelopes).decode()
    assert [word for word in PERSONAL if word in raw] == []
    # The log keeps the reference, so that the operator finds the event from the log too.
    assert f"réf. {reference}" in result.stderr


def test_without_a_dsn_the_reference_is_for_the_logs_only(sentry_server: tuple[str, list[bytes]]) -> None:
    _dsn, envelopes = sentry_server
    env = python_env()
    env.pop("SENTRY_DSN", None)
    result = subprocess.run([sys.executable, "-c", FAILING_PROCESS.replace('assert init_error_tracking("recette")',
                                                                            'assert not init_error_tracking("recette")')],
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    assert len(result.stdout.strip()) == 8 and envelopes == []
