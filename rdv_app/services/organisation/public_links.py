"""The public booking link of an organisation ("Réservation en ligne") and the snippet that embeds it.

The path carries the organisation's id, which is what the public pages read, and its slug for people
reading the address: `/org/12/pmi-arras`. A renamed organisation gets a new slug; the id keeps old links
working.
"""

from __future__ import annotations

from html import escape

from rdv_app.config import settings

ORGANISATION_BOOKING_PREFIX = "/org/"


def organisation_booking_path(organisation_id: int, slug: str) -> str:
    return f"{ORGANISATION_BOOKING_PREFIX}{organisation_id}/{slug}"


def organisation_booking_url(organisation_id: int, slug: str) -> str:
    return f"{settings.public_url}{organisation_booking_path(organisation_id, slug)}"


def organisation_id_from_path(path: str) -> int | None:
    """The organisation id of a booking path ('/org/12/pmi-arras', '/org/12'), None when it holds none."""
    if not path.startswith(ORGANISATION_BOOKING_PREFIX):
        return None
    head = path[len(ORGANISATION_BOOKING_PREFIX):].split("/", 1)[0]
    return int(head) if head.isdigit() else None


def embed_snippet(url: str, organisation_name: str) -> str:
    """An iframe for the organisation's own website (the booking pages allow being framed anywhere)."""
    title = escape(f"Prendre rendez-vous en ligne : {organisation_name}", quote=True)
    return (f'<iframe src="{escape(url, quote=True)}" title="{title}" width="100%" height="800" '
            'style="border: 0; max-width: 100%;" loading="lazy"></iframe>')
