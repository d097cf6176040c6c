"""An HTTP server on loopback that speaks the part of the OVHcloud API we use (integrations.md section 4).

- `GET /1.0/auth/time`: the server clock, a bare JSON integer;
- `POST /1.0/sms/{service}/jobs`: checks X-Ovh-Application, X-Ovh-Consumer, X-Ovh-Timestamp and
  X-Ovh-Signature ("$1$" + sha1(AS+CK+METHOD+full URL+body+timestamp)) like OVH does, then answers an
  `sms.SmsSendingReport` and records the message, with its `tag`;
- `GET /1.0/sms/{service}/jobs` (ids of the SMS still pending) and `GET .../jobs/{id}` (an `sms.Job`,
  which has no tag);
- `GET /1.0/sms/{service}/outgoing?tag=&receiver=&sender=` (ids of the SMS sent, filtered) and
  `GET .../outgoing/{id}` (an `sms.Outgoing`, with its tag).
Every call but the clock is signed and checked the same way.

A job leaves at once (it is listed among outgoing SMS) unless `keep_pending` is set: it then stays among the
pending jobs until `send_pending()`.

It can be told to fail: `go_down("http500" | "http503" | "timeout" | "refuse")` and `come_back()`;
`invalid_receivers` holds numbers it reports as invalid; `allowed_senders` the senders it accepts.
To stop or kill a worker at a precise step, a call can be held until `release(accept=...)`:
`hang_on(text)` holds the job carrying that text before recording it (accept=False answers 503 as if OVH
never got it); `hang_after_accepting(text)` records it, then holds the answer; `hang_clock()` holds
`GET /auth/time`, the first call of a fresh client. `hung` is set while a call is held, `answered` once its
answer is written.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import re
import threading
import time
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

from pg import free_port

from rdv_app.notify.sms import OvhSettings

Mode = Literal["up", "http500", "http503", "timeout", "refuse"]
Hold = Literal["job", "answer", "clock"]
_JOBS = re.compile(r"/1\.0/sms/(?P<service>[^/?]+)/jobs")
_LISTS = re.compile(r"/1\.0/sms/(?P<service>[^/?]+)/(?P<kind>jobs|outgoing)(?:/(?P<id>\d+))?")
# OVH writes its datetimes in Paris time with the offset.
_OVH_ZONE = ZoneInfo("Europe/Paris")
# OVH refuses requests whose timestamp is too far from its clock.
_MAX_CLOCK_SKEW = 180


@dataclass
class ReceivedSms:
    id: int
    service: str
    receivers: list[str]
    message: str
    sender: str | None
    body: dict[str, Any]
    created_at: datetime
    pending: bool = False

    @property
    def tag(self) -> str | None:
        return self.body.get("tag")

    def _common(self) -> dict[str, Any]:
        """The fields `sms.Job` and `sms.Outgoing` share."""
        created = self.created_at.astimezone(_OVH_ZONE).isoformat(timespec="seconds")
        return {"id": self.id, "creationDatetime": created, "credits": 1.0, "deliveredAt": None,
                "deliveryReceipt": 0, "differedDelivery": 0, "message": self.message,
                "messageLength": len(self.message), "numberOfSms": 1, "ptt": 0, "receiver": self.receivers[0],
                "sender": self.sender or "", "sentAt": None if self.pending else created}

    def as_job(self) -> dict[str, Any]:
        return self._common()

    def as_outgoing(self) -> dict[str, Any]:
        return {**self._common(), "batchID": None, "messageID": None, "tag": self.tag or "", "tariffCode": "FR"}


class FakeOvh:
    def __init__(self, *, application_key: str = "fake-application-key",
                 application_secret: str = "fake-application-secret",
                 consumer_key: str = "fake-consumer-key", service_name: str = "sms-ab12345-1",
                 keep_messages: bool = True) -> None:
        self.application_key = application_key
        self.application_secret = application_secret
        self.consumer_key = consumer_key
        self.service_name = service_name
        self.port = free_port()
        self.invalid_receivers: set[str] = set()
        self.allowed_senders: set[str] | None = None
        self.hang_seconds = 2.0
        self.mode: Mode = "up"
        self.refused_calls: list[str] = []
        # Benchmarks only count, so that the server's memory does not hide the worker's.
        self.keep_messages = keep_messages
        self.accepted = 0
        self.keep_pending = False
        self.hung = threading.Event()
        self.answered = threading.Event()
        self._hang_text: str | None = None
        self._hold: Hold | None = None
        self._released = threading.Event()
        self._accept_hung = True
        self._received: list[ReceivedSms] = []
        self._ids = itertools.count(1_000_001)
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------------------------------ lifecycle

    def __enter__(self) -> FakeOvh:
        self._listen()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._close()

    def _listen(self) -> None:
        server = ThreadingHTTPServer(("127.0.0.1", self.port), _Handler)
        server.daemon_threads = True
        server.fake = self  # type: ignore[attr-defined]
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()

    def _close(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def go_down(self, mode: Mode = "http503") -> None:
        self.mode = mode
        if mode == "refuse":
            self._close()  # nothing listens: connections are refused

    def come_back(self) -> None:
        if self.mode == "refuse":
            self._listen()
        self.mode = "up"

    def hang_on(self, text: str) -> None:
        self._hold_next("job", text)

    def hang_after_accepting(self, text: str) -> None:
        self._hold_next("answer", text)

    def hang_clock(self) -> None:
        self._hold_next("clock", None)

    def _hold_next(self, hold: Hold, text: str | None) -> None:
        self._hold, self._hang_text = hold, text
        self.hung.clear()
        self.answered.clear()
        self._released.clear()

    def release(self, *, accept: bool) -> None:
        """Lets the held call go on: accepted (or answered), or answered 503 as if OVH never got it."""
        self._accept_hung = accept
        self._hold = self._hang_text = None
        self._released.set()

    def _wait_if_held(self, hold: Hold, text: str | None = None) -> bool | None:
        """Waits while this is the held call: None when it is not held, else whether to go on."""
        if self._hold != hold or text != self._hang_text:
            return None
        self.hung.set()
        self._released.wait(timeout=60)
        return self._accept_hung

    def send_pending(self) -> None:
        """The pending jobs leave: they are listed among the outgoing SMS from now on."""
        with self._lock:
            for sms in self._received:
                sms.pending = False

    # ------------------------------------------------------------------------------------ state

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}/1.0"

    def settings(self, **overrides: Any) -> OvhSettings:
        values = {"endpoint": self.endpoint, "application_key": self.application_key,
                  "application_secret": self.application_secret, "consumer_key": self.consumer_key,
                  "service_name": self.service_name, "sender": "RDV S.P."}
        values.update(overrides)
        return OvhSettings(**values)

    @property
    def received(self) -> list[ReceivedSms]:
        with self._lock:
            return list(self._received)

    def count_by_message(self) -> Counter[str]:
        with self._lock:
            return Counter(sms.message for sms in self._received)

    def _record(self, service: str, body: dict[str, Any]) -> dict[str, Any]:
        invalid = [number for number in body["receivers"] if number in self.invalid_receivers]
        valid = [number for number in body["receivers"] if number not in self.invalid_receivers]
        created_at = datetime.now(_OVH_ZONE)
        with self._lock:
            ids = [next(self._ids) for _ in valid]
            self.accepted += len(ids)
            if self.keep_messages:
                self._received.extend(
                    ReceivedSms(id=sms_id, service=service, receivers=[number], message=body["message"],
                                sender=body.get("sender"), body=body, created_at=created_at,
                                pending=self.keep_pending)
                    for sms_id, number in zip(ids, valid, strict=True)
                )
        return {"ids": ids, "invalidReceivers": invalid, "validReceivers": valid,
                "totalCreditsRemoved": float(len(valid))}

    def _listing(self, kind: str, sms_id: str | None, query: dict[str, list[str]]) -> tuple[int, Any]:
        """`GET .../jobs[/{id}]` and `GET .../outgoing[/{id}]`, as OVH answers them."""
        with self._lock:
            listed = [sms for sms in self._received if sms.pending == (kind == "jobs")]
        if sms_id is not None:
            for sms in listed:
                if sms.id == int(sms_id):
                    return 200, sms.as_job() if kind == "jobs" else sms.as_outgoing()
            return 404, {"class": "Client::NotFound",
                         "message": f"The requested object (id = {sms_id}) does not exist"}
        if kind == "outgoing":
            filters = {"tag": lambda sms: sms.tag or "", "receiver": lambda sms: sms.receivers[0],
                       "sender": lambda sms: sms.sender or ""}
            for name, field in filters.items():
                if name in query:
                    listed = [sms for sms in listed if field(sms) == query[name][0]]
        return 200, sorted(sms.id for sms in listed)

    def _note_refused(self, error_code: str) -> None:
        with self._lock:
            self.refused_calls.append(error_code)

    def check_signature(self, method: str, url: str, body: str, headers: Any) -> tuple[int, dict] | None:
        """None when the request is signed as OVH requires, else the error OVH would answer."""
        if headers.get("X-Ovh-Application") != self.application_key:
            return 403, {"errorCode": "INVALID_KEY", "httpCode": "403 Forbidden",
                         "message": "This application key is invalid"}
        if headers.get("X-Ovh-Consumer") != self.consumer_key:
            return 403, {"errorCode": "INVALID_CREDENTIAL", "httpCode": "403 Forbidden",
                         "message": "This credential does not exist"}
        timestamp = headers.get("X-Ovh-Timestamp", "")
        if not timestamp.isdigit() or abs(int(timestamp) - int(time.time())) > _MAX_CLOCK_SKEW:
            return 400, {"errorCode": "QUERY_TIME_OUT", "httpCode": "400 Bad Request",
                         "message": "Query out of time"}
        signed = "+".join([self.application_secret, self.consumer_key, method, url, body, timestamp])
        expected = "$1$" + hashlib.sha1(signed.encode("utf-8")).hexdigest()
        if headers.get("X-Ovh-Signature") != expected:
            return 400, {"errorCode": "INVALID_SIGNATURE", "httpCode": "400 Bad Request",
                         "message": "Invalid signature"}
        return None


def _check_job(body: Any, allowed_senders: set[str] | None) -> str | None:
    """The validation OVH applies to `sms.JobCreation`, as far as our calls go."""
    if not isinstance(body, dict):
        return "Invalid body"
    if not isinstance(body.get("message"), str) or not body["message"]:
        return "Missing parameter message"
    receivers = body.get("receivers")
    if not isinstance(receivers, list) or not receivers or not all(isinstance(r, str) for r in receivers):
        return "Missing parameter receivers"
    if body.get("coding", "7bit") not in ("7bit", "8bit"):
        return "Invalid value for coding"
    if body.get("class", "phoneDisplay") not in ("flash", "phoneDisplay", "sim", "toolkit"):
        return "Invalid value for class"
    if body.get("priority", "high") not in ("high", "medium", "low", "veryLow"):
        return "Invalid value for priority"
    if not isinstance(body.get("tag", ""), str):
        return "Invalid value for tag"
    sender = body.get("sender")
    if sender is not None and allowed_senders is not None and sender not in allowed_senders:
        return f"The sender {sender} does not exist"
    return None


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as the SDK's requests.Session expects
    # Headers and body go out in two writes: without this, delayed ACKs cost 40 ms per call.
    disable_nagle_algorithm = True

    @property
    def fake(self) -> FakeOvh:
        return self.server.fake  # type: ignore[attr-defined]

    def log_message(self, *_args: Any) -> None:
        pass

    def _answer(self, status: int, payload: Any) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("X-Ovh-QueryId", f"FR.fake-{time.monotonic_ns()}")
        self.end_headers()
        try:
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client gave up waiting ("timeout" mode)

    def _unavailable(self) -> bool:
        mode = self.fake.mode
        if mode == "up":
            return False
        if mode == "refuse":
            # A connection kept alive from before: drop it without an answer.
            self.close_connection = True
        elif mode == "timeout":
            time.sleep(self.fake.hang_seconds)
            self._answer(503, {"message": "Service Unavailable"})
        elif mode == "http500":
            self._answer(500, {"message": "Internal server error"})
        else:
            self._answer(503, {"message": "Service Unavailable"})
        return True

    def _refused(self, method: str, raw: str) -> bool:
        """Answers OVH's error when the call is not signed right."""
        url = f"http://{self.headers['Host']}{self.path}"
        if error := self.fake.check_signature(method, url, raw, self.headers):
            status, payload = error
            self.fake._note_refused(payload["errorCode"])
            self._answer(status, payload)
            return True
        return False

    def do_GET(self) -> None:
        if self._unavailable():
            return
        if self.path == "/1.0/auth/time":
            if self.fake._wait_if_held("clock") is False:
                self._answer(503, {"message": "Service Unavailable"})
                return
            self._answer(200, int(time.time()))
            return
        parts = urlsplit(self.path)
        match = _LISTS.fullmatch(parts.path)
        if match is None or match["service"] != self.fake.service_name:
            self._answer(404, {"message": f"Got an invalid (or empty) URL: {self.path}"})
            return
        if self._refused("GET", ""):
            return
        self._answer(*self.fake._listing(match["kind"], match["id"], parse_qs(parts.query)))

    def do_POST(self) -> None:
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode("utf-8")
        if self._unavailable():
            return
        match = _JOBS.fullmatch(self.path)
        if match is None or match["service"] != self.fake.service_name:
            self._answer(404, {"message": "This service does not exist"})
            return
        if self._refused("POST", raw):
            return
        try:
            body = json.loads(raw)
        except ValueError:
            body = None
        if problem := _check_job(body, self.fake.allowed_senders):
            self._answer(400, {"message": problem})
            return
        if self.fake._wait_if_held("job", body["message"]) is False:
            self._answer(503, {"message": "Service Unavailable"})
            self.fake.answered.set()
            return
        report = self.fake._record(match["service"], body)
        self.fake._wait_if_held("answer", body["message"])
        self._answer(200, report)
        self.fake.answered.set()
