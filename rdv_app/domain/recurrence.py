"""Recurrence of plages d'ouverture and indisponibilités.

One representation, stored as JSON in the `recurrence` column, always validated by
`Recurrence.from_json` before it is written:

    weekly:  {"every": "week", "interval": 2, "on": ["monday", "thursday"], "until": "2026-12-31"}
    monthly: {"every": "month", "interval": 1, "day": {"tuesday": 2}, "until": null}

- The series starts on the row's `first_day` (it is not repeated inside the JSON).
- Weekly: every `interval` weeks (1 to 5), on the chosen weekdays (Monday to Sunday); the weeks are
  counted from the week of `first_day`. Without "on", the weekday of `first_day` is used.
- Monthly: the nth weekday of every `interval` months (1 to 12), n from 1 to 5, or -1 for the last one;
  months without a 5th such weekday are skipped.
- `until` (optional) is the last day included; it must not be before `first_day`.
- A null recurrence is a one-off ("exceptionnelle") occurrence on `first_day`.
Each occurrence lasts as long as the first one; times of day are local wall-clock times of the
organisation's time zone, turned into instants by the caller.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
WEEKDAY_LABELS_FR = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")
ORDINAL_LABELS_FR = {1: "1er", 2: "2e", 3: "3e", 4: "4e", 5: "5e", -1: "dernier"}


class RecurrenceError(ValueError):
    """An invalid recurrence; the message is French and shown to the person."""


@dataclass(frozen=True, slots=True)
class Recurrence:
    every: str  # "week" or "month"
    interval: int = 1
    weekdays: tuple[int, ...] = ()  # weekly: 0 = Monday ... 6 = Sunday, sorted, unique
    month_weekday: int | None = None  # monthly: 0 = Monday ... 6 = Sunday
    month_ordinal: int | None = None  # monthly: 1..5, or -1 for the last
    until: date | None = None

    @classmethod
    def weekly(cls, weekdays: tuple[int, ...] | list[int] = (), interval: int = 1,
               until: date | None = None) -> Recurrence:
        return cls(every="week", interval=interval, weekdays=tuple(sorted(set(weekdays))), until=until)

    @classmethod
    def monthly(cls, weekday: int, ordinal: int, interval: int = 1, until: date | None = None) -> Recurrence:
        return cls(every="month", interval=interval, month_weekday=weekday, month_ordinal=ordinal, until=until)

    @classmethod
    def from_json(cls, data: dict[str, Any] | None, first_day: date) -> Recurrence | None:
        """Parse and validate; raise RecurrenceError with a French message."""
        if data is None:
            return None
        if not isinstance(data, dict):
            raise RecurrenceError("La répétition est illisible.")
        until = _parse_until(data.get("until"))
        interval = data.get("interval", 1)
        if not isinstance(interval, int) or isinstance(interval, bool):
            raise RecurrenceError("L'intervalle de répétition doit être un nombre entier.")
        every = data.get("every")
        if every == "week":
            names = data.get("on") or []
            if not isinstance(names, list) or any(n not in WEEKDAYS for n in names):
                raise RecurrenceError("Les jours de la semaine choisis sont invalides.")
            rec = cls.weekly(tuple(WEEKDAYS.index(n) for n in names), interval, until)
        elif every == "month":
            day = data.get("day")
            if not isinstance(day, dict) or len(day) != 1:
                raise RecurrenceError("Choisissez un jour du mois (par exemple le 2e mardi).")
            ((name, ordinal),) = day.items()
            if name not in WEEKDAYS or not isinstance(ordinal, int) or isinstance(ordinal, bool):
                raise RecurrenceError("Le jour du mois choisi est invalide.")
            rec = cls.monthly(WEEKDAYS.index(name), ordinal, interval, until)
        else:
            raise RecurrenceError("La répétition doit être hebdomadaire ou mensuelle.")
        rec.validate(first_day)
        return rec

    def month_day(self) -> tuple[int, int]:
        """(weekday, ordinal) of a monthly recurrence, both set once `validate` has accepted it."""
        if self.month_weekday is None or self.month_ordinal is None:
            raise RecurrenceError("Le jour du mois choisi est invalide.")
        return self.month_weekday, self.month_ordinal

    def validate(self, first_day: date) -> None:
        if self.every == "week":
            if not 1 <= self.interval <= 5:
                raise RecurrenceError("Une répétition hebdomadaire a lieu toutes les 1 à 5 semaines.")
            if any(not 0 <= d <= 6 for d in self.weekdays):
                raise RecurrenceError("Les jours de la semaine choisis sont invalides.")
        elif self.every == "month":
            if not 1 <= self.interval <= 12:
                raise RecurrenceError("Une répétition mensuelle a lieu tous les 1 à 12 mois.")
            if self.month_weekday is None or not 0 <= self.month_weekday <= 6:
                raise RecurrenceError("Le jour du mois choisi est invalide.")
            if self.month_ordinal not in ORDINAL_LABELS_FR:
                raise RecurrenceError("Choisissez le 1er, 2e, 3e, 4e, 5e ou dernier jour du mois.")
        else:
            raise RecurrenceError("La répétition doit être hebdomadaire ou mensuelle.")
        if self.until is not None and self.until < first_day:
            raise RecurrenceError("La date de fin de répétition doit suivre le premier jour.")

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"every": self.every, "interval": self.interval}
        if self.every == "week":
            data["on"] = [WEEKDAYS[d] for d in self.weekdays]
        else:
            weekday, ordinal = self.month_day()
            data["day"] = {WEEKDAYS[weekday]: ordinal}
        data["until"] = self.until.isoformat() if self.until else None
        return data

    def dates(self, first_day: date, start: date, end: date) -> Iterator[date]:
        """Occurrence days d with start <= d <= end, fast-forwarded to `start`."""
        last = min(end, self.until) if self.until else end
        start = max(start, first_day)
        if start > last:
            return
        if self.every == "week":
            yield from self._weekly_dates(first_day, start, last)
        else:
            yield from self._monthly_dates(first_day, start, last)

    def _weekly_dates(self, first_day: date, start: date, last: date) -> Iterator[date]:
        weekdays = self.weekdays or (first_day.weekday(),)
        anchor = first_day - timedelta(days=first_day.weekday())  # Monday of the first week
        week_index = (start - anchor).days // 7
        week_index += (-week_index) % self.interval  # first active week at or after start
        monday = anchor + timedelta(weeks=week_index)
        while monday <= last:
            for wd in weekdays:
                day = monday + timedelta(days=wd)
                if start <= day <= last:
                    yield day
            monday += timedelta(weeks=self.interval)

    def _monthly_dates(self, first_day: date, start: date, last: date) -> Iterator[date]:
        months_from_first = (start.year - first_day.year) * 12 + start.month - first_day.month
        months_from_first += (-months_from_first) % self.interval
        while True:
            total = first_day.month - 1 + months_from_first
            year, month = first_day.year + total // 12, total % 12 + 1
            if date(year, month, 1) > last:
                return
            day = nth_weekday(year, month, *self.month_day())
            if day is not None and start <= day <= last:
                yield day
            months_from_first += self.interval

    def describe_fr(self) -> str:
        if self.every == "week":
            days = ", ".join(WEEKDAY_LABELS_FR[d] for d in self.weekdays) or "le même jour"
            period = "chaque semaine" if self.interval == 1 else f"toutes les {self.interval} semaines"
            text = f"{period} ({days})"
        else:
            period = "chaque mois" if self.interval == 1 else f"tous les {self.interval} mois"
            weekday, rank = self.month_day()
            text = f"{period}, le {ORDINAL_LABELS_FR[rank]} {WEEKDAY_LABELS_FR[weekday]}"
        if self.until:
            text += f", jusqu'au {self.until.strftime('%d/%m/%Y')}"
        return text


def nth_weekday(year: int, month: int, weekday: int, ordinal: int) -> date | None:
    """The `ordinal`-th `weekday` of the month (-1 = last), or None when the month has none."""
    days_in_month = calendar.monthrange(year, month)[1]
    if ordinal == -1:
        last = date(year, month, days_in_month)
        return last - timedelta(days=(last.weekday() - weekday) % 7)
    first = date(year, month, 1)
    day = 1 + (weekday - first.weekday()) % 7 + 7 * (ordinal - 1)
    return date(year, month, day) if day <= days_in_month else None


def _parse_until(value: Any) -> date | None:
    if value in (None, ""):
        return None
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError as exc:
        raise RecurrenceError("La date de fin de répétition est invalide.") from exc
