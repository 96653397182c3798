"""Object ids as the schema receives them."""
from __future__ import annotations

import strawberry


def parse_id(value: strawberry.ID | None) -> int | None:
    """An integer id, or None for anything else (an unknown id finds nothing)."""
    return int(value) if value is not None and str(value).isdigit() else None
