"""Show in place, keep the link: a link whose plain click runs one event instead of loading its address
(`plain_click`), the event then writing that address into the tab's history (`history_push`). The link stays
a real link: a new tab, a copied address, no script, back, forward and reload all load its address as a page.

Used by the links to another week of slots (the usagers' booking, « Changer la date », the prescripteurs'
search): the state re-reads the week only, and the page does not load again."""

from __future__ import annotations

import json
from typing import Any, cast

import reflex as rx
from reflex.constants import Imports
from reflex.event import EventCallback, EventChain, EventSpec, pointer_event_spec
from reflex.vars import FunctionStringVar, VarData
from reflex_base.components.state_context import get_event_app_wraps

# Reflex's `addEvents`, called only for a plain click (the main button, no modifier key): the click's default
# (following the link) is then prevented; a ctrl/cmd/shift/middle click follows the link as any link does.
# The second click of a double click (`detail` 2 and more) is dropped, its default prevented too: a double
# click, out of habit, moves one week as the link did, not two; separate clicks each move one.
_ON_PLAIN_CLICK: FunctionStringVar = FunctionStringVar.create(
    "((events, args, actions) => { const e = args[0]; if (!e || e.defaultPrevented || e.button !== 0 || e.metaKey "
    "|| e.ctrlKey || e.shiftKey || e.altKey) { return; } if (e.detail > 1) { e.preventDefault(); return; } "
    "addEvents(events, args, {...actions, preventDefault: true}); })",
    _var_data=VarData(imports=Imports.EVENTS, app_wraps=get_event_app_wraps()),
)


def plain_click(spec: EventSpec | EventCallback[()]) -> Any:
    """A link's `on_click` that runs `spec` (an event handler given all its arguments) instead of following
    the link, for a plain click only."""
    # A link's `on_click` passes the click's pointer event (`pointer_event_spec`, typed loosely by Reflex).
    return EventChain.create(spec, args_spec=cast("Any", pointer_event_spec), key="on_click",
                             invocation=_ON_PLAIN_CLICK)


def history_push(href: str) -> EventSpec:
    """The tab's address becomes `href` without loading a page: a new entry of its history, written as React
    Router writes its own (a key, the next index), so that back and forward load those addresses as pages.
    The entry left gets a new key first: React Router, which never saw the new entry, would otherwise take
    a return to it for no change at all (the same address, key and kind of navigation after a reload) and
    the page would keep showing the week left."""
    return rx.call_script("(() => { const h = window.history, s = h.state, key = () => "
                          "Math.random().toString(36).slice(2, 10); h.replaceState({...s, key: key()}, ''); "
                          f"h.pushState({{key: key(), idx: (s?.idx ?? 0) + 1}}, '', {json.dumps(href)}); }})()")
