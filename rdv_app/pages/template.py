"""How a page is declared: `@template(route, title, on_load, description=...)` for a public page,
`@agent_page(route, title, load=...)` for a page of the agents' workspace. Both register the page with its
layout and metadata; a public page's description is its `<meta name="description">`, in the HTML before any
JavaScript runs (what search engines and link previews show)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import reflex as rx

from rdv_app.components.layout import APP_NAME, SignedInAgent, public_layout, workspace_layout
from rdv_app.state.agent import AgentState


@dataclass(frozen=True)
class PageSpec:
    route: str
    title: str | rx.Var
    component: Callable[[], rx.Component]
    on_load: Any
    description: str | None = None


PAGES: list[PageSpec] = []

Page = Callable[[], rx.Component]


def _register(route: str, title: str | rx.Var, component: Page, on_load: Any, description: str | None = None) -> None:
    # A Var is a title that follows the page's state, complete with the product's name.
    full_title = title if isinstance(title, rx.Var) else f"{title} · {APP_NAME}"
    PAGES.append(PageSpec(route=route, title=full_title, component=component, on_load=on_load,
                          description=description))


def _in_module_of(page: Page, layout: Page) -> Page:
    """`layout` as Reflex sees it coming from `page`'s module: Reflex bundles the components it compiles for a
    page (with their npm imports) by the module of the function given to `add_page`, so that each module's
    pages load their own JavaScript (FullCalendar only with the agenda, the charts only with the statistics)
    rather than every page the JavaScript of all (issue 24)."""
    layout.__module__ = page.__module__
    return layout


def template(route: str, title: str | rx.Var, on_load: Any = None, *, description: str) -> Callable[[Page], Page]:
    """A public page (usagers, sign-in), with the description search engines and link previews show."""

    def decorator(page: Page) -> Page:
        _register(route, title, _in_module_of(page, lambda: public_layout(page())), on_load, description)
        return page

    return decorator


def _signed_in_agent() -> SignedInAgent:
    return SignedInAgent(
        ready=AgentState.ready, first_name=AgentState.first_name, display_name=AgentState.display_name,
        organisations=AgentState.organisations, current_org_id=AgentState.current_org_id,
        current_org_name=AgentState.current_org_name, has_several_organisations=AgentState.has_several_organisations,
        is_admin_here=AgentState.is_admin_here, is_territorial_admin=AgentState.is_territorial_admin,
        sees_territory_agents=AgentState.sees_territory_agents, manages_teams=AgentState.manages_teams,
        is_super_admin=AgentState.is_super_admin,
        on_switch_organisation=AgentState.switch_organisation, on_logout=AgentState.logout,
        nav_open=AgentState.nav_open, on_toggle_nav=AgentState.toggle_nav,
    )


def agent_page(route: str, title: str, load: Any | Sequence[Any] = ()) -> Callable[[Page], Page]:
    """A page of the agents' workspace. The sign-in guard comes first: without a valid session the person
    goes to the sign-in page and comes back here after it; `load` (an event handler, or several) then
    fills the page, usually `SomeState.load` of an `rdv_app.state.organisation.OrganisationPageState`. The
    page shows once the session is checked."""
    loads = list(load) if isinstance(load, Sequence) else [load]

    def decorator(page: Page) -> Page:
        _register(route, title, _in_module_of(page, lambda: workspace_layout(page(), _signed_in_agent())),
                  [AgentState.require_agent, *loads])
        return page

    return decorator
