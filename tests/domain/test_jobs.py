"""Backoff of failed jobs: doubling from the base, capped, never zero."""
from __future__ import annotations

from datetime import timedelta

import pytest

from ppas.domain.jobs import retry_delay


def test_the_delay_doubles_after_each_failure():
    assert [retry_delay(n, 30, 3600) for n in (1, 2, 3, 4)] == [
        timedelta(seconds=30), timedelta(seconds=60), timedelta(seconds=120),
        timedelta(seconds=240)]


def test_the_delay_stops_at_its_ceiling_even_after_many_failures():
    assert retry_delay(7, 30, 600) == timedelta(seconds=600)
    assert retry_delay(10_000, 30, 3600) == timedelta(seconds=3600)


def test_a_retry_is_never_due_at_the_instant_it_failed():
    assert retry_delay(1, 0, 0) == timedelta(seconds=1)


def test_attempts_count_from_one():
    with pytest.raises(ValueError):
        retry_delay(0, 30, 3600)
