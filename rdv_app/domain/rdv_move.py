"""When an usager may move their own RDV online ("Changer la date", domain.md section 1, `editable_by_user?`).

An usager moves an RDV to another slot of the same motif and lieu when all of these hold:
- it is neither cancelled nor past, and it is individual (a collective session is never moved by one
  of its participants);
- its motif lets usagers change their RDV ("L'usager peut modifier son RDV en ligne") and is open online
  to everyone or to invited usagers;
- it was not planned by an agent (an agent's choice of time is the agent's to change);
- it starts more than 2 days from now.

The first rule that fails names the refusal; its French explanation (`refusal_message`) tells the usager
whom to contact instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from rdv_app.domain.enums import CANCELLED_STATUSES, AuthorType, BookableBy, RdvStatus

EDIT_NOTICE = timedelta(days=2)
_ONLINE = frozenset({BookableBy.EVERYONE, BookableBy.AGENTS_AND_PRESCRIPTEURS_AND_INVITED_USERS})


class EditRefusal(StrEnum):
    CANCELLED = "cancelled"
    PAST = "past"
    COLLECTIVE = "collective"
    MOTIF = "motif"
    NOT_ONLINE = "not_online"
    BY_AGENT = "by_agent"
    TOO_LATE = "too_late"


_MESSAGES = {
    EditRefusal.CANCELLED: "Ce rendez-vous est annulé : sa date ne peut plus être changée.",
    EditRefusal.PAST: "Ce rendez-vous est passé : sa date ne peut plus être changée.",
    EditRefusal.COLLECTIVE: "La date d'un rendez-vous collectif ne se change pas en ligne",
    EditRefusal.MOTIF: "La date de ce rendez-vous ne peut pas être changée en ligne",
    EditRefusal.NOT_ONLINE: "La date de ce rendez-vous ne peut pas être changée en ligne",
    EditRefusal.BY_AGENT: "Ce rendez-vous a été fixé par un agent : sa date ne se change pas en ligne",
    EditRefusal.TOO_LATE: "Ce rendez-vous a lieu dans moins de 2 jours : sa date ne peut plus être changée en ligne",
}


@dataclass(frozen=True, slots=True)
class EditRule:
    """What the usager's pages may offer: "Changer la date", or why not."""

    refusal: EditRefusal | None

    @property
    def allowed(self) -> bool:
        return self.refusal is None


def edit_rule(*, status: RdvStatus, starts_at: datetime, now: datetime, collectif: bool, motif_allows: bool,
              bookable_by: str, created_by_type: str) -> EditRule:
    """`editable_by_user?`: the first rule of the module's list that fails, or none."""
    if status in CANCELLED_STATUSES:
        return EditRule(EditRefusal.CANCELLED)
    if starts_at <= now or status in (RdvStatus.SEEN, RdvStatus.NOSHOW):
        return EditRule(EditRefusal.PAST)
    if collectif:
        return EditRule(EditRefusal.COLLECTIVE)
    if not motif_allows:
        return EditRule(EditRefusal.MOTIF)
    if bookable_by not in _ONLINE:
        return EditRule(EditRefusal.NOT_ONLINE)
    if created_by_type == AuthorType.AGENT:
        return EditRule(EditRefusal.BY_AGENT)
    if starts_at - now <= EDIT_NOTICE:
        return EditRule(EditRefusal.TOO_LATE)
    return EditRule(None)


def refusal_message(refusal: EditRefusal, contact: str | None) -> str:
    """Why the date cannot be changed, and, while the RDV is to come, whom to contact ("la Mairie de
    Lens au 03 21 ..."): a full French sentence."""
    text = _MESSAGES[refusal]
    if refusal in (EditRefusal.CANCELLED, EditRefusal.PAST):
        return text
    return f"{text}. Pour la changer, contactez {contact}." if contact else f"{text}."
