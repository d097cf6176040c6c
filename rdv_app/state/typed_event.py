"""`event`: Reflex's `rx.event` (the decorator of every state event handler), annotated so that mypy reads a
handler on its State class as the `EventCallback` Reflex means it to be: `FormState.save(x)` is an event for a
trigger, checked against the handler's parameters; `.debounce(ms)` and the other event actions are there.

At run time `event` is `rx.event` itself. Only the annotation differs: `rx.event` is the class `EventNamespace`,
whose `__new__` is annotated as returning `EventCallback[*P]`, but inside that class `EventCallback` is also the
name of a class attribute, which mypy does not accept as a type; it falls back to `EventNamespace`, which is
not callable. Of `rx.event`'s options, only `background=` (the one the app uses) is declared here.

`busy="saving"` names the flag that shows the handler's button loading: the handler sets it when its request
starts, and it is put back to False however the handler ends (done, refused by a service, a field left
wrong, an early return, an exception), so that a refusal never leaves a spinner turning. The flags so named
are also those `rdv_app.state.failures` releases after a failure (`busy_flags`).

At run time each handler is also wrapped once (`_observed`, issue 27): its records carry a fresh `event_id`,
the handler's name and the organisation chosen in the tab (rdv_app.logs), and its duration goes to
`rdv_event_handler_seconds` (rdv_app.metrics). The wrapper keeps the handler's kind (coroutine, async
generator, function, generator), its name and its signature, which Reflex reads."""

from __future__ import annotations

import functools
import inspect
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, TypeVar, TypeVarTuple, overload

import reflex as rx

from rdv_app import logs
from rdv_app.metrics import EVENT_HANDLER

if TYPE_CHECKING:
    from reflex.event import EventCallback
    from reflex.state import BaseState

    _State = TypeVar("_State", bound=BaseState)
    _Args = TypeVarTuple("_Args")

    @overload
    def event(func: Callable[[_State, *_Args], Any], /) -> EventCallback[*_Args]: ...

    @overload
    def event(*, background: bool = False, busy: str | None = None
              ) -> Callable[[Callable[[_State, *_Args], Any]], EventCallback[*_Args]]: ...

    def event(func: Callable[..., Any] | None = None, /, *, background: bool = False,
              busy: str | None = None) -> Any: ...
else:
    def event(func: Callable[..., Any] | None = None, /, *, background: bool = False,
              busy: str | None = None) -> Any:
        if func is None:
            return lambda function: rx.event(_observed(_releasing(function, busy)), background=background)
        return rx.event(_observed(func), background=background)

_BUSY_FLAGS: set[str] = set()


def busy_flags() -> frozenset[str]:
    """Every flag a handler declared with `busy=`."""
    return frozenset(_BUSY_FLAGS)


def _releasing(fn: Callable[..., Any], flag: str | None) -> Callable[..., Any]:
    """The handler, its `flag` set back to False on every way out."""
    if flag is None:
        return fn
    _BUSY_FLAGS.add(flag)
    wrapped: Callable[..., Any]
    if inspect.isasyncgenfunction(fn):
        async def wrapped(self: Any, *args: Any, **kwargs: Any) -> Any:
            try:
                async for update in fn(self, *args, **kwargs):
                    yield update
            finally:
                setattr(self, flag, False)
    elif inspect.iscoroutinefunction(fn):
        async def wrapped(self: Any, *args: Any, **kwargs: Any) -> Any:
            try:
                return await fn(self, *args, **kwargs)
            finally:
                setattr(self, flag, False)
    else:
        raise TypeError(f"{fn.__qualname__}: only a coroutine or an async generator handler has a busy flag")
    return functools.wraps(fn)(wrapped)


def _organisation_of(state: Any) -> str | None:
    """The organisation chosen in the tab (agent pages), when the state has one."""
    try:
        return state.current_org_id or None
    except Exception:  # a state without it (public pages, sign-in)
        return None


@contextmanager
def _handling(state: Any, name: str) -> Iterator[None]:
    start = time.perf_counter()
    with logs.context(event_id=logs.new_event_id(), organisation_id=_organisation_of(state), handler=name):
        try:
            yield
        finally:
            EVENT_HANDLER.labels(handler=name).observe(time.perf_counter() - start)


def _observed(fn: Callable[..., Any]) -> Callable[..., Any]:
    name = fn.__qualname__
    wrapped: Callable[..., Any]
    if inspect.isasyncgenfunction(fn):
        async def wrapped(self: Any, *args: Any, **kwargs: Any) -> Any:
            with _handling(self, name):
                async for update in fn(self, *args, **kwargs):
                    yield update
    elif inspect.iscoroutinefunction(fn):
        async def wrapped(self: Any, *args: Any, **kwargs: Any) -> Any:
            with _handling(self, name):
                return await fn(self, *args, **kwargs)
    elif inspect.isgeneratorfunction(fn):
        def wrapped(self: Any, *args: Any, **kwargs: Any) -> Any:
            with _handling(self, name):
                yield from fn(self, *args, **kwargs)
    else:
        def wrapped(self: Any, *args: Any, **kwargs: Any) -> Any:
            with _handling(self, name):
                return fn(self, *args, **kwargs)
    return functools.wraps(fn)(wrapped)
