"""Which messages about an RDV no longer hold once the RDV changed (issue 16: a reminder of 10:00 must
not leave after the RDV moved to 11:00 or was cancelled).

Every message about an RDV is written for one version of it (its `ics_sequence`). The same rule serves
the change's own transaction (rdv_app.notify.withdrawals, for what is waiting) and the worker just before
a message leaves (for what a worker held while the change committed).
"""

from __future__ import annotations

from rdv_app.domain.enums import NotificationEvent

WITHDRAWN = "Annulé : le rendez-vous a changé."

# Withdrawn when the RDV moves or changes: the reminder scan queues the new version's reminder.
REMINDERS = frozenset({NotificationEvent.RDV_UPCOMING_REMINDER.value})
# Withdrawn too when the RDV is cancelled or deleted: people hear of the cancellation only.
LIFECYCLE = frozenset({NotificationEvent.RDV_CREATED.value, NotificationEvent.RDV_UPDATED.value,
                       NotificationEvent.RDV_UPCOMING_REMINDER.value})


def is_withdrawn(event: str, written_for: int, current: int | None, cancelled: bool) -> bool:
    """Whether a message of `event`, written for version `written_for` of an RDV, must not leave now that
    the RDV is at version `current` (None: the RDV was deleted) and `cancelled` or not."""
    if current is None:
        return event in LIFECYCLE
    if written_for >= current:
        return False
    return event in (LIFECYCLE if cancelled else REMINDERS)
