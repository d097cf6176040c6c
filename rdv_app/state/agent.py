"""The signed-in agent, resolved from the HttpOnly session cookie on every agent page."""

from __future__ import annotations

import json
from http.cookies import SimpleCookie

import reflex as rx
from reflex.event import EventSpec

from rdv_app import routes
from rdv_app.blocking import within
from rdv_app.config import settings
from rdv_app.db.uow import UnitOfWork
from rdv_app.domain.enums import AccessLevel
from rdv_app.domain.labels import ACCESS_LEVEL_LABELS
from rdv_app.services.agents import agent_auth
from rdv_app.services.agents.agent_auth import AgentIdentity
from rdv_app.state.typed_event import event


def session_token_from(cookie_header: str) -> str | None:
    jar = SimpleCookie()
    try:
        jar.load(cookie_header or "")
    except Exception:  # noqa: BLE001 - a malformed Cookie header means "no session"
        return None
    morsel = jar.get(routes.AGENT_SESSION_COOKIE)
    return morsel.value if morsel else None


def full_navigation(path: str) -> EventSpec:
    """Leave the single-page app: the next page load opens a new connection that carries new cookies."""
    return rx.call_script(f"window.location.assign({json.dumps(path)})")


class AgentState(rx.State):
    ready: rx.Field[bool] = rx.field(False)
    first_name: rx.Field[str] = rx.field("")
    display_name: rx.Field[str] = rx.field("")
    email: rx.Field[str] = rx.field("")
    organisations: rx.Field[list[dict[str, str]]] = rx.field(default_factory=list)
    # Territorial admin of at least one territory: the territory pages then show in the navigation.
    is_territorial_admin: rx.Field[bool] = rx.field(False)
    is_super_admin: rx.Field[bool] = rx.field(False)
    current_org_id: rx.Field[str] = rx.field(rx.Cookie("", name="rdv_organisation", same_site="lax", max_age=60 * 60 * 24 * 365))

    _agent_id: int | None = None

    @event
    async def require_agent(self):
        """on_load of every agent page (`rdv_app.pages.template.agent_page`): no valid session, no page."""
        token = session_token_from(self.router.headers.cookie)
        # A write: resolving the session notes its last activity.
        identity = await within(UnitOfWork(), lambda uow: agent_auth.resolve_session(uow, token))
        if identity is None:
            self._forget()
            return rx.redirect(routes.login(self.router.url.path or routes.WORKSPACE), replace=True)
        self._remember(identity)
        return None

    def _remember(self, identity: AgentIdentity) -> None:
        self._agent_id = identity.agent_id
        self.first_name = identity.first_name or identity.last_name
        self.display_name = identity.display_name
        self.email = identity.email
        self.organisations = [
            {"id": str(r.organisation_id), "name": r.name, "level": ACCESS_LEVEL_LABELS[AccessLevel(r.access_level)]}
            for r in identity.roles
        ]
        self.is_territorial_admin = bool(identity.territorial_admin_of)
        self.is_super_admin = identity.super_admin
        known = {o["id"] for o in self.organisations}
        if self.current_org_id not in known:
            self.current_org_id = self.organisations[0]["id"] if self.organisations else ""
        self.ready = True

    def _forget(self) -> None:
        self._agent_id = None
        self.ready = False
        self.first_name = self.display_name = self.email = ""
        self.organisations = []
        self.is_territorial_admin = self.is_super_admin = False

    @rx.var
    def current_org_name(self) -> str:
        return next((o["name"] for o in self.organisations if o["id"] == self.current_org_id), "")

    @rx.var
    def current_access_level(self) -> str:
        return next((o["level"] for o in self.organisations if o["id"] == self.current_org_id), "")

    @rx.var
    def is_admin_here(self) -> bool:
        """Admin of the organisation shown: the admin pages then show in the navigation."""
        return self.current_access_level == ACCESS_LEVEL_LABELS[AccessLevel.ADMIN]

    @rx.var
    def has_several_organisations(self) -> bool:
        return len(self.organisations) > 1

    @event
    def switch_organisation(self, organisation_id: str):
        if any(o["id"] == organisation_id for o in self.organisations):
            self.current_org_id = organisation_id
            # Every agent page reloads its data for the organisation it now shows.
            return rx.redirect(routes.after_organisation_switch(self.router.url.path or routes.WORKSPACE))
        return None

    @event
    async def logout(self):
        token = session_token_from(self.router.headers.cookie)
        await within(UnitOfWork(), lambda uow: agent_auth.revoke_session(uow, token))
        self._forget()
        return full_navigation(settings.api_path(routes.AUTH_CLEAR_SESSION))
