"""Collective sessions ("RDV collectifs", "ateliers"): the rules on seats and on what usagers may book
(domain.md sections 1 and 2.2), as pure functions.

- A session has `max_participants_count` seats (> 0), or none for an unlimited session; `users_count`
  counts its participations that are not cancelled.
- Agents read its fill as "6/8" (or "6" when unlimited), in the agenda, the list and the calendars.
- Usagers see, and may book, a session that is not cancelled, has a seat left, and starts inside the
  motif's booking window: after now + the minimum delay, before now + the maximum delay (no maximum when
  both delays are 0).
- Weekly repetition: a session may be created with up to `MAX_WEEKLY_SESSIONS` weekly occurrences, each
  at the same local wall-clock time (so a DST change does not move the session by one hour).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from rdv_app.domain.enums import CANCELLED_STATUSES, RdvStatus

MAX_WEEKLY_SESSIONS = 26
MAX_SEATS = 1_000
FULL = "Cet atelier est complet."
NAME_FOR_SMS = 50  # the SMS shows the session's name truncated past this length (domain.md 3.2)


class SessionError(ValueError):
    """A session or seat the rules refuse; the message is French and shown to the person."""


def seats_left(users_count: int, max_participants_count: int | None) -> int | None:
    """Seats still free; None for an unlimited session."""
    if max_participants_count is None:
        return None
    return max(max_participants_count - users_count, 0)


def fill_label(users_count: int, max_participants_count: int | None) -> str:
    """"6/8", or "6" for an unlimited session."""
    return f"{users_count}/{max_participants_count}" if max_participants_count else f"{users_count}"


def seats_label(users_count: int, max_participants_count: int | None) -> str:
    """What an usager reads about the seats: "3 places restantes", "1 place restante", "Places illimitées"."""
    left = seats_left(users_count, max_participants_count)
    if left is None:
        return "Places illimitées"
    return f"{left} place restante" if left == 1 else f"{left} places restantes"


def check_seats(max_participants_count: int | None) -> int | None:
    if max_participants_count is not None and not 0 < max_participants_count <= MAX_SEATS:
        raise SessionError(f"Le nombre de places doit être compris entre 1 et {MAX_SEATS}, ou illimité.")
    return max_participants_count


def too_few_seats(users_count: int) -> str:
    """Why a session cannot have fewer seats than its participants."""
    registered = "1 participant inscrit" if users_count == 1 else f"{users_count} participants inscrits"
    return (f"Cet atelier compte déjà {registered} : prévoyez au moins {users_count} place"
            f"{'s' if users_count > 1 else ''}, ou retirez d'abord des participants.")


def check_name(name: str | None) -> str | None:
    return (name or "").strip() or None


def name_warning(name: str | None) -> str | None:
    """Agents are warned that SMS cut a long name (domain.md 6.5)."""
    if name and len(name) > NAME_FOR_SMS:
        return (f"Le nom de l'atelier dépasse {NAME_FOR_SMS} caractères : il sera tronqué dans les SMS "
                "envoyés aux participants.")
    return None


@dataclass(frozen=True)
class BookingWindow:
    min_delay_s: int
    max_delay_s: int

    def earliest(self, now: datetime) -> datetime:
        return now + timedelta(seconds=self.min_delay_s)

    def latest(self, now: datetime) -> datetime | None:
        if self.min_delay_s == 0 and self.max_delay_s == 0:
            return None
        return now + timedelta(seconds=self.max_delay_s)

    def contains(self, starts_at: datetime, now: datetime) -> bool:
        latest = self.latest(now)
        return starts_at >= self.earliest(now) and (latest is None or starts_at <= latest)


def open_to_usagers(*, status: RdvStatus | str, starts_at: datetime, users_count: int,
                    max_participants_count: int | None, window: BookingWindow, now: datetime) -> bool:
    """Whether an usager may see and book a seat of this session."""
    if RdvStatus(status) in CANCELLED_STATUSES:
        return False
    left = seats_left(users_count, max_participants_count)
    return (left is None or left > 0) and window.contains(starts_at, now)


def seat_refusal(*, status: RdvStatus | str, starts_at: datetime, users_count: int,
                 max_participants_count: int | None, window: BookingWindow, now: datetime) -> str | None:
    """Why an usager cannot take a seat now, in French; None when they can."""
    if RdvStatus(status) in CANCELLED_STATUSES:
        return "Cet atelier a été annulé. Choisissez une autre date."
    left = seats_left(users_count, max_participants_count)
    if left is not None and left <= 0:
        return FULL + " Choisissez une autre date."
    if not window.contains(starts_at, now):
        return "Cet atelier n'est plus ouvert à la réservation en ligne. Choisissez une autre date."
    return None


def weekly_starts(starts_at: datetime, count: int, time_zone: str) -> list[datetime]:
    """`count` starts, one a week from `starts_at`, at the same local wall-clock time."""
    if not 1 <= count <= MAX_WEEKLY_SESSIONS:
        raise SessionError(f"Le nombre de séances doit être compris entre 1 et {MAX_WEEKLY_SESSIONS}.")
    zone = ZoneInfo(time_zone)
    local = starts_at.astimezone(zone).replace(tzinfo=None)
    return [(local + timedelta(weeks=i)).replace(tzinfo=zone).astimezone(UTC) for i in range(count)]
