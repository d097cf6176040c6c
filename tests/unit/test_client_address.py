"""The client's address behind trusted reverse proxies, for our HTTP routes and for Reflex's websocket."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from processes import python_env
from starlette.requests import Request

from rdv_app.api import client_address
from rdv_app.config import Settings

ROOT = Path(__file__).resolve().parents[2]


def _request(peer: str, *forwarded_for: str) -> Request:
    headers = [(b"x-forwarded-for", value.encode()) for value in forwarded_for]
    return Request({"type": "http", "method": "GET", "path": "/", "headers": headers, "client": (peer, 50000)})


@pytest.mark.parametrize(("hops", "forwarded", "expected"), [
    (0, ("203.0.113.7",), "10.0.0.2"),  # no proxy trusted: the header is anyone's claim
    (1, ("198.51.100.1, 203.0.113.7",), "203.0.113.7"),
    (1, ("198.51.100.1", "203.0.113.7"), "203.0.113.7"),  # the header repeated
    (2, ("198.51.100.1, 203.0.113.7, 10.0.0.1",), "203.0.113.7"),
    (2, ("203.0.113.7",), "10.0.0.2"),  # fewer entries than proxies: not through the chain
    (1, (), "10.0.0.2"),
])
def test_the_client_is_the_entry_the_trusted_proxies_appended(monkeypatch: pytest.MonkeyPatch, hops: int,
                                                              forwarded: tuple[str, ...], expected: str) -> None:
    monkeypatch.setattr(client_address, "settings", Settings(trusted_proxies=hops))
    assert client_address.client_ip(_request("10.0.0.2", *forwarded)) == expected


def _reflex_hops(value: str) -> subprocess.CompletedProcess[str]:
    env = python_env(RDV_TRUSTED_PROXIES=value)
    code = "from reflex.config import get_config; print(get_config().trusted_proxy_hops)"
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120, check=False)


def test_reflex_reads_the_same_number_of_proxies_for_its_websocket() -> None:
    result = _reflex_hops("2")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "2"


def test_a_wrong_number_of_proxies_stops_the_start(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RDV_TRUSTED_PROXIES", "10.0.0.0/8")
    with pytest.raises(ValueError, match="RDV_TRUSTED_PROXIES"):
        Settings()
