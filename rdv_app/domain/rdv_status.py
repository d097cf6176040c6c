"""Statuses of an RDV and of its participations (domain.md section 1), as pure functions.

- Five statuses; cancelled = excused or revoked. Moving to excused, revoked or noshow stamps
  `cancelled_at` (the database CHECK requires it exactly for those three); seen and unknown clear it.
- A collective RDV may only be unknown, seen or revoked (its participants cancel one by one).
- RDV -> participations: unknown resets every participation; excused and revoked apply to the
  participations not already cancelled (an usager who excused themself stays excused when the service
  revokes); seen and noshow apply to the participations still unknown.
- Participation -> RDV: any seen participation makes the RDV seen; an individual RDV takes the status
  its participations all share when it is excused, revoked or noshow, else unknown; a past collective
  RDV with no unknown participation left becomes revoked, otherwise a collective keeps its status
  (one participant cancelling must not reopen a session the service revoked).
- An unknown RDV is labelled by its day: "À venir", "Aujourd'hui", or "À renseigner" once past.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, TypeVar
from zoneinfo import ZoneInfo

from rdv_app.domain.enums import CANCELLED_STATUSES, RdvStatus
from rdv_app.domain.labels import RDV_STATUS_LABELS

K = TypeVar("K", bound=Hashable)

STAMPED_STATUSES = frozenset({RdvStatus.EXCUSED, RdvStatus.REVOKED, RdvStatus.NOSHOW})
COLLECTIVE_STATUSES = frozenset({RdvStatus.UNKNOWN, RdvStatus.SEEN, RdvStatus.REVOKED})
_ORDER = (RdvStatus.UNKNOWN, RdvStatus.SEEN, RdvStatus.EXCUSED, RdvStatus.REVOKED, RdvStatus.NOSHOW)

UPCOMING_LABEL = "À venir"
TODAY_LABEL = "Aujourd'hui"
TO_FILL_LABEL = "À renseigner"


class StatusError(ValueError):
    """A status change the rules refuse; the message is French and shown to the person."""


@dataclass(frozen=True)
class StatusOutcome(Generic[K]):
    """The RDV after a change, and every participation's status after it (keyed as given)."""

    status: RdvStatus
    cancelled_at: datetime | None
    participations: dict[K, RdvStatus]


def parse_status(value: str) -> RdvStatus:
    try:
        return RdvStatus(value)
    except ValueError:
        raise StatusError("Ce statut n'existe pas.") from None


def is_cancelled(status: RdvStatus | str) -> bool:
    return status in CANCELLED_STATUSES


def allowed_statuses(collectif: bool) -> tuple[RdvStatus, ...]:
    """The statuses an agent may choose, in the order the page lists them."""
    return tuple(s for s in _ORDER if not collectif or s in COLLECTIVE_STATUSES)


def cancelled_at_after(old_status: RdvStatus, old_cancelled_at: datetime | None, new_status: RdvStatus,
                       now: datetime) -> datetime | None:
    """The stamp after a change; re-saving the same stamped status keeps the first stamp."""
    if new_status not in STAMPED_STATUSES:
        return None
    if new_status == old_status and old_cancelled_at is not None:
        return old_cancelled_at
    return now


def participations_after_rdv_status(new_status: RdvStatus,
                                    participations: Mapping[K, RdvStatus]) -> dict[K, RdvStatus]:
    """RDV -> participations propagation."""
    def follows(current: RdvStatus) -> bool:
        if new_status == RdvStatus.UNKNOWN:
            return True
        if new_status in CANCELLED_STATUSES:
            return current not in CANCELLED_STATUSES
        return current == RdvStatus.UNKNOWN

    return {key: new_status if follows(current) else current for key, current in participations.items()}


def rdv_status_from_participations(current: RdvStatus, participations: Mapping[K, RdvStatus], *,
                                   collectif: bool, is_past: bool) -> RdvStatus:
    """Participation -> RDV propagation."""
    statuses = set(participations.values())
    if RdvStatus.SEEN in statuses:
        return RdvStatus.SEEN
    if collectif:
        if is_past and statuses and RdvStatus.UNKNOWN not in statuses:
            return RdvStatus.REVOKED
        return current
    if len(statuses) == 1:
        (shared,) = statuses
        if shared in STAMPED_STATUSES:
            return shared
    return RdvStatus.UNKNOWN


def change_rdv_status(*, current: RdvStatus, cancelled_at: datetime | None, new: RdvStatus,
                      participations: Mapping[K, RdvStatus], collectif: bool,
                      now: datetime) -> StatusOutcome[K]:
    """An agent sets the RDV's status; its participations follow."""
    if collectif and new not in COLLECTIVE_STATUSES:
        raise StatusError("Un RDV collectif ne peut être qu'à venir, honoré ou annulé par le service.")
    return StatusOutcome(status=new, cancelled_at=cancelled_at_after(current, cancelled_at, new, now),
                         participations=participations_after_rdv_status(new, participations))


def change_participation_status(*, rdv_status: RdvStatus, cancelled_at: datetime | None,
                                participations: Mapping[K, RdvStatus], key: K, new: RdvStatus,
                                collectif: bool, is_past: bool, now: datetime) -> StatusOutcome[K]:
    """One participant's status changes; the RDV's status follows."""
    if key not in participations:
        raise StatusError("Cet usager ne participe pas à ce RDV.")
    after = {**participations, key: new}
    status = rdv_status_from_participations(rdv_status, after, collectif=collectif, is_past=is_past)
    return StatusOutcome(status=status, cancelled_at=cancelled_at_after(rdv_status, cancelled_at, status, now),
                         participations=after)


def future_status_warning(new: RdvStatus, starts_at: datetime, now: datetime) -> str | None:
    """Why an agent should think twice before saying an RDV that has not begun yet took place or was
    missed ("honoré", "absence non excusée"): a slip of the list that would count in the statistics."""
    if starts_at <= now or new not in (RdvStatus.SEEN, RdvStatus.NOSHOW):
        return None
    return (f"Ce rendez-vous n'a pas encore eu lieu : voulez-vous vraiment le marquer « {RDV_STATUS_LABELS[new]} » ?")


def status_label(status: RdvStatus | str, starts_at: datetime, now: datetime, time_zone: str) -> str:
    """The label agents read; an unknown status is told by the RDV's local day."""
    status = RdvStatus(status)
    if status != RdvStatus.UNKNOWN:
        return RDV_STATUS_LABELS[status]
    zone = ZoneInfo(time_zone)
    day, today = starts_at.astimezone(zone).date(), now.astimezone(zone).date()
    if day == today:
        return TODAY_LABEL
    return UPCOMING_LABEL if day > today else TO_FILL_LABEL
