"""A webhook consumer on loopback: a real HTTP server that checks what a receiver would check.

Every POST is recorded with its headers and raw body, and both signatures are verified: the Standard
Webhooks one with the `standardwebhooks` library (which also refuses timestamps more than 5 minutes
away), and `X-Lapin-Signature` as RDV Service Public's consumers do, an HMAC-SHA256 of the raw body.
A request that fails either check gets 401. `stop()` closes the port (connection refused), `start()`
opens it again on the same port; `answer(status)` sets the status of the next answers (e.g. a 302);
`delay` holds each answer that many seconds (a receiver too slow to answer). `connections` counts the
TCP connections accepted, whatever came through them (a refused address must not even connect).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from pg import free_port
from standardwebhooks import Webhook, WebhookVerificationError


@dataclass(frozen=True)
class ReceivedWebhook:
    headers: dict[str, str]
    body: bytes
    standard_signature_ok: bool
    lapin_signature_ok: bool

    @property
    def payload(self) -> dict[str, Any]:
        return json.loads(self.body)


class WebhookReceiver:
    def __init__(self, path: str = "/webhooks/rdv") -> None:
        self.port = free_port()
        self.path = path
        self.secret = ""
        self.status = 200
        self.delay = 0.0
        self.received: list[ReceivedWebhook] = []
        self.connections = 0
        self._server: ThreadingHTTPServer | None = None
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}{self.path}"

    def answer(self, status: int) -> None:
        self.status = status

    def start(self) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                headers = {name.lower(): value for name, value in self.headers.items()}
                try:
                    Webhook(receiver.secret).verify(body, headers)
                    standard_ok = True
                except WebhookVerificationError:
                    standard_ok = False
                expected = hmac.new(receiver.secret.encode(), body, hashlib.sha256).hexdigest()
                lapin_ok = hmac.compare_digest(expected, headers.get("x-lapin-signature", ""))
                with receiver._lock:
                    receiver.received.append(ReceivedWebhook(headers, body, standard_ok, lapin_ok))
                status = receiver.status if standard_ok and lapin_ok else 401
                answer = b"ok" if status < 300 else b"<html>refus</html>"
                time.sleep(receiver.delay)
                self.send_response(status)
                if 300 <= status < 400:
                    self.send_header("Location", "https://ailleurs.example/")
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args: Any) -> None:
                return

        class Server(ThreadingHTTPServer):
            def verify_request(self, request: Any, client_address: Any) -> bool:
                with receiver._lock:
                    receiver.connections += 1
                return True

        self._server = Server(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> WebhookReceiver:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
