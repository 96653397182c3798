"""Streaming read of a billing file: its header and the texts of its lines, checked against the XSD.

`stream_file` runs in a thread of the web process for small files. For large ones it runs in a
process of its own (`python -m ppas.services.billing_file_stream BATCH_SIZE`: the file on stdin,
pickled items on stdout), so that parsing does not share the GIL with the event loop and the
database thread. It keeps nothing but the current element: the lines leave in batches.

Items, in order: ("header", {tag: text}), ("lines", [texts of a <ligne>, …]) any number of
times, then ("end", line count, peak RSS in MB of the parsing process). Instead of the end:
("refused", code, message), ("invalid", libxml2 message): the XSD is not respected or the XML
is not well-formed, the caller reads the file again to say where —, ("truncated",) or
("crash", description).
"""
from __future__ import annotations

import pickle
import resource
import sys
from collections.abc import Callable
from typing import IO

from lxml import etree

from ppas.domain.xml_safety import SCHEMA_NAMESPACE, load_streaming_schema, safe_iterparse

__all__ = ["NS", "READ_CHUNK", "StreamRefused", "line_texts", "stream_file"]

NS = "{" + SCHEMA_NAMESPACE + "}"
READ_CHUNK = 64 * 1024


class StreamRefused(Exception):
    """A file-level anomaly found while streaming (code and French message)."""

    def __init__(self, code: str, detail: str, **params: object) -> None:
        # Imported here: the catalog and the periods it pulls in would add a sixth to the
        # start of every parse process, for two rare refusals.
        from ppas.domain.billing_lines import line_message

        self.code = code
        self.message = line_message(code, detail, **params)
        super().__init__(self.message)


class _Invalid(Exception):
    """The streaming validation found a violation; where it is, a second reading tells."""


class _Truncated(Exception):
    """The document ended before its root element was closed."""


def line_texts(element) -> tuple[str, ...]:
    """The stripped texts of a `<ligne>`'s children, in the order the XSD fixed."""
    # One pass over the children (each lxml child proxy and .text costs). A tuple of str
    # leaves the cyclic GC alone once the batch waits in a queue (a list or a dataclass
    # would be scanned at every collection while it lives).
    return tuple([(child.text or "").strip() for child in element])


def _raise_if_invalid(context: etree.iterparse) -> None:
    """Stop at the first XSD violation: nothing unchecked leaves the parser."""
    # libxml2 goes on parsing after a validity error and lxml raises it only at the end
    # of the document: its lines would be converted (int(), Decimal(), dates) unchecked.
    errors = context.error_log.filter_from_errors()
    if errors:
        raise _Invalid(errors[0].message)


def stream_file(reader: IO[bytes], batch_size: int, put: Callable[[tuple], None]) -> int:
    """Parse `reader`, handing the header and the batches of lines to `put`; return the line count.

    Raises StreamRefused, _Invalid or _Truncated; `run` turns them into items.
    """
    # Without the uniqueness of n-enregistrement (see load_streaming_schema): `records`
    # checks it.
    context = safe_iterparse(
        reader, events=("end",), tag=(NS + "en-tete", NS + "ligne", NS + "facturation"),
        schema=load_streaming_schema(),
        # Comments and processing instructions are valid anywhere but carry nothing:
        # dropped here, they cannot shift the fixed child positions the caller reads.
        remove_comments=True, remove_pis=True,
        encoding="utf-8")
    batch: list[tuple[str, ...]] = []
    records: set[str] = set()  # valid record numbers are canonical: equal texts, equal values
    count = 0
    header_seen = root_closed = False
    try:
        for _, element in context:
            if element.tag == NS + "facturation":
                root_closed = True
                continue
            if element.tag == NS + "ligne":
                if not header_seen:  # the schema puts the header first; be safe anyway
                    # Located by the caller's second reading, like any XSD violation.
                    raise _Invalid("l'en-tête doit précéder les lignes")
                texts = line_texts(element)
                if texts[0] in records:
                    raise _Invalid(f"le numéro d'enregistrement {texts[0]} figure deux fois")
                records.add(texts[0])
                batch.append(texts)
                count += 1
                if len(batch) >= batch_size:
                    _raise_if_invalid(context)
                    put(("lines", batch))
                    batch = []
            else:
                if element.getroottree().docinfo.doctype:
                    raise StreamRefused("F04", "une déclaration DOCTYPE est présente")
                _raise_if_invalid(context)
                put(("header", {child.tag.removeprefix(NS): (child.text or "").strip()
                                for child in element}))
                header_seen = True
            element.clear()
            while element.getprevious() is not None:
                del element.getparent()[0]
    except etree.XMLSyntaxError as error:
        raise _Invalid(str(error.msg)) from None
    if not root_closed:
        raise _Truncated
    if batch:
        put(("lines", batch))
    return count


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far."""
    # Linux's ru_maxrss keeps, after exec, the peak of the web process this one was forked
    # from; VmHWM is this program's own.
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run(reader: IO[bytes], batch_size: int, put: Callable[[tuple], None]) -> None:
    """Stream `reader` and end with exactly one terminal item (end, refused, invalid, …)."""
    try:
        count = stream_file(reader, batch_size, put)
    except StreamRefused as refused:
        put(("refused", refused.code, refused.message))
    except _Invalid as invalid:
        put(("invalid", str(invalid)))
    except _Truncated:
        put(("truncated",))
    else:
        put(("end", count, peak_rss_mb()))


def _main() -> None:
    batch_size = int(sys.argv[1])
    source, out = sys.stdin.buffer, sys.stdout.buffer
    sys.stdout = sys.stderr  # a stray print must not corrupt the item stream

    def put(item: tuple) -> None:
        pickle.dump(item, out, protocol=pickle.HIGHEST_PROTOCOL)
        out.flush()

    try:
        run(source, batch_size, put)
    except BaseException as error:  # noqa: BLE001 - reported to the web process
        put(("crash", f"{type(error).__name__}: {error}"))
        raise
    finally:
        # Read to the end, so that the web process can write the whole file (and hash it).
        while source.read(READ_CHUNK):
            pass


if __name__ == "__main__":
    _main()
