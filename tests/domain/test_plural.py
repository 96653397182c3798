"""French plural agreement: 0 and 1 take the singular, never « ligne(s) »."""
from __future__ import annotations

import pytest

from ppas.domain.plural import count_of, plural


@pytest.mark.parametrize(("count", "expected"), [
    (0, "0 anomalie"), (1, "1 anomalie"), (2, "2 anomalies"), (1000, "1000 anomalies"),
])
def test_count_of_agrees_with_the_count(count, expected):
    assert count_of(count, "anomalie", "anomalies") == expected


def test_plural_gives_the_agreeing_form_only():
    assert plural(1, "acceptée", "acceptées") == "acceptée"
    assert plural(3, "acceptée", "acceptées") == "acceptées"
    assert plural(0, "serait acceptée", "seraient acceptées") == "serait acceptée"

