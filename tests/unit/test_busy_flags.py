"""A handler's busy flag (`event(busy=...)`, rdv_app.state.typed_event) is put back however it ends: a
refusal must never leave a spinner turning (issue 25)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from rdv_app.services.errors import DomainError, PermissionDenied
from rdv_app.state.failures import backend_exception_handler
from rdv_app.state.typed_event import _releasing, busy_flags


class Page:
    saving = False
    seen_while_running: list[bool]

    def __init__(self) -> None:
        self.seen_while_running = []


async def _save(page: Page, refuse: str) -> Any:
    page.saving = True
    yield
    page.seen_while_running.append(page.saving)
    if refuse == "early":
        return
    if refuse == "raise":
        raise PermissionDenied()


async def _run(handler: Any, page: Page, refuse: str) -> None:
    async for _ in handler(page, refuse):
        pass


@pytest.mark.parametrize("refuse", ["early", "raise", ""])
def test_the_flag_is_released_on_every_way_out(refuse: str) -> None:
    page = Page()
    handler = _releasing(_save, "saving")

    try:
        asyncio.run(_run(handler, page, refuse))
    except DomainError:
        assert refuse == "raise"

    assert page.seen_while_running == [True]  # the button shows its loading state while the request runs
    assert page.saving is False
    assert "saving" in busy_flags()


def test_without_the_helper_a_refusal_leaves_the_flag_set() -> None:
    """What the helper prevents: the same handler, not wrapped, ends with its spinner on."""
    page = Page()
    with pytest.raises(DomainError):
        asyncio.run(_run(_save, page, "raise"))
    assert page.saving is True


def test_a_refusal_that_reaches_reflex_is_shown_in_french_not_as_an_error() -> None:
    toast, release = backend_exception_handler(PermissionDenied("Vous n'avez pas accès à cette organisation."))
    assert "Vous n'avez pas accès à cette organisation." in str(toast)
    assert "Une erreur est survenue" not in str(toast)
    assert "release_busy_flags" in str(release)
