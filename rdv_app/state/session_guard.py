"""Every websocket event of a signed-in page re-checks the session: one Reflex middleware, before any handler.

A page resolves its session from the HttpOnly cookie when it loads; a tab may then stay open for hours.
Without this guard, a tab kept planning and cancelling after a sign-out in another tab, a password change
elsewhere (which ends every other session) or the end of the session's lifetime. `SessionGuard` runs
before every event, foreground or background, of a state that is `SessionChecked`
(`rdv_app.state.agent.AgentState` and every agent page's state, "Mes rendez-vous", the public booking):

- the state says whether its session still holds (`_session_still_valid`). The answer is kept at most
  `RECHECK_SECONDS` per tab, so that a burst of clicks costs one query, and less when this process has
  ended a session since (`note_revocation`: a sign-out or a password change here reaches the other tabs
  served by this process at their next event; those of other processes within the 30 seconds);
- if it does not, the handler does not run: the tab forgets who was signed in and goes where the person
  signs in again, with `SESSION_ENDED` shown there (`_session_refused`);
- the on_load that resolves the session itself (`_resolves_session`) is left to do so.

A middleware rather than a decorator on each handler: no handler, present or future, can forget it, and
handlers inherited from mixins are covered alike.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import reflex as rx
from reflex.middleware import Middleware
from reflex.state import BaseState, StateUpdate
from reflex_base.event import Event, EventSpec
from reflex_base.registry import RegistrationContext

from rdv_app.domain import clock
from rdv_app.state.typed_event import event

if TYPE_CHECKING:
    from reflex.app import App

# A revoked session stops working in a tab within this delay (the issue asks for at most 30 seconds).
RECHECK_SECONDS = 30.0
SESSION_ENDED = ("Votre session a pris fin (déconnexion depuis un autre onglet, changement de mot de passe "
                 "ou durée de connexion dépassée). Votre dernière action n'a pas été faite : "
                 "reconnectez-vous pour continuer.")
USAGER_SESSION_ENDED = ("Votre session a pris fin (déconnexion depuis un autre onglet ou durée de connexion "
                        "dépassée). Votre dernière action n'a pas été faite : reconnectez-vous pour continuer.")
# The query parameter that asks the page a refused tab lands on to say so.
SESSION_ENDED_PARAM = "session"
SESSION_ENDED_VALUE = "terminee"


def saying_session_ended(path: str) -> str:
    """`path` (which may have a query) asking its page to say that the session ended."""
    return f"{path}{'&' if '?' in path else '?'}{SESSION_ENDED_PARAM}={SESSION_ENDED_VALUE}"


def says_session_ended(query_parameters: Mapping[str, str]) -> bool:
    return query_parameters.get(SESSION_ENDED_PARAM) == SESSION_ENDED_VALUE


@runtime_checkable
class SessionChecked(Protocol):
    """What a state whose events need a live session provides to `SessionGuard`, which recognises it by
    these three methods (`issubclass` on a runtime-checkable protocol). A protocol, not a base class: the
    states are Reflex states, whose metaclass cannot be mixed with the protocol's."""

    def _resolves_session(self, handler_name: str) -> bool:
        """The handlers left alone: the page's on_load, which resolves the session itself."""

    async def _session_still_valid(self) -> bool:
        """Whether the tab may go on; re-resolves the session when the last check is older than
        `RECHECK_SECONDS` (`recheck_due`)."""

    def _session_refused(self) -> list[EventSpec]:
        """Forgets who was signed in; the events that take the person to sign in again."""


class _Revocations:
    count = 0


def note_revocation() -> None:
    """A session ended in this process: every tab it serves checks its own at its next event."""
    _Revocations.count += 1


def revocations() -> int:
    return _Revocations.count


def recheck_due(checked_at: float, seen_revocations: int) -> bool:
    """Whether a tab's session, found valid at `checked_at` when `seen_revocations` sessions had ended in
    this process, must be resolved again."""
    return seen_revocations != _Revocations.count or clock.timestamp() - checked_at >= RECHECK_SECONDS


class SessionGuard(Middleware):
    async def preprocess(self, app: App, state: BaseState, event: Event) -> StateUpdate | None:
        registered = RegistrationContext.get().event_handlers.get(event.name)
        if registered is None:
            return None
        state_class = registered.states[0]
        if not issubclass(state_class, SessionChecked):
            return None
        guarded: Any = await state.get_state(state_class)
        if guarded._resolves_session(registered.handler.fn.__name__) or await guarded._session_still_valid():
            return None
        events = Event.from_event_type(guarded._session_refused())
        root = state._get_root_state()
        try:
            delta = await root._get_resolved_delta()
        finally:
            root._clean()
        return StateUpdate(delta=delta, events=events)


class SessionEndedNotice(rx.State):
    """The sign-in page's word to a person whose tab was refused (`SESSION_ENDED`)."""

    message: rx.Field[str] = rx.field("")

    @event
    def read(self):
        self.message = SESSION_ENDED if says_session_ended(self.router.url.query_parameters) else ""
