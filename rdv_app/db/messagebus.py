"""Handlers of domain events (rdv_app.domain.events), by event type.

The composition root (rdv_app.wiring) registers them once per process; a unit of work runs them in the
transaction of the change, just before it commits (rdv_app.db.uow). A process that records events
without having been wired fails loudly instead of silently sending nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlmodel import Session

Handler = Callable[[Session, Any], None]

_handlers: dict[type, list[Handler]] = {}
_configured = False


class NotWired(RuntimeError):
    def __init__(self) -> None:
        super().__init__("Domain events recorded in a process whose handlers are not registered: "
                         "call rdv_app.wiring.configure() at start-up.")


def register(event_type: type, handler: Handler) -> None:
    _handlers.setdefault(event_type, []).append(handler)


def mark_configured() -> None:
    global _configured
    _configured = True


def is_configured() -> bool:
    return _configured


def handlers_for(event: object) -> list[Handler]:
    if not _configured:
        raise NotWired
    return list(_handlers.get(type(event), ()))


@contextmanager
def extra_handler(event_type: type, handler: Handler) -> Iterator[None]:
    """Registers `handler` for the duration of a `with` block (tests and one-off listeners)."""
    register(event_type, handler)
    try:
        yield
    finally:
        _handlers[event_type].remove(handler)
