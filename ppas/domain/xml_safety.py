"""Hardened lxml parsing and the packaged billing-file schema (facturation-1.xsd)."""

from __future__ import annotations

import codecs
import threading
from dataclasses import dataclass
from functools import cache
from importlib import resources

from lxml import etree

__all__ = [
    "SCHEMA_NAMESPACE",
    "SchemaError",
    "RECORD_NUMBER_UNIQUE",
    "load_schema",
    "load_streaming_schema",
    "reject_doctype",
    "safe_iterparse",
    "safe_parser",
    "schema_errors",
]

SCHEMA_NAMESPACE = "urn:ppas:facturation:1"
_SCHEMA_FILE = "facturation-1.xsd"
_XS = "{http://www.w3.org/2001/XMLSchema}"
# The xs:unique that the streaming schema leaves out.
RECORD_NUMBER_UNIQUE = "numero-enregistrement-unique"

# One shared XMLSchema object keeps its error log between calls: validate under a lock.
_VALIDATION_LOCK = threading.Lock()

_XML_SPACES = " \t\r\n"
# Markup allowed before the root element that reject_doctype steps over.
_PROLOG_SKIPPED = (("<?", "?>"), ("<!--", "-->"))
_DOCTYPE = "<!DOCTYPE"


@dataclass(frozen=True, slots=True)
class SchemaError:
    """One XSD violation: 1-based line, column (0 when libxml2 does not know it) and message."""

    line: int
    column: int
    message: str


def safe_parser(schema: etree.XMLSchema | None = None) -> etree.XMLParser:
    """Return a new parser that never loads DTDs, expands entities or touches the network."""
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        schema=schema,
    )


def safe_iterparse(source, **options) -> etree.iterparse:
    """An iterparse that never loads DTDs, expands entities or touches the network."""
    return etree.iterparse(source, resolve_entities=False, no_network=True, load_dtd=False,
                           huge_tree=False, **options)


def _schema_document() -> etree._Element:
    resource = resources.files("ppas").joinpath("xsd").joinpath(_SCHEMA_FILE)
    return etree.fromstring(resource.read_bytes(), safe_parser())


@cache
def load_schema() -> etree.XMLSchema:
    """Return the billing-file XMLSchema read from the package data (built once)."""
    return etree.XMLSchema(_schema_document())


@cache
def load_streaming_schema() -> etree.XMLSchema:
    """The billing schema minus the uniqueness of n-enregistrement, for validating while streaming.

    Streaming, libxml2 keeps every key of an xs:unique until the end of the document (about
    320 bytes a line: 32 MB for 100,000 lines) and spends a fifth of the validation on it.
    Whoever validates with this schema checks the uniqueness of record numbers itself.
    """
    document = _schema_document()
    constraints = document.findall(f".//{_XS}unique[@name='{RECORD_NUMBER_UNIQUE}']")
    if len(constraints) != 1 or document.findall(f".//{_XS}key") or \
            len(document.findall(f".//{_XS}unique")) != 1:
        raise RuntimeError(f"{_SCHEMA_FILE}: expected the single identity constraint "
                           f"{RECORD_NUMBER_UNIQUE}; update load_streaming_schema")
    constraints[0].getparent().remove(constraints[0])
    return etree.XMLSchema(document)


def schema_errors(document: etree._Element | etree._ElementTree) -> list[SchemaError]:
    """Validate a parsed document against the billing schema; return its errors, empty when valid."""
    schema = load_schema()
    with _VALIDATION_LOCK:
        if schema.validate(document):
            return []
        log = schema.error_log
    return [SchemaError(entry.line, entry.column, entry.message) for entry in log]


def _decode_prolog(first_bytes: bytes) -> str:
    """Decode the start of a document well enough to read its prolog markup."""
    for bom, encoding in (
        (codecs.BOM_UTF32_LE, "utf-32-le"),
        (codecs.BOM_UTF32_BE, "utf-32-be"),
        (codecs.BOM_UTF8, "utf-8"),
        (codecs.BOM_UTF16_LE, "utf-16-le"),
        (codecs.BOM_UTF16_BE, "utf-16-be"),
    ):
        if first_bytes.startswith(bom):
            return first_bytes[len(bom) :].decode(encoding, errors="replace")
    if first_bytes.startswith(b"<\x00\x00\x00"):
        return first_bytes.decode("utf-32-le", errors="replace")
    if first_bytes.startswith(b"\x00\x00\x00<"):
        return first_bytes.decode("utf-32-be", errors="replace")
    if first_bytes.startswith(b"<\x00"):
        return first_bytes.decode("utf-16-le", errors="replace")
    if first_bytes.startswith(b"\x00<"):
        return first_bytes.decode("utf-16-be", errors="replace")
    return first_bytes.decode("utf-8", errors="replace")


def reject_doctype(first_bytes: bytes) -> bool:
    """Tell whether the prolog at the start of `first_bytes` declares a DOCTYPE (to refuse the file)."""
    text = _decode_prolog(first_bytes)
    pos = 0
    while True:
        while pos < len(text) and text[pos] in _XML_SPACES:
            pos += 1
        for opening, closing in _PROLOG_SKIPPED:
            if text.startswith(opening, pos):
                end = text.find(closing, pos + len(opening))
                if end < 0:
                    return False
                pos = end + len(closing)
                break
        else:
            return text[pos : pos + len(_DOCTYPE)].upper() == _DOCTYPE
