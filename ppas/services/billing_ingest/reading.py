"""Billing file ingest, reading: the bytes of an upload (hash, size, gzip, prolog) and, once the
streaming found a file not well-formed or invalid, where (line and column) and why (F04, F05).
"""
from __future__ import annotations

import copy
import hashlib
import io
import re
import zlib
from collections import Counter
from dataclasses import dataclass
from typing import IO

from lxml import etree

from ppas.domain.anomalies import heading
from ppas.domain.billing_lines import line_message
from ppas.domain.xml_messages import known_syntax_message, schema_message
from ppas.domain.xml_safety import (
    _VALIDATION_LOCK,
    SCHEMA_NAMESPACE,
    load_schema,
    reject_doctype,
    safe_iterparse,
)
from ppas.services import billing_file_stream
from ppas.services.billing_ingest.report import _refusal, _Refused

NS = "{" + SCHEMA_NAMESPACE + "}"
_READ_CHUNK = billing_file_stream.READ_CHUNK
_PROLOG_BYTES = 4096
_LOCATE_WINDOW = 1000  # lines validated at a time when looking for where a violation is
_ENCODING_RE = re.compile(rb"""^\s*<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._-]+)["']""")
_UTF16_32_BOMS = (b"\xff\xfe", b"\xfe\xff", b"\x00\x00\xfe\xff")


class _CountingReader:
    """A file-like reader that hashes, counts and gzips what the parser reads."""

    def __init__(self, source: IO[bytes], keep: bool) -> None:
        self.source = source
        self.hash = hashlib.sha256()
        self.size = 0
        self.keep = keep
        self._gzip = zlib.compressobj(1, zlib.DEFLATED, 31) if keep else None
        self._parts: list[bytes] = []

    def read(self, size: int = -1) -> bytes:
        data = self.source.read(size if size and size > 0 else _READ_CHUNK)
        if data:
            self.hash.update(data)
            self.size += len(data)
            if self._gzip is not None:
                self._parts.append(self._gzip.compress(data))
        return data

    def drain(self) -> None:
        """Read what the parser left after the root (comments, spaces) so hash and size cover all."""
        while self.read(_READ_CHUNK):
            pass

    def content(self) -> bytes:
        if self._gzip is None:
            return b""
        self._parts.append(self._gzip.flush())
        data = b"".join(self._parts)
        self._parts = []
        return data


def sha256_of(source: IO[bytes]) -> tuple[str, int]:
    """Hash a whole upload in chunks (memory stays flat whatever its size)."""
    source.seek(0)
    digest, size = hashlib.sha256(), 0
    while chunk := source.read(1024 * 1024):
        digest.update(chunk)
        size += len(chunk)
    source.seek(0)
    return digest.hexdigest(), size


def _upload_size(source: IO[bytes]) -> int:
    source.seek(0, io.SEEK_END)
    size = source.tell()
    source.seek(0)
    return size


def _prolog_problem(first: bytes) -> str | None:
    """F04 motives visible in the first bytes: DOCTYPE, an encoding other than UTF-8."""
    if reject_doctype(first):
        return ("le fichier contient une déclaration DOCTYPE, refusée par sécurité "
                "(aucune DTD ni entité n'est acceptée)")
    if first.startswith(_UTF16_32_BOMS):
        return "le fichier est encodé en UTF-16 ou UTF-32 ; seul l'UTF-8 est accepté"
    match = _ENCODING_RE.match(first.removeprefix(b"\xef\xbb\xbf"))
    if match and match.group(1).decode("ascii").lower().replace("_", "-") not in ("utf-8", "utf8"):
        return (f"le fichier déclare l'encodage {match.group(1).decode('ascii')} ; "
                "seul l'UTF-8 est accepté")
    return None


def _syntax_message(error: etree.XMLSyntaxError, at_end: bool = False) -> str:
    line, column = error.position if error.position else (error.lineno or 0, 0)
    text = str(error.msg if hasattr(error, "msg") else error)
    text = re.sub(r", line [0-9]+, column [0-9]+$", "", text)
    lowered = text.lower()
    if at_end and "encoding" not in lowered:
        reason = "le fichier est tronqué (il s'arrête avant la fin du document)"
    elif "utf-8" in lowered or "encoding" in lowered or "bytes:" in lowered:
        reason = "des caractères ne sont pas encodés en UTF-8"
    elif "entity" in lowered:
        reason = "une entité XML (&…;) est utilisée ; aucune entité n'est acceptée hors &amp; &lt; &gt; &quot; &apos;"
    elif any(word in lowered for word in ("premature end", "end of data", "expected '>'",
                                          "mismatch", "not finished")):
        reason = "le fichier est tronqué (il s'arrête avant la fin du document)"
    elif "start tag expected" in lowered or "document is empty" in lowered:
        reason = "le contenu n'est pas du XML"
    else:
        reason = "le document XML est mal formé"
    # libxml2's parser reports where it stopped (a real column, unlike the XSD validation).
    where = f"ligne {line}, colonne {column}" if line and column else \
        f"ligne {line}" if line else ""
    detail = known_syntax_message(text) or f"message technique de l'analyseur XML : {text}"
    return line_message("F04", f"{reason} ; {where} : {detail}" if where else
                        f"{reason} : {detail}")


_ENTITY_RE = re.compile(rb"&(?!(?:amp|lt|gt|quot|apos|#[0-9]+|#x[0-9a-fA-F]+);)[A-Za-z_][\w.-]*;")


def _syntax_error(source: IO[bytes]) -> _Refused | None:
    """Parse again without the schema; the F04 refusal when the document is not well-formed."""
    source.seek(0)
    try:
        for _ in safe_iterparse(source, events=("end",), tag=NS + "facturation",
                                encoding="utf-8"):
            pass
    except etree.XMLSyntaxError as error:
        if error.position == (0, 0) and _has_entity_reference(source):
            return _refusal("F04", "une entité XML (&…;) est utilisée ; aucune entité n'est "
                                   "acceptée hors &amp; &lt; &gt; &quot; &apos;")
        return _Refused("F04", _syntax_message(error, at_end=_is_last_line(source, error)))
    return None


def _is_last_line(source: IO[bytes], error: etree.XMLSyntaxError) -> bool:
    """Tell whether the error sits on the file's last line (a file cut short)."""
    line = error.position[0] if error.position else 0
    source.seek(0)
    lines, last = 1, b""
    while chunk := source.read(1024 * 1024):
        lines += chunk.count(b"\n")
        last = chunk
    if last.endswith(b"\n"):
        lines -= 1
    return line >= lines


def _has_entity_reference(source: IO[bytes]) -> bool:
    source.seek(0)
    tail = b""
    while chunk := source.read(1024 * 1024):
        if _ENTITY_RE.search(tail + chunk):
            return True
        tail = chunk[-64:]
    return False


class _DeletedOnLine:
    """How many elements of each name the locating pass deleted on the last line it deleted from.

    The pass deletes the lines already validated to keep memory bounded; when several <ligne>
    share one line of the file (a file written on one line), the position of a bad element
    among the start tags of its line must still count the deleted ones before it.
    """

    def __init__(self) -> None:
        self.line = 0
        self.counts: Counter[str] = Counter()

    def forget(self, subtree) -> None:
        for node in subtree.iter(etree.Element):
            line = node.sourceline or 0
            if line > self.line:
                self.line, self.counts = line, Counter()
            if line == self.line:
                self.counts[etree.QName(node).localname] += 1

    def before(self, line: int, name: str) -> int:
        return self.counts[name] if line == self.line else 0


@dataclass(frozen=True)
class _Violation:
    """An XSD violation and the element it is about: its name and rank among its line's tags."""

    line: int
    message: str
    name: str | None = None
    rank: int = 0  # 0 for the first start tag of that name on the line
    duplicate: bool = False  # the XSD's uniqueness of n-enregistrement


def _locate_schema_error(source: IO[bytes], first_message: str) -> _Refused:
    """Find line and column of an XSD violation seen while streaming (libxml2 loses them there).

    Parses again without the schema and validates, every _LOCATE_WINDOW lines, a copy of the
    header and of the lines parsed since the last window: the copies keep their original line
    numbers, and memory stays bounded by the window. Duplicate record numbers are found on the
    way, before the window that holds the second one is validated.
    """
    schema = load_schema()
    source.seek(0)
    seen: dict[str, int] = {}
    deleted = _DeletedOnLine()
    in_window = last_line = 0
    violation: _Violation | None = None
    try:
        for _, element in safe_iterparse(
                source, events=("end",), tag=(NS + "ligne", NS + "facturation"),
                remove_comments=True, remove_pis=True, encoding="utf-8"):
            if element.tag == NS + "facturation":  # the whole document is parsed, nothing ahead
                violation = _first_violation(schema, element, deleted)
                break
            last_line = element.sourceline or last_line
            in_window += 1
            record = (element.findtext(NS + "n-enregistrement") or "").strip()
            if record in seen:
                # An earlier violation comes first; the XSD's own word for this duplicate
                # says neither which number's first line nor points at the number.
                violation = _first_violation(schema, _window_copy(element), deleted)
                if violation is None or violation.duplicate:
                    number = element.find(NS + "n-enregistrement")
                    violation = _Violation(
                        number.sourceline or element.sourceline,
                        f"le numéro d'enregistrement {record} figure déjà ligne {seen[record]} "
                        "du fichier ; chaque ligne doit avoir son propre numéro",
                        "n-enregistrement", _rank_on_line(element.getroottree().getroot(),
                                                          number, deleted))
                break
            seen[record] = element.sourceline
            if in_window >= _LOCATE_WINDOW:
                violation = _first_violation(schema, _window_copy(element), deleted)
                if violation is not None:
                    break
                # The current line stays: <lignes> is never empty when the document ends.
                while element.getprevious() is not None:
                    deleted.forget(element.getparent()[0])
                    del element.getparent()[0]
                in_window = 1
    except etree.XMLSyntaxError:
        pass
    if violation is not None:
        column = _start_tag_column(source, violation.line, violation.name, violation.rank) \
            if violation.name else None
        return _located_refusal("F05", violation.message, violation.line, column)
    if first_message.startswith("Element "):  # libxml2's English: said in French
        first_message = schema_message(first_message)
    return _located_refusal("F05", f"{first_message}, après la ligne {last_line} du fichier",
                            None, None)


def _located_refusal(code: str, detail: str, line: int | None, column: int | None) -> _Refused:
    """The refusal with « (ligne L, colonne C) », or « (ligne L) » when the column is unknown."""
    if line and column:
        return _refusal(code, detail, line=line, column=column)
    where = f" (ligne {line})" if line else ""
    return _Refused(code, f"{heading(code)}{where} : {detail}")


def _window_copy(line):
    """A copy of the tree parsed so far, cut after `line`."""
    # The parser may have started the elements after `line` already: they are cut from the
    # copy (the tree itself must not change ahead of the parser).
    lines = line.getparent()
    document = copy.deepcopy(lines.getparent())
    copied_lines = document[lines.getparent().index(lines)]
    del copied_lines[lines.index(line) + 1:]
    while copied_lines.getnext() is not None:
        document.remove(copied_lines.getnext())
    return document


def _first_violation(schema: etree.XMLSchema, root, deleted: _DeletedOnLine) -> _Violation | None:
    """The first XSD violation of `root`'s tree, in French, with the element it is about."""
    with _VALIDATION_LOCK:  # the shared schema object keeps its error log between calls
        if schema.validate(root):
            return None
        error = schema.error_log[0]
        line, message, path = error.line, error.message, error.path
    # Validation errors of a tree carry column 0: the element, found by its path, gives the
    # name and rank of its start tag on its line, which the raw bytes of that line place.
    found = root.getroottree().xpath(path) if path else []
    if not found or not isinstance(found[0], etree._Element):
        return _Violation(line, schema_message(message, line),
                          duplicate="Duplicate key-sequence" in message)
    node = found[0]
    line = node.sourceline or line
    return _Violation(line, schema_message(message, line), etree.QName(node).localname,
                      _rank_on_line(root, node, deleted),
                      duplicate="Duplicate key-sequence" in message)


def _rank_on_line(root, node, deleted: _DeletedOnLine) -> int:
    """How many start tags of `node`'s name come before it on its line (deleted ones included)."""
    rank = deleted.before(node.sourceline, etree.QName(node).localname)
    for other in root.iter(node.tag):
        if other is node:
            break
        if other.sourceline == node.sourceline:
            rank += 1
    return rank


_COLUMN_LINE_CAP = 1024 * 1024  # a longer line gives « ligne N » without a column
_HIDDEN_RE = re.compile(rb"<!--.*?-->|<!\[CDATA\[.*?\]\]>|<\?.*?\?>", re.DOTALL)


def _line_bytes(source: IO[bytes], number: int) -> bytes | None:
    """The raw bytes of line `number` (1-based) of `source`, read in chunks; None beyond the cap."""
    source.seek(0)
    current, parts, size = 1, [], 0
    while chunk := source.read(_READ_CHUNK):
        start = 0
        if current < number:
            newlines = chunk.count(b"\n")
            if current + newlines < number:
                current += newlines
                continue
            while current < number:
                start = chunk.index(b"\n", start) + 1
                current += 1
        end = chunk.find(b"\n", start)
        piece = chunk[start:] if end < 0 else chunk[start:end]
        size += len(piece)
        if size > _COLUMN_LINE_CAP:
            return None
        parts.append(piece)
        if end >= 0:
            break
    return b"".join(parts) if current == number else None


def _start_tag_column(source: IO[bytes], line: int, name: str, rank: int) -> int | None:
    """The column (1-based, in characters) of the `rank`-th start tag `<name` on `line`, or None."""
    raw = _line_bytes(source, line) if line > 0 else None
    if raw is None:
        return None
    # Comments, CDATA and processing instructions may quote a tag: blanked (same length).
    visible = _HIDDEN_RE.sub(lambda match: b" " * len(match.group()), raw)
    tag = re.compile(rb"<(?:[^\s<>/!?:]+:)?" + re.escape(name.encode()) + rb"(?=[\s/>])")
    starts = [match.start() for match in tag.finditer(visible)]
    if rank >= len(starts):
        return None
    return len(raw[:starts[rank]].decode("utf-8", "replace").lstrip("\ufeff")) + 1


def _where_invalid(source: IO[bytes], message: str) -> _Refused:
    """The refusal of a file the streaming found invalid: F04 when not well-formed, else F05."""
    # With the schema plugged in, libxml2 reports syntax errors poorly: look again.
    return _syntax_error(source) or _locate_schema_error(source, message)


def _where_truncated(source: IO[bytes]) -> _Refused:
    return _syntax_error(source) or _refusal(
        "F04", "le fichier est tronqué (il s'arrête avant la fin du document)")


def _read_prolog(source: IO[bytes]) -> bytes:
    source.seek(0)
    first = source.read(_PROLOG_BYTES)
    source.seek(0)
    return first
