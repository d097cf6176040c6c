"""GET /dev/boite-mail: the demo mailbox, the emails and SMS that the demo recorded instead of sending.

Only without an SMTP server (RDV_SMTP_HOST unset): anyone may read it, which is what a demo wants (the
visitor opens the sign-in link "sent" to their address) and what a real instance must never offer, so with
SMTP configured the address is a 404. Plain HTML, in the shell of `rdv_app.api.html_page`.
"""

from __future__ import annotations

import re

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from rdv_app import routes
from rdv_app.api.html_page import e as _e
from rdv_app.api.html_page import page
from rdv_app.blocking import within
from rdv_app.db.uow import UnitOfWork
from rdv_app.demo.mailbox import DemoMessage, MailboxPage, latest_messages
from rdv_app.domain import datefmt
from rdv_app.domain.enums import Channel
from rdv_app.notify import mailer

TIME_ZONE = "Europe/Paris"
TITLE = "Boîte mail de la démo"
_NO_STORE = {"Cache-Control": "no-store", "X-Robots-Tag": "noindex, nofollow"}
_URL = re.compile(r"https?://[^\s<>\"']+[^\s<>\"'.,;:!?)]")


def linkify(text: str) -> str:
    """The text, escaped, with every http(s) address made a link."""
    parts: list[str] = []
    position = 0
    for match in _URL.finditer(text):
        url = match.group(0)
        parts += [_e(text[position:match.start()]), f'<a href="{_e(url)}">{_e(url)}</a>']
        position = match.end()
    parts.append(_e(text[position:]))
    return "".join(parts)


def _message(message: DemoMessage) -> str:
    is_sms = message.channel is Channel.SMS
    heading = "SMS" if is_sms else (message.subject or "(sans objet)")
    kind = "SMS" if is_sms else "Email"
    return (
        '<article class="card">'
        f'<h2 style="margin-top:0;overflow-wrap:anywhere">{_e(heading)}</h2>'
        '<dl class="facts">'
        f"<dt>{kind} à</dt><dd style=\"overflow-wrap:anywhere\">{_e(message.recipient)}</dd>"
        f'<dt>Reçu le</dt><dd>{_e(datefmt.long_datetime(message.recorded_at, TIME_ZONE))}</dd>'
        "</dl>"
        f'<p class="pre" style="margin:1rem 0 0;overflow-wrap:anywhere">{linkify(message.text)}</p>'
        "</article>"
    )


def _pager(mailbox: MailboxPage) -> str:
    if mailbox.pages <= 1:
        return ""
    links = []
    if mailbox.page > 1:
        links.append(f'<a class="button button-secondary" href="{routes.DEMO_MAILBOX}?page={mailbox.page - 1}">'
                     "Messages plus récents</a>")
    if mailbox.page < mailbox.pages:
        links.append(f'<a class="button button-secondary" href="{routes.DEMO_MAILBOX}?page={mailbox.page + 1}">'
                     "Messages plus anciens</a>")
    return (f'<nav aria-label="Pages de la boîte mail"><p>Page {mailbox.page} sur {mailbox.pages}</p>'
            f'<div class="actions">{"".join(links)}</div></nav>')


def mailbox_page(mailbox: MailboxPage) -> str:
    intro = (
        f"<h1>{TITLE}</h1>"
        '<p class="lead">Aucun serveur d\'email n\'est configuré : la démo n\'envoie ni email ni SMS, elle les '
        "garde ici. Ouvrez le lien reçu, par exemple celui de connexion après une prise de rendez-vous.</p>"
        f'<div class="actions"><a class="button button-primary" href="{routes.DEMO_MAILBOX}">Actualiser</a></div>'
    )
    if not mailbox.messages:
        return page(TITLE, intro + '<p class="info" style="margin-top:1.5rem">Aucun message pour '
                                 "l'instant.</p>")
    count = f"{mailbox.total} message{'s' if mailbox.total > 1 else ''}, les plus récents en premier."
    return page(TITLE, intro + f'<p style="margin-top:1.5rem">{count}</p>'
                             + "".join(_message(message) for message in mailbox.messages) + _pager(mailbox))


def _page_number(request: Request) -> int:
    raw = request.query_params.get("page", "1")
    return int(raw) if raw.isdigit() and len(raw) < 7 else 1


async def demo_mailbox(request: Request) -> Response:
    if not mailer.uses_demo_mailbox():
        return HTMLResponse(page("Page introuvable", "<h1>Page introuvable</h1>"), status_code=404,
                            headers=_NO_STORE)
    number = _page_number(request)
    mailbox = await within(UnitOfWork(getattr(request.app.state, "database_url", None), read_only=True),
                           lambda uow: latest_messages(uow, number))
    return HTMLResponse(mailbox_page(mailbox), headers=_NO_STORE)


ROUTES = [Route(routes.DEMO_MAILBOX, demo_mailbox, methods=["GET"])]
