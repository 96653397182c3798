"""Numbers typed by people or sent by clients: ids and page numbers, ASCII digits only."""
from __future__ import annotations

# The largest value an IntField holds (PostgreSQL `integer`): a bigger id finds nothing
# rather than overflowing the database driver.
MAX_ID = 2**31 - 1
_ASCII_DIGITS = frozenset("0123456789")


def plain_number(value: object, maximum: int) -> int | None:
    """`value` written with ASCII digits only, from 0 to `maximum`; None for anything else.

    Python's str.isdigit() and int() also accept superscripts and other scripts' digits
    ("²", "١" which int() reads as 1): an id written that way is not an id.
    """
    text = str(value) if value is not None else ""
    if not text or len(text) > len(str(maximum)) or not set(text) <= _ASCII_DIGITS:
        return None
    number = int(text)
    return number if number <= maximum else None


def parse_id(value: object) -> int | None:
    """An object id, or None for anything that cannot be one (which then finds nothing)."""
    return plain_number(value, MAX_ID)
