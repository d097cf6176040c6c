"""Messages about an RDV that no longer holds are withdrawn in the transaction of the change
(issue 16: a reminder of 10:00 must not leave after the RDV moved to 11:00 or was cancelled).

Every outbox row about an RDV carries the RDV's version (`ics_sequence`) it was written for. When a
change gives the RDV a new version, the handler of `RdvChanged` withdraws what is still waiting to leave:
- the reminders of older versions (a move or a cancellation; the reminder scan queues the new
  version's reminder when it falls due);
- when the RDV itself is cancelled or deleted, also the confirmations and change messages of older
  versions: people hear of the cancellation only.
A withdrawn row becomes `cancelled` with the receipt "Annulé : le rendez-vous a changé." on the RDV
page. A row a worker holds at that very moment is checked again by the worker before it leaves, by the
same rule (rdv_app.domain.withdrawal).
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlmodel import Session, col, select

from rdv_app.db.models import OutboxMessage, Receipt
from rdv_app.domain.enums import CANCELLED_STATUSES, Channel, OutboxStatus, ReceiptResult
from rdv_app.domain.events import Change, RdvChanged
from rdv_app.domain.usager_link import without_link_token
from rdv_app.domain.withdrawal import LIFECYCLE, REMINDERS, WITHDRAWN


def on_rdv_changed(session: Session, change: RdvChanged) -> None:
    gone = change.change == Change.DELETED or change.status in CANCELLED_STATUSES
    events = LIFECYCLE if gone else REMINDERS
    # A deletion keeps the version: everything still waiting about the RDV goes.
    older = (col(OutboxMessage.rdv_version) <= change.version if change.change == Change.DELETED
             else col(OutboxMessage.rdv_version) < change.version)
    rows = session.exec(select(OutboxMessage).where(
        OutboxMessage.rdv_id == change.rdv_id, OutboxMessage.status == OutboxStatus.PENDING.value,
        col(OutboxMessage.event).in_(sorted(events)), older).with_for_update()).all()
    if not rows:
        return
    session.exec(sa.update(OutboxMessage).where(col(OutboxMessage.id).in_([r.id for r in rows]))
                 .values(status=OutboxStatus.CANCELLED.value, last_error=WITHDRAWN))
    session.add_all([_receipt(row, change) for row in rows])


def _receipt(row: OutboxMessage, change: RdvChanged) -> Receipt:
    sms = row.channel == Channel.SMS
    return Receipt(outbox_message_id=row.id, rdv_id=row.rdv_id, usager_id=row.usager_id,
                   organisation_id=row.organisation_id, event=row.event, channel=row.channel,
                   result=ReceiptResult.FAILURE.value, error_message=WITHDRAWN,
                   content=without_link_token(row.payload.get("text", "")) if sms else row.payload.get("subject"),
                   sms_phone_number=row.payload.get("to") if sms else None,
                   email_address=row.payload.get("to") if row.channel == Channel.MAIL else None,
                   created_at=change.occurred_at)
