"""Hardened parsing of billing files: what the parsers refuse to do, the DOCTYPE sniffing."""
from __future__ import annotations

import codecs
import io

import pytest
from lxml import etree

from ppas.domain.xml_safety import (
    SchemaError,
    reject_doctype,
    safe_iterparse,
    safe_parser,
    schema_errors,
)

# libxml2 refuses nesting deeper than 256 levels unless told the tree may be huge.
DEEP = b"<a>" * 300 + b"</a>" * 300


def test_the_parser_refuses_an_excessively_deep_document():
    with pytest.raises(etree.XMLSyntaxError, match="[Ee]xcessive depth"):
        etree.fromstring(DEEP, safe_parser())


def test_iterparse_refuses_an_excessively_deep_document():
    with pytest.raises(etree.XMLSyntaxError, match="[Ee]xcessive depth"):
        for _ in safe_iterparse(io.BytesIO(DEEP)):
            pass


def test_the_parser_does_not_even_load_an_external_dtd(tmp_path):
    dtd = tmp_path / "r.dtd"
    dtd.write_text('<!ELEMENT r EMPTY>')
    data = f'<!DOCTYPE r SYSTEM "{dtd.as_uri()}"><r/>'.encode()
    assert etree.fromstring(data, safe_parser()).getroottree().docinfo.externalDTD is None


def test_iterparse_does_not_even_load_an_external_dtd(tmp_path):
    dtd = tmp_path / "r.dtd"
    dtd.write_text('<!ELEMENT r EMPTY>')
    data = f'<!DOCTYPE r SYSTEM "{dtd.as_uri()}"><r/>'.encode()
    [(_, root)] = list(safe_iterparse(io.BytesIO(data)))
    assert root.getroottree().docinfo.externalDTD is None


def test_iterparse_does_not_expand_internal_entities():
    data = b'<!DOCTYPE r [<!ENTITY boom "BOOM">]><r>&boom;</r>'
    texts = [element.text for _, element in safe_iterparse(io.BytesIO(data))]
    assert "BOOM" not in "".join(t or "" for t in texts)


def test_iterparse_passes_its_options_on():
    data = b"<r><a/><b/></r>"
    events = [(event, element.tag) for event, element in
              safe_iterparse(io.BytesIO(data), events=("start",), tag="b")]
    assert events == [("start", "b")]


def test_schema_errors_give_the_line_and_the_column_libxml2_knows():
    document = etree.fromstring(
        b'<facturation xmlns="urn:ppas:facturation:1" version="1">\n  <autre/></facturation>')
    # Validating a parsed tree, libxml2 knows the line but not the column: 0 says so.
    assert schema_errors(document) == [SchemaError(
        2, 0, "Element '{urn:ppas:facturation:1}autre': This element is not expected. "
              "Expected is ( {urn:ppas:facturation:1}en-tete ).")]


# --- DOCTYPE sniffing in every encoding a parser detects ---------------------------------

WITH_DOCTYPE = "<?xml version='1.0'?><!DOCTYPE r><r/>"
WITHOUT = "<?xml version='1.0'?><!-- x --><r/>"


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be"])
def test_doctype_is_found_without_a_byte_order_mark(encoding):
    assert reject_doctype(WITH_DOCTYPE.encode(encoding)) is True
    assert reject_doctype(WITHOUT.encode(encoding)) is False


@pytest.mark.parametrize(("bom", "encoding"), [
    (codecs.BOM_UTF32_LE, "utf-32-le"), (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
])
def test_doctype_is_found_after_a_byte_order_mark(bom, encoding):
    assert reject_doctype(bom + WITH_DOCTYPE.encode(encoding)) is True
    assert reject_doctype(bom + WITHOUT.encode(encoding)) is False


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be"])
@pytest.mark.parametrize("bom", [True, False])
def test_first_bytes_cut_inside_a_character_are_still_read(encoding, bom):
    # The caller passes the first N bytes of the upload: the cut may split a character.
    data = WITH_DOCTYPE.encode(encoding)
    if bom:
        data = ("\ufeff" + WITH_DOCTYPE).encode(encoding)
    assert reject_doctype(data[:-1]) is True


def test_a_doctype_after_several_comments_is_found_and_one_after_the_root_is_not():
    assert reject_doctype(b"<!-- a --><!-- b --> <?pi x?><!DOCTYPE r><r/>") is True
    assert reject_doctype(b"<!-- a --><r/><!-- b --><!DOCTYPE r>") is False


def test_bytes_that_are_not_utf8_before_a_doctype_do_not_hide_it():
    # A Latin-1 « é » in a comment of the prolog: the sniffing replaces it and reads on.
    data = b"<?xml version='1.0' encoding='ISO-8859-1'?><!-- \xe9t\xe9 --><!DOCTYPE r><r/>"
    assert reject_doctype(data) is True
