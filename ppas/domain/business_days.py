"""Business days: Monday to Friday, France's public holidays excluded (Alsace-Moselle's two
extra days — Good Friday and St Stephen's Day — when asked).

The calendar comes from the maintained `holidays` package (its France class, subdivision
« 57 » for Moselle, which has the same days as Bas-Rhin and Haut-Rhin), never from a list
written here. Pure: no clock, no I/O; the caller passes the day.
"""
from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache

import holidays

__all__ = ["add_business_days", "business_days_between", "is_business_day", "public_holidays"]

_ALSACE_MOSELLE = "57"


@lru_cache(maxsize=64)
def _calendar(year: int, alsace_moselle: bool) -> frozenset[date]:
    calendar = holidays.France(years=year, subdiv=_ALSACE_MOSELLE if alsace_moselle else None)
    return frozenset(calendar)


def public_holidays(year: int, *, alsace_moselle: bool = False) -> frozenset[date]:
    """The public holidays of `year` in France (with Alsace-Moselle's when asked)."""
    return _calendar(year, alsace_moselle)


def is_business_day(day: date, *, alsace_moselle: bool = False) -> bool:
    """True from Monday to Friday when the day is not a public holiday."""
    return day.weekday() < 5 and day not in _calendar(day.year, alsace_moselle)


def add_business_days(day: date, n: int, *, alsace_moselle: bool = False) -> date:
    """The business day `n` business days after `day` (weekends and holidays skipped).

    `n` = 0 returns `day` itself, whatever it is. Negative `n` counts backwards.
    """
    step = 1 if n >= 0 else -1
    remaining = abs(n)
    current = day
    while remaining:
        current += timedelta(days=step)
        if is_business_day(current, alsace_moselle=alsace_moselle):
            remaining -= 1
    return current


def business_days_between(start: date, end: date, *, alsace_moselle: bool = False) -> int:
    """How many business days lie after `start` up to and including `end` (0 if end <= start)."""
    count = 0
    current = start
    while current < end:
        current += timedelta(days=1)
        if is_business_day(current, alsace_moselle=alsace_moselle):
            count += 1
    return count
