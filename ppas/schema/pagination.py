"""Offset pagination shared by every list."""
from __future__ import annotations

from typing import Generic, TypeVar

import strawberry

from ppas.services.errors import ServiceError

T = TypeVar("T")


@strawberry.type(description="Une page d'une liste plus longue.")
class Page(Generic[T]):
    items: list[T]
    total_count: int
    offset: int
    limit: int

    @strawberry.field(description="Vrai s'il reste des éléments après cette page.")
    def has_next_page(self) -> bool:
        return self.offset + len(self.items) < self.total_count


def checked_window(offset: int, limit: int, max_limit: int) -> tuple[int, int]:
    """Refuse a negative offset or a page size outside 1..max_limit."""
    if offset < 0:
        raise ServiceError("Le décalage (offset) doit être positif ou nul.")
    if not 1 <= limit <= max_limit:
        raise ServiceError(f"La taille de page (limit) doit être comprise entre 1 et {max_limit}.")
    return offset, limit
