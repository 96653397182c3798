"""Line checks of a billing file (L01–L08), pure: the line, the plans and earlier billings as data.

Each test names the rule and the edge where a line flips between paid and refused. The
service tests (tests/services/test_billing_ingest.py) check the same rules through the
database; these pin the edges in milliseconds.
"""
from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

from ppas.domain.billing_lines import (
    BilledBefore,
    LineFacts,
    PlanFacts,
    billed_key,
    check_line,
    expected_amount,
    line_message,
    month_index,
)
from ppas.domain.periods import Period

NB = "\u00a0"  # between a figure and its unit (« 20 h », « 3,20 € »)

# A file of échéance May 2025, sent mid-June 2025.
TODAY = date(2025, 6, 15)
MAY = Period(2025, 5)
PLAN = PlanFacts(id=7, start=date(2024, 1, 1), end=None, notified=True, closed_on=None,
                 hours_per_month=Decimal("20.00"), hourly_rate=Decimal("21.30"),
                 participation=Decimal("3.20"), sunday_hourly_rate=Decimal("26.60"))
# 12.50 h × (21.30 − 3.20) = 226.25
LINE = LineFacts(record=1, file_number="0300012345", last_name="DUPONT", first_name="Jeanne",
                 start=date(2025, 5, 1), end=date(2025, 5, 31), hours=Decimal("12.50"),
                 sunday_hours=None, rate=Decimal("21.30"), participation=Decimal("3.20"),
                 amount=Decimal("226.25"))
MAY_KEY = billed_key(PLAN.id, month_index(MAY))


def check(line: LineFacts = LINE, plans=(PLAN,), *, today: date = TODAY,
          last_month: Period | None = MAY, billed=None, crossed_out=frozenset()):
    return check_line(line, list(plans) if plans is not None else None, today=today,
                      last_month=last_month, billed=billed or {}, crossed_out=crossed_out)


def codes(line: LineFacts = LINE, plans=(PLAN,), **facts) -> list[str]:
    return [code for code, _ in check(line, plans, **facts)[1]]


def only_message(line: LineFacts = LINE, plans=(PLAN,), **facts) -> tuple[str, str]:
    """The single anomaly of the line, as (code, message)."""
    _, found = check(line, plans, **facts)
    assert len(found) == 1, found
    return found[0]


def test_a_line_within_its_plan_is_accepted_and_bills_that_plan():
    assert check() == (PLAN, [])


# --- L07: invalid dates, several months, not over yet, after the file's échéance ---------

def test_l07_end_before_start_is_refused_and_nothing_else_is_checked():
    line = replace(LINE, start=date(2025, 5, 5), end=date(2025, 5, 4))
    # Refused on its dates alone: no plan is looked for, even with no plan at all (else L01).
    assert check(line, plans=None) == (None, [(
        "L07", "Période dans le futur ou dates invalides : la fin de période (04/05/2025) "
               "précède son début (05/05/2025)")])


def test_l07_a_one_day_line_is_valid():
    line = replace(LINE, start=date(2025, 5, 31), end=date(2025, 5, 31))
    assert check(line) == (PLAN, [])


def test_l07_a_line_over_two_months_is_refused():
    line = replace(LINE, start=date(2025, 4, 20), end=date(2025, 5, 10))
    assert only_message(line) == (
        "L07", "Période dans le futur ou dates invalides : la période du 20/04/2025 au "
               "10/05/2025 couvre plusieurs mois : facturez chaque mois sur une ligne distincte")


def test_l07_the_same_month_of_another_year_is_another_month():
    line = replace(LINE, start=date(2024, 5, 10), end=date(2025, 5, 10))
    assert codes(line) == ["L07"]


def test_l07_a_line_ending_today_is_over_and_billable():
    assert codes(today=date(2025, 5, 31)) == []


def test_l07_a_line_ending_tomorrow_is_not_over_yet():
    assert only_message(today=date(2025, 5, 30)) == (
        "L07", "Période dans le futur ou dates invalides : la période se termine le 31/05/2025, "
               "après la date du jour (30/05/2025) : facturez-la une fois écoulée")


def test_l07_a_line_of_the_files_own_echeance_is_accepted():
    assert codes(last_month=MAY) == []


def test_l07_a_line_after_the_files_echeance_is_refused():
    assert only_message(last_month=Period(2025, 4)) == (
        "L07", "Période dans le futur ou dates invalides : la période (mai 2025) est "
               "postérieure à l'échéance du fichier (avril 2025)")


def test_l07_a_line_before_the_files_echeance_is_accepted():
    assert codes(last_month=Period(2025, 6)) == []


def test_l07_without_an_echeance_only_today_bounds_the_line():
    # Files of other prestations carry a send date, not an échéance.
    assert codes(last_month=None) == []


# --- L04: 12 months back at most ----------------------------------------------------------

def test_l04_exactly_12_months_back_is_still_billable():
    assert codes(today=date(2026, 5, 31)) == []


def test_l04_13_months_back_is_refused_naming_the_oldest_month():
    assert check(today=date(2026, 6, 1)) == (None, [(
        "L04", "Période de plus de 12 mois : mai 2025 est antérieur à juin 2025")])


def test_l04_is_found_before_the_plans_are_looked_at():
    assert codes(plans=None, today=date(2027, 1, 1)) == ["L04"]


# --- L01: no care plan of the uploader for this file number -------------------------------

def test_l01_a_file_number_without_any_plan_of_the_uploader():
    assert check(plans=None) == (None, [(
        "L01", "Dossier sans prise en charge de votre structure : votre structure n'a aucune "
               "prise en charge pour le dossier 0300012345 au titre de cette convention")])


# --- L02: the uploader's plans do not cover the period ------------------------------------

L02_MAY = ("L02", "Pas de prise en charge notifiée pour la période : aucune prise en charge "
                  "notifiée du dossier 0300012345 ne couvre la période du 01/05/2025 au 31/05/2025")


def test_l02_a_plan_not_notified_yet_does_not_cover_the_line():
    assert check(plans=[replace(PLAN, notified=False)]) == (None, [L02_MAY])


def test_l02_a_plan_starting_on_the_lines_first_day_covers_it():
    assert check(plans=[replace(PLAN, start=date(2025, 5, 1))]) == (
        replace(PLAN, start=date(2025, 5, 1)), [])


def test_l02_a_plan_starting_the_day_after_the_lines_first_day_does_not_cover_it():
    assert check(plans=[replace(PLAN, start=date(2025, 5, 2))]) == (None, [L02_MAY])


def test_l02_a_plan_ending_on_the_lines_last_day_covers_it():
    plan = replace(PLAN, end=date(2025, 5, 31))
    assert check(plans=[plan]) == (plan, [])


def test_l02_a_plan_ending_the_day_before_the_lines_last_day_does_not_cover_it():
    assert check(plans=[replace(PLAN, end=date(2025, 5, 30))]) == (None, [L02_MAY])


def test_l02_the_line_bills_the_first_notified_plan_covering_it():
    ended = replace(PLAN, id=1, end=date(2025, 4, 30))
    pending = replace(PLAN, id=2, notified=False)
    current = replace(PLAN, id=3, start=date(2025, 5, 1))
    later = replace(PLAN, id=4, start=date(2025, 5, 1))
    assert check(plans=[ended, pending, current, later]) == (current, [])


# --- L08: plan closed or crossed out ------------------------------------------------------

def test_l08_a_plan_closed_on_the_lines_first_day_is_refused():
    plan = replace(PLAN, closed_on=date(2025, 5, 1))
    # The plan is found (the line is attached to it), but it no longer pays that month.
    assert check(plans=[plan]) == (plan, [(
        "L08", "Prise en charge barrée ou clôturée : la prise en charge est clôturée "
               "depuis le 01/05/2025")])


def test_l08_a_plan_closed_before_the_line_is_refused():
    assert codes(plans=[replace(PLAN, closed_on=date(2025, 3, 15))]) == ["L08"]


def test_l08_a_plan_closed_after_the_lines_first_day_still_pays_it():
    assert codes(plans=[replace(PLAN, closed_on=date(2025, 5, 2))]) == []


def test_l08_a_plan_crossed_out_on_the_online_form_is_refused():
    assert only_message(crossed_out={MAY_KEY}) == (
        "L08", "Prise en charge barrée ou clôturée : la ligne de ce bénéficiaire a été barrée "
               "dans le formulaire en ligne (mai 2025 ou avant)")


def test_l08_crossing_out_another_plan_or_month_does_not_refuse_the_line():
    assert codes(crossed_out={billed_key(8, month_index(MAY)),
                              billed_key(PLAN.id, month_index(Period(2025, 6)))}) == []


def test_l08_a_closed_and_crossed_out_plan_is_reported_once_for_its_closure():
    plan = replace(PLAN, closed_on=date(2025, 4, 1))
    _, found = check(plans=[plan], crossed_out={MAY_KEY})
    assert [code for code, _ in found] == ["L08"] and "clôturée depuis le 01/04/2025" in found[0][1]


# --- L05: already billed ------------------------------------------------------------------

def test_l05_a_month_already_billed_cites_the_first_record_and_where_it_is():
    billed = {MAY_KEY: BilledBefore("12", "fichier 03_21231300_202505.xml")}
    assert only_message(billed=billed) == (
        "L05", "Ligne déjà envoyée ou période déjà facturée (enregistrement n°12) : mai 2025 "
               "de ce bénéficiaire figure déjà dans : fichier 03_21231300_202505.xml")


def test_l05_another_month_or_another_plan_billed_does_not_refuse_the_line():
    billed = {billed_key(PLAN.id, month_index(Period(2025, 4))): BilledBefore("3", "fichier a.xml"),
              billed_key(8, month_index(MAY)): BilledBefore("4", "fichier b.xml")}
    assert codes(billed=billed) == []


# --- L06: amount = hours × (rate − participation), rates of the plan ----------------------

def test_l06_a_rate_other_than_the_plans_is_refused_with_both_rates():
    line = replace(LINE, rate=Decimal("22.00"), amount=Decimal("235.00"))
    assert only_message(line) == (
        "L06", f"Montant ou taux horaire incorrect : taux horaire 22,00{NB}€ et participation "
               f"3,20{NB}€ au lieu de 21,30{NB}€ et 3,20{NB}€ selon la prise en charge")


def test_l06_a_participation_other_than_the_plans_is_refused():
    line = replace(LINE, participation=Decimal("3.00"), amount=Decimal("228.75"))
    assert codes(line) == ["L06"]


def test_l06_an_amount_one_cent_off_is_refused_with_the_expected_amount():
    line = replace(LINE, amount=Decimal("226.26"))
    assert only_message(line) == (
        "L06", f"Montant ou taux horaire incorrect : montant 226,26{NB}€ au lieu de 226,25{NB}€")


def test_l06_half_a_cent_rounds_up():
    # 0.50 h × (21.29 − 3.20) = 9.045: half-up gives 9.05 (half-even would give 9.04).
    line = replace(LINE, hours=Decimal("0.50"), rate=Decimal("21.29"), amount=Decimal("9.05"))
    plan = replace(PLAN, hourly_rate=Decimal("21.29"))
    assert expected_amount(line, plan) == Decimal("9.05")
    assert codes(line, [plan]) == []
    assert codes(replace(line, amount=Decimal("9.04")), [plan]) == ["L06"]


def test_l06_sunday_hours_are_paid_at_the_conventions_sunday_rate():
    # 10 h × 18.10 + 2 h × (26.60 − 3.20) = 181.00 + 46.80
    line = replace(LINE, hours=Decimal("10.00"), sunday_hours=Decimal("2.00"),
                   amount=Decimal("227.80"))
    assert expected_amount(line, PLAN) == Decimal("227.80")
    assert codes(line) == []


def test_l06_sunday_half_cents_round_up_too():
    # 0.50 h × (26.59 − 3.20) = 11.695 → 11.70; weekday 1 h × 18.10.
    plan = replace(PLAN, sunday_hourly_rate=Decimal("26.59"))
    line = replace(LINE, hours=Decimal("1.00"), sunday_hours=Decimal("0.50"))
    assert expected_amount(line, plan) == Decimal("29.80")


def test_l06_without_a_sunday_rate_sunday_hours_are_paid_at_the_weekday_rate():
    plan = replace(PLAN, sunday_hourly_rate=None)
    line = replace(LINE, hours=Decimal("10.00"), sunday_hours=Decimal("2.00"),
                   amount=Decimal("217.20"))  # 12 h × 18.10
    assert expected_amount(line, plan) == Decimal("217.20")
    assert codes(line, [plan]) == []
    assert codes(replace(line, amount=Decimal("227.80")), [plan]) == ["L06"]


def test_l06_zero_sunday_hours_add_nothing():
    line = replace(LINE, sunday_hours=Decimal("0.00"))
    assert expected_amount(line, PLAN) == Decimal("226.25")
    assert codes(line) == []


# --- L03: weekday plus Sunday hours within the plan's monthly hours -----------------------

def test_l03_exactly_the_plans_hours_are_accepted():
    line = replace(LINE, hours=Decimal("20.00"), amount=Decimal("362.00"))
    assert codes(line) == []


def test_l03_one_hundredth_above_the_plans_hours_is_refused():
    line = replace(LINE, hours=Decimal("20.01"), amount=Decimal("362.18"))
    assert only_message(line) == (
        "L03", f"Heures supérieures à la prise en charge : 20,01{NB}h saisies dépassent les "
               f"20{NB}h par mois prévues par la prise en charge : ramenez le total à 20{NB}h au plus.")


def test_l03_sunday_hours_count_toward_the_plans_hours():
    # 17 + 3 = 20: within the plan; 18 + 3 = 21: above it.
    within = replace(LINE, hours=Decimal("17.00"), sunday_hours=Decimal("3.00"),
                     amount=Decimal("377.90"))  # 17 × 18.10 + 3 × 23.40
    assert codes(within) == []
    above = replace(within, hours=Decimal("18.00"), amount=Decimal("396.00"))
    assert only_message(above) == (
        "L03", f"Heures supérieures à la prise en charge : 21{NB}h saisies (18{NB}h + 3{NB}h le "
               f"dimanche ou un jour férié) dépassent les 20{NB}h par mois prévues par la prise "
               f"en charge : ramenez le total à 20{NB}h au plus.")


# --- Once the plan is found, every motive is reported -------------------------------------

def test_every_motive_of_a_found_plan_is_reported_in_catalog_order():
    plan = replace(PLAN, closed_on=date(2025, 5, 1))
    line = replace(LINE, hours=Decimal("25.00"), amount=Decimal("1.00"))
    billed = {MAY_KEY: BilledBefore("2", "fichier 03_21231300_202505.xml")}
    assert codes(line, [plan], billed=billed) == ["L08", "L05", "L06", "L03"]


# --- Keys and messages --------------------------------------------------------------------

def test_month_index_counts_months_from_year_zero():
    assert month_index(date(2025, 1, 31)) == 2025 * 12
    assert month_index(Period(2025, 12)) == 2025 * 12 + 11
    assert month_index(Period(2026, 1)) - month_index(Period(2025, 12)) == 1


def test_billed_key_keeps_plan_and_month_apart_up_to_year_9999():
    last = month_index(Period(9999, 12))
    assert divmod(billed_key(7, last), 120_000) == (7, last)
    assert billed_key(7, month_index(MAY)) == 7 * 120_000 + month_index(MAY)


def test_line_message_is_the_catalog_title_then_the_detail():
    assert line_message("L02") == "Pas de prise en charge notifiée pour la période"
    assert line_message("L05", "voir plus haut", record=4) == (
        "Ligne déjà envoyée ou période déjà facturée (enregistrement n°4) : voir plus haut")

