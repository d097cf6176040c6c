"""How people are named on screens, in emails and in calendars (domain.md section 1)."""

from __future__ import annotations

import unicodedata


def agent_name(first_name: str | None, last_name: str) -> str:
    """'Julien Petit' ('Petit' for an agent without a first name)."""
    return f"{first_name or ''} {last_name}".strip()


def usager_name(first_name: str, last_name: str) -> str:
    """'Léa DUPONT': the last name in capitals, as agents read usagers."""
    return f"{first_name} {last_name.upper()}"


def sort_key(first_name: str | None, last_name: str) -> tuple[str, str]:
    """Last then first name, ignoring case and accents (domain.md section 1)."""
    return plain_text(last_name), plain_text(first_name or "")


def plain_text(text: str) -> str:
    """Lower case without accents, for comparisons and sorting."""
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().casefold()
