"""Security headers of the HTTP routes (rdv_app.api.http.security_headers) on the real routes: the pages
the server renders itself get a Content-Security-Policy that allows no inline script, and HSTS is sent
whenever the app is served under https."""

from __future__ import annotations

import re
import warnings

import pytest
from starlette.exceptions import StarletteDeprecationWarning

from rdv_app import routes
from rdv_app.api import http
from rdv_app.config import Settings

with warnings.catch_warnings():
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from starlette.testclient import TestClient

INLINE_SCRIPT = re.compile(r"<script(?![^>]*\ssrc=)[^>]*>", re.IGNORECASE)


def _client() -> TestClient:
    return TestClient(http.security_headers(http.http_routes), follow_redirects=False)


def test_server_rendered_pages_allow_no_inline_script() -> None:
    page = _client().get(routes.USAGER_LINK)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    policy = {part.split()[0]: part.split()[1:] for part in page.headers["content-security-policy"].split("; ")}
    assert policy["default-src"] == ["'none'"] and policy["script-src"] == ["'self'"]
    assert policy["base-uri"] == ["'none'"] and policy["frame-ancestors"] == ["'self'"]
    assert "'unsafe-inline'" not in policy["script-src"]
    assert INLINE_SCRIPT.search(page.text) is None
    [source] = re.findall(r'<script[^>]*\ssrc="([^"]+)"', page.text)
    script = _client().get(source)
    assert script.status_code == 200 and script.headers["content-type"].startswith("text/javascript")
    assert "addEventListener" in script.text


def test_hsts_only_under_https(monkeypatch: pytest.MonkeyPatch) -> None:
    assert "strict-transport-security" not in _client().get(routes.HEALTH).headers
    monkeypatch.setattr(http, "settings", Settings(public_url="https://rdv.example.fr"))
    for path in (routes.HEALTH, routes.USAGER_LINK):
        hsts = _client().get(path).headers["strict-transport-security"]
        assert hsts == "max-age=63072000; includeSubDomains"
