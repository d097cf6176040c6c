"""Errors raised by services; `message` is French and shown to the person as is."""

from __future__ import annotations

from collections.abc import Mapping

from rdv_app.domain import required_fields


class DomainError(Exception):
    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class FieldErrors(DomainError):
    """Every field the person must fix, at once: {field: French message}; nothing was written."""

    def __init__(self, errors: dict[str, str]) -> None:
        first_field, first_message = next(iter(errors.items()))
        super().__init__(first_message, first_field)
        self.errors = errors


class PermissionDenied(DomainError):
    def __init__(self, message: str = "Vous n'avez pas accès à cette ressource.") -> None:
        super().__init__(message)


class NotFound(DomainError):
    def __init__(self, message: str = "Élément introuvable.") -> None:
        super().__init__(message)


class NeedsConfirmation(DomainError):
    """Benign warnings (overlap, absence, outside plages...): the person may confirm and submit again
    with `confirm_warnings=True`; nothing was changed."""

    def __init__(self, warnings: list[str]) -> None:
        super().__init__(" ".join(warnings))
        self.warnings = warnings


class InvalidInput(DomainError):
    """An argument of the wrong type or size, refused at the services' boundary (rdv_app.services.boundary)
    before anything is read or written; or a value the database refused, after a rollback."""


def require_filled(fields: Mapping[str, tuple[object, str]]) -> None:
    """Refuses with every empty required field at once ({field: (value, message when empty)}), before any
    other rule of the use case runs on them."""
    errors = required_fields.missing(fields)
    if errors:
        raise FieldErrors(errors)
