"""Errors as data: what a mutation returns when it refuses."""
from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

import strawberry

from ppas.services.errors import AccessDenied, ServiceError

T = TypeVar("T")
R = TypeVar("R")


@strawberry.type(description="Refus expliqué : le message dit quoi corriger.")
class UserError:
    message: str
    field: str | None = strawberry.field(
        default=None, description="Le champ en cause, s'il y en a un."
    )

    @classmethod
    def from_service(cls, error: ServiceError, field: str | None = None) -> UserError:
        return cls(message=error.message, field=getattr(error, "field", None) or field)


async def errors_as_data(work: Awaitable[T], success: Callable[[T], R],
                         error_type: type[UserError]) -> R | UserError:
    """Await a use case: its result through `success`, a refusal as `error_type` data.

    AccessDenied stays a GraphQL error: a caller may not learn more than "no".
    """
    try:
        value = await work
    except AccessDenied:
        raise
    except ServiceError as error:
        return error_type.from_service(error)
    return success(value)
