"""French plural agreement for counts shown to people (« 1 ligne », « 2 lignes », never « ligne(s) »)."""
from __future__ import annotations

__all__ = ["count_of", "plural"]


def plural(count: int, singular: str, plural_form: str) -> str:
    """The form agreeing with `count`: French takes the singular for 0 and 1 (« 0 anomalie »)."""
    return singular if abs(count) < 2 else plural_form


def count_of(count: int, singular: str, plural_form: str) -> str:
    """`count` followed by the agreeing word, e.g. « 3 lignes », « 1 anomalie »."""
    return f"{count} {plural(count, singular, plural_form)}"
