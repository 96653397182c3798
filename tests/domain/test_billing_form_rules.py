"""Pure rules of the online billing form."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from ppas.domain.billing_form import (
    EntryError,
    LineEntry,
    PlanTerms,
    UnfilledLine,
    cancellation_problem,
    entry_problem,
    form_line_amount,
    offered_on_form,
    page_count,
    page_of_position,
    parse_entry,
    unfilled_lines,
    validation_problem,
)
from ppas.domain.periods import Period

OCT = Period(2010, 10)
TERMS = PlanTerms(hours_per_month=Decimal("20"), hourly_rate=Decimal("21.30"),
                  participation=Decimal("3.20"), sunday_hourly_rate=Decimal("26.60"))


def offered(**overrides) -> bool:
    facts = dict(start=date(2010, 1, 1), end=None, notified=True, closed_on=None, period=OCT,
                 crossed_out_earlier=False)
    facts.update(overrides)
    return offered_on_form(**facts)


def test_a_notified_plan_in_progress_gets_a_line():
    assert offered()


@pytest.mark.parametrize("overrides", [
    {"notified": False},
    {"crossed_out_earlier": True},
    {"start": date(2010, 11, 1)},
    {"end": date(2010, 9, 30)},
    {"closed_on": date(2010, 9, 15)},
])
def test_plans_not_offered(overrides):
    assert not offered(**overrides)


def test_plan_ending_or_closed_during_the_month_is_still_offered():
    assert offered(end=date(2010, 10, 1))
    assert offered(closed_on=date(2010, 10, 20))


def test_amount_is_decimal_hours_times_rate_minus_participation():
    amount = form_line_amount(LineEntry(Decimal("12.50"), None), TERMS)
    assert amount == Decimal("226.25") and isinstance(amount, Decimal)


def test_sunday_hours_use_the_sunday_rate():
    amount = form_line_amount(LineEntry(Decimal("10"), Decimal("2")), TERMS)
    assert amount == Decimal("181.00") + Decimal("46.80")


def test_amount_refuses_floats():
    with pytest.raises(TypeError):
        form_line_amount(LineEntry(12.5, None), TERMS)  # type: ignore[arg-type]


def test_parse_entry_reads_french_decimals_and_names_the_bad_field():
    assert parse_entry("12,5", "") == LineEntry(Decimal("12.50"), None)
    assert parse_entry("", "3") == LineEntry(Decimal("0.00"), Decimal("3.00"))
    with pytest.raises(EntryError) as error:
        parse_entry("12", "abc")
    assert error.value.field == "sundayHours" and "abc" in error.value.message


def test_hours_above_the_plan_are_refused_with_the_plan_hours():
    message, field = entry_problem(LineEntry(Decimal("21"), None), TERMS)
    assert field == "hours" and "20 h" in message.replace("\u00a0", " ")
    assert entry_problem(LineEntry(Decimal("20"), None), TERMS) is None


def test_sunday_hours_refused_without_a_sunday_rate():
    no_sunday = PlanTerms(Decimal("20"), Decimal("21.30"), Decimal("3.20"), None)
    message, field = entry_problem(LineEntry(Decimal("2"), Decimal("1")), no_sunday)
    assert field == "sundayHours" and "dimanches" in message


def test_pages():
    assert page_count(0, 20) == 1 and page_count(40, 20) == 2 and page_count(41, 20) == 3
    assert page_of_position(20, 20) == 1 and page_of_position(21, 20) == 2


def test_validation_lists_unfilled_lines_in_order():
    rows = [(3, 2, "DURAND Jeanne", None, False), (1, 1, "MARTIN Roger", Decimal("2"), False),
            (5, 3, "PETIT Anne", None, True), (7, 4, "ROUX Paul", None, False)]
    unfilled = unfilled_lines(rows)
    assert unfilled == [UnfilledLine(3, 2, "DURAND Jeanne"), UnfilledLine(7, 4, "ROUX Paul")]
    message = validation_problem(unfilled)
    assert "2 lignes" in message and "ligne 2 (DURAND Jeanne)" in message and "ROUX" in message
    assert validation_problem([]) is None


PARIS_EVENING = datetime(2024, 3, 10, 22, 30, tzinfo=timezone.utc)  # 23:30 in Paris


def test_cancellation_same_paris_day_only():
    assert cancellation_problem(validated_at=PARIS_EVENING, now=PARIS_EVENING + timedelta(minutes=20),
                                taken_by_payment=False) is None
    late = cancellation_problem(validated_at=PARIS_EVENING,
                                now=PARIS_EVENING + timedelta(minutes=40), taken_by_payment=False)
    assert late and "jour même" in late and "10/03/2024" in late


def test_cancellation_never_once_paid():
    problem = cancellation_problem(validated_at=PARIS_EVENING, now=PARIS_EVENING,
                                   taken_by_payment=True)
    assert problem and "paiement" in problem
