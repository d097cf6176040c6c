"""Emails through any SMTP server (aiosmtplib), with the RDV's calendar attached (domain.md 3.5).

The mail payload of the outbox is `{to, subject, text, html?, ics?: {content, method, filename}}`, where
`content` is the calendar text built by `rdv_app.notify.ics`; `html` is the HTML alternative of the text
(`rdv_app.notify.email_html.with_html` builds it).

In the demo without RDV_SMTP_HOST (`make run`) nothing is sent: the worker records each email as
processed, like the console SMS provider, and the demo mailbox page (`rdv_app.api.demo_mailbox`) shows it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from email.errors import MessageError
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr
from typing import Any, Literal, TypeGuard, get_args

import aiosmtplib

from rdv_app.config import demo_mode, settings
from rdv_app.domain import clock
from rdv_app.notify.errors import PermanentDeliveryError, TemporaryDeliveryError

TlsMode = Literal["none", "starttls", "tls"]


def _is_tls_mode(value: str) -> TypeGuard[TlsMode]:
    return value in get_args(TlsMode)


class TemporaryMailError(TemporaryDeliveryError):
    pass


class PermanentMailError(PermanentDeliveryError):
    pass


@dataclass(frozen=True)
class SmtpSettings:
    host: str = "localhost"
    port: int = 25
    username: str | None = None
    password: str | None = None
    # "none": plain SMTP (a local relay); "starttls": upgrade on port 587; "tls": implicit TLS on 465.
    # From the environment, "starttls" is the default as soon as credentials are set: never sent in clear.
    tls: TlsMode = "none"
    mail_from: str = field(default_factory=lambda: default_mail_from())
    timeout: float = 30.0

    @classmethod
    def from_env(cls) -> SmtpSettings:
        username = os.environ.get("RDV_SMTP_USER", "").strip() or None
        tls = os.environ.get("RDV_SMTP_TLS", "").strip().lower() or ("starttls" if username else "none")
        if not _is_tls_mode(tls):
            raise RuntimeError(f"RDV_SMTP_TLS doit valoir none, starttls ou tls (reçu : {tls!r}).")
        return cls(
            host=os.environ.get("RDV_SMTP_HOST", "").strip() or cls.host,
            port=int(os.environ.get("RDV_SMTP_PORT", "").strip() or cls.port),
            username=username,
            password=os.environ.get("RDV_SMTP_PASSWORD") or None,
            tls=tls,
            mail_from=os.environ.get("RDV_MAIL_FROM", "").strip() or default_mail_from(),
        )

    @property
    def sender_domain(self) -> str:
        return mail_domain(self.mail_from)


def smtp_configured() -> bool:
    """True when RDV_SMTP_HOST names a server."""
    return bool(os.environ.get("RDV_SMTP_HOST", "").strip())


def uses_demo_mailbox() -> bool:
    """The demo (RDV_DEMO=1, as `make run`) without an SMTP server keeps its emails in the demo mailbox, and
    never under https: an instance reachable from outside has no page listing sign-in links. Any other start
    without a server tries the default SMTP host and keeps retrying with failure receipts, so that a
    forgotten setting never loses mail silently."""
    public_url = os.environ.get("RDV_PUBLIC_URL", "").strip()
    return demo_mode() and not smtp_configured() and not public_url.startswith("https://")


def default_mail_from() -> str:
    """The sender people read when RDV_MAIL_FROM is not set: the product's name."""
    return f"{settings.product_name} <ne-pas-repondre@localhost>"


def mail_domain(mail_from: str) -> str:
    return parseaddr(mail_from)[1].rpartition("@")[2] or "localhost"


def build_message(payload: dict[str, Any], *, mail_from: str, message_id: str | None = None) -> EmailMessage:
    """text/plain (+ text/html) (+ text/calendar with `method=`) as alternatives, and the .ics attached.

    Calendar clients read the text/calendar alternative (and its `method=`) to offer "add / accept";
    the application/ics attachment is for the people who open it by hand.
    """
    message = EmailMessage()
    message["From"] = mail_from
    message["To"] = Address(addr_spec=payload["to"])
    message["Subject"] = payload["subject"]
    message["Date"] = format_datetime(clock.now())
    message["Message-ID"] = message_id or make_msgid(domain=mail_domain(mail_from))
    message.set_content(payload["text"])
    if payload.get("html"):
        message.add_alternative(payload["html"], subtype="html")
    if ics := payload.get("ics"):
        calendar = ics["content"].encode("utf-8")
        message.add_alternative(calendar, maintype="text", subtype="calendar",
                                params={"method": ics["method"], "charset": "UTF-8"})
        message.add_attachment(calendar, maintype="application", subtype="ics", filename=ics["filename"])
    return message


async def send_mail(payload: dict[str, Any], *, settings: SmtpSettings | None = None,
                    message_id: str | None = None) -> str:
    """Hands the message to the SMTP server; returns its Message-ID (the receipt's provider id).

    SMTP replies 4xx are temporary, 5xx permanent. Authentication failures and unreachable servers are
    temporary too: they are configuration or outage problems, and the messages must wait, not vanish.
    """
    settings = settings or SmtpSettings.from_env()
    try:
        message = build_message(payload, mail_from=settings.mail_from, message_id=message_id)
    except (ValueError, MessageError) as error:
        raise PermanentMailError(f"message impossible à construire ({error})") from error
    try:
        await aiosmtplib.send(
            message,
            hostname=settings.host,
            port=settings.port,
            username=settings.username,
            password=settings.password,
            use_tls=settings.tls == "tls",
            start_tls=settings.tls == "starttls",
            timeout=settings.timeout,
        )
    except aiosmtplib.SMTPRecipientsRefused as error:
        codes = [refused.code for refused in error.recipients]
        detail = "; ".join(f"{refused.code} {refused.message}" for refused in error.recipients)
        if all(code >= 500 for code in codes):
            raise PermanentMailError(f"SMTP : adresse refusée ({detail})") from error
        raise TemporaryMailError(f"SMTP : adresse refusée temporairement ({detail})") from error
    except aiosmtplib.SMTPAuthenticationError as error:
        raise TemporaryMailError(f"SMTP : authentification refusée ({error.code} {error.message})") from error
    except aiosmtplib.SMTPResponseException as error:
        if error.code >= 500:
            raise PermanentMailError(f"SMTP : message refusé ({error.code} {error.message})") from error
        raise TemporaryMailError(f"SMTP : {error.code} {error.message}") from error
    except (aiosmtplib.SMTPException, OSError) as error:
        raise TemporaryMailError(f"SMTP : serveur injoignable ({type(error).__name__}: {error})") from error
    return message["Message-ID"]
