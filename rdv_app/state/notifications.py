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

Any websocket client can send any event, this one included: the event therefore carries a proof, an
HMAC of the ids and of the tab's client token under RDV_SECRET_KEY, made by `deliver_after_commit` in
the handler that committed (a handler the session guard let through, `rdv_app.state.session_guard`).
Without the proof nothing starts, so a client cannot start deliveries by itself; with it, a tab gets
only the delivery of what its own actions queued, one delivery at a time.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging

import reflex as rx
from reflex.event import IndividualEventType
from reflex_base.event.context import EventContext

from rdv_app.config import settings
from rdv_app.db.uow import UnitOfWork
from rdv_app.notify.outbox import committed_ids
from rdv_app.notify.worker import deliver_now_async
from rdv_app.state.typed_event import event

logger = logging.getLogger(__name__)

# One change queues a handful of messages; a larger list does not come from `deliver_after_commit`.
MAX_IDS_PER_CALL = 200


# The tabs delivering now, in this process: a tab's deliveries run one after the other.
_delivering: dict[str, asyncio.Lock] = {}


def delivery_proof(client_token: str, outbox_ids: list[int]) -> str:
    """What only the server can make: these ids, for this tab."""
    message = f"deliver:{client_token}:{','.join(map(str, outbox_ids))}".encode()
    return hmac.new(settings.secret_key.encode(), message, hashlib.sha256).hexdigest()


class NotificationDeliveryState(rx.State):
    """No vars: only the background task that sends a change's messages."""

    @event(background=True)
    async def deliver(self, outbox_ids: list[int], proof: str = ""):
        ids = [i for i in outbox_ids if isinstance(i, int) and not isinstance(i, bool)][:MAX_IDS_PER_CALL]
        client = self.router.session.client_token
        if not ids or ids != outbox_ids or not hmac.compare_digest(str(proof), delivery_proof(client, ids)):
            return
        lock = _delivering.setdefault(client, asyncio.Lock())
        try:
            async with lock:
                await deliver_now_async(ids)
        except Exception:  # the worker loop sends them anyway; the page must not show an error
            logger.exception("immediate delivery of outbox messages %s failed", ids)
        finally:
            if not lock.locked() and _delivering.get(client) is lock:
                del _delivering[client]


def deliver_after_commit(uow: UnitOfWork) -> IndividualEventType[()] | None:
    """The background event that sends what `uow` committed to the outbox, or None if nothing."""
    ids = committed_ids(uow.session)
    if not ids:
        return None
    proof = delivery_proof(EventContext.get().token, ids)
    return NotificationDeliveryState.deliver(ids, proof)
