"""An usager's age as agents read it in lists (admin-domain.md 1.3): "N ans" from 3 years, else "N mois"
from one month, else "N jours"."""

from __future__ import annotations

from datetime import date

_YEARS_FROM = 3


def _whole_months(birth: date, today: date) -> int:
    months = (today.year - birth.year) * 12 + today.month - birth.month
    return months - 1 if today.day < birth.day else months


def age_label(birth: date, today: date) -> str:
    """'42 ans', '14 mois', '12 jours' (a birth date in the future gives '0 jours')."""
    years = today.year - birth.year - (1 if (today.month, today.day) < (birth.month, birth.day) else 0)
    if years >= _YEARS_FROM:
        return f"{years} ans"
    months = _whole_months(birth, today)
    if months >= 1:
        return f"{months} mois"
    return f"{max(0, (today - birth).days)} jours"


def birth_date_and_age(birth: date | None, today: date) -> str | None:
    """'14/07/1985 - 41 ans', the "Date de naissance" column."""
    if birth is None:
        return None
    return f"{birth:%d/%m/%Y} - {age_label(birth, today)}"
