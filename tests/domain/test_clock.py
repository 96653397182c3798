"""Tests for the application clock."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone, tzinfo

import pytest

from ppas.domain.clock import Clock, FixedClock, SystemClock
from ppas.domain.periods import PARIS


def test_system_clock_is_aware_utc_and_current():
    before = datetime.now(timezone.utc)
    now = SystemClock().now()
    after = datetime.now(timezone.utc)
    assert now.tzinfo is not None
    assert now.utcoffset() == timedelta(0)
    assert before <= now <= after


def test_both_clocks_satisfy_the_protocol():
    assert isinstance(SystemClock(), Clock)
    assert isinstance(FixedClock(datetime(2010, 10, 1, tzinfo=timezone.utc)), Clock)


def test_fixed_clock_stands_still():
    start = datetime(2010, 10, 15, 8, 0, tzinfo=timezone.utc)
    clock = FixedClock(start)
    assert clock.now() == start
    assert clock.now() == start


def test_fixed_clock_advance_and_set():
    clock = FixedClock(datetime(2010, 10, 15, 8, 0, tzinfo=timezone.utc))
    assert clock.advance(timedelta(hours=48)) == datetime(2010, 10, 17, 8, 0, tzinfo=timezone.utc)
    assert clock.now() == datetime(2010, 10, 17, 8, 0, tzinfo=timezone.utc)
    clock.advance(timedelta(minutes=-30))
    assert clock.now() == datetime(2010, 10, 17, 7, 30, tzinfo=timezone.utc)
    clock.set(datetime(2011, 1, 1, tzinfo=timezone.utc))
    assert clock.now() == datetime(2011, 1, 1, tzinfo=timezone.utc)


def test_fixed_clock_stores_utc_even_when_given_paris_time():
    clock = FixedClock(datetime(2010, 7, 1, 0, 30, tzinfo=PARIS))
    assert clock.now() == datetime(2010, 6, 30, 22, 30, tzinfo=timezone.utc)
    assert clock.now().utcoffset() == timedelta(0)
    clock.set(datetime(2010, 12, 1, 0, 30, tzinfo=PARIS))
    assert clock.now().hour == 23 and clock.now().day == 30


def test_fixed_clock_refuses_naive_datetimes():
    with pytest.raises(ValueError):
        FixedClock(datetime(2010, 10, 1))
    clock = FixedClock(datetime(2010, 10, 1, tzinfo=timezone.utc))
    with pytest.raises(ValueError):
        clock.set(datetime(2010, 10, 2))
    with pytest.raises(TypeError):
        clock.advance(3600)  # type: ignore[arg-type]
    assert clock.now() == datetime(2010, 10, 1, tzinfo=timezone.utc)


class _NoOffset(tzinfo):
    """A tzinfo that knows no offset: the datetime is as naive as one without tzinfo."""

    def utcoffset(self, dt):
        return None


def test_fixed_clock_keeps_utc_itself_not_a_local_zone_that_happens_to_be_utc():
    clock = FixedClock(datetime(2010, 7, 1, 0, 30, tzinfo=PARIS))
    assert clock.now().tzinfo is timezone.utc
    assert clock.set(datetime(2010, 7, 1, 0, 30, tzinfo=PARIS)).tzinfo is timezone.utc


def test_clock_refusals_say_what_is_wrong():
    with pytest.raises(ValueError, match="^datetime must be timezone-aware$"):
        FixedClock(datetime(2010, 10, 1, tzinfo=_NoOffset()))
    with pytest.raises(TypeError, match="^expected a datetime, got str$"):
        FixedClock("2010-10-01T00:00:00+00:00")  # type: ignore[arg-type]
    clock = FixedClock(datetime(2010, 10, 1, tzinfo=timezone.utc))
    with pytest.raises(TypeError, match="^expected a timedelta, got int$"):
        clock.advance(3600)  # type: ignore[arg-type]


def test_clocks_describe_themselves():
    assert repr(SystemClock()) == "SystemClock()"
    assert repr(FixedClock(datetime(2010, 10, 1, 8, tzinfo=timezone.utc))) == (
        "FixedClock(2010-10-01T08:00:00+00:00)")
