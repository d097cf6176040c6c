"""Sending the notifications of a change right after its commit, from any state class.

Services queue SMS and emails in the outbox in the transaction of the change (`rdv_app.notify.outbox`);
the session remembers the ids once committed. An event handler hands them to a Reflex background task,
which delivers them at once (`rdv_app.notify.worker.deliver_now_async`), so that a confirmation SMS
leaves within seconds. The handler itself does not wait, and the worker loop sends anything left.

In a handler, after the service call that committed (on a worker thread, `rdv_app.blocking.within`):

    uow = UnitOfWork()
    await within(uow, lambda uow: lifecycle.plan_rdv(uow, ...))
    ...
    yield deliver_after_commit(uow)        # or: return deliver_after_commit(uow)

It returns None when nothing was queued (yielding None is a no-op for Reflex).
"""

from __future__ import annotations

import logging

import reflex as rx
from reflex.event import IndividualEventType

from rdv_app.db.uow import UnitOfWork
from rdv_app.notify.outbox import committed_ids
from rdv_app.notify.worker import deliver_now_async
from rdv_app.state.typed_event import event

logger = logging.getLogger(__name__)

# One change queues a handful of messages; a larger list does not come from `deliver_after_commit`.
MAX_IDS_PER_CALL = 200


class NotificationDeliveryState(rx.State):
    """No vars: only the background task that sends a change's messages."""

    @event(background=True)
    async def deliver(self, outbox_ids: list[int]):
        # The ids come back from the browser. At worst a forged list sends early messages that were
        # already due: `deliver_now` only takes due rows that no worker holds.
        ids = [i for i in outbox_ids if isinstance(i, int) and not isinstance(i, bool)][:MAX_IDS_PER_CALL]
        if not ids:
            return
        try:
            await deliver_now_async(ids)
        except Exception:  # the worker loop sends them anyway; the page must not show an error
            logger.exception("immediate delivery of outbox messages %s failed", ids)


def deliver_after_commit(uow: UnitOfWork) -> IndividualEventType[()] | None:
    """The background event that sends what `uow` committed to the outbox, or None if nothing."""
    ids = committed_ids(uow.session)
    return NotificationDeliveryState.deliver(ids) if ids else None
