"""`@template(route, title, on_load, layout)`: registers a page with its layout and metadata."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import reflex as rx

from rdv_app.components.layout import public_layout, workspace_layout

APP_NAME = "RDV Services Publics"


@dataclass(frozen=True)
class PageSpec:
    route: str
    title: str
    component: Callable[[], rx.Component]
    on_load: Any


PAGES: list[PageSpec] = []


def template(route: str, title: str, on_load: Any = None,
             layout: Literal["public", "workspace"] = "public") -> Callable[[Callable[[], rx.Component]], Any]:
    def decorator(page: Callable[[], rx.Component]) -> Callable[[], rx.Component]:
        wrap = workspace_layout if layout == "workspace" else public_layout

        def component() -> rx.Component:
            return wrap(page(), title)

        PAGES.append(PageSpec(route=route, title=f"{title} · {APP_NAME}", component=component, on_load=on_load))
        return page

    return decorator
