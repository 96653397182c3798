"""References people quote on the phone: short, readable, stable."""
from __future__ import annotations


def registration_reference(caisse_code: str, registration_id: int) -> str:
    """A pre-registration's reference, e.g. « PRE-03-000123 »: the caisse that handles it
    and the registration's number, which the caisse's agents see beside it."""
    return f"PRE-{caisse_code}-{registration_id:06d}"
