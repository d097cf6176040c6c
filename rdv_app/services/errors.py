"""Errors raised by services; `message` is French and shown to the person as is."""


class DomainError(Exception):
    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class PermissionDenied(DomainError):
    def __init__(self, message: str = "Vous n'avez pas accès à cette ressource.") -> None:
        super().__init__(message)


class NotFound(DomainError):
    def __init__(self, message: str = "Élément introuvable.") -> None:
        super().__init__(message)
