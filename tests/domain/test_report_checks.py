"""R01–R04 on plain facts: the boundaries of each rule."""
from dataclasses import replace
from datetime import date, datetime, timezone
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


SENT = datetime(2026, 5, 4, 8, tzinfo=timezone.utc)


def test_r01_closure_counts_only_after_the_line_was_sent_and_by_its_end_date():
    line = replace(FILE_LINE, sent_at=SENT)
    after = datetime(2026, 5, 5, 8, tzinfo=timezone.utc)
    closed_after = replace(PLAN, closed_at=after, closed_on=date(2026, 5, 5))
    # Closed since, ending before the period does: R01 (not R04 as well).
    assert codes(line, replace(closed_after, end_date=date(2026, 4, 20))) == ["R01"]
    # Closed since with an end date still to come, or on the period's last day: payable.
    assert codes(line, replace(closed_after, end_date=date(2026, 5, 31))) == []
    assert codes(line, replace(closed_after, end_date=date(2026, 4, 30))) == []
    # Closed on 20 April, before the line was sent, ending on 31 May: not "closed since".
    before = datetime(2026, 4, 20, 8, tzinfo=timezone.utc)
    closed_before = replace(PLAN, closed_at=before, closed_on=date(2026, 4, 20))
    assert codes(line, replace(closed_before, end_date=date(2026, 5, 31))) == []
    # Closed before, ending before the period does: the plan does not cover it (R04).
    assert codes(line, replace(closed_before, end_date=date(2026, 4, 20))) == ["R04"]


def test_r04_sunday_hours_one_rule_for_both_channels():
    """Sunday hours at the convention's Sunday rate, else at the hourly rate (as L06 at upload):
    a Sunday rate changed, added or removed since the line was sent is R04 for both channels."""
    sunday = Decimal("2")
    at_sunday_rate = FILE_LINE.amount + line_amount(sunday, Decimal("26.60"), Decimal("3.20"))
    at_hourly_rate = FILE_LINE.amount + line_amount(sunday, Decimal("21.30"), Decimal("3.20"))
    for line in (FILE_LINE, FORM_LINE):
        billed = replace(line, sunday_hours=sunday, amount=at_sunday_rate)
        assert codes(billed) == []
        assert codes(billed, replace(PLAN, sunday_hourly_rate=Decimal("27.00"))) == ["R04"]
        assert codes(billed, replace(PLAN, sunday_hourly_rate=None)) == ["R04"]
    without = replace(FILE_LINE, sunday_hours=sunday, amount=at_hourly_rate)
    assert codes(without, replace(PLAN, sunday_hourly_rate=None)) == []
    assert codes(without) == ["R04"]  # a Sunday rate added since


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
