"""R01–R04 on plain facts: the boundaries of each rule."""
from dataclasses import replace
from datetime import date
from decimal import Decimal

from ppas.domain.amounts import line_amount
from ppas.domain.report_checks import LineFacts, PlanNow, report_codes

PLAN = PlanNow(hours_per_month=Decimal("20"), hourly_rate=Decimal("21.30"),
               participation=Decimal("3.20"), start_date=date(2025, 1, 1), end_date=None,
               closed_on=None, deceased_on=None, sunday_hourly_rate=Decimal("26.60"))
FILE_LINE = LineFacts(date(2026, 4, 1), date(2026, 4, 30), Decimal("10"), Decimal("0"),
                      Decimal("21.30"), Decimal("3.20"), Decimal("181.00"))
FORM_LINE = replace(FILE_LINE, hourly_rate=None, participation=None,
                    amount=line_amount(Decimal("10"), Decimal("21.30"), Decimal("3.20")))


def codes(line=FILE_LINE, plan=PLAN, status="active", paid_elsewhere=False):
    return report_codes(line, plan, convention_status=status, paid_elsewhere=paid_elsewhere)


def test_nothing_changed_is_payable():
    assert codes() == [] and codes(FORM_LINE) == []


def test_r01_death_or_closure_before_the_period_ends():
    assert codes(plan=replace(PLAN, deceased_on=date(2026, 4, 29))) == ["R01"]
    assert codes(plan=replace(PLAN, deceased_on=date(2026, 4, 30))) == []  # the last day billed
    assert codes(plan=replace(PLAN, closed_on=date(2026, 4, 15))) == ["R01"]
    assert codes(plan=replace(PLAN, closed_on=date(2026, 5, 2))) == []


def test_r02_suspended_or_closed_convention():
    assert codes(status="suspended") == ["R02"]
    assert codes(status="closed") == ["R02"]
    assert codes(plan=None, status="suspended") == ["R02"]


def test_r03_paid_elsewhere():
    assert codes(paid_elsewhere=True) == ["R03"]


def test_r04_each_change_of_the_plan():
    assert codes(plan=replace(PLAN, hourly_rate=Decimal("21.31"))) == ["R04"]
    assert codes(plan=replace(PLAN, participation=Decimal("3.00"))) == ["R04"]
    assert codes(plan=replace(PLAN, hours_per_month=Decimal("9.99"))) == ["R04"]
    assert codes(plan=replace(PLAN, hours_per_month=Decimal("10"))) == []
    assert codes(plan=replace(PLAN, end_date=date(2026, 4, 29))) == ["R04"]
    assert codes(plan=replace(PLAN, end_date=date(2026, 4, 30))) == []
    assert codes(plan=replace(PLAN, start_date=date(2026, 4, 2))) == ["R04"]
    # A form line stores its amount only: recomputed with the plan as it is now.
    assert codes(FORM_LINE, replace(PLAN, participation=Decimal("3.00"))) == ["R04"]
    sunday = replace(FORM_LINE, sunday_hours=Decimal("2"),
                     amount=FORM_LINE.amount + line_amount(Decimal("2"), Decimal("26.60"),
                                                           Decimal("3.20")))
    assert codes(sunday) == []
    assert codes(sunday, replace(PLAN, sunday_hourly_rate=Decimal("27.00"))) == ["R04"]


def test_every_failing_code_is_reported_in_order():
    plan = replace(PLAN, deceased_on=date(2026, 4, 2), hourly_rate=Decimal("22"))
    assert codes(plan=plan, status="suspended", paid_elsewhere=True) == ["R01", "R02", "R03", "R04"]
