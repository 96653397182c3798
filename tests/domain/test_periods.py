"""Tests for billed months and Europe/Paris calendar rules."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest

from ppas.domain.clock import FixedClock
from ppas.domain.periods import (
    PARIS,
    Period,
    care_plan_in_progress,
    current_period,
    months_between,
    online_billing_problem,
    paris_date,
    same_paris_day,
)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)


# --- Period value -----------------------------------------------------------

def test_parse_and_str_round_trip():
    period = Period.parse("2010-10")
    assert period == Period(2010, 10)
    assert str(period) == "2010-10"
    assert str(Period(987, 3)) == "0987-03"
    assert Period.parse("  2010-01 ") == Period(2010, 1)


@pytest.mark.parametrize("text", ["2010-1", "201010", "10-2010", "2010/10", "abcd-ef", "2010-10-01", "٢٠١٠-١٠"])
def test_parse_rejects_bad_formats_with_french_hint(text):
    with pytest.raises(ValueError, match="format AAAA-MM, par exemple 2010-10"):
        Period.parse(text)


def test_parse_rejects_impossible_months_and_empty_text():
    with pytest.raises(ValueError, match="le mois 13 n'existe pas"):
        Period.parse("2010-13")
    with pytest.raises(ValueError, match="le mois 00 n'existe pas"):
        Period.parse("2010-00")
    with pytest.raises(ValueError, match="vide"):
        Period.parse("   ")
    with pytest.raises(TypeError):
        Period.parse(201010)  # type: ignore[arg-type]


def test_constructor_validates():
    with pytest.raises(ValueError, match="Mois 13"):
        Period(2010, 13)
    with pytest.raises(ValueError, match="Année 0"):
        Period(0, 1)
    with pytest.raises(TypeError):
        Period(2010.0, 10)  # type: ignore[arg-type]


def test_period_is_immutable_and_hashable():
    period = Period(2010, 10)
    with pytest.raises(AttributeError):
        period.month = 11  # type: ignore[misc]
    assert {Period(2010, 10), Period.parse("2010-10")} == {period}


def test_first_and_last_day_including_leap_years():
    assert Period(2010, 10).first_day == date(2010, 10, 1)
    assert Period(2010, 10).last_day == date(2010, 10, 31)
    assert Period(2024, 2).last_day == date(2024, 2, 29)
    assert Period(2023, 2).last_day == date(2023, 2, 28)
    assert Period(1900, 2).last_day == date(1900, 2, 28)
    assert Period(2010, 4).last_day == date(2010, 4, 30)


def test_next_and_previous_cross_year_boundaries():
    assert Period(2010, 12).next() == Period(2011, 1)
    assert Period(2011, 1).previous() == Period(2010, 12)
    assert Period(2010, 5).next() == Period(2010, 6)
    assert Period(2010, 5).plus_months(-17) == Period(2008, 12)
    assert Period(2010, 5).plus_months(24) == Period(2012, 5)


def test_ordering_is_chronological():
    periods = [Period(2011, 1), Period(2010, 12), Period(2010, 2), Period(2009, 11)]
    assert sorted(periods) == [Period(2009, 11), Period(2010, 2), Period(2010, 12), Period(2011, 1)]
    assert Period(2010, 12) < Period(2011, 1)
    assert Period(2010, 2) > Period(2009, 12)


def test_label_fr():
    assert Period(2010, 10).label_fr == "octobre 2010"
    assert Period(2011, 2).label_fr == "février 2011"
    assert Period(2011, 8).label_fr == "août 2011"
    assert Period(2011, 12).label_fr == "décembre 2011"


def test_of_date_and_refuses_datetime():
    assert Period.of(date(2010, 10, 31)) == Period(2010, 10)
    with pytest.raises(TypeError, match="paris_date"):
        Period.of(utc(2010, 10, 31, 23, 30))


def test_months_between():
    assert months_between(Period(2010, 1), Period(2010, 3)) == 2
    assert months_between(Period(2009, 11), Period(2010, 2)) == 3
    assert months_between(Period(2010, 3), Period(2010, 1)) == -2
    assert months_between(Period(2010, 3), Period(2010, 3)) == 0


# --- Paris calendar ---------------------------------------------------------

def test_paris_date_winter_and_summer_at_2330_utc():
    # Winter: UTC+1, so 23:30 UTC is already 00:30 the next day in Paris.
    assert paris_date(utc(2024, 1, 15, 23, 30)) == date(2024, 1, 16)
    assert paris_date(utc(2024, 1, 15, 22, 59)) == date(2024, 1, 15)
    # Summer: UTC+2, so the Paris day changes at 22:00 UTC.
    assert paris_date(utc(2024, 7, 15, 23, 30)) == date(2024, 7, 16)
    assert paris_date(utc(2024, 7, 15, 21, 59)) == date(2024, 7, 15)
    assert paris_date(utc(2024, 7, 15, 22, 0)) == date(2024, 7, 16)


def test_paris_date_refuses_naive_datetimes():
    with pytest.raises(ValueError, match="timezone-aware"):
        paris_date(datetime(2024, 1, 15, 23, 30))


def test_current_period_follows_paris_month():
    # 31 October 2010, 23:30 UTC is 1 November 00:30 in Paris (winter time).
    assert current_period(utc(2010, 10, 31, 23, 30)) == Period(2010, 11)
    assert current_period(utc(2010, 10, 31, 22, 59)) == Period(2010, 10)


def test_same_paris_day_winter_2330_utc():
    # 15 Jan 10:00 Paris vs 15 Jan 23:30 UTC = 16 Jan 00:30 Paris.
    assert not same_paris_day(utc(2024, 1, 15, 9, 0), utc(2024, 1, 15, 23, 30))
    # 23:30 UTC on the 14th is 00:30 on the 15th in Paris: same day as 15th 22:59 UTC.
    assert same_paris_day(utc(2024, 1, 14, 23, 30), utc(2024, 1, 15, 22, 59))


def test_same_paris_day_summer_2330_utc():
    # 23:30 UTC in July is 01:30 the next day in Paris.
    assert not same_paris_day(utc(2024, 7, 15, 8, 0), utc(2024, 7, 15, 23, 30))
    assert same_paris_day(utc(2024, 7, 15, 23, 30), utc(2024, 7, 16, 21, 59))
    assert not same_paris_day(utc(2024, 7, 15, 23, 30), utc(2024, 7, 16, 22, 0))


def test_same_paris_day_on_the_23_hour_spring_day():
    # 31 March 2024: clocks jump 02:00 -> 03:00; the Paris day lasts 23 hours.
    start = utc(2024, 3, 30, 23, 0)  # 00:00 Paris (UTC+1)
    end = utc(2024, 3, 31, 21, 59)  # 23:59 Paris (UTC+2)
    assert same_paris_day(start, end)
    assert not same_paris_day(start, utc(2024, 3, 31, 22, 0))
    assert not same_paris_day(utc(2024, 3, 30, 22, 59), start)


def test_same_paris_day_on_the_25_hour_autumn_day():
    # 27 October 2024: clocks fall back 03:00 -> 02:00; the Paris day lasts 25 hours.
    start = utc(2024, 10, 26, 22, 0)  # 00:00 Paris (UTC+2)
    end = utc(2024, 10, 27, 22, 59)  # 23:59 Paris (UTC+1)
    assert end - start > timedelta(hours=24)
    assert same_paris_day(start, end)
    assert not same_paris_day(start, utc(2024, 10, 27, 23, 0))
    assert not same_paris_day(utc(2024, 10, 26, 21, 59), start)


def test_same_paris_day_with_a_moving_clock():
    clock = FixedClock(utc(2024, 1, 15, 20, 0))  # 21:00 Paris: validation
    validated_at = clock.now()
    clock.advance(timedelta(hours=2, minutes=59))  # 23:59 Paris
    assert same_paris_day(validated_at, clock.now())
    clock.advance(timedelta(minutes=1))  # 00:00 Paris next day
    assert not same_paris_day(validated_at, clock.now())


# --- Online billing window ----------------------------------------------------

NOW = utc(2010, 11, 17, 10, 0)  # current Paris month: November 2010


def test_current_month_and_last_twelve_months_are_allowed():
    assert online_billing_problem(Period(2010, 11), NOW) is None
    assert online_billing_problem(Period(2010, 10), NOW) is None
    assert online_billing_problem(Period(2010, 1), NOW) is None


def test_boundary_current_minus_12_allowed_minus_13_refused():
    assert online_billing_problem(Period(2009, 11), NOW) is None  # C-12
    problem = online_billing_problem(Period(2009, 10), NOW)  # C-13
    assert problem is not None
    assert "octobre 2009" in problem
    assert "facture individuelle" in problem
    assert "caisse" in problem
    assert "novembre 2009" in problem  # the oldest month still allowed


def test_much_older_periods_are_refused():
    assert online_billing_problem(Period(2005, 1), NOW) is not None


def test_future_periods_cannot_be_billed_yet():
    problem = online_billing_problem(Period(2010, 12), NOW)
    assert problem is not None
    assert "décembre 2010" in problem
    assert "pas encore" in problem
    assert "novembre 2010" in problem
    assert online_billing_problem(Period(2011, 11), NOW) is not None


def test_billing_window_uses_the_paris_month_at_midnight():
    # 31 October 2010 23:30 UTC is already 1 November in Paris.
    just_after = utc(2010, 10, 31, 23, 30)
    assert online_billing_problem(Period(2010, 11), just_after) is None
    assert online_billing_problem(Period(2009, 10), just_after) is not None  # now C-13
    # One hour earlier it is still October in Paris.
    just_before = utc(2010, 10, 31, 22, 30)
    assert online_billing_problem(Period(2010, 11), just_before) is not None
    assert online_billing_problem(Period(2009, 10), just_before) is None  # C-12


def test_billing_window_moves_with_the_clock():
    clock = FixedClock(utc(2010, 11, 30, 22, 59))  # 23:59 Paris, 30 November
    assert online_billing_problem(Period(2009, 11), clock.now()) is None
    clock.advance(timedelta(minutes=1))  # 1 December in Paris
    assert online_billing_problem(Period(2009, 11), clock.now()) is not None
    assert online_billing_problem(Period(2010, 12), clock.now()) is None


def test_billing_window_refuses_naive_now():
    with pytest.raises(ValueError):
        online_billing_problem(Period(2010, 11), datetime(2010, 11, 17))


# --- Care plans ----------------------------------------------------------------

@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        (date(2010, 1, 1), None, True),  # open-ended, started before
        (date(2010, 10, 31), None, True),  # starts on the last day
        (date(2010, 11, 1), None, False),  # starts after the month
        (date(2010, 1, 1), date(2010, 10, 1), True),  # ends on the first day
        (date(2010, 1, 1), date(2010, 9, 30), False),  # ended the day before
        (date(2010, 10, 10), date(2010, 10, 20), True),  # inside the month
        (date(2009, 1, 1), date(2011, 1, 1), True),  # spans the month
        (date(2010, 10, 15), date(2010, 10, 15), True),  # a single day
    ],
)
def test_care_plan_in_progress(start, end, expected):
    assert care_plan_in_progress(start, end, Period(2010, 10)) is expected


def test_care_plan_with_end_before_start_is_refused():
    with pytest.raises(ValueError, match="précède le début"):
        care_plan_in_progress(date(2010, 10, 20), date(2010, 10, 10), Period(2010, 10))


def test_care_plan_refuses_datetimes():
    with pytest.raises(TypeError):
        care_plan_in_progress(utc(2010, 10, 1), None, Period(2010, 10))


def test_paris_zone_is_europe_paris():
    assert str(PARIS) == "Europe/Paris"


def test_the_last_online_billing_day_is_the_last_day_the_window_still_accepts_the_month():
    from datetime import datetime, timezone

    from ppas.domain.periods import (last_online_billing_day, online_billable_periods,
                                     online_billing_problem)

    period = Period.parse("2025-03")
    deadline = last_online_billing_day(period)
    assert deadline == date(2026, 3, 31)
    # Noon in Paris on the deadline: still accepted; the next day: refused.
    assert online_billing_problem(period, datetime(2026, 3, 31, 10, tzinfo=timezone.utc)) is None
    assert online_billing_problem(period, datetime(2026, 4, 1, 10, tzinfo=timezone.utc))
    offered = online_billable_periods(datetime(2026, 3, 31, 10, tzinfo=timezone.utc))
    assert [str(p) for p in (offered[0], offered[-1])] == ["2026-03", "2025-03"]
    assert len(offered) == 13
    assert all(online_billing_problem(p, datetime(2026, 3, 31, 10, tzinfo=timezone.utc)) is None
               for p in offered)


# --- Edges (issue 17) ---------------------------------------------------------

HINT = "Saisissez l'échéance au format AAAA-MM, par exemple 2010-10."


def test_parse_december_is_a_month():
    assert Period.parse("2010-12") == Period(2010, 12)


@pytest.mark.parametrize(("text", "period"), [("0001-01", Period(1, 1)), ("9999-12", Period(9999, 12))])
def test_parse_reads_the_first_and_last_representable_months(text, period):
    assert Period.parse(text) == period and str(period) == text


def test_parse_year_0000_is_refused_word_for_word():
    with pytest.raises(ValueError) as error:
        Period.parse("0000-05")
    assert str(error.value) == f"Échéance « 0000-05 » : l'année 0000 n'existe pas. {HINT}"


def test_parse_year_10000_has_five_digits_and_is_not_an_echeance():
    with pytest.raises(ValueError) as error:
        Period.parse("10000-01")
    assert str(error.value) == f"Échéance « 10000-01 » non reconnue. {HINT}"


def test_parse_refusals_word_for_word():
    with pytest.raises(ValueError) as error:
        Period.parse(" 2010-13 ")
    assert str(error.value) == (
        f"Échéance « 2010-13 » : le mois 13 n'existe pas, il doit être compris entre 01 et 12. {HINT}")
    with pytest.raises(ValueError) as error:
        Period.parse("")
    assert str(error.value) == f"L'échéance est vide. {HINT}"
    with pytest.raises(TypeError, match="^expected a str, got int$"):
        Period.parse(201010)  # type: ignore[arg-type]


@pytest.mark.parametrize(("year", "month"), [(1, 1), (9999, 12), (2010, 1), (2010, 12)])
def test_constructor_accepts_the_bounds(year, month):
    assert (Period(year, month).year, Period(year, month).month) == (year, month)


@pytest.mark.parametrize(("year", "month", "message"), [
    (10000, 1, "Année 10000 invalide : elle doit être comprise entre 1 et 9999."),
    (0, 1, "Année 0 invalide : elle doit être comprise entre 1 et 9999."),
    (2010, 0, "Mois 0 invalide : il doit être compris entre 1 et 12."),
    (2010, 13, "Mois 13 invalide : il doit être compris entre 1 et 12."),
])
def test_constructor_refuses_out_of_range_values_word_for_word(year, month, message):
    with pytest.raises(ValueError) as error:
        Period(year, month)
    assert str(error.value) == message


@pytest.mark.parametrize(("year", "month", "message"), [
    (True, 1, "Period.year must be an int, got bool"),
    (2010, "10", "Period.month must be an int, got str"),
    (2010, False, "Period.month must be an int, got bool"),
])
def test_constructor_refuses_non_int_values(year, month, message):
    with pytest.raises(TypeError) as error:
        Period(year, month)
    assert str(error.value) == message


def test_label_fr_names_every_month():
    assert [Period(2011, m).label_fr for m in range(1, 13)] == [
        "janvier 2011", "février 2011", "mars 2011", "avril 2011", "mai 2011", "juin 2011",
        "juillet 2011", "août 2011", "septembre 2011", "octobre 2011", "novembre 2011",
        "décembre 2011"]


def test_december_s_last_day_and_the_year_after():
    assert Period(2010, 12).last_day == date(2010, 12, 31)
    assert Period(2010, 12).plus_months(1) == Period(2011, 1)
    assert Period(2010, 12).plus_months(0) == Period(2010, 12)
    assert Period(9999, 11).next() == Period(9999, 12)
    assert Period(1, 2).previous() == Period(1, 1)


def test_plus_months_beyond_year_9999_is_refused():
    with pytest.raises(ValueError, match="Année 10000"):
        Period(9999, 12).next()


@pytest.mark.parametrize("count", [True, 1.0, "1"])
def test_plus_months_takes_an_int_only(count):
    with pytest.raises(TypeError) as error:
        Period(2010, 10).plus_months(count)
    assert str(error.value) == f"expected an int, got {type(count).__name__}"


def test_of_refuses_anything_but_a_date():
    with pytest.raises(TypeError) as error:
        Period.of("2010-10-01")  # type: ignore[arg-type]
    assert str(error.value) == (
        "Period.of expects a date, got str; use paris_date(now) for instants")


def test_paris_date_refuses_anything_but_an_aware_datetime():
    with pytest.raises(TypeError, match="^expected a datetime, got date$"):
        paris_date(date(2010, 10, 1))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"^now must be timezone-aware \(UTC\)$"):
        paris_date(datetime(2010, 10, 1, 12))


def test_months_between_refuses_anything_but_periods():
    with pytest.raises(TypeError, match="^months_between expects two Period values$"):
        months_between(Period(2010, 1), "2010-03")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        months_between("2010-01", Period(2010, 3))  # type: ignore[arg-type]


def test_months_between_across_years():
    assert months_between(Period(2009, 12), Period(2011, 1)) == 13


def test_online_billing_refusals_word_for_word():
    assert online_billing_problem(Period(2010, 12), NOW) == (
        "L'échéance décembre 2010 n'est pas encore facturable : le mois le plus récent que "
        "vous pouvez facturer est novembre 2010.")
    assert online_billing_problem(Period(2009, 10), NOW) == (
        "L'échéance octobre 2009 a plus de 12 mois et ne peut plus être facturée en ligne "
        "(au plus tôt : novembre 2009). Envoyez une facture individuelle à la caisse, qui la "
        "traitera manuellement.")
    with pytest.raises(TypeError, match="^expected a Period, got str$"):
        online_billing_problem("2010-10", NOW)  # type: ignore[arg-type]


def test_online_billable_periods_are_the_current_month_and_the_12_before_newest_first():
    from ppas.domain.periods import online_billable_periods

    periods = online_billable_periods(NOW)
    assert periods == [Period(2010, 11).plus_months(-back) for back in range(13)]
    assert periods[1] == Period(2010, 10)


def test_last_online_billing_day_of_december_is_the_end_of_the_next_december():
    from ppas.domain.periods import last_online_billing_day

    assert last_online_billing_day(Period(2010, 12)) == date(2011, 12, 31)


def test_care_plan_ending_on_its_start_day_is_a_one_day_plan():
    assert care_plan_in_progress(date(2010, 10, 31), date(2010, 10, 31), Period(2010, 10))
    assert not care_plan_in_progress(date(2010, 9, 30), date(2010, 9, 30), Period(2010, 10))


def test_care_plan_refusals_word_for_word():
    with pytest.raises(ValueError) as error:
        care_plan_in_progress(date(2010, 10, 20), date(2010, 10, 10), Period(2010, 10))
    assert str(error.value) == (
        "Prise en charge incohérente : la fin (10/10/2010) précède le début (20/10/2010). "
        "Corrigez l'une des deux dates.")
    with pytest.raises(TypeError, match="^start must be a date, got str$"):
        care_plan_in_progress("2010-10-01", None, Period(2010, 10))  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="^end must be a date, got datetime$"):
        care_plan_in_progress(date(2010, 10, 1), utc(2010, 10, 2), Period(2010, 10))
    with pytest.raises(TypeError, match="^expected a Period, got str$"):
        care_plan_in_progress(date(2010, 10, 1), None, "2010-10")  # type: ignore[arg-type]


def test_paris_date_refuses_a_time_zone_that_knows_no_offset():
    from datetime import tzinfo

    class NoOffset(tzinfo):
        def utcoffset(self, dt):
            return None

    with pytest.raises(ValueError, match=r"^now must be timezone-aware \(UTC\)$"):
        paris_date(datetime(2010, 10, 1, 12, tzinfo=NoOffset()))
