"""A real SMTP server on loopback (aiosmtpd) that keeps what it receives and refuses what it is told to.

`hang_after_accepting(address)` keeps the next message to that address, then holds its "250" answer until
`release()`, so that a test can kill a worker after the server took a message and before it heard so.
"""

from __future__ import annotations

import asyncio
import threading
from email import message_from_bytes, policy
from email.message import EmailMessage

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from pg import free_port

from rdv_app.notify.mailer import SmtpSettings


class SmtpServer:
    """`with SmtpServer() as smtp:`; `smtp.refuse["x@y.fr"] = "550 5.1.1 Unknown user"` refuses RCPT."""

    def __init__(self) -> None:
        self.port = free_port()
        self.refuse: dict[str, str] = {}
        self.hung = threading.Event()
        self._hang_address: str | None = None
        self._released = threading.Event()
        self._lock = threading.Lock()
        self._arrived = threading.Condition(self._lock)
        self._received: list[tuple[list[str], bytes]] = []
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)

    def __enter__(self) -> SmtpServer:
        self._controller.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._controller.stop()

    def settings(self, **overrides: object) -> SmtpSettings:
        values = {"host": "127.0.0.1", "port": self.port, "mail_from": "RDV Service Public <ne-pas-repondre@rdv.test>",
                  "timeout": 5.0}
        values.update(overrides)
        return SmtpSettings(**values)  # type: ignore[arg-type]

    def hang_after_accepting(self, address: str) -> None:
        self._hang_address = address
        self.hung.clear()
        self._released.clear()

    def release(self) -> None:
        self._hang_address = None
        self._released.set()

    @property
    def messages(self) -> list[tuple[list[str], EmailMessage]]:
        """(envelope recipients, parsed message) for every accepted message, in order."""
        with self._lock:
            received = list(self._received)
        return [(rcpt, message_from_bytes(data, policy=policy.default)) for rcpt, data in received]

    def wait_for(self, address: str, timeout: float = 15) -> EmailMessage:
        """The one message received for `address`, waiting for it at most `timeout` seconds (delivery is
        asynchronous)."""
        with self._arrived:
            self._arrived.wait_for(lambda: any(rcpt == [address] for rcpt, _ in self._received), timeout)
        found = [message for rcpt, message in self.messages if rcpt == [address]]
        assert len(found) == 1, f"{len(found)} messages to {address} after {timeout} s"
        return found[0]

    # aiosmtpd handler hooks

    async def handle_RCPT(self, server: SMTP, session: Session, envelope: Envelope, address: str,
                          rcpt_options: list[str]) -> str:
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        with self._arrived:
            self._received.append((list(envelope.rcpt_tos), envelope.original_content or envelope.content))
            self._arrived.notify_all()
        if self._hang_address is not None and self._hang_address in envelope.rcpt_tos:
            self.hung.set()
            await asyncio.to_thread(self._released.wait, 60)
        return "250 Message accepted for delivery"
