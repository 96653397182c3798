"""Tests for hours and euro amounts."""

from __future__ import annotations

from decimal import Decimal

import pytest

from ppas.domain.amounts import (
    CENT,
    format_euros,
    format_hours,
    format_number,
    hours_above_plan_problem,
    line_amount,
    parse_hours,
)

D = Decimal
NNBSP = "\u202f"
NBSP = "\u00a0"


# --- parse_hours ----------------------------------------------------------------

@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("12,5", D("12.5")),
        ("12.50", D("12.50")),
        (" 3 ", D("3")),
        ("0", D("0")),
        ("0,25", D("0.25")),
        ("999,99", D("999.99")),
        ("\u00a07,75\u202f", D("7.75")),
        ("007", D("7")),
    ],
)
def test_parse_hours_accepts_french_and_dotted_decimals(text, expected):
    value = parse_hours(text)
    assert type(value) is Decimal
    assert value == expected
    assert value.as_tuple().exponent == -2  # always two places, like the XML


def test_parse_hours_keeps_two_places_in_text_form():
    assert str(parse_hours("12,5")) == "12.50"


@pytest.mark.parametrize("text", ["", "   ", "abc", "12h", "1 2", "12,", ",5", "1e3", "+3", "12,5,0", "١٢"])
def test_parse_hours_rejects_non_numbers(text):
    with pytest.raises(ValueError, match=r"Saisissez un nombre d'heures, par exemple 12,5"):
        parse_hours(text)


def test_parse_hours_rejects_more_than_two_decimals():
    with pytest.raises(ValueError, match="2 décimales au plus"):
        parse_hours("12,555")
    with pytest.raises(ValueError, match="2 décimales au plus"):
        parse_hours("0.001")


def test_parse_hours_rejects_negative_values():
    with pytest.raises(ValueError, match="négatif"):
        parse_hours("-3")
    with pytest.raises(ValueError, match="négatif"):
        parse_hours("-0,5")


def test_parse_hours_upper_bound_is_exclusive():
    assert parse_hours("999.99") == D("999.99")
    with pytest.raises(ValueError, match=f"inférieur à 1{NNBSP}000"):
        parse_hours("1000")
    with pytest.raises(ValueError, match="inférieur"):
        parse_hours("1000,00")
    with pytest.raises(ValueError, match="inférieur"):
        parse_hours("12345")


@pytest.mark.parametrize("value", [12.5, 3, D("3"), None, b"12"])
def test_parse_hours_takes_text_only_and_refuses_float(value):
    with pytest.raises(TypeError):
        parse_hours(value)  # type: ignore[arg-type]


# --- line_amount ----------------------------------------------------------------

def test_line_amount_design_example():
    amount = line_amount(D("12.5"), D("21.30"), D("3.20"))
    assert amount == D("226.25")
    assert type(amount) is Decimal
    assert str(amount) == "226.25"


def test_line_amount_rounds_half_up_not_to_even():
    # 0.25 × 10.10 = 2.525 exactly: half-up gives 2.53 (banker's rounding would give 2.52).
    assert line_amount(D("0.25"), D("10.10"), D("0")) == D("2.53")
    # 0.75 × 2.30 = 1.725 -> 1.73; 0.05 × 0.50 = 0.025 -> 0.03.
    assert line_amount(D("0.75"), D("2.30"), D("0.00")) == D("1.73")
    assert line_amount(D("0.05"), D("0.50"), D("0")) == D("0.03")
    # Below half stays down: 0.33 × 1.01 = 0.3333 -> 0.33.
    assert line_amount(D("0.33"), D("1.01"), D("0")) == D("0.33")


def test_line_amount_always_has_two_places():
    assert str(line_amount(D("10"), D("20"), D("0"))) == "200.00"
    assert str(line_amount(D("0"), D("21.30"), D("3.20"))) == "0.00"


def test_line_amount_has_no_float_error():
    # 0.1 + 0.2 style traps must not appear: 3 × (0.30 − 0.10) is exactly 0.60.
    assert line_amount(D("3"), D("0.30"), D("0.10")) == D("0.60")
    # 0.5 × 2.01 = 1.005 exactly -> 1.01; in float it is 1.00499… and would round to 1.00.
    assert line_amount(D("0.5"), D("2.01"), D("0")) == D("1.01")
    # Large figures stay exact: 999.99 × 99999.98 = 99998980.0002.
    assert line_amount(D("999.99"), D("99999.99"), D("0.01")) == D("99998980.00")


@pytest.mark.parametrize(
    "args",
    [
        (12.5, D("21.30"), D("3.20")),
        (D("12.5"), 21.30, D("3.20")),
        (D("12.5"), D("21.30"), 3.20),
        ("12.5", D("21.30"), D("3.20")),
        (12, D("21.30"), D("3.20")),
    ],
)
def test_line_amount_refuses_float_and_non_decimal(args):
    with pytest.raises(TypeError):
        line_amount(*args)


def test_line_amount_refuses_non_finite():
    with pytest.raises(ValueError):
        line_amount(D("NaN"), D("21.30"), D("3.20"))
    with pytest.raises(ValueError):
        line_amount(D("1"), D("Infinity"), D("3.20"))


# --- hours_above_plan_problem -------------------------------------------------

def test_hours_within_plan_are_fine():
    assert hours_above_plan_problem(D("12"), D("0"), D("12")) is None  # exactly the plan
    assert hours_above_plan_problem(D("10"), D("2"), D("12")) is None
    assert hours_above_plan_problem(D("11.99"), None, D("12")) is None


def test_hours_above_plan_message_gives_both_figures():
    problem = hours_above_plan_problem(D("12.5"), D("2"), D("12"))
    assert problem is not None
    assert f"14,5{NBSP}h" in problem  # the total entered
    assert f"12{NBSP}h" in problem  # the plan
    assert f"12,5{NBSP}h + 2{NBSP}h" in problem  # how the total is made
    assert "ramenez le total" in problem


def test_sunday_hours_count_towards_the_plan():
    assert hours_above_plan_problem(D("12"), D("0.01"), D("12")) is not None
    problem = hours_above_plan_problem(D("12.01"), None, D("12"))
    assert problem is not None
    assert f"12,01{NBSP}h" in problem
    assert "dimanche" not in problem


def test_hours_above_plan_uses_french_thousands():
    problem = hours_above_plan_problem(D("1500"), None, D("1200"))
    assert problem is not None
    assert f"1{NNBSP}500{NBSP}h" in problem
    assert f"1{NNBSP}200{NBSP}h" in problem


def test_hours_above_plan_refuses_float():
    with pytest.raises(TypeError):
        hours_above_plan_problem(12.5, D("0"), D("12"))
    with pytest.raises(TypeError):
        hours_above_plan_problem(D("12.5"), 0.0, D("12"))
    with pytest.raises(TypeError):
        hours_above_plan_problem(D("12.5"), None, 12.0)


# --- formatting ----------------------------------------------------------------

@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (D("1234.56"), f"1{NNBSP}234,56{NBSP}€"),
        (D("226.25"), f"226,25{NBSP}€"),
        (D("0"), f"0,00{NBSP}€"),
        (D("5"), f"5,00{NBSP}€"),
        (D("1234567.8"), f"1{NNBSP}234{NNBSP}567,80{NBSP}€"),
        (D("999.995"), f"1{NNBSP}000,00{NBSP}€"),  # half-up
        (D("2.525"), f"2,53{NBSP}€"),  # half-up, not half-even
        (D("-1234.5"), f"-1{NNBSP}234,50{NBSP}€"),
        (D("-0.001"), f"0,00{NBSP}€"),  # never "-0,00"
    ],
)
def test_format_euros(value, expected):
    assert format_euros(value) == expected


def test_format_euros_uses_narrow_no_break_space_for_thousands():
    text = format_euros(D("1234.56"))
    assert text[1] == "\u202f"
    assert " " not in text  # no plain space that could wrap the line
    assert "." not in text


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (D("12.50"), f"12,5{NBSP}h"),
        (D("12.00"), f"12{NBSP}h"),
        (D("12"), f"12{NBSP}h"),
        (D("0.25"), f"0,25{NBSP}h"),
        (D("0"), f"0{NBSP}h"),
        (D("1000"), f"1{NNBSP}000{NBSP}h"),
        (D("10.10"), f"10,1{NBSP}h"),
        (D("100"), f"100{NBSP}h"),
    ],
)
def test_format_hours(value, expected):
    assert format_hours(value) == expected


def test_format_number_keeps_integer_zeros():
    assert format_number(D("100")) == "100"
    assert format_number(D("1000.50")) == f"1{NNBSP}000,5"
    assert format_number(D("3.456"), 1) == "3,5"
    assert format_number(D("1234.5"), 0) == f"1{NNBSP}235"


@pytest.mark.parametrize("value", [1234.56, 0.1, 3, "12.5"])
def test_formatting_refuses_float_and_non_decimal(value):
    with pytest.raises(TypeError):
        format_euros(value)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        format_hours(value)  # type: ignore[arg-type]


def test_cent_is_a_decimal():
    assert type(CENT) is Decimal
    assert CENT == D("0.01")


# --- Edges (issue 17) ----------------------------------------------------------

def test_format_hours_rounds_values_with_more_decimals_half_up_to_two_places():
    assert format_hours(D("2.345")) == f"2,35{NBSP}h"
    assert format_hours(D("2.3449")) == f"2,34{NBSP}h"


def test_format_number_rounds_to_two_places_by_default():
    assert format_number(D("2.345")) == "2,35"
    assert format_number(D("0.125"), keep_zeros=True) == "0,13"
    assert format_number(D("7.10"), keep_zeros=True) == "7,10"


@pytest.mark.parametrize("places", [-1, True, 1.5, "2"])
def test_format_number_places_must_be_a_non_negative_int(places):
    with pytest.raises(TypeError, match="^places must be a non-negative int$"):
        format_number(D("1.5"), places)  # type: ignore[arg-type]


def test_hours_above_the_plan_without_sunday_hours_have_no_sunday_detail():
    assert hours_above_plan_problem(D("21"), D("0"), D("20")) == (
        f"21{NBSP}h saisies dépassent les 20{NBSP}h par mois prévues par la prise en charge : "
        f"ramenez le total à 20{NBSP}h au plus.")
    assert hours_above_plan_problem(D("21"), None, D("20")) == hours_above_plan_problem(
        D("21"), D("0"), D("20"))


# Messages for developers: they name the argument that is wrong and why.
@pytest.mark.parametrize(("call", "error", "message"), [
    (lambda: line_amount(12.5, D("21.30"), D("3.20")), TypeError,
     "hours is a float; money and hours must be Decimal, never float"),
    (lambda: line_amount(D("12.5"), "21.30", D("3.20")), TypeError,
     "rate must be a Decimal, got str"),
    (lambda: line_amount(D("12.5"), D("21.30"), 3), TypeError,
     "participation must be a Decimal, got int"),
    (lambda: line_amount(D("NaN"), D("21.30"), D("3.20")), ValueError,
     "hours must be a finite Decimal, got NaN"),
    (lambda: hours_above_plan_problem(1, None, D("20")), TypeError,
     "hours must be a Decimal, got int"),
    (lambda: hours_above_plan_problem(D("1"), 2, D("20")), TypeError,
     "sunday_hours must be a Decimal, got int"),
    (lambda: hours_above_plan_problem(D("1"), None, "20"), TypeError,
     "plan_hours must be a Decimal, got str"),
    (lambda: format_number(1), TypeError, "value must be a Decimal, got int"),
    (lambda: parse_hours(12.5), TypeError,
     "parse_hours reads text; got a float, which is never accepted for hours"),
    (lambda: parse_hours(12), TypeError, "parse_hours expects a str, got int"),
])
def test_argument_errors_name_the_argument(call, error, message):
    with pytest.raises(error) as caught:
        call()
    assert str(caught.value) == message
