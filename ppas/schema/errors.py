"""Errors as data: what a mutation returns when it refuses."""
from __future__ import annotations

import strawberry

from ppas.services.errors import ServiceError


@strawberry.type(description="Refus expliqué : le message dit quoi corriger.")
class UserError:
    message: str
    field: str | None = strawberry.field(
        default=None, description="Le champ en cause, s'il y en a un."
    )

    @classmethod
    def from_service(cls, error: ServiceError, field: str | None = None) -> UserError:
        return cls(message=error.message, field=getattr(error, "field", None) or field)
