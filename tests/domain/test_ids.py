"""Ids and page numbers typed by people or sent by clients: ASCII digits, within bounds."""
from __future__ import annotations

import pytest

from ppas.domain.ids import MAX_ID, parse_id, plain_number


@pytest.mark.parametrize(("value", "maximum", "number"), [
    ("0", 99, 0),
    ("99", 99, 99),  # the maximum itself, with as many digits as the maximum
    ("7", 99, 7),
    (42, 99, 42),  # an int sent by a client
    ("1234567890", 2**40, 1234567890),  # every digit once
    ("50", 50, 50),
])
def test_plain_number_reads_ascii_digits_up_to_the_maximum(value, maximum, number):
    assert plain_number(value, maximum) == number


@pytest.mark.parametrize(("value", "maximum"), [
    (None, 99), ("", 99),
    ("100", 99),  # more digits than the maximum
    ("51", 50),  # as many digits, but above
    ("099", 99),  # a leading zero makes it longer than any id up to 99
    ("-1", 99), (" 1", 99), ("1.0", 99),
    ("²", 99), ("١", 99),  # int() would read these as 2 and 1
])
def test_plain_number_refuses_anything_else(value, maximum):
    assert plain_number(value, maximum) is None


def test_parse_id_stops_at_the_database_integer():
    assert MAX_ID == 2_147_483_647
    assert parse_id(str(MAX_ID)) == MAX_ID
    assert parse_id(str(MAX_ID + 1)) is None
    assert parse_id("12") == 12
