"""Locust users that speak to the app as a usager's browser does: a websocket on `/_event` carrying
Reflex's events as engine.io / socket.io text frames (the protocol is described in
tests/e2e/test_forged_events_socket.py), one tab each. The frames are written and read here directly over
`websocket-client` (cooperative under Locust's gevent) rather than through python-socketio's client, whose
threads and queues cost Locust more CPU per event than the server spends handling it.

- `WeekPagingUsager`: at a random moment of the second Locust starts it (arrivals spread as people's are,
  not all at each second's tick), opens the booking week of a motif (the page load: `hydrate_and_load`), then pages
  weeks forward by clicking « Semaine suivante » (the page's `change_week` event: the week shown in place,
  its address pushed into the history; or a load of that address when the page asks for it), reading each
  week for a second or so, and comes back to the first week as the back button does (a client-side
  navigation: `on_load_internal` with that address). Timed: "chargement de la page", "semaine suivante" and
  "retour à la première semaine".
- `BookingUsager`: signed in (a session opened by `tests/load/run.py`), opens the recap of its own slot and
  presses "Confirmer mon RDV" once. Timed: "ouvrir le récapitulatif et confirmer"; a failure when the answer is not the
  confirmation page.

Settings come from the environment (`run.py` sets them): LOAD_TARGETS (the app processes' base URLs,
spread over the users), LOAD_ORIGIN (the public origin every process accepts), LOAD_WEEK (the week's path and query), LOAD_BOOKINGS (JSON: one path and session
cookie per booking user), LOAD_FRONTEND (JSON: what the built frontend sends when it connects, its state
schema and the hashes of its compiled initial state; with them the server sends only the vars that differ
from the defaults the page already holds, as it does to a browser).
"""

from __future__ import annotations

import itertools
import json
import os
import random
import time
import uuid
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import gevent
import websocket
from locust import User, between, events, task
from locust.exception import StopUser

NAMESPACE = "/_event"
# Engine.IO 4 packets: "0" open, "2" ping (the server's), "3" pong, "4" message; a socket.io packet rides in
# a message: "0" connect, "2" event, "4" connect error, "1" disconnect, followed by the namespace and a comma.
EVENT_FRAME = f"42{NAMESPACE},"
ENDED_FRAMES = (f"44{NAMESPACE}", f"41{NAMESPACE}", "1")
ANSWER_SECONDS = 30
STATE = "reflex___state____state"
BOOKING_STATE = f"{STATE}.rdv_app___state___public_booking____public_booking_state"
HYDRATE = f"{STATE}.hydrate_and_load"
ON_LOAD = f"{STATE}.reflex___state____on_load_internal_state.on_load_internal"
CONFIRM = f"{BOOKING_STATE}.confirm"
CHANGE_WEEK = f"{BOOKING_STATE}.change_week"
NEXT_WEEK, PREVIOUS_WEEK = "next_week_href_rx_state_", "previous_week_href_rx_state_"
SESSION_COOKIE = "rdv_usager_session"

_targets = itertools.cycle(os.environ.get("LOAD_TARGETS", "").split(","))
_bookings = iter(json.loads(os.environ.get("LOAD_BOOKINGS", "[]")))
_frontend: dict[str, Any] = json.loads(os.environ.get("LOAD_FRONTEND", "{}"))


def _router(path: str) -> dict[str, Any]:
    parts = urlsplit(path)
    return {"pathname": parts.path, "asPath": path, "query": dict(parse_qsl(parts.query))}


class Tab:
    """One tab's socket; `wait_for_*` read the server's updates until one satisfies a condition."""

    def __init__(self, base_url: str, path: str, cookie: str = "") -> None:
        self.origin = os.environ.get("LOAD_ORIGIN") or base_url
        self.socket_url = base_url.replace("http", "ws", 1) + f"{NAMESPACE}/?EIO=4&transport=websocket"
        self.path, self.cookie = path, cookie
        self.ws: websocket.WebSocket | None = None
        self.received = 0  # bytes of the updates read since the last `_timed` action began
        self.shown: dict[str, Any] = {}  # the booking page's fields as the updates left them

    def open(self) -> None:
        """Connects with the page's first event in the socket.io CONNECT packet, as Reflex's frontend does."""
        self.ws = websocket.create_connection(f"{self.socket_url}&token={uuid.uuid4()}", origin=self.origin,
                                              cookie=self.cookie or None, timeout=ANSWER_SECONDS,
                                              enable_multithread=False)
        opened = self.ws.recv()
        if not opened.startswith("0"):
            raise ConnectionError(f"not an engine.io open packet: {opened[:80]}")
        payload: dict[str, Any] = {"vars": {}}
        if "hashes" in _frontend:
            payload["hashes"] = _frontend["hashes"]
        boot = {"name": HYDRATE, "payload": payload, "router_data": _router(self.path)}
        auth = {"event": boot} | ({"state_schema": _frontend["state_schema"]} if "state_schema" in _frontend else {})
        self.ws.send("40" + NAMESPACE + "," + json.dumps(auth))

    def send(self, name: str, path: str, **payload: Any) -> None:
        self.path = path
        event = {"name": name, "payload": payload, "router_data": _router(path)}
        self._socket().send(EVENT_FRAME + json.dumps(["event", event]))

    def wait_for_page(self) -> dict[str, Any]:
        """Until the booking page has loaded (its `loading` back to false); the page's last delta."""
        while True:
            delta = self._next().get("delta", {}).get(BOOKING_STATE, {})
            if delta.get("loading_rx_state_") is False:
                return delta

    def click_week(self, which: str, href: str) -> None:
        """A plain click on a link to another week (`href`): the week shown in place, or, when the page
        answers with a redirect to that address, that page loaded as the browser then does."""
        self.send(CHANGE_WEEK, self.path, which=which)
        while True:
            answered = {event.get("name") for event in self._next().get("events", [])}
            if "_redirect" in answered:
                self.send(ON_LOAD, href)
                self.wait_for_page()
                return
            if "_call_script" in answered:  # the week's update, with the address pushed into the history
                self.path = href
                return

    def wait_for_redirect(self) -> str:
        while True:
            for event in self._next().get("events", []):
                if event.get("name") == "_redirect":
                    return str(event.get("payload", {}).get("path", ""))

    def _socket(self) -> websocket.WebSocket:
        if self.ws is None:
            raise ConnectionError("the tab is not open")
        return self.ws

    def _next(self) -> dict[str, Any]:
        """The next update the server sends, answering its pings meanwhile."""
        ws = self._socket()
        while True:
            try:
                frame = ws.recv()
            except websocket.WebSocketTimeoutException:
                raise TimeoutError(f"no answer in {ANSWER_SECONDS} s") from None
            if frame.startswith(EVENT_FRAME):
                self.received += len(frame)
                name, update = json.loads(frame[len(EVENT_FRAME):])[:2]
                if name == "event":
                    self.shown.update(update.get("delta", {}).get(BOOKING_STATE, {}))
                    return dict(update)
            elif frame == "2":
                ws.send("3")
            elif frame.startswith(ENDED_FRAMES):
                raise ConnectionError(f"the server closed the socket: {frame[:200]}")

    def close(self) -> None:
        if self.ws is not None:
            self.ws.close()
            self.ws = None


def _timed(name: str, tab: Tab, action: Any) -> Any:
    """Runs `action` and reports it to Locust: its time, and as its length the bytes of the updates the tab
    read meanwhile (Locust's « Average Content Size »)."""
    tab.received = 0
    started = time.perf_counter()
    error: BaseException | None = None
    result = None
    try:
        result = action()
    except Exception as exc:  # noqa: BLE001 - any failure is the request's failure, reported to locust
        error = exc
    events.request.fire(request_type="socket.io", name=name, response_time=(time.perf_counter() - started) * 1000,
                        response_length=tab.received, exception=error, context={})
    return result


class WeekPagingUsager(User):
    wait_time = between(0.5, 1.5)

    def on_start(self) -> None:
        # Locust starts a second's new users all at once, at each second's tick (its dispatcher starts
        # `spawn rate` users, then sleeps a second): 40 tabs opened at the same instant every second for
        # 200 users. People do not arrive in step: each opens the page at a random moment of its second,
        # the same number per second.
        gevent.sleep(random.random())
        self.tab = Tab(next(_targets), os.environ["LOAD_WEEK"])
        self.first_week = self.tab.path
        self.weeks_ahead = 0
        opened = _timed("chargement de la page", self.tab, lambda: (self.tab.open(), self.tab.wait_for_page())[1])
        if not opened or opened.get("step_rx_state_") != "creneau":
            raise StopUser

    @task
    def page_weeks(self) -> None:
        """Forward three weeks, then back to the first one, as someone looking for a free morning: the links
        the page shows (« Semaine suivante », and « Semaine précédente » of the second week for the first)."""
        following = self.tab.shown.get(NEXT_WEEK, "")
        if self.weeks_ahead < 3 and following:
            self.weeks_ahead += 1
            _timed("semaine suivante", self.tab, lambda: self.tab.click_week("next", following))
            if self.weeks_ahead == 1 and self.tab.shown.get(PREVIOUS_WEEK):
                self.first_week = self.tab.shown[PREVIOUS_WEEK]
        else:
            self.weeks_ahead = 0
            _timed("retour à la première semaine", self.tab,
                   lambda: (self.tab.send(ON_LOAD, self.first_week), self.tab.wait_for_page()))

    def on_stop(self) -> None:
        self.tab.close()


class BookingUsager(User):
    wait_time = between(0, 0)

    def on_start(self) -> None:
        try:
            booking = next(_bookings)
        except StopIteration:
            raise StopUser from None
        self.tab = Tab(next(_targets), booking["path"], f"{SESSION_COOKIE}={booking['session']}")

    @task
    def confirm(self) -> None:
        def book() -> str:
            self.tab.open()
            page = self.tab.wait_for_page()
            if page.get("step_rx_state_") != "recap":
                raise AssertionError(f"the recap did not open: {page.get('step_rx_state_')}")
            self.tab.send(CONFIRM, self.tab.path)
            target = self.tab.wait_for_redirect()
            if not target.startswith("/prendre_rdv/confirmation"):
                raise AssertionError(f"not booked: sent to {target}")
            return target

        _timed("ouvrir le récapitulatif et confirmer", self.tab, book)
        self.tab.close()
        raise StopUser
