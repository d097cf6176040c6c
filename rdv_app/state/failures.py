"""What a person sees when an event handler fails on something no one foresaw (issue 16): a French message
with a reference to quote, the error in the logs under the same reference, and no button left disabled.

Reflex calls `backend_exception_handler` (rdv_app.rdv_app) with the exception once the handler has stopped;
the reference is the error tracker's event id when `SENTRY_DSN` is set (rdv_app.error_tracking);
its own default would show "An error occurred." and, outside production, the exception. The busy flags of
the person's states (a submit button shows "Enregistrement…" while one of them is set) are released by a
follow-up event, as the failed handler cannot do it any more.
"""

from __future__ import annotations

import logging
import secrets

import reflex as rx
from reflex.event import EventSpec
from reflex.state import BaseState

from rdv_app.error_tracking import capture
from rdv_app.services.errors import DomainError
from rdv_app.state.typed_event import busy_flags, event

logger = logging.getLogger(__name__)

# The state vars that mean "a request is under way, its button is disabled", besides those the handlers
# declare with `event(busy=...)`.
BUSY_FLAGS = frozenset({"submitting", "saving", "saving_usager", "status_saving", "preferences_saving", "deleting",
                        "sending"})


def _busy_flags() -> frozenset[str]:
    return BUSY_FLAGS | busy_flags()


def failure_message(reference: str) -> str:
    return ("Une erreur est survenue, votre demande n'a pas été enregistrée. Réessayez dans un instant. "
            f"(réf. {reference})")


def report_failure(exception: BaseException) -> str:
    """Logs the failure and sends it to error tracking when it is on; the reference to show the person
    (the tracker's event id, else a reference found in the logs only)."""
    reference = capture(exception) or secrets.token_hex(4).upper()
    logger.error("event handler failed (réf. %s)", reference, exc_info=exception)
    return reference


def backend_exception_handler(exception: Exception) -> list[EventSpec]:
    if isinstance(exception, DomainError):
        # A refusal a handler let through (rights, validation): its French message, not "an error occurred".
        logger.info("refusal not shown by its handler: %s", exception.message)
        return [rx.toast.error(exception.message, position="top-center", duration=15000),
                FailureState.release_busy_flags()]
    reference = report_failure(exception)
    return [rx.toast.error(failure_message(reference), position="top-center", duration=15000),
            FailureState.release_busy_flags()]


def _states_with_busy_flags(state_class: type[BaseState]) -> list[type[BaseState]]:
    found = [state_class] if _busy_flags() & state_class.base_vars.keys() else []
    for substate in state_class.get_substates():
        found.extend(_states_with_busy_flags(substate))
    return found


class FailureState(rx.State):
    """No vars: the event that puts the person's buttons back after a failure."""

    @event
    async def release_busy_flags(self):
        for state_class in _states_with_busy_flags(rx.State):
            state = await self.get_state(state_class)
            for name in _busy_flags() & state_class.base_vars.keys():
                # Set even when already False: the failed handler's own reset may not have reached the
                # browser, as Reflex sends no update for a handler that raised.
                setattr(state, name, False)
