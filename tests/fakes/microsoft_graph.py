"""Microsoft identity platform and Graph calendar on loopback (admin-domain.md 11.6), one HTTP server.

Identity (`/<tenant>/oauth2/v2.0/...`):
- `GET authorize`: checks the client, the registered redirect_uri, `response_type=code`, the scopes of
  11.2, `state`, an S256 `code_challenge`; shows a consent page for the `login_hint` account whose button
  goes back with a single-use code (or `error=access_denied` when `deny` is set);
- `POST token`: client_secret_post; `authorization_code` checks the code once, its redirect_uri and the
  PKCE verifier against the challenge; `refresh_token` accepts only a live refresh token and rotates it (a
  new pair each time, the old refresh token dead). `refuse_refresh` answers `invalid_grant`,
  `token_unavailable` a 503.
Graph (`/v1.0/me/events`): `POST` creates (201 `{id}`; a reused `transactionId` is refused with
`ErrorDuplicateTransactionId`), `PATCH`/`DELETE /{id}` (unknown id: 404 `ErrorItemNotFound`), `GET` with
`$filter=transactionId eq '...'`. A bearer that is not a live access token gets 401.
Misbehaviour on demand: `failures` (a queue of (status, code, Retry-After) answered to the next Graph
calls), `unauthorized_next` (401s to the next calls), `expire_access_tokens()`, `fail_deletes`, `delete_delay`, `hold_posts`.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
import time
from collections import deque
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlparse
from zoneinfo import ZoneInfo

from pg import free_port
from tzlocal.windows_tz import win_tz

TENANT = "common"
REQUIRED_SCOPES = {"offline_access", "openid", "email", "profile", "User.Read", "Calendars.ReadWrite"}


class FakeMicrosoft:
    def __init__(self, *, client_id: str = "azure-app-id", client_secret: str = "azure-secret-0123456789",
                 redirect_uris: tuple[str, ...] = ()) -> None:
        self.client_id, self.client_secret = client_id, client_secret
        self.redirect_uris = set(redirect_uris)
        self.port = free_port()
        self.deny = False
        self.refuse_refresh = False
        self.token_unavailable = False
        self.fail_deletes = False
        self.delete_delay = 0.0  # seconds each DELETE takes (a slow mailbox: a disconnection shows its progress)
        # `hold_posts`: a POST creates its event, then its answer waits for `release` (a worker killed
        # meanwhile never hears it); `held` is set while one waits.
        self.hold_posts = False
        self.held = threading.Event()
        self.release = threading.Event()
        self.unauthorized_next = 0
        self.failures: deque[tuple[int, str, str | None]] = deque()
        self.events: dict[str, dict[str, Any]] = {}
        self.transactions: dict[str, str] = {}  # transactionId -> event id (kept after a delete, as Graph)
        self.requests: list[tuple[str, str, str]] = []  # (method, path, bearer)
        self.authorize_requests: list[dict[str, str]] = []
        self.token_requests: list[dict[str, str]] = []
        self.access_token = ""  # the latest issued
        self.refresh_token = ""
        self._valid_access: set[str] = set()  # one pair per connected account; a refresh rotates its pair
        self._valid_refresh: set[str] = set()
        self._codes: dict[str, dict[str, str]] = {}
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    def __enter__(self) -> FakeMicrosoft:
        server = ThreadingHTTPServer(("127.0.0.1", self.port), _Handler)
        server.daemon_threads = True
        server.fake = self  # type: ignore[attr-defined]
        self._server = server
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def __exit__(self, *_exc: object) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def environment(self) -> dict[str, str]:
        return {"RDV_MICROSOFT_CLIENT_ID": self.client_id, "RDV_MICROSOFT_CLIENT_SECRET": self.client_secret,
                "RDV_MICROSOFT_LOGIN_URL": self.url, "RDV_MICROSOFT_GRAPH_URL": f"{self.url}/v1.0"}

    def issue_tokens(self, replacing: str | None = None) -> dict[str, Any]:
        """A new access and refresh token pair; the refresh token it replaces stops working."""
        with self._lock:
            self._valid_refresh.discard(replacing or "")
            self.access_token = "at-" + secrets.token_urlsafe(24)
            self.refresh_token = "rt-" + secrets.token_urlsafe(24)
            self._valid_access.add(self.access_token)
            self._valid_refresh.add(self.refresh_token)
            return {"token_type": "Bearer", "expires_in": 3600, "scope": " ".join(sorted(REQUIRED_SCOPES)),
                    "access_token": self.access_token, "refresh_token": self.refresh_token}

    def expire_access_tokens(self) -> None:
        with self._lock:
            self._valid_access.clear()

    def calendar(self) -> list[dict[str, Any]]:
        """The events of the mailbox, each with its `instant` (start, aware) read from its Windows zone."""
        with self._lock:
            events = [dict(event) for event in self.events.values()]
        for event in events:
            event["instant"] = instant(event["start"])
            event["end_instant"] = instant(event["end"])
        return sorted(events, key=lambda event: event["instant"])

    # ------------------------------------------------------------------------------------ identity

    def authorize(self, params: dict[str, str]) -> tuple[int, dict[str, str], str]:
        self.authorize_requests.append(params)
        problems = []
        if params.get("client_id") != self.client_id:
            problems.append("client_id")
        if params.get("redirect_uri") not in self.redirect_uris:
            problems.append("redirect_uri")
        if params.get("response_type") != "code" or not set(params.get("scope", "").split()) >= REQUIRED_SCOPES:
            problems.append("response_type or scope")
        if len(params.get("state", "")) < 32:
            problems.append("state")
        if params.get("code_challenge_method") != "S256" or len(params.get("code_challenge", "")) != 43:
            problems.append("code_challenge")
        if problems:
            return 400, {}, f"<p>invalid request: {', '.join(problems)}</p>"
        if self.deny:
            query = {"error": "access_denied", "error_description": "The user cancelled", "state": params["state"]}
        else:
            code = secrets.token_urlsafe(24)
            with self._lock:
                self._codes[code] = params
            query = {"code": code, "state": params["state"]}
        target = f"{params['redirect_uri']}?{urlencode(query)}"
        account = params.get("login_hint", "")
        page = (f'<!doctype html><html lang="fr"><head><title>Microsoft (faux)</title></head><body><main>'
                f"<h1>Autoriser l'accès à votre calendrier</h1><p>Compte : {account}</p>"
                f'<a href="{target}">Accepter</a></main></body></html>')
        return 200, {}, page

    def token(self, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        self.token_requests.append(form)
        if self.token_unavailable:
            return 503, {"error": "temporarily_unavailable"}
        if (form.get("client_id"), form.get("client_secret")) != (self.client_id, self.client_secret):
            return 401, {"error": "invalid_client"}
        if form.get("grant_type") == "authorization_code":
            with self._lock:
                request = self._codes.pop(form.get("code", ""), None)
            if request is None or form.get("redirect_uri") != request["redirect_uri"]:
                return 400, {"error": "invalid_grant"}
            challenge = base64.urlsafe_b64encode(hashlib.sha256(form.get("code_verifier", "").encode()).digest())
            if challenge.rstrip(b"=").decode() != request["code_challenge"]:
                return 400, {"error": "invalid_grant", "error_description": "PKCE verification failed"}
            return 200, self.issue_tokens()
        if form.get("grant_type") == "refresh_token":
            if self.refuse_refresh or form.get("refresh_token") not in self._valid_refresh:
                return 400, {"error": "invalid_grant", "error_description": "AADSTS70008: expired or revoked"}
            return 200, self.issue_tokens(replacing=form["refresh_token"])
        return 400, {"error": "unsupported_grant_type"}

    # ------------------------------------------------------------------------------------ graph

    def graph(self, method: str, path: str, params: dict[str, str], bearer: str,
              body: dict[str, Any] | None) -> tuple[int, dict[str, Any] | None, dict[str, str]]:
        self.requests.append((method, path, bearer))
        if method == "DELETE" and self.delete_delay:
            time.sleep(self.delete_delay)
        with self._lock:
            if self.unauthorized_next > 0 or bearer not in self._valid_access:
                self.unauthorized_next = max(self.unauthorized_next - 1, 0)
                return 401, _error("InvalidAuthenticationToken", "Access token has expired."), {}
            if self.failures:
                status, code, retry_after = self.failures.popleft()
                return status, _error(code, "Injected failure"), {"Retry-After": retry_after} if retry_after else {}
            parts = path.removeprefix("/v1.0/me/events").strip("/")
            if method == "POST" and not parts:
                transaction = (body or {}).get("transactionId")
                if transaction in self.transactions:
                    return 400, _error("ErrorDuplicateTransactionId", "Duplicate transactionId"), {}
                event_id = "evt-" + secrets.token_urlsafe(12)
                self.events[event_id] = {**(body or {}), "id": event_id}
                if transaction:
                    self.transactions[transaction] = event_id
                return 201, self.events[event_id], {}
            if method == "GET" and not parts:
                wanted = params.get("$filter", "").removeprefix("transactionId eq '").removesuffix("'")
                event_id = self.transactions.get(wanted)
                found = [{"id": event_id}] if event_id in self.events else []
                return 200, {"value": found}, {}
            if parts not in self.events:
                return 404, _error("ErrorItemNotFound", "The specified object was not found in the store."), {}
            if method == "PATCH":
                self.events[parts].update(body or {})
                return 200, self.events[parts], {}
            if method == "DELETE":
                if self.fail_deletes:
                    return 500, _error("ErrorInternalServerError", "Injected"), {}
                del self.events[parts]
                return 204, None, {}
        return 405, _error("ErrorInvalidRequest", "Unsupported"), {}


def instant(moment: dict[str, str]) -> datetime:
    """The aware instant of a Graph dateTimeTimeZone (Windows zone name, or UTC)."""
    zone = "UTC" if moment["timeZone"] == "UTC" else win_tz[moment["timeZone"]]
    return datetime.fromisoformat(moment["dateTime"]).replace(tzinfo=ZoneInfo(zone))


def _error(code: str, message: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": message}}


class _Handler(BaseHTTPRequestHandler):
    server: ThreadingHTTPServer

    def log_message(self, *_args: object) -> None:
        return

    @property
    def fake(self) -> FakeMicrosoft:
        return self.server.fake  # type: ignore[attr-defined]

    def _send(self, status: int, body: Any, content_type: str = "application/json",
              headers: dict[str, str] | None = None) -> None:
        data = b"" if body is None else (body.encode() if isinstance(body, str) else json.dumps(body).encode())
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _route(self, method: str) -> None:
        url = urlparse(self.path)
        params = {k: v[0] for k, v in parse_qs(url.query).items()}
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        if url.path == f"/{TENANT}/oauth2/v2.0/authorize" and method == "GET":
            status, headers, page = self.fake.authorize(params)
            self._send(status, page, "text/html; charset=utf-8", headers)
        elif url.path == f"/{TENANT}/oauth2/v2.0/token" and method == "POST":
            form = {k: v[0] for k, v in parse_qs(raw.decode()).items()}
            status, answer = self.fake.token(form)
            self._send(status, answer)
        elif url.path.startswith("/v1.0/me/events"):
            bearer = self.headers.get("Authorization", "").removeprefix("Bearer ").strip()
            body = json.loads(raw) if raw else None
            status, answer, headers = self.fake.graph(method, url.path, params, bearer, body)
            if method == "POST" and status == 201 and self.fake.hold_posts:
                self.fake.held.set()
                self.fake.release.wait(60)
            self._send(status, answer, headers=headers)
        else:
            self._send(404, {"error": {"code": "NotFound", "message": url.path}})

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        self._route("GET")

    def do_POST(self) -> None:  # noqa: N802
        self._route("POST")

    def do_PATCH(self) -> None:  # noqa: N802
        self._route("PATCH")

    def do_DELETE(self) -> None:  # noqa: N802
        self._route("DELETE")
