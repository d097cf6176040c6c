"""The ANTS hub on loopback, written from integrations.md section 1.

- It serves the coordination API (`/api/status`, `/api/appointments`) as ANTS does: every parameter in
  the query string (POST and DELETE too), the token in `x-rdv-opt-auth-token` (401
  `{"detail": "X-RDV-OPT-AUTH-TOKEN header invalid"}` otherwise), numbers with a status set by the test
  (`numbers`), appointments kept per number, (application_id, management_url) unique. `fail_next` makes
  the next calls answer 500 (an outage), `delay` holds each answer (a timeout), `hold` keeps the calls
  waiting until `release` (`held` is set once one waits); `calls` records every call as (method, path,
  params).
- It calls an editor API as the hub does (`call_editor`): the token header in lower case, repeated
  parameters without brackets, the hub's timeouts (20 s for meeting points, 15 s for slots).
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
from pg import free_port

TOKEN = "jeton-coordination-de-test"
EDITOR_TIMEOUTS = {"getManagedMeetingPoints": 20.0, "availableTimeSlots": 15.0, "searchApplicationIds": 15.0}


class FakeAntsHub:
    def __init__(self, token: str = TOKEN) -> None:
        self.port = free_port()
        self.token = token
        self.numbers: dict[str, str] = {}  # application_id -> status
        self.appointments: dict[str, list[dict[str, str]]] = {}
        self.calls: list[tuple[str, str, dict[str, str]]] = []
        self.fail_next = 0
        self.delay = 0.0
        self.held = threading.Event()
        self._open = threading.Event()
        self._open.set()
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        """The coordination API's base, as RDV_ANTS_API_URL holds it."""
        return f"http://127.0.0.1:{self.port}/api"

    def declared(self, application_id: str) -> list[dict[str, str]]:
        with self._lock:
            return [dict(a) for a in self.appointments.get(application_id, [])]

    def hold(self) -> None:
        self._open.clear()

    def release(self) -> None:
        self._open.set()

    def calls_to(self, method: str, path: str) -> list[dict[str, str]]:
        return [params for m, p, params in self.calls if m == method and p == path]

    def _answer(self, method: str, path: str, params: dict[str, str], token: str) -> tuple[int, Any]:
        if token != self.token:
            return 401, {"detail": "X-RDV-OPT-AUTH-TOKEN header invalid"}
        if self.fail_next > 0:
            self.fail_next -= 1
            return 500, {"detail": "Internal Server Error"}
        if method == "GET" and path == "/api/status":
            ids = params.get("application_ids", "").split(",")
            return 200, {i: {"status": self.numbers.get(i, "unknown"),
                             "appointments": [dict(a) for a in self.appointments.get(i, [])]} for i in ids}
        if path != "/api/appointments":
            return 404, {"detail": "Not Found"}
        number = params.get("application_id", "")
        kept = self.appointments.setdefault(number, [])
        if method == "POST":
            if self.numbers.get(number) != "validated":
                return 400, {"detail": "application_id not validated"}
            if any(a["management_url"] == params.get("management_url") for a in kept):
                return 400, {"detail": "appointment already exists"}
            kept.append({key: params.get(key, "") for key in
                         ("meeting_point", "meeting_point_id", "appointment_date", "management_url")})
            return 200, {"success": True}
        if method == "DELETE":
            match = [a for a in kept if all(a[k] == params.get(k) for k in
                                            ("meeting_point", "meeting_point_id", "appointment_date"))]
            for appointment in match:
                kept.remove(appointment)
            return 200, {"rowcount": len(match)}
        return 405, {"detail": "Method Not Allowed"}

    def start(self) -> None:
        hub = self

        class Handler(BaseHTTPRequestHandler):
            def _handle(self) -> None:
                url = urlsplit(self.path)
                params = {key: values[-1] for key, values in parse_qs(url.query).items()}
                time.sleep(hub.delay)
                if not hub._open.is_set():
                    hub.held.set()
                    hub._open.wait(30)
                with hub._lock:
                    hub.calls.append((self.command, url.path, params))
                    status, body = hub._answer(self.command, url.path, params,
                                               self.headers.get("x-rdv-opt-auth-token", ""))
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_DELETE = _handle  # noqa: N815 - http.server's naming

            def log_message(self, *args: Any) -> None:
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FakeAntsHub:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def call_editor(base_url: str, endpoint: str, params: list[tuple[str, str]], token: str | None,
                *, client: httpx.Client | None = None) -> httpx.Response:
    """A GET of our editor API as the hub sends it: lower-case token header, repeated keys, its timeout."""
    headers = {"x-hub-rdv-auth-token": token} if token is not None else {}
    url = f"{base_url}/api/ants/{endpoint}?{urlencode(params)}"
    if client is not None:
        return client.get(url, headers=headers, timeout=EDITOR_TIMEOUTS[endpoint])
    return httpx.get(url, headers=headers, timeout=EDITOR_TIMEOUTS[endpoint])
