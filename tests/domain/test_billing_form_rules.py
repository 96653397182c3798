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
    describe_hours,
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


# --- Edges (issue 17): where a line is offered, refused or named ---------------------------

NB = "\u00a0"  # between a figure and its unit
NO_SUNDAY_RATE = PlanTerms(Decimal("20"), Decimal("21.30"), Decimal("3.20"), None)


def test_offered_a_plan_closed_on_the_first_of_the_month_is_not_offered_that_month():
    # Closed on the 1st, the plan covers no day of the month; a file line of that month
    # gets L08 for the same reason (billing_lines: closed_on <= the line's first day).
    assert not offered(closed_on=date(2010, 10, 1))


def test_offered_a_plan_closed_on_the_second_is_still_offered_that_month():
    assert offered(closed_on=date(2010, 10, 2))


def test_offered_a_plan_closed_on_the_last_day_of_the_month_before_is_not_offered():
    assert not offered(closed_on=date(2010, 9, 30))


def test_offered_a_plan_starting_on_the_last_day_of_the_month_is_offered():
    assert offered(start=date(2010, 10, 31))


def test_parse_entry_both_fields_empty_is_an_unfilled_line():
    assert parse_entry("", "") == LineEntry(None, None)
    assert parse_entry(None, None) == LineEntry(None, None)
    assert parse_entry("  ", "\t") == LineEntry(None, None)


def test_parse_entry_both_fields_typed_keeps_both():
    assert parse_entry("10,25", "2") == LineEntry(Decimal("10.25"), Decimal("2.00"))


def test_parse_entry_weekday_hours_typed_without_sunday_hours():
    assert parse_entry("12", None) == LineEntry(Decimal("12.00"), None)


def test_parse_entry_a_bad_weekday_field_is_named_hours_with_the_readers_message():
    with pytest.raises(EntryError) as error:
        parse_entry("12,555", "")
    assert error.value.field == "hours"
    assert error.value.message == str(error.value) == (
        "« 12,555 » : 2 décimales au plus, par exemple 12,25 (un quart d'heure = 0,25).")


def test_entry_sunday_hours_count_toward_the_plan_and_the_sunday_field_gets_the_error():
    # 18 + 3 = 21 > 20: the Sunday hours tipped the total, the error sits on their field.
    assert entry_problem(LineEntry(Decimal("18"), Decimal("3")), TERMS) == (
        f"21{NB}h saisies (18{NB}h + 3{NB}h le dimanche ou un jour férié) dépassent les "
        f"20{NB}h par mois prévues par la prise en charge : ramenez le total à 20{NB}h au plus.",
        "sundayHours")


def test_entry_weekday_and_sunday_hours_reaching_exactly_the_plan_are_accepted():
    assert entry_problem(LineEntry(Decimal("17"), Decimal("3")), TERMS) is None


def test_entry_above_the_plan_with_zero_sunday_hours_puts_the_error_on_the_hours_field():
    message, field = entry_problem(LineEntry(Decimal("20.01"), Decimal("0")), TERMS)
    assert field == "hours" and message.startswith(f"20,01{NB}h saisies dépassent")


def test_entry_zero_sunday_hours_are_accepted_without_a_sunday_rate():
    assert entry_problem(LineEntry(Decimal("5"), Decimal("0")), NO_SUNDAY_RATE) is None
    assert entry_problem(LineEntry(Decimal("5"), None), NO_SUNDAY_RATE) is None


def test_entry_sunday_hours_without_a_sunday_rate_say_where_to_type_them():
    assert entry_problem(LineEntry(Decimal("2"), Decimal("0.25")), NO_SUNDAY_RATE) == (
        "Votre convention ne prévoit pas de tarif pour les dimanches et jours fériés : "
        "saisissez ces heures avec les autres, dans la colonne « Heures ».",
        "sundayHours")


def test_entry_an_empty_line_has_nothing_to_refuse():
    assert entry_problem(LineEntry(None, None), TERMS) is None


def test_amount_of_an_empty_line_is_none():
    assert form_line_amount(LineEntry(None, None), TERMS) is None


def test_amount_zero_sunday_hours_add_nothing():
    assert form_line_amount(LineEntry(Decimal("12.50"), Decimal("0")), TERMS) == Decimal("226.25")


def test_amount_without_a_sunday_rate_is_the_weekday_hours_only():
    # entry_problem refuses Sunday hours there; the amount never counts them at a rate it lacks.
    assert form_line_amount(LineEntry(Decimal("12.50"), Decimal("0")), NO_SUNDAY_RATE) == Decimal("226.25")


def test_amount_only_sunday_hours():
    assert form_line_amount(LineEntry(Decimal("0.00"), Decimal("2")), TERMS) == Decimal("46.80")


def test_pages_edges():
    assert page_count(1, 20) == 1 and page_count(20, 20) == 1 and page_count(21, 20) == 2
    assert page_count(3, 1) == 3
    assert page_of_position(1, 20) == 1 and page_of_position(41, 20) == 3
    assert page_of_position(1, 1) == 1 and page_of_position(2, 1) == 2


@pytest.mark.parametrize(("call", "message"), [
    (lambda: page_count(5, 0), "page_size must be positive"),
    (lambda: page_of_position(0, 20), "position and page_size must be positive"),
    (lambda: page_of_position(1, 0), "position and page_size must be positive"),
])
def test_pages_refuse_a_zero_size_or_position(call, message):
    with pytest.raises(ValueError) as error:
        call()
    assert str(error.value) == message


def unfilled(count: int) -> list[UnfilledLine]:
    return [UnfilledLine(100 + n, n, f"NOM{n} Prénom") for n in range(1, count + 1)]


def test_validation_one_unfilled_line_is_worded_in_the_singular():
    assert validation_problem([UnfilledLine(9, 4, "DURAND Jeanne")]) == (
        "Le formulaire ne peut pas encore être validé : 1 ligne n’est ni remplie ni barrée — "
        "ligne 4 (DURAND Jeanne). Saisissez les heures, ou barrez la ligne avec « − » si "
        "aucune heure n'a été faite ce mois-ci.")


def test_validation_two_unfilled_lines_are_worded_in_the_plural():
    assert validation_problem(unfilled(2)).startswith(
        "Le formulaire ne peut pas encore être validé : 2 lignes ne sont ni remplies ni barrées — "
        "ligne 1 (NOM1 Prénom), ligne 2 (NOM2 Prénom). Saisissez")


def test_validation_names_up_to_10_unfilled_lines():
    message = validation_problem(unfilled(10))
    assert "ligne 10 (NOM10 Prénom). Saisissez" in message and "autre" not in message


def test_validation_an_11th_unfilled_line_is_counted_in_the_singular():
    message = validation_problem(unfilled(11))
    assert "ligne 10 (NOM10 Prénom) et 1 autre. Saisissez" in message
    assert "NOM11" not in message


def test_validation_more_unfilled_lines_are_counted_in_the_plural():
    message = validation_problem(unfilled(12))
    assert message.startswith("Le formulaire ne peut pas encore être validé : 12 lignes")
    assert "ligne 10 (NOM10 Prénom) et 2 autres. Saisissez" in message


def test_unfilled_lines_are_ordered_by_position_and_zero_hours_count_as_filled():
    # Ids and names run the other way: only the position orders the lines.
    rows = [(1, 9, "ALBERT Paul", None, False), (9, 2, "ZOLA Jeanne", None, False),
            (4, 5, "MARTIN Roger", Decimal("0.00"), False), (5, 1, "PETIT Anne", None, True)]
    assert unfilled_lines(rows) == [UnfilledLine(9, 2, "ZOLA Jeanne"),
                                    UnfilledLine(1, 9, "ALBERT Paul")]


def test_cancellation_of_a_form_not_validated():
    assert cancellation_problem(validated_at=None, now=PARIS_EVENING, taken_by_payment=False) == (
        "Ce formulaire n'est pas validé : il n'y a pas de validation à annuler.")


def test_cancellation_refusals_word_for_word():
    assert cancellation_problem(validated_at=PARIS_EVENING, now=PARIS_EVENING,
                                taken_by_payment=True) == (
        "Ce formulaire a été pris en compte par un paiement : sa validation ne peut plus "
        "être annulée. Pour une correction, contactez votre caisse.")
    assert cancellation_problem(validated_at=PARIS_EVENING, now=PARIS_EVENING + timedelta(days=1),
                                taken_by_payment=False) == (
        "La validation du 10/03/2024 ne peut être annulée que le jour même (heure de Paris) : "
        "ce délai est passé. Pour une correction, contactez votre caisse.")


def test_describe_hours_as_read_in_a_conflict_message():
    assert describe_hours(None) == "vide"
    assert describe_hours(Decimal("12.50")) == f"12,5{NB}h"
    assert describe_hours(Decimal("0.00")) == f"0{NB}h"


def test_the_billed_part_is_the_month_cut_to_the_plan():
    from ppas.domain.billing_form import billed_part

    april = Period(2026, 4)
    assert billed_part(april, date(2025, 1, 1), None) == (date(2026, 4, 1), date(2026, 4, 30))
    assert billed_part(april, date(2026, 4, 15), None) == (date(2026, 4, 15), date(2026, 4, 30))
    assert billed_part(april, date(2026, 1, 1), date(2026, 4, 20)) == (
        date(2026, 4, 1), date(2026, 4, 20))
    # No overlap (the plan moved since the form was opened): the whole month, for R04 to see.
    assert billed_part(april, date(2026, 5, 1), None) == (date(2026, 4, 1), date(2026, 4, 30))
