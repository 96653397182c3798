"""Billing by file: safe, streaming ingest of an uploaded XML file and its report.

Reading stored files back is in billing_file_reports, re-billing a refused line in
billing_rebill.

The flow of one upload (`submit_file`):

1. who asks, Idempotency-Key replay, name (F01, F02, F06), size cap and empty file (F08),
   DOCTYPE and encoding (F04) — before any parsing;
2. billing_file_stream streams the file through lxml's iterparse with the XSD plugged into
   the parser (F04/F05 as it goes, nothing but the current line in memory) and hands the
   header and the lines' texts over in batches: in a thread for small files, in a process of
   its own from PROCESS_FROM_BYTES on (no GIL shared with the event loop and the database);
   a violation is then located by a second reading (true line and column);
3. on the event loop, the header is checked (F03, F06, F07); each batch gets the database
   facts it needs (care plans of its file numbers, what was billed before by file or by
   form) with a few queries, is checked (L01–L08, in a thread) and inserted with one
   executemany per table;
4. at the end, the header totals (F08) are compared, the file row gets its bytes (gzip of
   the original, sha256 of the original) and counts. Everything but the refusal record
   happens in ONE transaction: a refusal or a crash halfway leaves nothing and the name free.

A refused file is recorded (name, sha256, its F anomaly — no content, no lines) so the
history shows it; only an accepted file blocks its name (F02). A dry run does every check
and stores nothing.
"""
from __future__ import annotations

import asyncio
import copy
import fcntl
import hashlib
import io
import logging
import os
import pickle
import queue
import re
import subprocess
import sys
import threading
import time
import zlib
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import IO, Any

from lxml import etree
from tortoise import connections
from tortoise.functions import Count, Sum
from tortoise.transactions import in_transaction

from ppas.domain.anomalies import format_message, heading
from ppas.domain.billing_lines import (
    BilledBefore,
    LineFacts,
    PlanFacts,
    billed_key,
    check_line,
    line_message,
    month_index,
)
from ppas.domain.file_names import (
    FileNameError,
    ParsedFileName,
    check_name_matches_uploader,
    parse_file_name,
)
from ppas.domain.periods import Period, paris_date
from ppas.domain.plural import count_of
from ppas.domain.xml_messages import known_syntax_message, schema_message
from ppas.domain.xml_safety import (
    _VALIDATION_LOCK,
    SCHEMA_NAMESPACE,
    load_schema,
    reject_doctype,
    safe_iterparse,
)
from ppas.models import (
    Anomaly,
    BillingFile,
    BillingLine,
    Convention,
    ConventionStatus,
    FormStatus,
    Partner,
    User,
)
from ppas.models.billing_file import AnomalyPhase, FileStatus, LineStatus
from ppas.models.prepared import placeholders
from ppas.services import audit, billing_file_stream
from ppas.services.access import partner_id_of

__all__ = [
    "AnomalyItem",
    "IngestReport",
    "BATCH_SIZE",
    "MAX_REPORTED_ANOMALIES",
    "stored_report",
    "submit_file",
]

NS = "{" + SCHEMA_NAMESPACE + "}"
BATCH_SIZE = 2500
# From this size on, the file is parsed in a process of its own (about 3,000 lines; starting
# it costs some 40 ms, the parsing of a 100,000-line file then stops sharing the GIL).
PROCESS_FROM_BYTES = 1024 * 1024
# No item from the parse worker for this long: it is stuck (a stopped process), not slow: a
# batch of lines takes milliseconds, and a full queue makes the worker wait, not the ingest.
STALL_SECONDS = 120
MAX_REPORTED_ANOMALIES = 1000  # a report lists this many; counts cover them all
_READ_CHUNK = billing_file_stream.READ_CHUNK
_PIPE_BYTES = 1024 * 1024
_log = logging.getLogger(__name__)
_PROLOG_BYTES = 4096
_LOCATE_WINDOW = 1000  # lines validated at a time when looking for where a violation is
GZIP_MAGIC = b"\x1f\x8b"
NOT_YOURS = "Ce fichier n'existe pas ou n'appartient pas à votre structure."
_ENCODING_RE = re.compile(rb"""^\s*<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._-]+)["']""")
_UTF16_32_BOMS = (b"\xff\xfe", b"\xfe\xff", b"\x00\x00\xfe\xff")
_BILLED_FORM_STATUSES = (FormStatus.VALIDATED, FormStatus.PAID)


# --------------------------------------------------------------------------- report


@dataclass
class AnomalyItem:
    """One anomaly of the report."""

    code: str
    phase: str
    record_number: int | None
    message: str
    line_id: int | None = None

    @property
    def title(self) -> str:
        """The kind's heading (no placeholders: the message holds the filled values)."""
        return heading(self.code)


@dataclass
class IngestReport:
    """What an upload gave: the file (None for a dry run), its status, counts and anomalies."""

    name: str
    status: str  # "accepted" | "refused"
    dry_run: bool = False
    file_id: int | None = None
    period: str | None = None
    sha256: str = ""
    size: int = 0
    line_count: int = 0
    accepted_count: int = 0
    total_amount: Decimal = Decimal("0.00")
    accepted_amount: Decimal = Decimal("0.00")
    anomalies: list[AnomalyItem] = field(default_factory=list)  # at most MAX_REPORTED_ANOMALIES
    anomaly_count: int = 0
    counts_by_code: dict[str, int] = field(default_factory=dict)
    uploaded_at: datetime | None = None
    replayed: bool = False  # returned for a repeated Idempotency-Key

    @property
    def refused(self) -> bool:
        return self.status == FileStatus.REFUSED

    @property
    def anomaly_line_count(self) -> int:
        return self.line_count - self.accepted_count


class _Refused(Exception):
    """A file-level anomaly: the whole file is refused."""

    def __init__(self, code: str, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def _refusal(code: str, detail: str, **params: object) -> _Refused:
    return _Refused(code, line_message(code, detail, **params))


# --------------------------------------------------------------------------- context


@dataclass
class _Uploader:
    """Who uploads, and the conventions the header may name."""

    partner: Partner
    caisse_code: str
    conventions: list[Convention]


@dataclass
class _Header:
    convention_id: int
    convention: Convention
    period: str | None
    declared_lines: int
    declared_total: Decimal


async def _uploader(user: User | None) -> _Uploader:
    partner_id = partner_id_of(user)
    partner = await Partner.get(id=partner_id).prefetch_related("caisse")
    conventions = await Convention.filter(partner_id=partner_id).all()
    return _Uploader(partner, partner.caisse.code, conventions)


def _active_on(convention: Convention, today: date) -> bool:
    return (convention.status == ConventionStatus.ACTIVE and convention.valid_from <= today
            and (convention.valid_to is None or convention.valid_to >= today))


# --------------------------------------------------------------------------- reading


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


# --------------------------------------------------------------------------- parse workers


def _line_facts(texts: tuple[str, ...], decimals: dict[str, Decimal],
                days: dict[str, date]) -> LineFacts:
    """The typed values of one line; `decimals` and `days` convert each distinct text once."""
    # 10 children, or 11 with nb-heures-dimanche (the XSD fixed order and count).
    if len(texts) == 11:
        rec, dos, nom, pre, deb, fin, heures, sunday_text, taux, part, montant = texts
        sunday = decimals[sunday_text]
    else:
        rec, dos, nom, pre, deb, fin, heures, taux, part, montant = texts
        sunday_text, sunday = "0.00", None
    return LineFacts(
        int(rec), dos, " ".join(nom.split()), " ".join(pre.split()), days[deb], days[fin],
        decimals[heures], sunday, decimals[taux], decimals[part], Decimal(montant),
        (deb, fin, heures, sunday_text, taux, part, montant))


class _Converted(dict):
    """text → value, converting a text the first time it is asked for."""

    def __init__(self, convert) -> None:
        super().__init__()
        self.convert = convert

    def __missing__(self, text: str):
        value = self[text] = self.convert(text)
        return value


_TERMINAL_ITEMS = frozenset({"end", "refused", "invalid", "truncated", "crash"})
_ITEM_KINDS = _TERMINAL_ITEMS | {"header", "lines"}


class _Stopped(Exception):
    """The event loop gave up on this upload: the worker stops."""


class _Worker:
    """Streams the file (billing_file_stream) off the event loop and queues its items."""

    def __init__(self, source: IO[bytes], keep_content: bool) -> None:
        self.source = source
        self.reader = _CountingReader(source, keep_content)
        self.out: queue.Queue = queue.Queue(maxsize=2)
        self.stop = threading.Event()
        self.threads: list[threading.Thread] = []

    def _put(self, item: tuple) -> None:
        while not self.stop.is_set():
            try:
                self.out.put(item, timeout=0.2)
                return
            except queue.Full:
                continue
        raise _Stopped

    def _thread(self, target, name: str) -> None:
        thread = threading.Thread(target=target, name=name, daemon=True)
        self.threads.append(thread)
        thread.start()

    def alive(self) -> bool:
        return any(thread.is_alive() for thread in self.threads)

    def read_to_the_end(self) -> None:
        """Wait until the reader has hashed (and compressed) the whole source."""

    def stop_now(self) -> None:
        """Tell the parsing to stop, without waiting: safe on the event loop, never blocks."""
        self.stop.set()

    def close(self) -> None:
        """Stop and wait (in a thread: joins block). The source is free again afterwards."""
        self.stop_now()
        for thread in self.threads:
            thread.join(30)


class _ParseThread(_Worker):
    """Parses in a thread of this process: small files, for which starting a process costs more."""

    def start(self) -> None:
        self._thread(self._run, "ingest parse")

    def _put_drained(self, item: tuple) -> None:
        if item[0] == "end":
            self.reader.drain()  # what follows the root counts in the hash and size too
        self._put(item)

    def _run(self) -> None:
        try:
            billing_file_stream.run(self.reader, BATCH_SIZE, self._put_drained)
        except _Stopped:
            pass
        except BaseException as error:  # noqa: BLE001 - handed over to the event loop
            try:
                self._put(("crash", error))
            except _Stopped:
                pass


# What the interpreter may need from the environment; nothing else (PPAS_SECRET_KEY,
# DATABASE_URL, mail passwords…) reaches the process that parses what partners upload.
_CHILD_ENVIRONMENT = ("PATH", "LANG", "LC_ALL", "LC_CTYPE", "LD_LIBRARY_PATH", "TMPDIR")


def _child_environment() -> dict[str, str]:
    env = {name: os.environ[name] for name in _CHILD_ENVIRONMENT if name in os.environ}
    # The child finds the packages where this process found them.
    env["PYTHONPATH"] = os.pathsep.join(os.path.abspath(p) for p in sys.path if p)
    return env


class _ItemUnpickler(pickle.Unpickler):
    """Reads the parse process's items: tuples, lists, str, int, float, nothing that is looked up.

    The items are made of those only (see billing_file_stream). Refusing every global means that
    bytes which are not the child's own pickles (a stream cut short, anything that reached its
    stdout) cannot build or call an object here.
    """

    def find_class(self, module: str, name: str):
        raise pickle.UnpicklingError(f"{module}.{name} is not allowed in a parse item")


def _is_item(item: object) -> bool:
    if type(item) is not tuple or not item or type(item[0]) is not str:
        return False
    # The child reports its crashes as text (billing_file_stream._main).
    return item[0] in _ITEM_KINDS and (item[0] != "crash" or type(item[-1]) is str)


class _ParseProcess(_Worker):
    """Parses in a process of its own (large files): the file goes to its stdin from a thread
    that also hashes and compresses it; another thread queues the items it sends back.
    """

    process: subprocess.Popen | None = None  # until start() has spawned it

    def start(self) -> None:
        # -P: the working directory does not go first on the child's path (a module there
        # would shadow lxml or ppas); -s: no user site beyond what this process uses.
        self.process = subprocess.Popen(
            [sys.executable, "-P", "-s", "-m", billing_file_stream.__name__, str(BATCH_SIZE)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=_child_environment())
        # Pipes of 1 MiB (Linux; 64 KiB otherwise) and writes of 1 MiB: the threads here
        # get the GIL every few milliseconds only, the child must not wait on them.
        for pipe in (self.process.stdin, self.process.stdout):
            try:
                fcntl.fcntl(pipe.fileno(), fcntl.F_SETPIPE_SZ, _PIPE_BYTES)
            except (AttributeError, OSError):
                pass
        self._thread(self._feed, "ingest feed")
        self._thread(self._relay, "ingest relay")

    def read_to_the_end(self) -> None:
        self.threads[0].join()  # the feeder: the child reads its stdin to the end

    def _feed(self) -> None:
        writing = True
        try:
            while not self.stop.is_set() and (data := self.reader.read(_PIPE_BYTES)):
                if writing:
                    try:
                        self.process.stdin.write(data)
                    except (BrokenPipeError, ValueError):
                        writing = False  # the child stopped early (refusal): hash on anyway
        finally:
            try:
                self.process.stdin.close()
            except BrokenPipeError:
                pass

    def _relay(self) -> None:
        try:
            while True:
                try:
                    # One unpickler an item: each was pickled on its own (memo from 0).
                    item = _ItemUnpickler(self.process.stdout).load()
                except EOFError:
                    item = ("crash", RuntimeError(
                        f"the parse process stopped (exit status {self.process.wait()})"))
                except Exception as error:  # noqa: BLE001 - cut short or not our items
                    self.process.kill()
                    item = ("crash", RuntimeError(
                        f"the parse process sent an unreadable item ({error}; exit status "
                        f"{self.process.wait()})"))
                if not _is_item(item):
                    self.process.kill()
                    item = ("crash", RuntimeError("the parse process sent an unexpected item "
                                                  f"(exit status {self.process.wait()})"))
                if item[0] == "crash" and isinstance(item[1], str):
                    item = ("crash", RuntimeError(f"the parse process failed: {item[1]}"))
                self._put(item)
                if item[0] in _TERMINAL_ITEMS:
                    return
        except _Stopped:
            pass

    def stop_now(self) -> None:
        super().stop_now()
        if self.process is not None and self.process.poll() is None:
            self.process.kill()

    def close(self) -> None:
        super().close()
        if self.process is not None:
            self.process.wait()
            self.process.stdin.close()
            self.process.stdout.close()


def _worker_for(source: IO[bytes], size: int, keep_content: bool) -> _Worker:
    if size >= PROCESS_FROM_BYTES:
        return _ParseProcess(source, keep_content)
    return _ParseThread(source, keep_content)


def _check_header(values: dict[str, str], name: str, parsed: ParsedFileName,
                  uploader: _Uploader, today: date) -> _Header:
    """F03, F06 and F07 from the header's texts (already valid against the XSD)."""
    if values["rf-borfact"] != name:
        raise _refusal("F03", f"rf-borfact contient « {values['rf-borfact']} », "
                              f"le fichier s'appelle « {name} »")
    problems = []
    for tag, expected, label in (("code-caisse", parsed.caisse_code, "le code caisse"),
                                 ("id-structure", parsed.structure_id, "l'identifiant de structure"),
                                 ("code-prestation", parsed.prestation_code, "le code prestation")):
        if values[tag] != expected:
            problems.append(f"{label} de l'en-tête ({values[tag]}) diffère de celui du nom "
                            f"du fichier ({expected})")
    if parsed.kind == "amd":
        if "echeance" not in values:
            problems.append("un fichier d'aide ménagère à domicile doit indiquer l'échéance "
                            "(balise echeance), pas une date d'envoi")
        elif values["echeance"] != parsed.period:
            problems.append(f"l'échéance de l'en-tête ({values['echeance']}) diffère de celle "
                            f"du nom du fichier ({parsed.period})")
    else:
        if "date-envoi" not in values:
            problems.append("un fichier d'une autre prestation doit indiquer la date d'envoi "
                            "(balise date-envoi), pas une échéance")
        elif values["date-envoi"] != parsed.send_date.isoformat():
            problems.append(f"la date d'envoi de l'en-tête ({values['date-envoi']}) diffère de "
                            f"celle du nom du fichier ({parsed.send_date:%d/%m/%Y})")
    if problems:
        raise _refusal("F06", " ; ".join(problems))
    number = values["n-convention"]
    convention = next((c for c in uploader.conventions if c.number == number), None)
    if convention is None or convention.prestation_code != values["code-prestation"]:
        raise _refusal("F07", f"la convention {number} n'est pas une convention de votre "
                              f"structure pour la prestation {values['code-prestation']}")
    if not _active_on(convention, today):
        raise _refusal("F07", f"la convention {number} n'est pas en cours "
                              f"(état : {convention.status.value})")
    return _Header(convention.id, convention, values.get("echeance"),
                   int(values["nb-lignes"]), Decimal(values["montant-total"]))


def _where_invalid(source: IO[bytes], message: str) -> _Refused:
    """The refusal of a file the streaming found invalid: F04 when not well-formed, else F05."""
    # With the schema plugged in, libxml2 reports syntax errors poorly: look again.
    return _syntax_error(source) or _locate_schema_error(source, message)


def _where_truncated(source: IO[bytes]) -> _Refused:
    return _syntax_error(source) or _refusal(
        "F04", "le fichier est tronqué (il s'arrête avant la fin du document)")


# --------------------------------------------------------------------------- database facts


@dataclass
class _BatchFacts:
    plans: dict[str, list[PlanFacts]]
    billed: dict[int, BilledBefore]
    crossed: set[int]
    seen: set[str] = field(default_factory=set)  # file numbers already queried


async def batch_facts(partner_id: int, convention_id: int,
                       file_numbers: Iterable[str], *, file_id: int | None = None,
                       known: _BatchFacts | None = None) -> _BatchFacts:
    """What the checks of one batch need: at most 3 queries whatever the batch size.

    Only this partner's care plans are read: a file number without one gets L01 whether
    or not the caisse knows it.

    With `known` (the facts of the previous batches of the same file), only file numbers not
    seen yet are queried, and the result is merged into `known`.
    """
    numbers = list(set(file_numbers))
    if known is not None:
        numbers = [n for n in numbers if n not in known.plans and n not in known.seen]
        if not numbers:
            return known
        fresh = await batch_facts(partner_id, convention_id, numbers,
                                   file_id=file_id)
        known.plans.update(fresh.plans)
        known.billed.update(fresh.billed)
        known.crossed |= fresh.crossed
        known.seen.update(numbers)
        return known
    # Plain SQL: the ORM's per-value conversions (datetimes above all) and its building of
    # 5,000-value IN lists cost more than the queries, on the event loop.
    conn = connections.get("default")
    postgres = conn.capabilities.dialect == "postgres"
    numbers_sql = _in_sql(postgres, 3, numbers)
    marks = placeholders(conn.capabilities.dialect, 2)
    _, rows = await conn.execute_query(
        "SELECT cp.id, b.file_number, cp.start_date, cp.end_date, cp.notified_at IS NOT NULL, "
        "cp.closed_at, cp.hours_per_month, cp.hourly_rate, cp.participation, "
        'c.sunday_hourly_rate FROM "care_plan" cp '
        'JOIN "beneficiary" b ON b.id = cp.beneficiary_id '
        'JOIN "convention" c ON c.id = cp.convention_id '
        f"WHERE cp.partner_id = {marks[0]} AND cp.convention_id = {marks[1]} "
        f"AND b.file_number {numbers_sql}",
        [partner_id, convention_id, numbers] if postgres else [partner_id, convention_id, *numbers])
    plans: dict[str, list[PlanFacts]] = {}
    for pid, number, start, end, notified, closed, hours, rate, part, sunday in rows:
        if closed is not None and not isinstance(closed, datetime):
            closed = datetime.fromisoformat(closed)
        plans.setdefault(number, []).append(PlanFacts(
            pid, _day(start), _day(end), bool(notified), paris_date(closed) if closed else None,
            _dec(hours), _dec(rate), _dec(part), _dec(sunday)))
    plan_ids = [p.id for group in plans.values() for p in group]
    billed: dict[int, BilledBefore] = {}
    crossed: set[int] = set()
    if plan_ids:
        ids_sql = _in_sql(postgres, 1, plan_ids)
        ids_args = [plan_ids] if postgres else list(plan_ids)
        # The file being written is left out: its own lines are checked in memory.
        own_file = f"AND l.file_id <> {'$2' if postgres else '?'} " if file_id is not None else ""
        _, rows = await conn.execute_query(
            'SELECT l.care_plan_id, l.period_start, l.record_number, f.name FROM "billing_line" l '
            'JOIN "billing_file" f ON f.id = l.file_id '
            f"WHERE l.care_plan_id {ids_sql} {own_file}"
            f"AND l.status = '{LineStatus.ACCEPTED.value}' "
            f"AND f.status = '{FileStatus.ACCEPTED.value}'",
            ids_args + ([file_id] if file_id is not None else []))
        for pid, start, record, file_name in rows:
            billed.setdefault(billed_key(pid, month_index(_day(start))),
                              BilledBefore(str(record), f"fichier {file_name}"))
        _, rows = await conn.execute_query(
            "SELECT fl.care_plan_id, f.period, fl.position, fl.crossed_out, f.status, fl.hours "
            'FROM "form_line" fl JOIN "billing_form" f ON f.id = fl.form_id '
            f"WHERE fl.care_plan_id {ids_sql}", ids_args)
        for pid, period, position, crossed_out, status, hours in rows:
            month = Period.parse(period)
            if crossed_out:
                crossed.add(billed_key(pid, month_index(month)))
            elif hours is not None and status in _BILLED_FORM_STATUSES:
                billed.setdefault(billed_key(pid, month_index(month)), BilledBefore(
                    f"{position} du formulaire en ligne de {month.label_fr}",
                    f"le formulaire en ligne de {month.label_fr}"))
    return _BatchFacts(plans, billed, crossed, set(numbers))


def _in_sql(postgres: bool, index: int, values: Sequence) -> str:
    """`IN (?, …)` on SQLite, `= ANY($index)` (one array parameter) on PostgreSQL."""
    return f"= ANY(${index})" if postgres else f"IN ({', '.join('?' for _ in values)})"


def _day(value: Any) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def _dec(value: Any) -> Decimal | None:
    if value is None or isinstance(value, Decimal):
        return value
    return Decimal(str(value))


@dataclass
class _Checked:
    line_rows: list[tuple]
    anomaly_rows: list[tuple]  # (code, record, message)
    accepted: int
    accepted_amount: Decimal
    total: Decimal  # of every line, for the header's montant-total (F08)


def _typed_lines(texts: Iterable[tuple[str, ...]]) -> Iterable[LineFacts]:
    """The LineFacts of a batch of `<ligne>` texts, one at a time (they die once checked)."""
    # Rates, participations, hours and dates repeat from line to line: each distinct
    # text of the batch is converted once.
    decimals, days = _Converted(Decimal), _Converted(date.fromisoformat)
    for line in texts:
        yield _line_facts(line, decimals, days)


def check_batch(lines: Iterable[LineFacts], facts: _BatchFacts, *, file_id: int | None,
                 today: date, last_month: Period | None, in_file: dict[int, int],
                 as_text: bool = False) -> _Checked:
    """Check a batch (in a worker thread) and build its rows."""
    line_rows: list[tuple] = []
    anomaly_rows: list[tuple] = []
    accepted, accepted_amount, total = 0, Decimal(0), Decimal(0)
    crossed = facts.crossed
    crossed_months: dict[int, int] = {}
    for key in crossed:  # plan → first crossed month index; later months count as crossed
        pid, index = divmod(key, 120_000)
        crossed_months[pid] = min(index, crossed_months.get(pid, index))
    crossed_view = _CrossedView(crossed_months)
    plans, billed = facts.plans, facts.billed
    accepted_status, anomaly_status = LineStatus.ACCEPTED.value, LineStatus.ANOMALY.value
    for line in lines:
        total += line.amount
        group = plans.get(line.file_number)
        plan, found = check_line(
            line, group, today=today, last_month=last_month, billed=billed,
            crossed_out=crossed_view)
        if plan is not None:
            key = billed_key(plan.id, month_index(line.start))
            earlier = in_file.get(key)
            if earlier is not None and not any(code == "L05" for code, _ in found):
                found.append(("L05", line_message(
                    "L05", f"{Period.of(line.start).label_fr} de ce bénéficiaire est déjà facturé "
                           "plus haut dans ce même fichier", record=earlier)))
        status = anomaly_status if found else accepted_status
        if not found:
            accepted += 1
            accepted_amount += line.amount
            in_file[key] = line.record
        if as_text and line.texts is not None:  # SQLite stores these as text anyway
            line_rows.append((file_id, line.record, plan.id if plan else None, line.file_number,
                              line.last_name, line.first_name, *line.texts, status))
        else:
            line_rows.append((
                file_id, line.record, plan.id if plan else None, line.file_number,
                line.last_name, line.first_name, line.start, line.end, line.hours,
                line.sunday_hours if line.sunday_hours is not None else Decimal("0.00"),
                line.rate, line.participation, line.amount, status))
        for code, message in found:
            anomaly_rows.append((code, line.record, message))
    return _Checked(line_rows, anomaly_rows, accepted, accepted_amount, total)


class _CrossedView:
    """`key in view` tells whether the plan was crossed out that month or before."""

    def __init__(self, first_crossed: dict[int, int]) -> None:
        self.first = first_crossed

    def __contains__(self, key: int) -> bool:
        pid, index = divmod(key, 120_000)
        first = self.first.get(pid)
        return first is not None and index >= first


# --------------------------------------------------------------------------- SQL


LINE_COLUMNS = ("file_id", "record_number", "care_plan_id", "file_number", "last_name",
                 "first_name", "period_start", "period_end", "hours", "sunday_hours",
                 "hourly_rate", "participation", "amount", "status")
_ANOMALY_COLUMNS = ("code", "phase", "file_id", "record_number", "message", "created_at")


def _insert_sql(conn, table: str, columns: Sequence[str]) -> str:
    marks = ", ".join(placeholders(conn.capabilities.dialect, len(columns)))
    return f'INSERT INTO "{table}" ({", ".join(columns)}) VALUES ({marks})'


# --------------------------------------------------------------------------- submit


async def submit_file(user: User | None, source: IO[bytes], name: str, *, now: datetime,
                      max_bytes: int, dry_run: bool = False, idempotency_key: str | None = None,
                      ip: str = "") -> IngestReport:
    """Check an uploaded billing file and, unless `dry_run`, store it with its lines.

    `source` is a seekable binary file (e.g. Starlette's spooled upload); it is read in a
    worker thread, in chunks. Authorisation: a partner account; the file goes to its partner.
    """
    uploader = await _uploader(user)
    partner_id = uploader.partner.id
    key = (idempotency_key or "").strip()[:100] or None
    if key and not dry_run:
        earlier = await BillingFile.filter(partner_id=partner_id, idempotency_key=key).first()
        if earlier is not None:
            report = await stored_report(earlier)
            report.replayed = True
            return report
    name = name.rsplit("/", 1)[-1].rsplit("\\", 1)[-1]
    today = paris_date(now)
    report = IngestReport(name=name, status=FileStatus.ACCEPTED.value, dry_run=dry_run)
    try:
        parsed = await _check_before_parse(uploader, source, name, today, max_bytes)
        await _ingest(report, uploader, source, parsed, today, now, dry_run=dry_run, key=key,
                      user=user, ip=ip)
    except _Refused as refused:
        await _refuse(report, refused, uploader, source, now, dry_run=dry_run, key=key,
                      user=user, ip=ip)
    return report


async def _check_before_parse(uploader: _Uploader, source: IO[bytes], name: str, today: date,
                              max_bytes: int) -> ParsedFileName:
    if not name or len(name) > 64:
        raise _Refused("F01", line_message("F01", "le nom du fichier doit compter de 1 à 64 "
                                                  "caractères"))
    try:
        parsed = parse_file_name(name, today=today)
    except FileNameError as error:
        raise _Refused(error.code, f"{format_message('F01')} : {error.message}") from None
    prestations = {c.prestation_code for c in uploader.conventions}
    problems = check_name_matches_uploader(
        parsed, caisse_code=uploader.caisse_code, structure_id=uploader.partner.structure_id,
        prestation_codes=prestations)
    if problems:
        raise _Refused("F06", f"{format_message('F06')} : {' '.join(problems)}")
    if await BillingFile.filter(partner_id=uploader.partner.id, name=name,
                                status=FileStatus.ACCEPTED).exists():
        raise _refusal("F02", f"le fichier « {name} » a déjà été accepté ; un fichier refusé, "
                              "lui, ne bloque pas son nom")
    size = _upload_size(source)
    if size == 0:
        raise _refusal("F08", "le fichier est vide")
    if size > max_bytes:
        raise _refusal("F08", f"le fichier pèse {_megabytes(size)}, au-delà des "
                              f"{_megabytes(max_bytes)} acceptés : découpez l'envoi en "
                              "plusieurs fichiers")
    first = await asyncio.to_thread(_read_prolog, source)
    problem = _prolog_problem(first)
    if problem:
        raise _refusal("F04", problem)
    return parsed


def _read_prolog(source: IO[bytes]) -> bytes:
    source.seek(0)
    first = source.read(_PROLOG_BYTES)
    source.seek(0)
    return first


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} Mo".replace(".", ",")


async def _ingest(report: IngestReport, uploader: _Uploader, source: IO[bytes],
                  parsed: ParsedFileName, today: date, now: datetime, *, dry_run: bool,
                  key: str | None, user: User | None, ip: str) -> None:
    worker = _worker_for(source, _upload_size(source), keep_content=not dry_run)
    try:
        worker.start()  # inside: a thread that fails to start must not leave the child behind
        if dry_run:
            await _consume(worker, report, uploader, None, today, now, parsed)
        else:
            async with in_transaction() as conn:
                # Uploads of one partner take turns (PostgreSQL; SQLite has one writer anyway).
                # A model query: Tortoise drops FOR UPDATE from values_list() queries.
                await Partner.filter(id=uploader.partner.id).select_for_update().using_db(conn) \
                    .first()
                if await BillingFile.filter(partner_id=uploader.partner.id, name=report.name,
                                            status=FileStatus.ACCEPTED).using_db(conn).exists():
                    raise _refusal("F02", f"le fichier « {report.name} » vient d'être accepté")
                await _consume(worker, report, uploader, conn, today, now, parsed, key=key,
                               user=user)
                await audit.record("billing_file.accepted", actor=user, object_type="billing_file",
                                   object_id=report.file_id, ip=ip, name=report.name,
                                   lines=report.line_count, accepted=report.accepted_count)
    finally:
        # A cancelled request (client gone, server stopping) may be cancelled again at every
        # await here (anyio's cancel scopes do): the stop and the kill come first, without an
        # await, and the joins and the reaping of the child go on shielded.
        worker.stop_now()
        await asyncio.shield(asyncio.to_thread(worker.close))


async def _next_item(worker: _Worker) -> tuple:
    deadline = time.monotonic() + STALL_SECONDS
    while True:
        try:
            return worker.out.get_nowait()
        except queue.Empty:
            pass
        try:
            return await asyncio.to_thread(worker.out.get, True, 0.5)
        except queue.Empty:
            if not worker.alive() and worker.out.empty():
                raise RuntimeError("the parse worker stopped without a result") from None
            if time.monotonic() > deadline:  # _ingest's cleanup then kills and reaps it
                raise RuntimeError(f"the parse worker sent nothing for {STALL_SECONDS} s "
                                   "(stuck)") from None


async def _consume(worker: _Worker, report: IngestReport, uploader: _Uploader, conn,
                   today: date, now: datetime, parsed: ParsedFileName,
                   key: str | None = None, user: User | None = None) -> None:
    header: _Header | None = None
    file_id: int | None = None
    in_file: dict[int, int] = {}
    facts: _BatchFacts | None = None
    counts: Counter[str] = Counter()
    total = Decimal(0)
    last_month = Period.parse(parsed.period) if parsed.period else None
    line_sql = anomaly_sql = None
    while True:
        kind, *payload = await _next_item(worker)
        if kind == "refused":
            raise _Refused(*payload)
        if kind == "crash":
            raise payload[0]
        if kind in ("invalid", "truncated"):
            await asyncio.to_thread(worker.close)  # the source is read again from the start
            if kind == "invalid":
                raise await asyncio.to_thread(_where_invalid, worker.source, payload[0])
            raise await asyncio.to_thread(_where_truncated, worker.source)
        if kind == "header":
            header = _check_header(payload[0], report.name, parsed, uploader, today)
            report.period = header.period
            if conn is not None:
                row = await BillingFile.create(
                    partner_id=uploader.partner.id, convention_id=header.convention_id,
                    uploaded_by_id=getattr(user, "id", None), name=report.name,
                    sha256="", content=b"", status=FileStatus.ACCEPTED, period=header.period,
                    idempotency_key=key, uploaded_at=now, using_db=conn)
                file_id = report.file_id = row.id
                line_sql = _insert_sql(conn, "billing_line", LINE_COLUMNS)
                anomaly_sql = _insert_sql(conn, "anomaly", _ANOMALY_COLUMNS)
        elif kind == "lines":
            payload = payload[0]
            if facts is None:
                facts = _BatchFacts({}, {}, set())
            facts = await batch_facts(uploader.partner.id, header.convention_id,
                                      (texts[1] for texts in payload), file_id=file_id,
                                      known=facts)
            checked = await asyncio.to_thread(
                check_batch, _typed_lines(payload), facts, file_id=file_id, today=today,
                last_month=last_month, in_file=in_file,
                as_text=conn is not None and conn.capabilities.dialect == "sqlite")
            total += checked.total
            report.line_count += len(payload)
            report.accepted_count += checked.accepted
            report.accepted_amount += checked.accepted_amount
            for code, record, message in checked.anomaly_rows:
                counts[code] += 1
                if len(report.anomalies) < MAX_REPORTED_ANOMALIES:
                    report.anomalies.append(AnomalyItem(code, AnomalyPhase.BILLING.value, record,
                                                        message))
            if conn is not None:
                await conn.execute_many(line_sql, checked.line_rows)
                if checked.anomaly_rows:
                    await conn.execute_many(anomaly_sql, [
                        (code, AnomalyPhase.BILLING.value, file_id, record, message, now)
                        for code, record, message in checked.anomaly_rows])
        elif kind == "end":
            line_count, parse_peak_rss = payload
            if isinstance(worker, _ParseProcess):
                _log.debug("parse process: %d lines, peak RSS %.1f MB", line_count,
                           parse_peak_rss, extra={"parse_peak_rss_mb": parse_peak_rss})
            await asyncio.to_thread(worker.read_to_the_end)
            report.sha256, report.size = worker.reader.hash.hexdigest(), worker.reader.size
            report.total_amount = total
            if header.declared_lines != line_count:
                raise _refusal("F08", "l'en-tête annonce "
                                      f"{count_of(header.declared_lines, 'ligne', 'lignes')}, "
                                      f"le fichier en contient {line_count}")
            if header.declared_total != total:
                raise _refusal("F08", f"l'en-tête annonce un montant total de "
                                      f"{header.declared_total} €, la somme des lignes fait "
                                      f"{total} €")
            report.counts_by_code = dict(sorted(counts.items()))
            report.anomaly_count = sum(counts.values())
            report.uploaded_at = now
            if conn is not None:
                await BillingFile.filter(id=file_id).using_db(conn).update(
                    sha256=report.sha256, content=worker.reader.content(), line_count=line_count,
                    accepted_count=report.accepted_count, total_amount=total)
                if report.anomaly_count:
                    m1, m2 = placeholders(conn.capabilities.dialect, 2)
                    await conn.execute_query(
                        'UPDATE "anomaly" SET line_id = (SELECT l.id FROM "billing_line" l '
                        f'WHERE l.file_id = {m1} AND l.record_number = "anomaly".record_number) '
                        f'WHERE file_id = {m2} AND line_id IS NULL', [file_id, file_id])
                    # The report's anomalies carry their line ids (for re-billing links).
                    ids = dict(await BillingLine.filter(file_id=file_id, status=LineStatus.ANOMALY)
                               .using_db(conn).limit(MAX_REPORTED_ANOMALIES)
                               .values_list("record_number", "id"))
                    for item in report.anomalies:
                        item.line_id = ids.get(item.record_number)
            return


async def _refuse(report: IngestReport, refused: _Refused, uploader: _Uploader,
                  source: IO[bytes], now: datetime, *, dry_run: bool, key: str | None,
                  user: User | None, ip: str) -> None:
    """Report a refused file; unless a dry run, record the refusal (no content, no lines)."""
    digest, size = await asyncio.to_thread(sha256_of, source)
    report.status = FileStatus.REFUSED.value
    report.file_id = None
    report.sha256, report.size = digest, size
    report.line_count = report.accepted_count = 0
    report.accepted_amount = report.total_amount = Decimal("0.00")
    report.anomalies = [AnomalyItem(refused.code, AnomalyPhase.BILLING.value, None,
                                    refused.message)]
    report.anomaly_count = 1
    report.counts_by_code = {refused.code: 1}
    report.uploaded_at = now
    if dry_run:
        return
    async with in_transaction():
        row = await BillingFile.create(
            partner_id=uploader.partner.id, uploaded_by_id=getattr(user, "id", None),
            name=report.name[:64], sha256=digest, content=b"", status=FileStatus.REFUSED,
            period=None, idempotency_key=key, uploaded_at=now)
        await Anomaly.create(code=refused.code, phase=AnomalyPhase.BILLING, file=row,
                             message=refused.message)
        await audit.record("billing_file.refused", actor=user, object_type="billing_file",
                           object_id=row.id, ip=ip, name=report.name[:64], code=refused.code)
    report.file_id = row.id


async def stored_report(row: BillingFile) -> IngestReport:
    """The report of a stored file, as its upload gave it (anomalies up to the cap)."""
    counts = dict(await Anomaly.filter(file_id=row.id).annotate(n=Count("id"))
                  .group_by("code").values_list("code", "n"))
    items = await Anomaly.filter(file_id=row.id).order_by("record_number", "id") \
        .limit(MAX_REPORTED_ANOMALIES).values_list("code", "phase", "record_number", "message",
                                                   "line_id")
    accepted = await BillingLine.filter(file_id=row.id, status=LineStatus.ACCEPTED) \
        .annotate(total=Sum("amount")).values_list("total", flat=True)
    return IngestReport(
        name=row.name, status=row.status.value, file_id=row.id, period=row.period,
        sha256=row.sha256, line_count=row.line_count, accepted_count=row.accepted_count,
        total_amount=row.total_amount, accepted_amount=(accepted[0] if accepted else None)
        or Decimal("0.00"),
        anomalies=[AnomalyItem(code, str(getattr(phase, "value", phase)), record, message, line)
                   for code, phase, record, message, line in items],
        anomaly_count=sum(counts.values()), counts_by_code=dict(sorted(counts.items())),
        uploaded_at=row.uploaded_at)
