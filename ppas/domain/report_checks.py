"""The checks made at integration (phase `report`, codes R01–R04), on facts already loaded.

A line accepted at upload (file) or on a validated form waits some business days, then the
caisse integrates it: what changed in between may stop its payment. Precisely:

* R01 — file closed or beneficiary deceased since: the beneficiary's date of death, or the
  Paris date on which the care plan was closed, falls before the end of the billed period
  (the period then covers days after the death or the closure).
* R02 — convention suspended: the convention of the line is suspended (or closed) at
  integration.
* R03 — period already paid through the other channel: a line of the other channel (form
  for a file line, file for a form line) for the same care plan and an overlapping period is
  already integrated as payable or paid (including earlier in the same run).
* R04 — care plan changed since the upload: compared with the care plan as it is now, the
  line's hourly rate or participation differ (a form line stores its amount: the amount
  recomputed with the plan's figures and the convention's Sunday rate differs), its hours (with Sunday hours) exceed the
  plan's monthly hours, or the plan now starts after the period's start or ends before the
  period's end.

Every failing code is reported (a line may carry several); a line with none is payable.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from ppas.domain.billing_form import LineEntry, PlanTerms, form_line_amount

__all__ = ["LineFacts", "PlanNow", "report_codes"]

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


def _r04(line: LineFacts, plan: PlanNow) -> bool:
    if line.hours + line.sunday_hours > plan.hours_per_month:
        return True
    if plan.start_date > line.period_start:
        return True
    if plan.end_date is not None and plan.end_date < line.period_end:
        return True
    if line.hourly_rate is not None:
        return line.hourly_rate != plan.hourly_rate or line.participation != plan.participation
    # A form line: its amount was computed from the plan's figures when it was saved.
    terms = PlanTerms(plan.hours_per_month, plan.hourly_rate, plan.participation,
                      plan.sunday_hourly_rate)
    expected = form_line_amount(LineEntry(line.hours, line.sunday_hours or None), terms)
    return expected != line.amount


def report_codes(line: LineFacts, plan: PlanNow | None, *, convention_status: str,
                 paid_elsewhere: bool) -> list[str]:
    """The R codes that stop this line's payment, in code order (empty: payable)."""
    codes = []
    if plan is not None and any(day is not None and day < line.period_end
                                for day in (plan.deceased_on, plan.closed_on)):
        codes.append("R01")
    if convention_status in _INACTIVE_CONVENTION:
        codes.append("R02")
    if paid_elsewhere:
        codes.append("R03")
    if plan is not None and _r04(line, plan):
        codes.append("R04")
    return codes
