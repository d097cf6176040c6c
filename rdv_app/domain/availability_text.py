"""Plages d'ouverture and indisponibilités in words, as agents read them in lists and notice emails."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, time

from rdv_app.domain import datefmt
from rdv_app.domain.recurrence import Recurrence


def describe_plage(first_day: date, start_time: time, end_time: time, recurrence: Recurrence | None) -> str:
    """'Le lundi 7 décembre 2026 de 9h00 à 12h00', or for a series 'Chaque semaine (lundi, jeudi) de 9h00
    à 12h00, du 07/12/2026 au 31/03/2027' ('à partir du 07/12/2026' without end)."""
    hours = f"de {datefmt.short_hour(start_time)} à {datefmt.short_hour(end_time)}"
    if recurrence is None:
        return f"Le {datefmt.long_date(first_day)} {hours}"
    if recurrence.every == "week" and not recurrence.weekdays:
        # A weekly series without chosen days repeats on its first day's weekday: name it.
        recurrence = replace(recurrence, weekdays=(first_day.weekday(),))
    pattern = replace(recurrence, until=None).describe_fr()
    span = (f"du {first_day:%d/%m/%Y} au {recurrence.until:%d/%m/%Y}" if recurrence.until
            else f"à partir du {first_day:%d/%m/%Y}")
    return f"{pattern[0].upper()}{pattern[1:]} {hours}, {span}"


def describe_absence(first_day: date, start_time: time, end_day: date, end_time: time,
                     recurrence: Recurrence | None) -> str:
    """Like a plage on a single day; 'Du lundi 7 décembre 2026 à 9h00 au mercredi 9 décembre 2026 à 18h00'
    over several days."""
    if end_day == first_day:
        return describe_plage(first_day, start_time, end_time, recurrence)
    return (f"Du {datefmt.long_date(first_day)} à {datefmt.short_hour(start_time)} "
            f"au {datefmt.long_date(end_day)} à {datefmt.short_hour(end_time)}")
