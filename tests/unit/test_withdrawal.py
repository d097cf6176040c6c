"""Which messages about an RDV no longer hold once it changed (rdv_app.domain.withdrawal)."""

from __future__ import annotations

import pytest

from rdv_app.domain.enums import NotificationEvent
from rdv_app.domain.withdrawal import is_withdrawn

REMINDER = NotificationEvent.RDV_UPCOMING_REMINDER.value
CREATED = NotificationEvent.RDV_CREATED.value
UPDATED = NotificationEvent.RDV_UPDATED.value
CANCELLED = NotificationEvent.RDV_CANCELLED.value


@pytest.mark.parametrize("event", [REMINDER, CREATED, UPDATED, CANCELLED])
def test_a_message_of_the_current_version_leaves(event: str) -> None:
    assert not is_withdrawn(event, written_for=3, current=3, cancelled=False)


def test_a_moved_rdv_withdraws_only_its_older_reminders() -> None:
    assert is_withdrawn(REMINDER, written_for=2, current=3, cancelled=False)
    assert not is_withdrawn(UPDATED, written_for=2, current=3, cancelled=False)
    assert not is_withdrawn(CREATED, written_for=1, current=3, cancelled=False)


def test_a_cancelled_rdv_withdraws_everything_older_but_keeps_its_cancellation() -> None:
    for event in (REMINDER, CREATED, UPDATED):
        assert is_withdrawn(event, written_for=2, current=3, cancelled=True)
    assert not is_withdrawn(CANCELLED, written_for=3, current=3, cancelled=True)


def test_a_deleted_rdv_withdraws_every_lifecycle_message() -> None:
    for event in (REMINDER, CREATED, UPDATED):
        assert is_withdrawn(event, written_for=3, current=None, cancelled=True)
    assert not is_withdrawn(CANCELLED, written_for=3, current=None, cancelled=True)
