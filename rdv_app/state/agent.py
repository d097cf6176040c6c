"""The signed-in agent, resolved from the HttpOnly session cookie on every agent page, and again at most
every 30 seconds while the tab stays open (`rdv_app.state.session_guard`)."""

from __future__ import annotations

import json
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import urlencode

import reflex as rx
from reflex.event import EventSpec

from rdv_app import routes
from rdv_app.auth import session_forms
from rdv_app.auth.tokens import new_token
from rdv_app.blocking import within
from rdv_app.config import settings
from rdv_app.db.uow import UnitOfWork
from rdv_app.domain import clock
from rdv_app.domain.enums import AccessLevel
from rdv_app.domain.labels import ACCESS_LEVEL_LABELS
from rdv_app.services.agents import agent_auth
from rdv_app.services.agents.agent_auth import AgentIdentity
from rdv_app.state.session_guard import (
    SESSION_ENDED_PARAM,
    SESSION_ENDED_VALUE,
    note_revocation,
    recheck_due,
    revocations,
)
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


def post_navigation(path: str, fields: dict[str, str]) -> EventSpec:
    """Leave the single-page app by posting a form (the session routes take POSTs only)."""
    return rx.call_script(
        "(function(){var f=document.createElement('form');f.method='post';"
        f"f.action={json.dumps(path)};var v={json.dumps(fields)};"
        "Object.keys(v).forEach(function(k){var i=document.createElement('input');i.type='hidden';"
        "i.name=k;i.value=v[k];f.appendChild(i);});document.body.appendChild(f);f.submit();})()")


class SignInBindingState(rx.State):
    """The browser's side of a sign-in (rdv_app.auth.session_forms): a random value in a SameSite=Strict
    cookie, set by this page when the form is submitted, that no other site can set."""

    binding: str = rx.Cookie("", name=routes.AGENT_SIGN_IN_BINDING_COOKIE, path="/", same_site="strict",
                             secure=settings.secure_cookies, max_age=10 * 60)


async def open_session_events(state: rx.State, ticket: str) -> list[EventSpec]:
    """After the password check: binds the ticket to this browser, then posts it to the session route."""
    binding_state = await state.get_state(SignInBindingState)
    binding_state.binding = new_token()
    proof = session_forms.sign_in_proof(ticket, binding_state.binding)
    return [post_navigation(settings.api_path(routes.AUTH_OPEN_SESSION), {"ticket": ticket, "preuve": proof})]


def _current_page(router: Any) -> str:
    """The path and query of the page a tab shows, to come back to after signing in again."""
    url = router.url
    return f"{url.path}?{url.query}" if url.query else (url.path or routes.WORKSPACE)


def session_ended_login(next_path: str) -> str:
    """The sign-in page saying that the session ended, then back to `next_path`."""
    return f"{routes.LOGIN}?{urlencode({'suivant': next_path, SESSION_ENDED_PARAM: SESSION_ENDED_VALUE})}"


class AgentState(rx.State):
    ready: rx.Field[bool] = rx.field(False)
    first_name: rx.Field[str] = rx.field("")
    display_name: rx.Field[str] = rx.field("")
    email: rx.Field[str] = rx.field("")
    organisations: rx.Field[list[dict[str, str]]] = rx.field(default_factory=list)
    # Territorial admin of at least one territory: the territory pages then show in the navigation.
    is_territorial_admin: rx.Field[bool] = rx.field(False)
    # "Agents du territoire" and "Équipes" show to territorial admins and to agents with the access right.
    sees_territory_agents: rx.Field[bool] = rx.field(False)
    manages_teams: rx.Field[bool] = rx.field(False)
    is_super_admin: rx.Field[bool] = rx.field(False)
    current_org_id: rx.Field[str] = rx.field(rx.Cookie("", name="rdv_organisation", same_site="lax", max_age=60 * 60 * 24 * 365))
    # Below 1440 px the navigation folds behind a "Menu" button (rdv_app.components.layout): whether it is open.
    nav_open: rx.Field[bool] = rx.field(False)

    _agent_id: int | None = None
    # When the session was last found valid (`clock.timestamp()`): events re-check it after 30 seconds.
    _session_checked_at: float = 0.0
    _revocations_seen: int = 0

    @event
    def toggle_nav(self):
        self.nav_open = not self.nav_open

    @event
    async def require_agent(self):
        """on_load of every agent page (`rdv_app.pages.template.agent_page`): no valid session, no page."""
        self.nav_open = False  # a page opened from the menu shows without it
        token = session_token_from(self.router.headers.cookie)
        # A write: resolving the session notes its last activity.
        identity = await within(UnitOfWork(), lambda uow: agent_auth.resolve_session(uow, token))
        if identity is None:
            self._forget()
            return rx.redirect(routes.login(self.router.url.path or routes.WORKSPACE), replace=True)
        self._remember(identity)
        return None

    def _resolves_session(self, handler_name: str) -> bool:
        return handler_name == "require_agent"

    async def _session_still_valid(self) -> bool:
        if self._agent_id is None:
            return False
        if not recheck_due(self._session_checked_at, self._revocations_seen):
            return True
        token = session_token_from(self.router.headers.cookie)
        identity = await within(UnitOfWork(), lambda uow: agent_auth.resolve_session(uow, token))
        if identity is None or identity.agent_id != self._agent_id:
            return False
        # Roles too may have changed meanwhile.
        self._remember(identity)
        return True

    def _session_refused(self) -> list[EventSpec]:
        # A tab that had no session (a page opened signed out, or a client sending events by itself) is
        # only asked to sign in; one whose session ended is told so.
        had_session, page = self._agent_id is not None, _current_page(self.router)
        self._forget()
        return [rx.redirect(session_ended_login(page) if had_session else routes.login(page), replace=True)]

    def _remember(self, identity: AgentIdentity) -> None:
        self._session_checked_at, self._revocations_seen = clock.timestamp(), revocations()
        self._agent_id = identity.agent_id
        self.first_name = identity.first_name or identity.last_name
        self.display_name = identity.display_name
        self.email = identity.email
        self.organisations = [
            {"id": str(r.organisation_id), "name": r.name, "level": ACCESS_LEVEL_LABELS[AccessLevel(r.access_level)]}
            for r in identity.roles
        ]
        self.is_territorial_admin = bool(identity.territorial_admin_of)
        self.sees_territory_agents = self.is_territorial_admin or bool(identity.territory_rights)
        self.manages_teams = self.is_territorial_admin or "allow_to_manage_teams" in identity.territory_rights
        self.is_super_admin = identity.super_admin
        known = {o["id"] for o in self.organisations}
        if self.current_org_id not in known:
            self.current_org_id = self.organisations[0]["id"] if self.organisations else ""
        self.ready = True

    def _forget(self) -> None:
        self._agent_id = None
        self._session_checked_at = 0.0
        self.ready = False
        self.first_name = self.display_name = self.email = ""
        self.organisations = []
        self.is_territorial_admin = self.is_super_admin = False
        self.sees_territory_agents = self.manages_teams = False

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
        note_revocation()
        self._forget()
        # The route forgets the cookie; its form carries the proof made from the cookie itself.
        proof = session_forms.sign_out_proof(token) if token else ""
        return post_navigation(settings.api_path(routes.AUTH_CLEAR_SESSION), {"preuve": proof})
