"""Address suggestions of the usagers' records against the Base Adresse Nationale's API served on loopback:
what it answers, and nothing but None when it is unreachable, slow, failing or answering nonsense."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import pytest
from fakes.ban_server import FakeBan
from pg import free_port

from rdv_app.services.integrations.addresses import TIMEOUT, AddressSuggestion, suggest_addresses


@pytest.fixture
def ban() -> Iterator[FakeBan]:
    with FakeBan() as server:
        yield server


def _suggest(query: str, base_url: str) -> list[AddressSuggestion] | None:
    return asyncio.run(suggest_addresses(query, base_url=base_url))


def test_suggestions_carry_the_postal_and_insee_codes(ban: FakeBan) -> None:
    assert _suggest("  1 rue de la paix arras ", ban.url) == [
        AddressSuggestion("1 Rue de la Paix 62000 Arras", "62000", "62041", "Arras", "62041_0570_00001",
                          "Rue de la Paix"),
        AddressSuggestion("10 Rue de la Paix 62000 Arras", "62000", "62041", "Arras", "62041_0570_00010",
                          "Rue de la Paix"),
    ]
    assert ban.queries == ["1 rue de la paix arras"]
    assert _suggest("general gaulle saint", ban.url) == [
        AddressSuggestion("12 Rue du Général de Gaulle 97400 Saint-Denis", "97400", "97411", "Saint-Denis",
                          "97411_1234_00012", "Rue du Général de Gaulle")]
    assert _suggest("rue inconnue nulle part", ban.url) == []


def test_short_queries_are_not_sent(ban: FakeBan) -> None:
    assert _suggest("1 ", ban.url) == []
    assert ban.queries == []


def test_an_unreachable_service_gives_none() -> None:
    assert _suggest("1 rue de la paix", f"http://127.0.0.1:{free_port()}") is None


def test_a_slow_service_gives_none_after_the_timeout(ban: FakeBan) -> None:
    ban.delay = TIMEOUT.read + 1  # type: ignore[operator]
    started = time.monotonic()
    assert _suggest("1 rue de la paix", ban.url) is None
    assert time.monotonic() - started < ban.delay


def test_an_error_or_another_shape_gives_none(ban: FakeBan) -> None:
    ban.status = 503
    assert _suggest("1 rue de la paix", ban.url) is None
    ban.status = 200
    assert _suggest("1 rue de la paix", f"{ban.url}/ailleurs") is None  # a 404
