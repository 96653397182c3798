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

The stages live in their own modules: report (the report, a refusal), reading (bytes, prolog,
where a refusal is), parse_workers (the streaming parse off the event loop), file_checks (name,
size, header), batch_checks (database facts and line checks), storing (the upload from start
to end, in one transaction, and the report of a stored file).
"""
from __future__ import annotations

from ppas.services.billing_ingest.batch_checks import batch_facts, check_batch
from ppas.services.billing_ingest.parse_workers import BATCH_SIZE, PROCESS_FROM_BYTES
from ppas.services.billing_ingest.reading import sha256_of
from ppas.services.billing_ingest.report import (
    GZIP_MAGIC,
    MAX_REPORTED_ANOMALIES,
    NOT_YOURS,
    AnomalyItem,
    IngestReport,
)
from ppas.services.billing_ingest.storing import (
    LINE_COLUMNS,
    stored_report,
    submit_file,
)

__all__ = [
    "BATCH_SIZE",
    "GZIP_MAGIC",
    "LINE_COLUMNS",
    "MAX_REPORTED_ANOMALIES",
    "NOT_YOURS",
    "PROCESS_FROM_BYTES",
    "AnomalyItem",
    "IngestReport",
    "batch_facts",
    "check_batch",
    "sha256_of",
    "stored_report",
    "submit_file",
]
