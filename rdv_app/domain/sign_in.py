"""Rules of the agents' sign-in beyond the password: the escalating lockout of an account and the
lifetimes of the second step.

Lockout (per account, whoever tries): after `MAX_FAILURES` wrong passwords or wrong codes in a row, the
account is locked for the next duration of `LOCK_DURATIONS` (1 minute, then 5, 15, 60, and 60 again);
a successful sign-in starts the scale over. What the person signing in sees does not change while the
account is locked (nothing tells whether an address has an account); its owner gets an email.
"""

from __future__ import annotations

from datetime import timedelta

MAX_FAILURES = 5
LOCK_DURATIONS = (timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=15), timedelta(minutes=60))
# Time to type the code, or to scan the QR code and confirm it, after the right password.
SECOND_STEP_LIFETIME = timedelta(minutes=15)
RECOVERY_CODE_COUNT = 10


def locks_the_account(failures_in_a_row: int) -> bool:
    return failures_in_a_row >= MAX_FAILURES


def lock_duration(previous_lockouts: int) -> timedelta:
    """How long the account is locked, given how many lockouts came before since its last sign-in."""
    return LOCK_DURATIONS[min(previous_lockouts, len(LOCK_DURATIONS) - 1)]


def duration_text(duration: timedelta) -> str:
    minutes = int(duration.total_seconds() // 60)
    if minutes % 60 == 0:
        hours = minutes // 60
        return "1 heure" if hours == 1 else f"{hours} heures"
    return "1 minute" if minutes == 1 else f"{minutes} minutes"
