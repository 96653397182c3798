"""Billing file ingest, storing: one upload from start to end (`submit_file`) — the file row,
its lines and anomalies written batch by batch in ONE transaction, the refusal record, and the
report of a stored file.
"""
from __future__ import annotations

import asyncio
import logging
import queue
import time
from collections import Counter
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import IO

from tortoise.functions import Count, Sum
from tortoise.transactions import in_transaction

from ppas.domain.file_names import ParsedFileName
from ppas.domain.periods import Period, paris_date
from ppas.domain.plural import count_of
from ppas.models import Anomaly, BillingFile, BillingLine, Partner, User
from ppas.models.billing_file import AnomalyPhase, FileStatus, LineStatus
from ppas.models.prepared import placeholders
from ppas.services import audit, webhooks
from ppas.services.billing_ingest.batch_checks import (
    _BatchFacts,
    _typed_lines,
    batch_facts,
    check_batch,
)
from ppas.services.billing_ingest.file_checks import (
    _check_before_parse,
    _check_header,
    _Header,
    _Uploader,
    _uploader,
)
from ppas.services.billing_ingest.parse_workers import (
    _ParseProcess,
    _Worker,
    _worker_for,
)
from ppas.services.billing_ingest.reading import (
    _upload_size,
    _where_invalid,
    _where_truncated,
    sha256_of,
)
from ppas.services.billing_ingest.report import (
    MAX_REPORTED_ANOMALIES,
    AnomalyItem,
    IngestReport,
    _refusal,
    _Refused,
)

# No item from the parse worker for this long: it is stuck (a stopped process), not slow: a
# batch of lines takes milliseconds, and a full queue makes the worker wait, not the ingest.
STALL_SECONDS = 120
_log = logging.getLogger(__name__.rpartition(".")[0])  # the package's logger (bench/ingest.py)
CHECKED_EVENT = "billing_file.checked"


def checked_event_data(report: IngestReport) -> dict:
    """The `data` of a billing_file.checked webhook: what billingFile(id) tells, in short."""
    return {"id": str(report.file_id), "name": report.name, "status": report.status.upper(),
            "period": report.period, "lineCount": report.line_count,
            "acceptedCount": report.accepted_count, "anomalyCount": report.anomaly_count,
            "totalAmount": f"{report.total_amount:.2f}",
            "uploadedAt": report.uploaded_at.isoformat() if report.uploaded_at else None}


LINE_COLUMNS = ("file_id", "record_number", "care_plan_id", "file_number", "last_name",
                 "first_name", "period_start", "period_end", "hours", "sunday_hours",
                 "hourly_rate", "participation", "amount", "status")
_ANOMALY_COLUMNS = ("code", "phase", "file_id", "record_number", "message", "created_at")


def _insert_sql(conn, table: str, columns: Sequence[str]) -> str:
    marks = ", ".join(placeholders(conn.capabilities.dialect, len(columns)))
    return f'INSERT INTO "{table}" ({", ".join(columns)}) VALUES ({marks})'


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
                await webhooks.emit_event(uploader.partner.id, CHECKED_EVENT,
                                          checked_event_data(report), now=now, connection=conn)
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
    async with in_transaction() as conn:
        row = await BillingFile.create(
            partner_id=uploader.partner.id, uploaded_by_id=getattr(user, "id", None),
            name=report.name[:64], sha256=digest, content=b"", status=FileStatus.REFUSED,
            period=None, idempotency_key=key, uploaded_at=now, using_db=conn)
        await Anomaly.create(code=refused.code, phase=AnomalyPhase.BILLING, file=row,
                             message=refused.message, using_db=conn)
        await audit.record("billing_file.refused", actor=user, object_type="billing_file",
                           object_id=row.id, ip=ip, name=report.name[:64], code=refused.code)
        report.file_id = row.id
        await webhooks.emit_event(uploader.partner.id, CHECKED_EVENT, checked_event_data(report),
                                  now=now, connection=conn)


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
