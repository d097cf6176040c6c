"""The HTML part of our emails, built from their plain text: same content, accessible structure, escaped."""

from __future__ import annotations

from email import message_from_bytes, policy
from html.parser import HTMLParser

from rdv_app.notify.email_html import html_from_text, with_html
from rdv_app.notify.mailer import build_message

TEXT = """Bonjour,

Votre rendez-vous est confirmé.

Récapitulatif
Date : lundi 7 décembre 2026 à 09h00
Participants : Léo DUPONT
Lieu : Centre <Arras> & Cie (1 rue A, 62000 Arras)

Apportez le carnet de santé.

Contact : PMI Arras, 03 21 00 00 00
Vous pouvez annuler ou modifier ce rendez-vous jusqu'à 4h avant en appelant le 03 21 00 00 00.
Infos et annulation : https://rdv.example.fr/r/12/AbC-123_xyz?a=1&b=2
"""


class _Outline(HTMLParser):
    """Tags in order, text of each element, links, and the attributes of html and th."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.texts: list[tuple[str, str]] = []
        self.links: list[tuple[str, str]] = []
        self.attrs: dict[str, dict[str, str | None]] = {}
        self._open: list[str] = []
        self._href: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attrs.setdefault(tag, dict(attrs))
        if tag not in ("meta", "br"):
            self._open.append(tag)
        if tag == "a":
            self._href = dict(attrs)["href"]

    def handle_endtag(self, tag: str) -> None:
        if self._open and self._open[-1] == tag:
            self._open.pop()

    def handle_data(self, data: str) -> None:
        if data.strip() and self._open:
            self.texts.append((self._open[-1], data.strip()))
            if self._open[-1] == "a":
                self.links.append((data.strip(), self._href or ""))


def _outline(html: str) -> _Outline:
    outline = _Outline()
    outline.feed(html)
    return outline


def test_the_html_says_what_the_text_says_with_headings_tables_and_a_named_link() -> None:
    outline = _outline(html_from_text("RDV confirmé le lundi 7 décembre 2026 à 09h00", TEXT))
    assert outline.attrs["html"]["lang"] == "fr"
    assert outline.tags.count("main") == 1 and outline.tags.count("h1") == 1
    assert outline.texts[:3] == [("title", "RDV confirmé le lundi 7 décembre 2026 à 09h00"),
                                 ("header", "RDV Services Publics"),  # the product's name, as on the site
                                 ("h1", "RDV confirmé le lundi 7 décembre 2026 à 09h00")]
    assert ("h2", "Récapitulatif") in outline.texts
    assert outline.attrs["th"]["scope"] == "row"
    rows = [text for tag, text in outline.texts if tag in ("th", "td")]
    assert rows == ["Date", "lundi 7 décembre 2026 à 09h00", "Participants", "Léo DUPONT", "Lieu",
                    "Centre <Arras> & Cie (1 rue A, 62000 Arras)", "Contact", "PMI Arras, 03 21 00 00 00"]
    paragraphs = [text for tag, text in outline.texts if tag == "p"]
    assert paragraphs[:3] == ["Bonjour,", "Votre rendez-vous est confirmé.", "Apportez le carnet de santé."]
    assert outline.links == [("Infos et annulation", "https://rdv.example.fr/r/12/AbC-123_xyz?a=1&b=2")]
    # The address is also written out, for those who copy it.
    assert "https://rdv.example.fr/r/12/AbC-123_xyz?a=1&b=2" in paragraphs
    assert not {"script", "img", "style", "iframe"} & set(outline.tags)


def test_markup_in_the_text_is_shown_not_interpreted() -> None:
    html = html_from_text("<b>Objet</b>", "Bonjour,\n\n<script>alert(1)</script>\nLieu : <img src=x>\n")
    assert "<script>" not in html and "<img" not in html and "<b>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "&lt;img src=x&gt;" in html


def test_an_email_is_text_and_html_alternatives_with_the_calendar_attached() -> None:
    payload = with_html({"to": "jeanne@example.fr", "subject": "RDV confirmé", "text": TEXT,
                         "ics": {"content": "BEGIN:VCALENDAR\r\nMETHOD:PUBLISH\r\nEND:VCALENDAR\r\n",
                                 "method": "PUBLISH", "filename": "rdv-1-2026-12-07.ics"}})
    message = message_from_bytes(bytes(build_message(payload, mail_from="RDV <ne-pas-repondre@rdv.test>")),
                                 policy=policy.default)
    assert message.get_content_type() == "multipart/mixed"
    alternative = next(part for part in message.iter_parts())
    assert alternative.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in alternative.iter_parts()] == ["text/plain", "text/html", "text/calendar"]
    assert message.get_body(("plain",)).get_content() == TEXT
    html = message.get_body(("html",)).get_content()
    assert "Votre rendez-vous est confirmé." in html and "charset" in message.get_body(("html",))["Content-Type"]
    [attachment] = list(message.iter_attachments())
    assert attachment.get_filename() == "rdv-1-2026-12-07.ics"
