"""Errors a use case reports to the user, in French."""
from __future__ import annotations


class ServiceError(Exception):
    """A refusal the user can act on; `message` is shown as is."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class AccessDenied(ServiceError):
    """The signed-in user may not see or change this object."""

    def __init__(self, message: str = "Vous n'avez pas accès à cette information.") -> None:
        super().__init__(message)
