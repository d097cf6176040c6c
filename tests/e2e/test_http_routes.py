"""Plain HTTP behaviour of the production server: health, security headers, session cookie exchange."""

from __future__ import annotations

import json
import socket
import urllib.error
import urllib.parse
import urllib.request

from playwright.sync_api import Page, expect


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def _get(url: str, headers: dict[str, str] | None = None):
    opener = urllib.request.build_opener(_NoRedirect)
    try:
        return opener.open(urllib.request.Request(url, headers=headers or {}), timeout=10)
    except urllib.error.HTTPError as response:
        return response


def test_health_answers_with_the_database_state(app_url: str) -> None:
    response = _get(f"{app_url}/_health")
    assert response.status == 200
    assert json.loads(response.read()) == {"status": "ok", "database": "ok"}


def test_pages_carry_security_headers(app_url: str) -> None:
    response = _get(f"{app_url}/connexion/")
    assert response.status == 200
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert response.headers["Content-Security-Policy"] == "frame-ancestors 'self'"
    assert response.headers["X-Frame-Options"] == "SAMEORIGIN"


def test_a_get_on_the_session_routes_opens_and_ends_no_session(app_url: str) -> None:
    for path in ("/_auth/session?ticket=invente", "/_auth/sortie"):
        response = _get(f"{app_url}{path}")
        assert response.status == 405
        assert "Set-Cookie" not in response.headers


def test_the_page_of_a_get_on_the_session_routes_is_accessible(page: Page, app_url: str,
                                                                assert_accessible) -> None:
    page.goto(f"{app_url}/_auth/session?ticket=invente")
    expect(page.get_by_role("heading", level=1)).to_have_text("Connexion à l'espace agents")
    assert_accessible(page)
    page.get_by_role("link", name="Aller à la page de connexion").click()
    page.wait_for_url(f"{app_url}/connexion**")


def _websocket_handshake_status(app_url: str, origin: str) -> int:
    parsed = urllib.parse.urlsplit(app_url)
    request = (
        "GET /_event/?EIO=4&transport=websocket HTTP/1.1\r\n"
        f"Host: {parsed.netloc}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
        "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
        f"Origin: {origin}\r\n\r\n"
    )
    with socket.create_connection((parsed.hostname, parsed.port), timeout=10) as sock:
        sock.sendall(request.encode())
        status_line = sock.recv(1024).split(b"\r\n", 1)[0].decode()
    return int(status_line.split()[1])


def test_websocket_refuses_foreign_origins(app_url: str) -> None:
    """The websocket accepts the app's own origin only (Reflex's default would be '*')."""
    assert _websocket_handshake_status(app_url, "https://attaquant.example") == 403
    assert _websocket_handshake_status(app_url, app_url) == 101
