"""Rules of the "Infos et annulation" link (decision 6, domain.md section 3.6, issue 7), as pure functions.

- The link's token works while it is the latest one sent for its participation and has not expired
  (12 weeks after sending, or one day after the RDV, whichever is first: set when it is sent). It is
  exchanged for a 10-minute access to that RDV for that usager. The browser keeps the proof that it
  opened the link as long as the link works: once the 10 minutes are over, the link's page asks the 3
  letters again instead of calling the link dead (issue 26).
- An earlier link of a cancelled RDV (the cancellation message carries a newer one) gives no access, but
  says the RDV was cancelled, for as long as that link would have worked.
- The 3-letter check: the first three letters of the last name, spaces removed, case and accents
  ignored ("De La Fontaine" -> DEL, "Élodie Ôzil" -> OZI); a name shorter than three letters is typed
  whole ("Xi" -> XI). Apostrophes and hyphens may be typed or left out ("D'Artagnan": D'A or DAR).
  After 5 wrong answers in a row (within 15 minutes of each other) the link is locked for 15 minutes;
  success is remembered for 10 minutes.
- An usager cancels online while more than 4 hours remain, when the motif allows it, the RDV is not
  already cancelled and has not started.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from rdv_app.domain.enums import CANCELLED_STATUSES, RdvStatus

ACCESS_LIFETIME = timedelta(minutes=10)
VERIFIED_LIFETIME = timedelta(minutes=10)
MAX_WRONG_ANSWERS = 5
LOCKOUT = timedelta(minutes=15)
CANCEL_NOTICE = timedelta(hours=4)
TOKEN_VALIDITY = timedelta(weeks=12)
TOKEN_GRACE_AFTER_RDV = timedelta(days=1)
INITIALS_LENGTH = 3
# "/r/<rdv id>/<token>" in a text sent to the usager (tokens are URL-safe base64).
_LINK_TOKEN = re.compile(r"(/r/\d+/)[A-Za-z0-9_-]+")

# Letters that do not decompose into a base letter and an accent.
_LIGATURES = str.maketrans({"œ": "oe", "Œ": "OE", "æ": "ae", "Æ": "AE", "ø": "o", "Ø": "O", "ł": "l", "Ł": "L",
                            "đ": "d", "Đ": "D"})


def fold(text: str) -> str:
    """Upper case without accents or spaces: "  Élodie d'Ôzil " -> "ELODIED'OZIL"."""
    decomposed = unicodedata.normalize("NFKD", text.translate(_LIGATURES))
    plain = "".join(c for c in decomposed if not unicodedata.combining(c) and not c.isspace())
    return plain.upper()


def _letters_only(text: str) -> str:
    return "".join(c for c in text if c.isalnum())


def expected_initials(last_name: str) -> frozenset[str]:
    """The answers accepted for a last name: its first three characters once folded, with or without
    the apostrophes and hyphens it holds."""
    folded = fold(last_name)
    answers = {folded[:INITIALS_LENGTH], _letters_only(folded)[:INITIALS_LENGTH]}
    return frozenset(answer for answer in answers if answer)


def initials_match(answer: str, last_names: tuple[str, ...]) -> bool:
    """Whether the typed answer gives the first letters of one of these last names."""
    typed = fold(answer)
    if not typed:
        return False
    return any(typed in expected_initials(name) for name in last_names)


def token_is_usable(expires_at: datetime | None, now: datetime) -> bool:
    return expires_at is not None and now < expires_at


def token_expiry(sent_at: datetime, rdv_ends_at: datetime) -> datetime:
    """When a link sent at `sent_at` stops working: 12 weeks later, or one day after the RDV."""
    return min(sent_at + TOKEN_VALIDITY, rdv_ends_at + TOKEN_GRACE_AFTER_RDV)


def says_cancelled(*, status: RdvStatus, cancelled_at: datetime | None, rdv_ends_at: datetime,
                   now: datetime) -> bool:
    """Whether an earlier link of this RDV says it was cancelled: the usager's RDV is cancelled, and that
    link, sent before the cancellation, would still work."""
    if status not in CANCELLED_STATUSES:
        return False
    sent_by = cancelled_at or rdv_ends_at
    return now < token_expiry(sent_by, rdv_ends_at)


class CancelRefusal(StrEnum):
    ALREADY_CANCELLED = "already_cancelled"
    PAST = "past"
    TOO_LATE = "too_late"
    MOTIF = "motif"


@dataclass(frozen=True, slots=True)
class CancelRule:
    """What the usager's page may offer: cancellation, or why not."""

    refusal: CancelRefusal | None

    @property
    def allowed(self) -> bool:
        return self.refusal is None


def cancel_rule(*, status: RdvStatus, starts_at: datetime, now: datetime,
                motif_allows: bool) -> CancelRule:
    """Online cancellation by the usager (FAQ: "jusqu'à 4 heures avant")."""
    if status in CANCELLED_STATUSES:
        return CancelRule(CancelRefusal.ALREADY_CANCELLED)
    if starts_at <= now or status in (RdvStatus.SEEN, RdvStatus.NOSHOW):
        return CancelRule(CancelRefusal.PAST)
    if starts_at - now <= CANCEL_NOTICE:
        return CancelRule(CancelRefusal.TOO_LATE)
    if not motif_allows:
        return CancelRule(CancelRefusal.MOTIF)
    return CancelRule(None)


def locks_the_link(failures_in_a_row: int) -> bool:
    return failures_in_a_row >= MAX_WRONG_ANSWERS


def without_link_token(text: str) -> str:
    """The text as kept after sending (receipts shown to agents): the link's token is the usager's key to
    their RDV, agents see where it led ("/r/42/…"), not the key."""
    return _LINK_TOKEN.sub(r"\1…", text)
