"""Tests for billing file names: both patterns, F01 refusals and F06 uploader checks."""

from __future__ import annotations

from datetime import date, datetime, timezone

import pytest

from ppas.domain.file_names import (
    FileNameError,
    ParsedFileName,
    check_name_matches_uploader,
    parse_file_name,
)

TODAY = date(2026, 11, 28)


def refusal(name: str, today: date = TODAY) -> str:
    """Return the F01 message for a name that must be refused."""
    with pytest.raises(FileNameError) as caught:
        parse_file_name(name, today=today)
    assert caught.value.code == "F01"
    assert str(caught.value) == caught.value.message
    return caught.value.message


# --- valid names -------------------------------------------------------------

def test_amd_example_from_the_design():
    parsed = parse_file_name("03_21231300_201010.xml", today=TODAY)
    assert parsed == ParsedFileName(
        kind="amd",
        caisse_code="03",
        structure_id="21231300",
        prestation_code="001",
        period="2010-10",
        send_date=None,
    )


def test_other_prestation_example_from_the_design():
    parsed = parse_file_name("03_171110_014_21231300.xml", today=TODAY)
    assert parsed == ParsedFileName(
        kind="other",
        caisse_code="03",
        structure_id="21231300",
        prestation_code="014",
        period=None,
        send_date=date(2010, 11, 17),
    )


def test_current_month_and_today_are_not_the_future():
    assert parse_file_name("03_21231300_202611.xml", today=TODAY).period == "2026-11"
    assert parse_file_name("03_281126_014_21231300.xml", today=TODAY).send_date == TODAY


def test_leap_day_is_a_real_date():
    assert parse_file_name("03_290224_014_21231300.xml", today=TODAY).send_date == date(2024, 2, 29)


def test_parsed_name_is_immutable():
    parsed = parse_file_name("03_21231300_201010.xml", today=TODAY)
    with pytest.raises(AttributeError):
        parsed.caisse_code = "04"  # type: ignore[misc]


# --- F01: which part is wrong --------------------------------------------------

def test_month_13_in_amd_period():
    message = refusal("03_21231300_201013.xml")
    assert "mois 13" in message and "« 201013 »" in message
    assert "CC_SSSSSSSS_AAAAMM.xml" in message


def test_month_00_in_amd_period():
    assert "mois 00" in refusal("03_21231300_201000.xml")


def test_month_13_in_send_date():
    message = refusal("03_171310_014_21231300.xml")
    assert "mois 13" in message and "CC_JJMMAA_PPP_SSSSSSSS.xml" in message


def test_31_february_does_not_exist():
    message = refusal("03_310211_014_21231300.xml")
    assert "« 310211 » n'existe pas" in message
    assert "février 2011 ne compte que 28 jours" in message


def test_29_february_of_a_common_year_does_not_exist():
    assert "février 2025 ne compte que 28 jours" in refusal("03_290225_014_21231300.xml")


def test_day_00_does_not_exist():
    assert "jour 00" in refusal("03_001110_014_21231300.xml")


def test_future_month_is_refused():
    message = refusal("03_21231300_202612.xml")
    assert "décembre 2026 n'a pas encore commencé" in message
    assert "novembre 2026" in message


def test_future_send_date_is_refused():
    message = refusal("03_291126_014_21231300.xml")
    assert "29/11/2026 est postérieure à la date du jour (28/11/2026)" in message


def test_future_is_relative_to_the_given_today():
    assert parse_file_name("03_21231300_202612.xml", today=date(2026, 12, 1)).period == "2026-12"
    refusal("03_21231300_202612.xml", today=date(2026, 11, 30))


@pytest.mark.parametrize("name", ["03_21231300_201010.XML", "03_21231300_201010.Xml"])
def test_extension_must_be_lowercase(name):
    message = refusal(name)
    assert "minuscules" in message and "« .xml »" in message


@pytest.mark.parametrize(
    "name",
    ["03_21231300_201010.txt", "03_21231300_201010", "03_21231300_201010.xml.zip", "03_21231300_201010.xmll"],
)
def test_extension_must_be_xml(name):
    assert "l'extension « .xml »" in refusal(name)


@pytest.mark.parametrize(
    ("name", "part"),
    [
        ("3_21231300_201010.xml", "code caisse « 3 »"),
        ("AB_21231300_201010.xml", "code caisse « AB »"),
        ("03_2123130_201010.xml", "identifiant de structure « 2123130 »"),
        ("03_212313001_201010.xml", "identifiant de structure « 212313001 »"),
        ("03_21231300_20101.xml", "l'échéance « 20101 »"),
        ("03_21231300_2010-10.xml", "l'échéance « 2010-10 »"),
        ("03_1711100_014_21231300.xml", "la date d'envoi « 1711100 »"),
        ("03_171110_14_21231300.xml", "code prestation « 14 »"),
        ("03_171110_014_2123130A.xml", "identifiant de structure « 2123130A »"),
        ("٠٣_21231300_201010.xml", "code caisse « ٠٣ »"),
    ],
)
def test_each_wrong_part_is_named(name, part):
    assert part in refusal(name)


def test_every_wrong_part_is_listed():
    message = refusal("3_2123130_201013.XML")
    for part in ("minuscules", "code caisse « 3 »", "structure « 2123130 »", "mois 13"):
        assert part in message


@pytest.mark.parametrize(
    "name",
    ["", "facture.xml", "03_21231300.xml", "03_21231300_201010_x_y.xml", "03-21231300-201010.xml"],
)
def test_wrong_number_of_parts_shows_both_patterns(name):
    message = refusal(name)
    assert "3 parties" in message
    assert "CC_SSSSSSSS_AAAAMM.xml" in message and "CC_JJMMAA_PPP_SSSSSSSS.xml" in message


def test_amd_prestation_code_is_not_allowed_in_the_other_pattern():
    message = refusal("03_171110_001_21231300.xml")
    assert "001" in message and "CC_SSSSSSSS_AAAAMM.xml" in message


def test_surrounding_spaces_are_not_stripped():
    refusal(" 03_21231300_201010.xml")
    refusal("03_21231300_201010.xml ")


def test_today_must_be_a_date():
    with pytest.raises(TypeError):
        parse_file_name("03_21231300_201010.xml", today=datetime(2026, 11, 28, tzinfo=timezone.utc))


# --- F06: name against the uploader ----------------------------------------------

AMD = parse_file_name("03_21231300_201010.xml", today=TODAY)
OTHER = parse_file_name("03_171110_014_21231300.xml", today=TODAY)


def check(parsed: ParsedFileName, **overrides) -> list[str]:
    """Run the uploader check with a matching account, changed by `overrides`."""
    account = {"caisse_code": "03", "structure_id": "21231300", "prestation_codes": {"001", "014"}}
    return check_name_matches_uploader(parsed, **(account | overrides))


def test_matching_uploader_has_no_problem():
    assert check(AMD) == []
    assert check(OTHER) == []


def test_wrong_caisse():
    [message] = check(AMD, caisse_code="04")
    assert "code caisse 03" in message and "(04)" in message


def test_wrong_structure():
    [message] = check(OTHER, structure_id="99999999")
    assert "21231300" in message and "(99999999)" in message


def test_wrong_prestation_for_other_pattern():
    [message] = check(OTHER, prestation_codes={"001", "020"})
    assert "prestation 014" in message and "001, 020" in message


def test_amd_needs_a_convention_for_prestation_001():
    [message] = check(AMD, prestation_codes=["014"])
    assert "prestation 001" in message


def test_no_prestation_at_all():
    [message] = check(AMD, prestation_codes=())
    assert "aucune" in message


def test_all_mismatches_are_reported():
    assert len(check(OTHER, caisse_code="04", structure_id="11111111", prestation_codes=["001"])) == 3


def test_prestation_codes_must_not_be_a_single_string():
    with pytest.raises(TypeError):
        check(AMD, prestation_codes="001")


# --- Edges (issue 17) -------------------------------------------------------------

@pytest.mark.parametrize(("name", "period"), [
    ("03_21231300_201001.xml", "2010-01"),  # January: the first month
    ("03_21231300_201012.xml", "2010-12"),  # December: the last month
    ("03_21231300_000101.xml", "0001-01"),  # year 0001 exists
])
def test_amd_echeance_january_december_and_year_one_are_months(name, period):
    assert parse_file_name(name, today=TODAY).period == period


def test_amd_echeance_year_0000_is_refused_naming_it():
    assert "l'échéance « 000012 » désigne l'année 0000, qui n'existe pas" in refusal(
        "03_21231300_000012.xml")


@pytest.mark.parametrize(("name", "sent"), [
    ("03_150110_014_21231300.xml", date(2010, 1, 15)),  # January
    ("03_311210_014_21231300.xml", date(2010, 12, 31)),  # 31 December
    ("03_010100_014_21231300.xml", date(2000, 1, 1)),  # « 00 » is the year 2000
])
def test_send_date_january_december_and_year_2000_are_dates(name, sent):
    assert parse_file_name(name, today=TODAY).send_date == sent


@pytest.mark.parametrize(("text", "month"), [("150010", "00"), ("151310", "13")])
def test_send_date_impossible_month_is_named(text, month):
    assert (f"la date d'envoi « {text} » désigne le mois {month}, qui n'existe pas (01 à 12)"
            in refusal(f"03_{text}_014_21231300.xml"))


def test_f01_message_quotes_the_name_and_the_amd_pattern_word_for_word():
    assert refusal("3_21231300_201010.xml") == (
        "Le nom de fichier « 3_21231300_201010.xml » n'est pas conforme : le code caisse « 3 » "
        "doit comporter exactement 2 chiffres (par exemple 03). Modèle attendu : "
        "CC_SSSSSSSS_AAAAMM.xml pour l'aide ménagère à domicile (par exemple "
        "03_21231300_201010.xml).")


def test_f01_message_of_an_other_prestation_name_lists_its_problems_with_semicolons():
    assert refusal("03_171110_14_2123130.xml") == (
        "Le nom de fichier « 03_171110_14_2123130.xml » n'est pas conforme : le code prestation "
        "« 14 » doit comporter exactement 3 chiffres (par exemple 014) ; l'identifiant de "
        "structure « 2123130 » doit comporter exactement 8 chiffres. Modèle attendu : "
        "CC_JJMMAA_PPP_SSSSSSSS.xml pour les autres prestations (par exemple "
        "03_171110_014_21231300.xml).")


def test_f01_message_of_a_name_with_two_parts_offers_both_patterns():
    assert refusal("03_21231300.xml") == (
        "Le nom de fichier « 03_21231300.xml » n'est pas conforme : le nom doit comporter "
        "3 parties séparées par « _ » (aide ménagère à domicile) ou 4 (autres prestations), "
        "et non 2. Modèle attendu : CC_SSSSSSSS_AAAAMM.xml pour l'aide ménagère à domicile "
        "(par exemple 03_21231300_201010.xml) ou CC_JJMMAA_PPP_SSSSSSSS.xml pour les autres "
        "prestations (par exemple 03_171110_014_21231300.xml).")


@pytest.mark.parametrize(("today", "kind"), [
    (datetime(2026, 11, 28, tzinfo=timezone.utc), "datetime"), ("2026-11-28", "str")])
@pytest.mark.parametrize("name", ["03_21231300_201010.xml", "03_171110_014_21231300.xml"])
def test_today_must_be_a_plain_date(name, today, kind):
    with pytest.raises(TypeError) as error:
        parse_file_name(name, today=today)
    assert str(error.value) == f"today must be a date, got {kind}"


def test_name_must_be_text():
    with pytest.raises(TypeError) as error:
        parse_file_name(b"03_21231300_201010.xml", today=TODAY)  # type: ignore[arg-type]
    assert str(error.value) == "name must be a str, got bytes"


def test_f06_messages_word_for_word():
    assert check(OTHER, caisse_code="04", structure_id="11111111", prestation_codes=()) == [
        "Le code caisse 03 du nom du fichier n'est pas celui de votre caisse (04).",
        "L'identifiant de structure 21231300 du nom du fichier n'est pas celui de votre "
        "structure (11111111).",
        "La prestation 014 facturée par ce fichier ne fait l'objet d'aucune de vos conventions "
        "(prestations conventionnées : aucune).",
    ]


def test_f06_a_single_string_of_codes_is_refused_saying_why():
    with pytest.raises(TypeError) as error:
        check(AMD, prestation_codes="001")
    assert str(error.value) == "prestation_codes must be a collection of codes, not a single str"
