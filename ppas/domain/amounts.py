"""Hours and euros: French parsing, exact Decimal arithmetic, French formatting."""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal, localcontext

__all__ = [
    "CENT",
    "MAX_HOURS",
    "format_euros",
    "format_hours",
    "format_number",
    "hours_above_plan_problem",
    "line_amount",
    "parse_hours",
]

CENT = Decimal("0.01")
MAX_HOURS = Decimal("1000")  # exclusive upper bound of an hours field

NARROW_NBSP = "\u202f"  # thousands separator (CLDR fr)
NBSP = "\u00a0"  # between the figure and its unit

_HOURS_RE = re.compile(r"(-?)([0-9]+)(?:[.,]([0-9]+))?", re.ASCII)
_HOURS_HINT = "Saisissez un nombre d'heures, par exemple 12,5."


def _require_decimal(value: object, name: str) -> Decimal:
    """Return `value` if it is a finite Decimal; refuse float and every other type."""
    if isinstance(value, float):
        raise TypeError(f"{name} is a float; money and hours must be Decimal, never float")
    if not isinstance(value, Decimal):
        raise TypeError(f"{name} must be a Decimal, got {type(value).__name__}")
    if not value.is_finite():
        raise ValueError(f"{name} must be a finite Decimal, got {value}")
    return value


def parse_hours(text: str) -> Decimal:
    """Read hours typed by a user ("12,5", "12.50", " 3 ") into a Decimal with 2 places."""
    if isinstance(text, float):
        raise TypeError("parse_hours reads text; got a float, which is never accepted for hours")
    if not isinstance(text, str):
        raise TypeError(f"parse_hours expects a str, got {type(text).__name__}")
    cleaned = text.strip()
    if not cleaned:
        raise ValueError(_HOURS_HINT)
    match = _HOURS_RE.fullmatch(cleaned)
    if match is None:
        raise ValueError(f"« {cleaned} » n'est pas un nombre d'heures. {_HOURS_HINT}")
    sign, whole, fraction = match.groups()
    fraction = fraction or ""
    if sign:
        raise ValueError(f"« {cleaned} » : le nombre d'heures ne peut pas être négatif, saisissez 0 ou plus.")
    if len(fraction) > 2:
        raise ValueError(
            f"« {cleaned} » : 2 décimales au plus, par exemple 12,25 (un quart d'heure = 0,25)."
        )
    value = Decimal(f"{whole}.{fraction or '0'}")
    if value >= MAX_HOURS:
        raise ValueError(
            f"« {cleaned} » : le nombre d'heures doit être inférieur à {format_number(MAX_HOURS)}."
        )
    return value.quantize(CENT)


def line_amount(hours: Decimal, rate: Decimal, participation: Decimal) -> Decimal:
    """Return hours × (rate − participation), rounded half-up to the cent."""
    _require_decimal(hours, "hours")
    _require_decimal(rate, "rate")
    _require_decimal(participation, "participation")
    with localcontext() as ctx:
        ctx.prec = 60  # exact for any realistic figures; rounding happens only below
        exact = hours * (rate - participation)
        return exact.quantize(CENT, rounding=ROUND_HALF_UP)


def hours_above_plan_problem(
    hours: Decimal, sunday_hours: Decimal | None, plan_hours: Decimal
) -> str | None:
    """Say why hours plus Sunday/holiday hours exceed the plan's monthly hours, or None."""
    _require_decimal(hours, "hours")
    if sunday_hours is not None:
        _require_decimal(sunday_hours, "sunday_hours")
    _require_decimal(plan_hours, "plan_hours")
    sunday = sunday_hours if sunday_hours is not None else Decimal(0)
    total = hours + sunday
    if total <= plan_hours:
        return None
    detail = (
        f" ({format_hours(hours)} + {format_hours(sunday)} le dimanche ou un jour férié)" if sunday else ""
    )
    return (
        f"{format_hours(total)} saisies{detail} dépassent les {format_hours(plan_hours)} "
        f"par mois prévues par la prise en charge : ramenez le total à "
        f"{format_hours(plan_hours)} au plus."
    )


def format_number(value: Decimal, places: int = 2, *, keep_zeros: bool = False) -> str:
    """Format a Decimal the French way ("1 234,5"), rounded half-up to `places`."""
    _require_decimal(value, "value")
    if isinstance(places, bool) or not isinstance(places, int) or places < 0:
        raise TypeError("places must be a non-negative int")
    with localcontext() as ctx:
        ctx.prec = 60
        rounded = value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    if rounded == 0:
        rounded = abs(rounded)  # never print "-0"
    text = f"{rounded:,.{places}f}"
    if places and not keep_zeros:
        text = text.rstrip("0").rstrip(".")
    return text.replace(",", NARROW_NBSP).replace(".", ",")


def format_euros(value: Decimal) -> str:
    """Format an amount as French euros, e.g. "1 234,56 €" (narrow no-break thousands)."""
    return f"{format_number(value, 2, keep_zeros=True)}{NBSP}€"


def format_hours(value: Decimal) -> str:
    """Format hours the French way without useless zeros, e.g. "12,5 h"."""
    return f"{format_number(value, 2)}{NBSP}h"
