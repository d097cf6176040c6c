"""How people are named on screens, in emails and in calendars (domain.md section 1)."""

from __future__ import annotations

import re
import unicodedata


def agent_name(first_name: str | None, last_name: str) -> str:
    """'Julien Petit' ('Petit' for an agent without a first name)."""
    return f"{first_name or ''} {last_name}".strip()


def name_slug(first_name: str | None, last_name: str, *, limit: int = 40) -> str:
    """'marie-dupont' for Marie Dupont: readable in an address (lower-case ASCII letters, digits and
    hyphens), 'agent' when nothing of the name is left."""
    slug = re.sub(r"[^a-z0-9]+", "-", plain_text(agent_name(first_name, last_name))).strip("-")
    return slug[:limit].rstrip("-") or "agent"


def usager_name(first_name: str, last_name: str) -> str:
    """'Léa DUPONT': the last name in capitals, as agents read usagers."""
    return f"{first_name} {last_name.upper()}"


def sort_key(first_name: str | None, last_name: str) -> tuple[str, str]:
    """Last then first name, ignoring case and accents (domain.md section 1)."""
    return plain_text(last_name), plain_text(first_name or "")


def plain_text(text: str) -> str:
    """Lower case without accents, for comparisons and sorting."""
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().casefold()


def initials(first_name: str | None, last_name: str) -> str:
    """'CM' for Camille Martin, 'JML' for Jean-Marc Lefèvre, 'P' for an agent named only Petit."""
    parts = [part for part in (first_name or "").replace("-", " ").split() if part]
    return "".join(part[0] for part in [*parts, last_name.strip() or "?"]).upper()


def distinct_initials(people: dict[int, tuple[str | None, str]]) -> dict[int, str]:
    """Each person's initials where they tell the team apart; two people sharing them get the next letters
    of their last names ("CMa", "CMo"), or a number when two more letters are not enough ("CM1", "CM2")."""
    labels = {key: initials(first, last) for key, (first, last) in people.items()}
    shared: dict[str, list[int]] = {}
    for key in sorted(labels):
        shared.setdefault(labels[key], []).append(key)
    for label, keys in shared.items():
        if len(keys) == 1:
            continue
        for extra in (1, 2):
            longer = {key: label + plain_text(people[key][1].strip())[1:1 + extra] for key in keys}
            if len(set(longer.values())) == len(keys):
                labels.update(longer)
                break
        else:
            labels.update({key: f"{label}{number}" for number, key in enumerate(keys, start=1)})
    return labels
