"""Lists that narrow as an agent types (the plages d'ouverture's search): every typed word must start a
word of the item's texts, ignoring case, accents and ligatures, as the usager search does."""

from __future__ import annotations

from rdv_app.domain.usager_search import words


def matches(query: str, *texts: str | None) -> bool:
    """'consult st-mic' matches a plage titled "Consultations" at "Antenne PMI Saint-Michel"? No: "st"
    starts no word there; 'consult saint mic' does. An empty query matches everything."""
    wanted = words(query)
    present = [word for text in texts for word in words(text)]
    return all(any(word.startswith(typed) for word in present) for typed in wanted)
