"""Object ids as the schema receives them."""
from __future__ import annotations

from ppas.domain.ids import MAX_ID, parse_id

__all__ = ["MAX_ID", "parse_id"]
