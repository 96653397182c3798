"""Business days from the `holidays` package: weekends, French holidays, Alsace-Moselle."""
from datetime import date

import pytest

from ppas.domain.business_days import (
    add_business_days,
    business_days_between,
    is_business_day,
    public_holidays,
)


def test_plain_week_adds_two_days():
    # Monday 2026-03-02 → Wednesday 2026-03-04
    assert add_business_days(date(2026, 3, 2), 2) == date(2026, 3, 4)


def test_weekend_is_skipped():
    # Thursday 2026-03-05 + 2 → Monday 2026-03-09
    assert add_business_days(date(2026, 3, 5), 2) == date(2026, 3, 9)


def test_line_sent_the_day_before_ascension_2026():
    # Wednesday 13 May 2026, Ascension Thursday 14 May: Friday 15, then Monday 18.
    assert add_business_days(date(2026, 5, 13), 2) == date(2026, 5, 18)


def test_day_before_armistice_2026():
    # Tuesday 10 November 2026, 11 November is a Wednesday holiday: Thursday 12, Friday 13.
    assert add_business_days(date(2026, 11, 10), 2) == date(2026, 11, 13)


def test_christmas_and_new_year_2026_2027():
    # Thursday 24 Dec 2026: Friday 25 holiday, weekend, Monday 28, Tuesday 29.
    assert add_business_days(date(2026, 12, 24), 2) == date(2026, 12, 29)
    # Thursday 31 Dec 2026: Friday 1 Jan 2027 holiday, weekend, Monday 4, Tuesday 5.
    assert add_business_days(date(2026, 12, 31), 2) == date(2027, 1, 5)


def test_easter_monday_2027():
    # Friday 26 March 2027, Easter Monday 29 March: Tuesday 30, Wednesday 31.
    assert add_business_days(date(2027, 3, 26), 2) == date(2027, 3, 31)


def test_alsace_moselle_good_friday_and_st_stephen():
    # Thursday 2 April 2026; Good Friday 3 April is off only in Alsace-Moselle
    # (Easter Monday 6 April is off everywhere).
    assert add_business_days(date(2026, 4, 2), 1) == date(2026, 4, 3)
    assert add_business_days(date(2026, 4, 2), 1, alsace_moselle=True) == date(2026, 4, 7)
    assert date(2026, 12, 26) in public_holidays(2026, alsace_moselle=True)
    assert date(2026, 12, 26) not in public_holidays(2026)
    # Saturday 26 Dec 2026 is a weekend anyway; in 2027 it is a Sunday. Good Friday 2027:
    assert not is_business_day(date(2027, 3, 26), alsace_moselle=True)
    assert is_business_day(date(2027, 3, 26))


def test_zero_and_negative():
    assert add_business_days(date(2026, 5, 14), 0) == date(2026, 5, 14)
    assert add_business_days(date(2026, 5, 18), -2) == date(2026, 5, 13)


@pytest.mark.parametrize(("start", "end", "count"), [
    (date(2026, 5, 13), date(2026, 5, 15), 1),
    (date(2026, 5, 13), date(2026, 5, 18), 2),
    (date(2026, 5, 18), date(2026, 5, 13), 0),
])
def test_business_days_between(start, end, count):
    assert business_days_between(start, end) == count
