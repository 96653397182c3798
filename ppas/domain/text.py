"""Checks on free text typed by people or sent by clients."""
from __future__ import annotations

import unicodedata


def invisible_characters(text: str) -> list[str]:
    """The control, format, surrogate, private or unassigned characters of `text`, as U+XXXX.

    None of them belongs in a name shown on a page: NUL is refused by PostgreSQL, a lone
    surrogate cannot be encoded, and the others hide or reorder what the reader sees.
    """
    return [f"U+{ord(char):04X}" for char in dict.fromkeys(text)
            if unicodedata.category(char).startswith("C")]
