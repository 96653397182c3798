"""The checks made at integration (phase `report`, codes R01–R04), on facts already loaded.

A line accepted at upload (file) or on a validated form waits some business days, then the
caisse integrates it: what changed in between may stop its payment. Precisely:

* R01 — file closed or beneficiary deceased since: the beneficiary's date of death falls
  before the end of the billed period (the period then covers days after the death: never
  payable, whenever the death was recorded); or the care plan was closed *after the line was
  sent* (`closed_at` later than the line's `sent_at`) and its end date as closed (the Paris
  day of `closed_at` for a plan closed without one) falls before the end of the billed period.
  A plan closed with an end date still to come keeps paying the periods it covers; a plan
  closed before the line was sent is not "closed since": the line was checked against it
  (file: L02/L08 at upload; form: the billed part frozen at validation, see R04).
* R02 — convention suspended: the convention of the line is suspended (or closed) at
  integration.
* R03 — period already paid through the other channel: a line of the other channel (form
  for a file line, file for a form line) for the same care plan and an overlapping period is
  already integrated as payable or paid (including earlier in the same run).
* R04 — care plan changed since the line was sent, compared with the care plan as it is now:
  - its hours (with Sunday hours) exceed the plan's monthly hours;
  - the plan no longer covers the billed period: it now starts after the period's first day,
    or ends (end date, else the day it was closed) before its last day — unless it was
    closed since the line was sent, which is R01 alone. The billed period of a file
    line is the one written in the file; of a form line, the month cut to the plan's start
    and end as they were at validation (a plan starting on the 15th bills the 15th to the
    end of the month);
  - a file line's hourly rate or participation differ from the plan's;
  - the money: the line's amount differs from the amount recomputed with the plan's rate
    and participation and the convention's Sunday rate now. Sunday hours, one rule for both
    channels: at the convention's Sunday rate, or at the hourly rate when the convention has
    none (as at upload, L06); so a Sunday rate changed, added or removed since the line was
    sent is R04 for a file line with Sunday hours as for a form line.

Every failing code is reported (a line may carry several); a line with none is payable.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from ppas.domain.amounts import line_amount

__all__ = ["LineFacts", "PlanNow", "expected_amount", "report_codes"]

_INACTIVE_CONVENTION = frozenset({"suspended", "closed"})


@dataclass(frozen=True, slots=True)
class PlanNow:
    """The care plan, its beneficiary and its convention as they are at integration."""

    hours_per_month: Decimal
    hourly_rate: Decimal
    participation: Decimal
    start_date: date
    end_date: date | None
    closed_on: date | None  # Paris date of closed_at
    deceased_on: date | None
    sunday_hourly_rate: Decimal | None = None
    closed_at: datetime | None = None  # aware; None: not closed


@dataclass(frozen=True, slots=True)
class LineFacts:
    """The figures of the line as sent."""

    period_start: date
    period_end: date
    hours: Decimal
    sunday_hours: Decimal
    hourly_rate: Decimal | None  # None for a form line (the form stores only its amount)
    participation: Decimal | None
    amount: Decimal
    sent_at: datetime | None = None  # aware; None: unknown (then any closure counts)


def expected_amount(hours: Decimal, sunday_hours: Decimal, plan: PlanNow) -> Decimal:
    """hours × (rate − participation) + Sunday hours × (Sunday rate, else rate, − participation)."""
    amount = line_amount(hours, plan.hourly_rate, plan.participation)
    if sunday_hours:
        sunday_rate = plan.sunday_hourly_rate if plan.sunday_hourly_rate is not None \
            else plan.hourly_rate
        amount += line_amount(sunday_hours, sunday_rate, plan.participation)
    return amount


def _end(plan: PlanNow) -> date | None:
    """The last day the plan covers: its end date; for a plan closed without one, the Paris
    day it was closed on."""
    return plan.end_date if plan.end_date is not None else plan.closed_on


def _closed_since(line: LineFacts, plan: PlanNow) -> bool:
    """Closed after the line was sent (or when unknown), now ending before the period does."""
    if plan.closed_at is None and plan.closed_on is None:
        return False
    if line.sent_at is not None and plan.closed_at is not None and plan.closed_at <= line.sent_at:
        return False
    end = _end(plan)
    return end is not None and end < line.period_end


def _r04(line: LineFacts, plan: PlanNow) -> bool:
    if line.hours + line.sunday_hours > plan.hours_per_month:
        return True
    if plan.start_date > line.period_start:
        return True
    end = _end(plan)
    if end is not None and end < line.period_end and not _closed_since(line, plan):
        return True
    if line.hourly_rate is not None and (line.hourly_rate != plan.hourly_rate
                                         or line.participation != plan.participation):
        return True
    return expected_amount(line.hours, line.sunday_hours, plan) != line.amount


def report_codes(line: LineFacts, plan: PlanNow | None, *, convention_status: str,
                 paid_elsewhere: bool) -> list[str]:
    """The R codes that stop this line's payment, in code order (empty: payable)."""
    codes = []
    if plan is not None and (
            (plan.deceased_on is not None and plan.deceased_on < line.period_end)
            or _closed_since(line, plan)):
        codes.append("R01")
    if convention_status in _INACTIVE_CONVENTION:
        codes.append("R02")
    if paid_elsewhere:
        codes.append("R03")
    if plan is not None and _r04(line, plan):
        codes.append("R04")
    return codes
