"""`event`: Reflex's `rx.event` (the decorator of every state event handler), annotated so that mypy reads a
handler on its State class as the `EventCallback` Reflex means it to be: `FormState.save(x)` is an event for a
trigger, checked against the handler's parameters; `.debounce(ms)` and the other event actions are there.

At run time `event` is `rx.event` itself. Only the annotation differs: `rx.event` is the class `EventNamespace`,
whose `__new__` is annotated as returning `EventCallback[*P]`, but inside that class `EventCallback` is also the
name of a class attribute, which mypy does not accept as a type; it falls back to `EventNamespace`, which is
not callable. Of `rx.event`'s options, only `background=` (the one the app uses) is declared here."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar, TypeVarTuple, overload

import reflex as rx

if TYPE_CHECKING:
    from reflex.event import EventCallback
    from reflex.state import BaseState

    _State = TypeVar("_State", bound=BaseState)
    _Args = TypeVarTuple("_Args")

    @overload
    def event(func: Callable[[_State, *_Args], Any], /) -> EventCallback[*_Args]: ...

    @overload
    def event(*, background: bool) -> Callable[[Callable[[_State, *_Args], Any]], EventCallback[*_Args]]: ...

    def event(func: Callable[..., Any] | None = None, /, *, background: bool = False) -> Any: ...
else:
    event = rx.event
