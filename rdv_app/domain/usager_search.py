"""How an usager is found by what an agent types (admin-domain.md 1.7), the same way on every database.

An usager's `search_terms` are the words of their last name, first name, birth name and email, folded
(lower case, accents and ligatures removed) and cut at anything that is not a letter or a digit, then the
digits of their E.164 phone number ("+33612345678" gives "33612345678"). They are stored as one string,
each word after a space (" dupont jeanne 33612345678"), and indexed: PostgreSQL as a tsvector in a GIN
index (`'jea':*`), SQLite by an FTS5 table (`"jea"*`); both find the words that start with each typed word,
so the two databases return the same usagers. Folding happens here, in Python, once, at write time: no
database extension or locale decides what matches.

What the agent types is read as (`parse_query`):
- an email prefix when it contains "@" (the start of the email, nothing else);
- a phone number when it is an optional "+" and country code then 3 to 20 digits and spaces: a leading 0
  becomes +33 ("06 12" looks for numbers starting with +33612, "+33 6 12" too);
- otherwise words, every one of which must start a word of the usager's terms ("jean dup", "élo").
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

_LIGATURES = str.maketrans({"œ": "oe", "Œ": "oe", "æ": "ae", "Æ": "ae", "ß": "ss", "ø": "o", "Ø": "o",
                            "đ": "d", "Đ": "d", "ł": "l", "Ł": "l"})
_WORD = re.compile(r"[a-z0-9]+")
_PHONE = re.compile(r"^\+?[0-9][0-9 ]{2,19}$")
MAX_QUERY_LENGTH = 100


def fold(text: str) -> str:
    """Lower case, without accents or ligatures: 'Œuvre Éloïse' gives 'oeuvre eloise'."""
    decomposed = unicodedata.normalize("NFKD", text.translate(_LIGATURES))
    return "".join(char for char in decomposed if not unicodedata.combining(char)).casefold()


def words(text: str | None) -> list[str]:
    return _WORD.findall(fold(text or ""))


def search_terms(*, first_name: str, last_name: str, birth_name: str | None, email: str | None,
                 phone_number_formatted: str | None) -> str:
    """The stored, indexed words of an usager (see the module's docstring)."""
    terms = [*words(last_name), *words(first_name), *words(birth_name), *words(email)]
    if phone_number_formatted:
        terms.append("".join(char for char in phone_number_formatted if char.isdigit()))
    return "".join(f" {term}" for term in terms)


@dataclass(frozen=True)
class Query:
    """What to look for: `email_prefix`, or `prefixes` (every one must start a word of the terms)."""

    email_prefix: str | None = None
    prefixes: tuple[str, ...] = ()

    @property
    def is_empty(self) -> bool:
        return not self.email_prefix and not self.prefixes


def parse_query(text: str) -> Query:
    typed = text.strip()[:MAX_QUERY_LENGTH]
    if "@" in typed:
        return Query(email_prefix=typed.lower())
    if _PHONE.match(typed):
        digits = typed.replace(" ", "")
        if digits.startswith("0"):
            digits = "+33" + digits[1:]
        return Query(prefixes=(digits.lstrip("+"),))
    return Query(prefixes=tuple(dict.fromkeys(words(typed))))
