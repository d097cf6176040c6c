"""The demo mailbox: the emails and SMS that the demo recorded instead of sending them.

Without an SMTP server (RDV_SMTP_HOST unset) the worker records each email as "processed", as the console
SMS provider does for SMS (`rdv_app.notify.worker`). Those receipts, with the text of their outbox message,
are what a newcomer reads on /dev/boite-mail to open the sign-in link the demo "sent" them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import col, func, select

from rdv_app.db.models import OutboxMessage, Receipt
from rdv_app.db.uow import UnitOfWork
from rdv_app.domain.enums import Channel, ReceiptResult

PER_PAGE = 20
_CHANNELS = (Channel.MAIL.value, Channel.SMS.value)


@dataclass(frozen=True)
class DemoMessage:
    channel: Channel
    recipient: str
    subject: str | None  # emails only
    recorded_at: datetime
    text: str


@dataclass(frozen=True)
class MailboxPage:
    messages: Sequence[DemoMessage]
    page: int
    pages: int
    total: int


def latest_messages(uow: UnitOfWork, page: int = 1, per_page: int = PER_PAGE) -> MailboxPage:
    """The recorded messages, newest first, `per_page` at a time; a page past the last shows the last."""
    recorded = (col(Receipt.result) == ReceiptResult.PROCESSED.value, col(Receipt.channel).in_(_CHANNELS))
    total = uow.session.exec(select(func.count()).select_from(Receipt).where(*recorded)).one()
    pages = max(1, -(-total // per_page))
    page = min(max(page, 1), pages)
    rows = uow.session.exec(
        select(Receipt, OutboxMessage.payload)
        .join(OutboxMessage, col(OutboxMessage.id) == col(Receipt.outbox_message_id), isouter=True)
        .where(*recorded)
        .order_by(col(Receipt.created_at).desc(), col(Receipt.id).desc())
        .offset((page - 1) * per_page).limit(per_page)
    ).all()
    return MailboxPage(messages=[_message(receipt, payload or {}) for receipt, payload in rows],
                       page=page, pages=pages, total=total)


def _message(receipt: Receipt, payload: Mapping[str, Any]) -> DemoMessage:
    channel = Channel(receipt.channel)
    if channel is Channel.SMS:
        return DemoMessage(channel=channel, recipient=receipt.sms_phone_number or payload.get("to", ""),
                           subject=None, recorded_at=receipt.created_at, text=receipt.content or "")
    return DemoMessage(channel=channel, recipient=receipt.email_address or payload.get("to", ""),
                       subject=receipt.content or payload.get("subject"), recorded_at=receipt.created_at,
                       text=payload.get("text", ""))
