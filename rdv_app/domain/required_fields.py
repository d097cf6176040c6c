"""A form's required fields, checked together: a person who submits an empty form learns at once every
field to fill in, each with its French message, instead of one refusal after another."""

from __future__ import annotations

from collections.abc import Collection, Mapping


def is_empty(value: object) -> bool:
    """Nothing given: None, blank text, or an empty collection of choices (checkboxes, a multiple select)."""
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    return isinstance(value, Collection) and len(value) == 0


def missing(fields: Mapping[str, tuple[object, str]]) -> dict[str, str]:
    """{field: message} for each empty field of `fields` ({field: (value, message when empty)}), in the
    form's order."""
    return {field: message for field, (value, message) in fields.items() if is_empty(value)}
