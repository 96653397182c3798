"""Line checks of a billing file (anomalies L01–L08), pure: the caller supplies what is known.

A line bills the hours given to one beneficiary over a period inside one calendar month.
The checks stop at the first blocking motive (invalid dates, too old, unknown beneficiary,
no notified care plan); once a care plan is found, every other motive found is reported.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from ppas.domain.amounts import CENT, format_euros, hours_above_plan_problem, line_amount
from ppas.domain.anomalies import format_message
from ppas.domain.periods import ONLINE_BILLING_MONTHS_BACK, Period

__all__ = [
    "BilledBefore",
    "LineFacts",
    "PlanFacts",
    "billed_key",
    "check_line",
    "expected_amount",
    "line_message",
    "month_index",
]


@dataclass(slots=True)
class LineFacts:
    """The values of one `<ligne>` (already valid against the XSD)."""

    record: int
    file_number: str
    last_name: str
    first_name: str
    start: date
    end: date
    hours: Decimal
    sunday_hours: Decimal | None
    rate: Decimal
    participation: Decimal
    amount: Decimal
    texts: tuple[str, ...] | None = None  # start, end, hours, sunday, rate, participation, amount as written


@dataclass(frozen=True, slots=True)
class PlanFacts:
    """A care plan of the uploading partner, as the checks need it."""

    id: int
    start: date
    end: date | None
    notified: bool
    closed_on: date | None
    hours_per_month: Decimal
    hourly_rate: Decimal
    participation: Decimal
    sunday_hourly_rate: Decimal | None


@dataclass(frozen=True, slots=True)
class BilledBefore:
    """Where a (care plan, month) was billed first: the record cited by L05."""

    record: str  # "12" for a file line, "3 du formulaire en ligne de mars 2025" for a form line
    where: str  # e.g. "fichier 03_21231300_202503.xml"


def month_index(day: date | Period) -> int:
    """Months since year 0: cheap to compare, to subtract and to put in a key."""
    return day.year * 12 + day.month - 1


def billed_key(plan_id: int, month: int) -> int:
    """A compact key for one care plan and one month index (sets of 100k keys stay small)."""
    return plan_id * 120_000 + month


def line_message(code: str, detail: str = "", **params: object) -> str:
    """The catalog title of `code`, then what is wrong on this line."""
    title = format_message(code, **params)
    return f"{title} : {detail}" if detail else title


def expected_amount(line: LineFacts, plan: PlanFacts) -> Decimal:
    """hours × (rate − participation), plus Sunday hours at the Sunday rate when the convention has one."""
    # Same rounding as amounts.line_amount; the XSD bounds keep every product exact at 28 digits.
    amount = (line.hours * (line.rate - line.participation)).quantize(CENT, ROUND_HALF_UP)
    if line.sunday_hours:
        sunday_rate = plan.sunday_hourly_rate if plan.sunday_hourly_rate is not None else line.rate
        amount += line_amount(line.sunday_hours, sunday_rate, line.participation)
    return amount


def _dates_problem(line: LineFacts, today: date, last_month: Period | None) -> str | None:
    """Say why the period's dates are invalid or not over yet (L07), or None."""
    if line.end < line.start:
        return (f"la fin de période ({line.end:%d/%m/%Y}) précède son début "
                f"({line.start:%d/%m/%Y})")
    if month_index(line.start) != month_index(line.end):
        return (f"la période du {line.start:%d/%m/%Y} au {line.end:%d/%m/%Y} couvre plusieurs mois : "
                "facturez chaque mois sur une ligne distincte")
    if line.end > today:
        return (f"la période se termine le {line.end:%d/%m/%Y}, après la date du jour "
                f"({today:%d/%m/%Y}) : facturez-la une fois écoulée")
    if last_month is not None and month_index(line.start) > month_index(last_month):
        return (f"la période ({Period.of(line.start).label_fr}) est postérieure à l'échéance "
                f"du fichier ({last_month.label_fr})")
    return None


def _covering_plan(plans: Sequence[PlanFacts], line: LineFacts) -> PlanFacts | None:
    """The notified plan whose dates cover the whole line period, if any."""
    for plan in plans:
        if plan.notified and plan.start <= line.start and (plan.end is None or plan.end >= line.end):
            return plan
    return None


def check_line(
    line: LineFacts,
    plans: Sequence[PlanFacts] | None,
    *,
    today: date,
    last_month: Period | None,
    billed: Mapping[int, BilledBefore],
    crossed_out: Mapping[int, Period] | set[int],
) -> tuple[PlanFacts | None, list[tuple[str, str]]]:
    """Return the plan the line bills (if found) and its anomalies as (code, message) pairs.

    `plans` is None when the partner has no care plan at all for this file number: L01,
    whether or not the caisse knows the number (a partner must not learn which file numbers
    exist elsewhere).
    `billed` maps billed_key(plan, month) to the earlier record; `crossed_out` holds the
    billed_key of every (plan, month) crossed out on an online form.
    """
    problem = _dates_problem(line, today, last_month)
    if problem:
        return None, [("L07", line_message("L07", problem))]
    index = month_index(line.start)
    if month_index(today) - index > ONLINE_BILLING_MONTHS_BACK:
        month, current = Period.of(line.start), Period.of(today)
        oldest = current.plus_months(-ONLINE_BILLING_MONTHS_BACK)
        return None, [("L04", line_message(
            "L04", f"{month.label_fr} est antérieur à {oldest.label_fr}"))]
    if plans is None:
        return None, [("L01", line_message(
            "L01", f"votre structure n'a aucune prise en charge pour le dossier {line.file_number} "
                   "au titre de cette convention"))]
    plan = _covering_plan(plans, line)
    if plan is None:
        return None, [("L02", line_message(
            "L02", f"aucune prise en charge notifiée du dossier {line.file_number} ne couvre "
                   f"la période du {line.start:%d/%m/%Y} au {line.end:%d/%m/%Y}"))]
    found: list[tuple[str, str]] = []
    key = billed_key(plan.id, index)
    if plan.closed_on is not None and plan.closed_on <= line.start:
        found.append(("L08", line_message(
            "L08", f"la prise en charge est clôturée depuis le {plan.closed_on:%d/%m/%Y}")))
    elif key in crossed_out:
        found.append(("L08", line_message(
            "L08", f"la ligne de ce bénéficiaire a été barrée dans le formulaire en ligne "
                   f"({Period.of(line.start).label_fr} ou avant)")))
    earlier = billed.get(key)
    if earlier is not None:
        found.append(("L05", line_message(
            "L05", f"{Period.of(line.start).label_fr} de ce bénéficiaire figure déjà dans : "
                   f"{earlier.where}",
            record=earlier.record)))
    if line.rate != plan.hourly_rate or line.participation != plan.participation:
        found.append(("L06", line_message(
            "L06", f"taux horaire {format_euros(line.rate)} et participation "
                   f"{format_euros(line.participation)} au lieu de {format_euros(plan.hourly_rate)} "
                   f"et {format_euros(plan.participation)} selon la prise en charge")))
    else:
        expected = expected_amount(line, plan)
        if expected != line.amount:
            found.append(("L06", line_message(
                "L06", f"montant {format_euros(line.amount)} au lieu de {format_euros(expected)}")))
    if line.hours + (line.sunday_hours or 0) > plan.hours_per_month:
        hours_problem = hours_above_plan_problem(line.hours, line.sunday_hours,
                                                 plan.hours_per_month)
        found.append(("L03", line_message("L03", hours_problem)))
    return plan, found
