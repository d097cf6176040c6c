"""The HTML part of our emails, built from their plain text so that both always say the same thing.

`with_html(payload)` adds it to an outbox mail payload (RDV emails of usagers and agents, reminders,
plage and absence notices); the mailer then sends text and HTML as alternatives.

Every email we write (`rdv_app.notify.events`, `rdv_app.notify.notices`) follows one plain-text layout:

- blocks separated by an empty line; the first one is the greeting;
- a "Label : value" line is a fact (Date, Lieu, Motif...), shown as a row of a table whose first cell
  is a row header; consecutive facts form one table;
- a fact whose value is a web address is a call to action ("Infos et annulation : https://..."),
  shown as a link named by its label, with the address written out below it (as text, not a second
  link) for those who copy it;
- a short line without final punctuation directly followed by facts ("Récapitulatif") is their heading;
- any other line is a paragraph.

The HTML is simple on purpose, for mail clients and screen readers: `lang="fr"`, a main landmark, the
subject as the one h1, real table headers, no images, no scripts, inline styles with the app's colours
(`rdv_app.styles`, inlined: mail clients ignore CSS custom properties), and everything escaped. It wears the
State design system's look as the site does: Marianne where the reader has it, grey titles, square blue
buttons, the footer's blue rule, and the "République Française" block only for a State service (axe finds nothing to report, see tests/e2e/test_notify_after_commit.py).
"""

from __future__ import annotations

import re
from html import escape
from typing import Any

from rdv_app import styles
from rdv_app.config import settings

_FACT = re.compile(r"^(?P<label>[^\s:][^:]{0,40}?) : (?P<value>.+)$")
_URL = re.compile(r"^https?://\S+$")
# The DSFR's Marianne where the reader has it installed; Arial and Helvetica otherwise (mail clients load no font).
_FONT = "font-family: Marianne, Arial, Helvetica, sans-serif; font-size: 16px; line-height: 1.5;"


def _fact(line: str) -> tuple[str, str] | None:
    match = _FACT.match(line)
    return (match["label"], match["value"]) if match else None


def _is_heading(line: str, following: str | None) -> bool:
    return (following is not None and _fact(following) is not None and _fact(line) is None
            and len(line) <= 40 and not line.endswith((".", ":", ",", "!", "?")))


def _facts_table(rows: list[tuple[str, str]]) -> str:
    cells = "".join(
        f'<tr><th scope="row" style="text-align: left; vertical-align: top; padding: 4px 16px 4px 0; '
        f'font-weight: bold;">{escape(label)}</th><td style="padding: 4px 0;">{escape(value)}</td></tr>'
        for label, value in rows)
    return f'<table style="border-collapse: collapse; margin: 0 0 16px 0; {_FONT}">{cells}</table>'


def _action(label: str, url: str) -> str:
    href = escape(url, quote=True)
    return (f'<p style="margin: 16px 0 4px 0;"><a href="{href}" style="display: inline-block; padding: 10px 16px; '
            f'background: {styles.BRAND_BLUE}; color: {styles.ON_COLOUR}; font-weight: bold; text-decoration: none;">'
            f'{escape(label)}</a></p>'
            f'<p style="margin: 0 0 16px 0; font-size: 14px; word-break: break-all;">{escape(url)}</p>')


def _block(lines: list[str]) -> list[str]:
    parts: list[str] = []
    facts: list[tuple[str, str]] = []

    def flush() -> None:
        if facts:
            parts.append(_facts_table(facts))
            facts.clear()

    for index, line in enumerate(lines):
        fact = _fact(line)
        following = lines[index + 1] if index + 1 < len(lines) else None
        if fact and _URL.match(fact[1]):
            flush()
            parts.append(_action(*fact))
        elif fact:
            facts.append(fact)
        elif _is_heading(line, following):
            flush()
            parts.append(f'<h2 style="font-size: 18px; margin: 16px 0 8px 0;">{escape(line)}</h2>')
        else:
            flush()
            parts.append(f'<p style="margin: 0 0 16px 0;">{escape(line)}</p>')
    flush()
    return parts


def _marque_etat() -> str:
    """The State's block above the header, for a State service only (RDV_MARQUE_ETAT=1)."""
    if not settings.marque_etat:
        return ""
    return (f'<div style="max-width: 600px; margin: 0 auto 8px; font-weight: 700; text-transform: uppercase; '
            f'line-height: 1.1; color: {styles.TEXT};">République<br>Française</div>\n')


def with_html(payload: dict[str, Any]) -> dict[str, Any]:
    """The mail payload with its "html", built from its "subject" and "text"."""
    return {**payload, "html": html_from_text(payload["subject"], payload["text"])}


def html_from_text(subject: str, text: str) -> str:
    """The HTML alternative of a plain-text email written in the layout above."""
    blocks: list[list[str]] = [[]]
    for line in text.strip().splitlines():
        if line.strip():
            blocks[-1].append(line.strip())
        elif blocks[-1]:
            blocks.append([])
    body = "".join(part for block in blocks for part in _block(block))
    return (
        '<!DOCTYPE html>\n<html lang="fr">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{escape(subject)}</title>\n</head>\n"
        f'<body style="margin: 0; padding: 16px; background: {styles.BACKGROUND}; color: {styles.TEXT}; {_FONT}">\n'
        f"{_marque_etat()}"
        f'<header style="max-width: 600px; margin: 0 auto 24px; padding-bottom: 12px; '
        f'border-bottom: 1px solid {styles.BORDER}; font-size: 20px; font-weight: 700; color: {styles.TEXT};">'
        f"{escape(settings.product_name)}</header>\n"
        f'<main style="display: block; max-width: 600px; margin: 0 auto;">\n'
        f'<h1 style="font-size: 24px; line-height: 1.3; margin: 0 0 16px 0; color: {styles.TEXT};">{escape(subject)}</h1>\n'
        f"{body}\n</main>\n"
        f'<footer style="max-width: 600px; margin: 24px auto 0; padding-top: 12px; border-top: 2px solid '
        f'{styles.BRAND_BLUE}; font-size: 14px; color: {styles.TEXT_MUTED};">'
        f"{escape(settings.product_name)} – {escape(settings.operator_name)}</footer>\n</body>\n</html>\n"
    )
