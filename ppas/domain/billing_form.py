"""Rules of the monthly online billing form: lines offered, amounts, validation, cancellation."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from ppas.domain.amounts import (
    format_hours,
    hours_above_plan_problem,
    line_amount,
    parse_hours,
)
from ppas.domain.periods import Period, care_plan_in_progress, paris_date, same_paris_day

__all__ = [
    "LineEntry",
    "billed_part",
    "PlanTerms",
    "UnfilledLine",
    "cancellation_problem",
    "entry_problem",
    "form_line_amount",
    "offered_on_form",
    "page_count",
    "page_of_position",
    "parse_entry",
    "validation_problem",
]

# Above this many unfilled lines the refusal names the first ones and counts the rest.
LISTED_UNFILLED = 10


@dataclass(frozen=True, slots=True)
class PlanTerms:
    """What a care plan and its convention say about the money of one line."""

    hours_per_month: Decimal
    hourly_rate: Decimal
    participation: Decimal
    sunday_hourly_rate: Decimal | None = None  # from the convention; None: no Sunday rate


@dataclass(frozen=True, slots=True)
class LineEntry:
    """Hours typed on a line, already parsed (None: field left empty)."""

    hours: Decimal | None
    sunday_hours: Decimal | None


@dataclass(frozen=True, slots=True)
class UnfilledLine:
    """A line that blocks validation: neither filled nor crossed out."""

    line_id: int
    position: int
    label: str


def offered_on_form(
    *,
    start: date,
    end: date | None,
    notified: bool,
    closed_on: date | None,
    period: Period,
    crossed_out_earlier: bool,
) -> bool:
    """Tell whether a care plan gets a line on the form of `period`.

    Notified, in progress during the month, not closed on or before its first day, and not
    crossed out on the form of an earlier month.
    """
    if not notified or crossed_out_earlier:
        return False
    # Closed on the 1st, the plan covers no day of the month: a file line of that month gets
    # L08 for the same reason (billing_lines.check_line: closed_on <= the line's first day).
    if closed_on is not None and closed_on <= period.first_day:
        return False
    return care_plan_in_progress(start, end, period)


def billed_part(period: Period, start: date | None, end: date | None) -> tuple[date, date]:
    """The days of `period` a form line bills for a plan running from `start` to `end`
    (None: open): the month cut to the plan; the whole month when they do not overlap
    (integration's R04 then says the plan does not cover it)."""
    first = max(period.first_day, start) if start else period.first_day
    last = min(period.last_day, end) if end else period.last_day
    return (first, last) if first <= last else (period.first_day, period.last_day)


def _parse_optional(text: str | None, field: str) -> Decimal | None:
    if text is None or not text.strip():
        return None
    try:
        return parse_hours(text)
    except ValueError as error:
        raise EntryError(str(error), field) from error


class EntryError(ValueError):
    """Typed hours that cannot be read; `field` is "hours" or "sundayHours"."""

    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


def parse_entry(hours: str | None, sunday_hours: str | None) -> LineEntry:
    """Read the two fields of a line as typed ("12,5", "", None); EntryError names the field.

    Sunday hours typed with the weekday field left empty count as 0 weekday hours.
    """
    weekday = _parse_optional(hours, "hours")
    sunday = _parse_optional(sunday_hours, "sundayHours")
    if weekday is None and sunday is not None:
        weekday = Decimal("0.00")
    return LineEntry(weekday, sunday)


def entry_problem(entry: LineEntry, terms: PlanTerms) -> tuple[str, str] | None:
    """(message, field) saying why these hours cannot be saved on the line, or None."""
    if entry.sunday_hours is not None and entry.sunday_hours > 0 and terms.sunday_hourly_rate is None:
        return (
            "Votre convention ne prévoit pas de tarif pour les dimanches et jours fériés : "
            "saisissez ces heures avec les autres, dans la colonne « Heures ».",
            "sundayHours",
        )
    if entry.hours is None:
        return None
    problem = hours_above_plan_problem(entry.hours, entry.sunday_hours, terms.hours_per_month)
    if problem:
        return problem, "sundayHours" if entry.sunday_hours else "hours"
    return None


def form_line_amount(entry: LineEntry, terms: PlanTerms) -> Decimal | None:
    """hours × (rate − participation) + Sunday hours × (Sunday rate − participation), in Decimal.

    None while the line has no hours.
    """
    if entry.hours is None:
        return None
    amount = line_amount(entry.hours, terms.hourly_rate, terms.participation)
    if entry.sunday_hours and terms.sunday_hourly_rate is not None:
        amount += line_amount(entry.sunday_hours, terms.sunday_hourly_rate, terms.participation)
    return amount


def page_count(line_count: int, page_size: int) -> int:
    """Number of pages of a form (at least 1)."""
    if page_size < 1:
        raise ValueError("page_size must be positive")
    return max(1, -(-line_count // page_size))


def page_of_position(position: int, page_size: int) -> int:
    """The page (from 1) showing the line at `position` (from 1)."""
    if position < 1 or page_size < 1:
        raise ValueError("position and page_size must be positive")
    return (position - 1) // page_size + 1


def validation_problem(unfilled: Sequence[UnfilledLine]) -> str | None:
    """Why the form cannot be validated yet, naming the lines to finish, or None."""
    if not unfilled:
        return None
    named = ", ".join(f"ligne {u.position} ({u.label})" for u in unfilled[:LISTED_UNFILLED])
    more = len(unfilled) - LISTED_UNFILLED
    rest = f" et {more} autre{'s' if more > 1 else ''}" if more > 0 else ""
    count = len(unfilled)
    return (
        f"Le formulaire ne peut pas encore être validé : {count} ligne"
        f"{'s ne sont' if count > 1 else ' n’est'} ni remplie{'s' if count > 1 else ''} "
        f"ni barrée{'s' if count > 1 else ''} — {named}{rest}. "
        "Saisissez les heures, ou barrez la ligne avec « − » si aucune heure n'a été faite ce mois-ci."
    )


def unfilled_lines(lines: Iterable[tuple[int, int, str, Decimal | None, bool]]) -> list[UnfilledLine]:
    """From (id, position, label, hours, crossed_out) rows, those neither filled nor crossed out."""
    return [
        UnfilledLine(line_id, position, label)
        for line_id, position, label, hours, crossed_out in sorted(lines, key=lambda r: r[1])
        if hours is None and not crossed_out
    ]


INTEGRATED_CANCELLATION = (
    "Des lignes de ce formulaire ont déjà été intégrées par la caisse (mises en paiement, "
    "payées ou rejetées avec une anomalie de report) : sa validation ne peut plus être "
    "annulée. Pour une correction, contactez votre caisse."
)


def cancellation_problem(
    *, validated_at: datetime | None, now: datetime, taken_by_payment: bool,
    integrated: bool = False,
) -> str | None:
    """Why a validation cannot be cancelled at `now`, or None.

    Only the same Europe/Paris calendar day as the validation, and never once a payment
    run has taken the form.
    """
    if validated_at is None:
        return "Ce formulaire n'est pas validé : il n'y a pas de validation à annuler."
    if taken_by_payment:
        return (
            "Ce formulaire a été pris en compte par un paiement : sa validation ne peut plus "
            "être annulée. Pour une correction, contactez votre caisse."
        )
    if integrated:
        return INTEGRATED_CANCELLATION
    if not same_paris_day(validated_at, now):
        return (
            f"La validation du {paris_date(validated_at):%d/%m/%Y} ne peut être annulée que le "
            "jour même (heure de Paris) : ce délai est passé. Pour une correction, "
            "contactez votre caisse."
        )
    return None


def describe_hours(hours: Decimal | None) -> str:
    """Hours as a user reads them in a conflict message ("vide" when empty)."""
    return format_hours(hours) if hours is not None else "vide"
