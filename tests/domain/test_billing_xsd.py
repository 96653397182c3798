"""Tests for the billing-file XSD (DESIGN.md section 4) and the hardened XML parsing helpers."""

from __future__ import annotations

import codecs
from importlib import resources

import pytest
from lxml import etree

from ppas.domain.xml_safety import (
    SCHEMA_NAMESPACE,
    SchemaError,
    load_schema,
    reject_doctype,
    safe_parser,
    schema_errors,
)

XS = "{http://www.w3.org/2001/XMLSchema}"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"

# The example of DESIGN.md section 4, verbatim.
EXAMPLE = """\
<facturation xmlns="urn:ppas:facturation:1" version="1">
  <en-tete>
    <rf-borfact>03_21231300_201010.xml</rf-borfact>
    <code-caisse>03</code-caisse>
    <id-structure>21231300</id-structure>
    <n-convention>C03-0001</n-convention>
    <code-prestation>001</code-prestation>
    <echeance>2010-10</echeance>            <!-- AMD; other prestations: <date-envoi>2010-11-17</date-envoi> -->
    <nb-lignes>1</nb-lignes>
    <montant-total>226.25</montant-total>
    <logiciel>VendorSoft 4.2</logiciel>    <!-- optional -->
  </en-tete>
  <lignes>
    <ligne>
      <n-enregistrement>1</n-enregistrement>  <!-- unique in the file, cited by anomalies -->
      <n-dossier>0300012345</n-dossier>
      <nom>DUPONT</nom><prenom>Jeanne</prenom>
      <debut-periode>2010-10-01</debut-periode><fin-periode>2010-10-31</fin-periode>
      <nb-heures>12.50</nb-heures>
      <nb-heures-dimanche>0.00</nb-heures-dimanche> <!-- optional: Sundays/holidays -->
      <taux-horaire>21.30</taux-horaire>
      <participation>3.20</participation>       <!-- retiree's hourly share -->
      <montant>226.25</montant>                 <!-- heures × (taux − participation) -->
    </ligne>
  </lignes>
</facturation>
"""

SECOND_LINE = """\
    <ligne>
      <n-enregistrement>2</n-enregistrement>
      <n-dossier>0300067890</n-dossier>
      <nom>MARTIN</nom><prenom>Paul</prenom>
      <debut-periode>2010-10-01</debut-periode><fin-periode>2010-10-31</fin-periode>
      <nb-heures>4</nb-heures>
      <taux-horaire>21.30</taux-horaire>
      <participation>0.00</participation>
      <montant>85.20</montant>
    </ligne>
"""


def variant(*replacements: tuple[str, str], text: str = EXAMPLE) -> str:
    """Return `text` with each (old, new) replaced once; fail if an `old` is absent."""
    for old, new in replacements:
        assert text.count(old) == 1, f"{old!r} must occur exactly once"
        text = text.replace(old, new)
    return text


def line_of(text: str, needle: str, occurrence: int = 1) -> int:
    """Return the 1-based line where the n-th `needle` starts in `text`."""
    index = -1
    for _ in range(occurrence):
        index = text.index(needle, index + 1)
    return text.count("\n", 0, index) + 1


def errors(text: str) -> list[SchemaError]:
    """Parse `text` safely and return its XSD errors."""
    return schema_errors(etree.fromstring(text.encode("utf-8"), safe_parser()))


def assert_refused_at(text: str, line: int, fragment: str = "") -> None:
    """Assert that the first XSD error is on `line` and mentions `fragment`."""
    found = errors(text)
    assert found, "the variant should be invalid"
    assert found[0].line == line, found
    assert fragment in found[0].message, found


# --- valid documents ------------------------------------------------------------

def test_design_example_is_valid():
    assert errors(EXAMPLE) == []


def test_design_example_is_valid_with_xml_declaration_and_two_lines():
    text = '<?xml version="1.0" encoding="UTF-8"?>\n' + variant(
        ("<nb-lignes>1<", "<nb-lignes>2<"),
        ("    </ligne>\n", "    </ligne>\n" + SECOND_LINE),
    )
    assert errors(text) == []


def test_other_prestation_with_send_date_is_valid():
    text = variant(
        ("<rf-borfact>03_21231300_201010.xml<", "<rf-borfact>03_171110_014_21231300.xml<"),
        ("<code-prestation>001<", "<code-prestation>014<"),
        ("<echeance>2010-10</echeance>", "<date-envoi>2010-11-17</date-envoi>"),
    )
    assert errors(text) == []


def test_optional_elements_may_be_left_out():
    text = variant(
        ("    <logiciel>VendorSoft 4.2</logiciel>    <!-- optional -->\n", ""),
        ("      <nb-heures-dimanche>0.00</nb-heures-dimanche> <!-- optional: Sundays/holidays -->\n", ""),
    )
    assert errors(text) == []


@pytest.mark.parametrize("hours", ["0", "12", "12.5", "12.50", "9999.99"])
def test_hours_accept_up_to_two_decimals(hours):
    assert errors(variant(("<nb-heures>12.50<", f"<nb-heures>{hours}<"))) == []


def test_leap_day_is_a_valid_date():
    assert errors(variant(("<debut-periode>2010-10-01<", "<debut-periode>2012-02-29<"))) == []


# --- the broken variants the brief asks for ---------------------------------------

def test_missing_element_is_refused_with_its_line():
    text = variant(("    <n-convention>C03-0001</n-convention>\n", ""))
    assert_refused_at(text, line_of(text, "<code-prestation>"), "n-convention")


def test_three_decimals_on_line_amount_is_refused_with_its_line():
    text = variant(("<montant>226.25<", "<montant>226.255<"))
    assert_refused_at(text, line_of(text, "<montant>"), "226.255")


def test_three_decimals_on_total_amount_is_refused_with_its_line():
    text = variant(("<montant-total>226.25<", "<montant-total>226.250<"))
    assert_refused_at(text, line_of(text, "<montant-total>"), "226.250")


def test_duplicate_record_number_is_refused_at_the_second_line():
    text = variant(
        ("<nb-lignes>1<", "<nb-lignes>2<"),
        ("    </ligne>\n", "    </ligne>\n" + SECOND_LINE.replace(">2</n-enregistrement>", ">1</n-enregistrement>")),
    )
    assert_refused_at(text, line_of(text, "<ligne>", occurrence=2), "Duplicate")


def test_wrong_namespace_is_refused_at_the_root():
    text = "\n" + variant(('xmlns="urn:ppas:facturation:1"', 'xmlns="urn:ppas:facturation:2"'))
    assert_refused_at(text, 2, "urn:ppas:facturation:2")


def test_no_namespace_is_refused_at_the_root():
    assert_refused_at(variant((' xmlns="urn:ppas:facturation:1"', "")), 1)


# --- more constraints of section 4 ---------------------------------------------------

@pytest.mark.parametrize(
    ("old", "new", "element"),
    [
        ("<montant>226.25<", "<montant>226<", "<montant>"),
        ("<montant>226.25<", "<montant>226.2<", "<montant>"),
        ("<montant>226.25<", "<montant>-226.25<", "<montant>"),
        ("<montant>226.25<", "<montant>226,25<", "<montant>"),
        ("<taux-horaire>21.30<", "<taux-horaire>21.3<", "<taux-horaire>"),
        ("<participation>3.20<", "<participation>3.205<", "<participation>"),
        ("<montant-total>226.25<", "<montant-total>226.2<", "<montant-total>"),
        ("<nb-heures>12.50<", "<nb-heures>12.505<", "<nb-heures>"),
        ("<nb-heures>12.50<", "<nb-heures>-1<", "<nb-heures>"),
        ("<nb-heures>12.50<", "<nb-heures>10000<", "<nb-heures>"),
        ("<nb-heures>12.50<", "<nb-heures>10000.00<", "<nb-heures>"),
        ("<taux-horaire>21.30<", "<taux-horaire>1000000.00<", "<taux-horaire>"),
        ("<montant>226.25<", "<montant>100000000.00<", "<montant>"),
        ("<montant-total>226.25<", "<montant-total>10000000000.00<", "<montant-total>"),
        ("<nb-heures-dimanche>0.00<", "<nb-heures-dimanche>0.001<", "<nb-heures-dimanche>"),
        ("<code-caisse>03<", "<code-caisse>003<", "<code-caisse>"),
        ("<id-structure>21231300<", "<id-structure>2123130<", "<id-structure>"),
        ("<code-prestation>001<", "<code-prestation>1<", "<code-prestation>"),
        ("<echeance>2010-10<", "<echeance>2010-13<", "<echeance>"),
        ("<echeance>2010-10<", "<echeance>201010<", "<echeance>"),
        ("<nb-lignes>1<", "<nb-lignes>0<", "<nb-lignes>"),
        ("<n-enregistrement>1<", "<n-enregistrement>0<", "<n-enregistrement>"),
        ("<n-enregistrement>1<", "<n-enregistrement>01<", "<n-enregistrement>"),
        ("<n-enregistrement>1<", "<n-enregistrement>2147483648<", "<n-enregistrement>"),
        ("<n-dossier>0300012345<", "<n-dossier>300012345<", "<n-dossier>"),
        ("<nom>DUPONT<", "<nom> <", "<nom>"),
        ("<debut-periode>2010-10-01<", "<debut-periode>2010-02-31<", "<debut-periode>"),
        ("<fin-periode>2010-10-31<", "<fin-periode>2010-10-31Z<", "<fin-periode>"),
        ("<fin-periode>2010-10-31<", "<fin-periode>31/10/2010<", "<fin-periode>"),
    ],
)
def test_bad_values_are_refused_on_their_line(old, new, element):
    text = variant((old, new))
    assert_refused_at(text, line_of(text, element))


def test_send_date_must_be_a_real_date():
    text = variant(("<echeance>2010-10</echeance>", "<date-envoi>2010-11-31</date-envoi>"))
    assert_refused_at(text, line_of(text, "<date-envoi>"))


def test_echeance_and_send_date_are_exclusive():
    text = variant(
        ("<echeance>2010-10</echeance>", "<echeance>2010-10</echeance><date-envoi>2010-11-17</date-envoi>")
    )
    assert_refused_at(text, line_of(text, "<date-envoi>"), "date-envoi")


def test_header_order_is_enforced():
    text = variant(
        ("    <code-caisse>03</code-caisse>\n    <id-structure>21231300</id-structure>\n",
         "    <id-structure>21231300</id-structure>\n    <code-caisse>03</code-caisse>\n"),
    )
    assert_refused_at(text, line_of(text, "<id-structure>"), "id-structure")


def test_unknown_element_is_refused():
    text = variant(("<nom>DUPONT</nom>", "<nom>DUPONT</nom><surnom>X</surnom>"))
    assert_refused_at(text, line_of(text, "<surnom>"), "surnom")


def test_lines_cannot_be_empty():
    start, end = EXAMPLE.index("    <ligne>"), EXAMPLE.index("  </lignes>")
    text = EXAMPLE[:start] + EXAMPLE[end:]
    assert_refused_at(text, line_of(text, "<lignes>"), "lignes")


@pytest.mark.parametrize("attribute", ['version="2"', 'version=""', ""])
def test_version_is_required_and_fixed(attribute):
    text = variant((' version="1"', f" {attribute}" if attribute else ""))
    assert_refused_at(text, 1, "version")


def test_every_error_is_reported_with_a_line():
    text = variant(("<code-caisse>03<", "<code-caisse>3<"), ("<montant>226.25<", "<montant>1<"))
    assert [error.line for error in errors(text)][:1] == [line_of(text, "<code-caisse>")]
    assert line_of(text, "<montant>") in {error.line for error in errors(text)}


# --- the schema file itself -----------------------------------------------------------

def schema_document() -> etree._Element:
    """Return the packaged XSD as an XML tree."""
    data = resources.files("ppas").joinpath("xsd").joinpath("facturation-1.xsd").read_bytes()
    return etree.fromstring(data, safe_parser())


def test_schema_is_packaged_and_cached():
    assert schema_document().get("targetNamespace") == SCHEMA_NAMESPACE
    assert load_schema() is load_schema()


def test_every_declaration_is_documented_in_french():
    declarations = [
        node
        for node in schema_document().iter(f"{XS}element", f"{XS}attribute", f"{XS}simpleType", f"{XS}complexType")
        if node.get("name")
    ]
    names = {node.get("name") for node in declarations}
    assert {"facturation", "en-tete", "rf-borfact", "echeance", "date-envoi", "ligne", "montant", "version"} <= names
    for node in declarations:
        docs = node.findall(f"{XS}annotation/{XS}documentation")
        assert len(docs) == 1, node.get("name")
        assert docs[0].get(XML_LANG) == "fr"
        assert len((docs[0].text or "").strip()) >= 10, node.get("name")


def test_every_element_of_the_design_example_is_declared():
    declared = {node.get("name") for node in schema_document().iter(f"{XS}element")}
    used = {etree.QName(node).localname for node in etree.fromstring(EXAMPLE.encode()).iter(etree.Element)}
    assert used <= declared
    assert "nb-heures-dimanche" in used and "date-envoi" in declared


# --- safe parsing ---------------------------------------------------------------------

def test_safe_parser_does_not_expand_internal_entities():
    root = etree.fromstring(b'<!DOCTYPE r [<!ENTITY boom "BOOM">]><r>&boom;</r>', safe_parser())
    assert "BOOM" not in etree.tostring(root).decode()


def test_safe_parser_does_not_read_external_entities(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET")
    data = f'<!DOCTYPE r [<!ENTITY leak SYSTEM "{secret.as_uri()}">]><r>&leak;</r>'.encode()
    root = etree.fromstring(data, safe_parser())
    assert "TOP-SECRET" not in etree.tostring(root).decode()


def test_safe_parser_does_not_load_an_external_dtd(tmp_path):
    dtd = tmp_path / "evil.dtd"
    dtd.write_text('<!ENTITY injected "FROM-DTD">')
    data = f'<!DOCTYPE r SYSTEM "{dtd.as_uri()}"><r>&injected;</r>'.encode()
    try:
        root = etree.fromstring(data, safe_parser())
    except etree.XMLSyntaxError:
        return
    assert "FROM-DTD" not in etree.tostring(root).decode()


def test_safe_parser_can_carry_the_schema():
    parser = safe_parser(load_schema())
    assert etree.fromstring(EXAMPLE.encode(), parser) is not None
    with pytest.raises(etree.XMLSyntaxError):
        etree.fromstring(variant(("<montant>226.25<", "<montant>226.255<")).encode(), safe_parser(load_schema()))


def test_safe_parser_returns_a_new_parser_each_time():
    assert safe_parser() is not safe_parser()


@pytest.mark.parametrize(
    "data",
    [
        b"<!DOCTYPE r><r/>",
        b'<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE r [<!ENTITY a "b">]><r/>',
        b"<?xml version='1.0'?><!-- note --><?pi data?>\n  <!DOCTYPE r><r/>",
        b"<!doctype r><r/>",
        codecs.BOM_UTF8 + b"<!DOCTYPE r><r/>",
        codecs.BOM_UTF16_LE + "<!DOCTYPE r><r/>".encode("utf-16-le"),
        "<!DOCTYPE r><r/>".encode("utf-16-be"),
    ],
)
def test_doctype_in_prolog_is_detected(data):
    assert reject_doctype(data) is True


@pytest.mark.parametrize(
    "data",
    [
        EXAMPLE.encode(),
        b'<?xml version="1.0" encoding="UTF-8"?>\n<facturation/>',
        b"<!-- <!DOCTYPE r> is only mentioned here --><r/>",
        b"<r><!-- <!DOCTYPE r> --></r>",
        b"<?xml version='1.0'?><!-- a comment cut by the first-bytes window <!DOCTYPE",
        b"",
        b"   ",
    ],
)
def test_documents_without_doctype_pass(data):
    assert reject_doctype(data) is False
