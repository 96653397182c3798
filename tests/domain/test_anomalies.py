"""Tests for the anomaly catalog: every DESIGN.md code, French texts, rebilling rules."""

from __future__ import annotations

import dataclasses
import re

import pytest

from ppas.domain.anomalies import CATALOG, AnomalyKind, anomaly, format_message, heading

FILE_CODES = [f"F0{n}" for n in range(1, 9)]
LINE_CODES = [f"L0{n}" for n in range(1, 9)]
REPORT_CODES = [f"R0{n}" for n in range(1, 5)]
ALL_CODES = FILE_CODES + LINE_CODES + REPORT_CODES

# A few French words at least one of which any real French sentence here contains.
_FRENCH_MARKERS = re.compile(r"\b(le|la|les|de|du|des|un|une|votre|vos|pour|est|ou|et)\b", re.IGNORECASE)


def test_catalog_holds_exactly_the_design_codes():
    assert list(CATALOG) == ALL_CODES


@pytest.mark.parametrize("code", ALL_CODES)
def test_entry_is_keyed_by_its_code_and_found_by_anomaly(code):
    kind = anomaly(code)
    assert kind is CATALOG[code]
    assert kind.code == code


@pytest.mark.parametrize("code", FILE_CODES)
def test_file_codes_are_file_level_billing(code):
    kind = anomaly(code)
    assert (kind.phase, kind.level) == ("billing", "file")


@pytest.mark.parametrize("code", LINE_CODES)
def test_line_codes_are_line_level_billing(code):
    kind = anomaly(code)
    assert (kind.phase, kind.level) == ("billing", "line")


@pytest.mark.parametrize("code", REPORT_CODES)
def test_report_codes_are_report_phase_and_not_rebillable(code):
    kind = anomaly(code)
    assert kind.phase == "report"
    assert kind.level == "line"
    assert kind.rebillable is False


def test_only_l04_and_l05_line_codes_are_not_rebillable():
    not_rebillable = {code for code in LINE_CODES if not anomaly(code).rebillable}
    assert not_rebillable == {"L04", "L05"}


@pytest.mark.parametrize("code", ALL_CODES)
@pytest.mark.parametrize("field", ["title", "explanation", "what_to_do"])
def test_texts_are_non_empty_french(code, field):
    text = getattr(anomaly(code), field)
    assert text == text.strip() and len(text) >= 10
    assert text[0].isupper()
    if field != "title":
        assert _FRENCH_MARKERS.search(text), text


@pytest.mark.parametrize("code", ALL_CODES)
def test_sentences_end_properly_and_titles_do_not(code):
    kind = anomaly(code)
    assert kind.explanation.endswith(".") and kind.what_to_do.endswith(".")
    assert not kind.title.endswith(".")


@pytest.mark.parametrize("code", ALL_CODES)
def test_only_titles_have_placeholders(code):
    kind = anomaly(code)
    assert "{" not in kind.explanation + kind.what_to_do


def test_placeholders():
    assert anomaly("L05").params == {"record"}
    assert anomaly("F05").params == {"line", "column"}
    assert all(not anomaly(code).params for code in ALL_CODES if code not in {"L05", "F05"})


def test_texts_are_distinct():
    titles = [kind.title for kind in CATALOG.values()]
    assert len(set(titles)) == len(titles)


def test_l04_sends_an_individual_bill_to_the_caisse():
    what_to_do = anomaly("L04").what_to_do
    assert "facture individuelle" in what_to_do and "caisse" in what_to_do


def test_l05_cites_the_earlier_record_and_is_never_rebillable():
    assert format_message("L05", record=42) == (
        "Ligne déjà envoyée ou période déjà facturée (enregistrement n°42)"
    )
    assert "jamais" in anomaly("L05").what_to_do


def test_f05_gives_line_and_column():
    message = format_message("F05", line=24, column=7)
    assert "ligne 24" in message and "colonne 7" in message


def test_format_message_without_placeholders_returns_the_title():
    assert format_message("L01") == anomaly("L01").title
    assert format_message("L01", record=3) == anomaly("L01").title


def test_format_message_requires_every_placeholder():
    with pytest.raises(ValueError, match="record"):
        format_message("L05")
    with pytest.raises(ValueError, match="column"):
        format_message("F05", line=3)


@pytest.mark.parametrize("code", ["F09", "L00", "l01", "", "X01"])
def test_unknown_codes_are_refused(code):
    with pytest.raises(KeyError, match="unknown anomaly code"):
        anomaly(code)
    with pytest.raises(KeyError):
        format_message(code)


def test_kinds_are_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        anomaly("L04").rebillable = True  # type: ignore[misc]
    assert [field.name for field in dataclasses.fields(AnomalyKind)] == [
        "code",
        "phase",
        "level",
        "title",
        "explanation",
        "what_to_do",
        "rebillable",
        "heading",
    ]


# --------------------------------------------------------------------------- headings


@pytest.mark.parametrize("code", ALL_CODES)
def test_headings_hold_no_placeholder_and_name_the_kind(code):
    kind = anomaly(code)
    assert "{" not in kind.heading and "}" not in kind.heading, kind.heading
    assert kind.heading[0].isupper() and not kind.heading.endswith(".")
    if not kind.params:
        assert kind.heading == kind.title  # only the titles with values differ


def test_f05_and_l05_headings_leave_the_values_to_the_message():
    assert anomaly("F05").heading == "Fichier non conforme au cahier des charges"
    assert anomaly("L05").heading == "Ligne déjà envoyée ou période déjà facturée"
    assert heading("L05") == anomaly("L05").heading and heading("X99") == "X99"
    # The message of one anomaly still carries its values.
    assert format_message("F05", line=4, column=221) == (
        "Fichier non conforme au cahier des charges (ligne 4, colonne 221)")


def test_headings_are_distinct():
    headings = [kind.heading for kind in CATALOG.values()]
    assert len(set(headings)) == len(headings)


def test_a_kind_with_placeholders_and_no_heading_is_refused():
    with pytest.raises(ValueError, match="heading"):
        AnomalyKind("L99", "billing", "line", "Titre n°{record}", "Explication.", "Que faire.",
                    True)


# --- The catalog as its builders make it (issue 17) --------------------------------------

def test_the_builders_give_each_code_its_phase_level_rebilling_and_heading(fresh_import):
    # A fresh import runs _file, _line, _report and AnomalyKind.__post_init__ again.
    catalog = fresh_import("ppas.domain.anomalies").CATALOG
    built = {code: (kind.phase, kind.level, kind.rebillable) for code, kind in catalog.items()}
    assert built == (
        {code: ("billing", "file", False) for code in FILE_CODES}
        | {code: ("billing", "line", code not in {"L04", "L05"}) for code in LINE_CODES}
        | {code: ("report", "line", False) for code in REPORT_CODES})
    headings = {code: kind.heading for code, kind in catalog.items() if kind.heading != kind.title}
    assert headings == {"F05": "Fichier non conforme au cahier des charges",
                        "L05": "Ligne déjà envoyée ou période déjà facturée"}
    assert catalog["L05"].title == (
        "Ligne déjà envoyée ou période déjà facturée (enregistrement n°{record})")
    # Every kind keeps the texts it was given: what happened and what to do.
    assert all(isinstance(kind.explanation, str) and kind.explanation.endswith(".")
               and isinstance(kind.what_to_do, str) and kind.what_to_do.endswith(".")
               for kind in catalog.values())


def test_format_message_names_every_missing_parameter():
    with pytest.raises(ValueError) as error:
        format_message("F05")
    assert str(error.value) == "anomaly F05 needs parameter(s): column, line"


def test_a_kind_without_a_heading_is_headed_by_its_title():
    kind = AnomalyKind("X01", "billing", "line", "Titre", "Explication.", "À faire.", True)
    assert kind.heading == "Titre"
    assert AnomalyKind("X02", "billing", "line", "Titre {n}", "E.", "F.", True,
                       heading="Titre").heading == "Titre"


@pytest.mark.parametrize("heading", ["Titre {n}", "Titre }", "Titre {"])
def test_a_heading_holding_a_placeholder_is_refused(heading):
    with pytest.raises(ValueError) as error:
        AnomalyKind("X03", "billing", "line", "Titre {n}", "E.", "F.", True, heading=heading)
    assert str(error.value) == "anomaly X03: the heading must not hold placeholders"


def test_a_title_with_a_placeholder_needs_a_heading():
    with pytest.raises(ValueError):
        AnomalyKind("X04", "billing", "line", "Titre {n}", "E.", "F.", True)
