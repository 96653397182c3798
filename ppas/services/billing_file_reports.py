"""Reading back a partner's billing files: the history, a file's report, its anomalies as CSV."""
from __future__ import annotations

import csv
import gzip
import io
from collections.abc import Iterable
from datetime import datetime

from ppas.domain.anomalies import CATALOG
from ppas.models import Anomaly, BillingFile, User
from ppas.services import billing_ingest
from ppas.services.access import partner_id_of
from ppas.services.billing_ingest import GZIP_MAGIC, IngestReport
from ppas.services.sync import KeysetPage, Position, keyset_page

_SUMMARY_FIELDS = ("id", "name", "status", "period", "line_count", "accepted_count",
                   "total_amount", "uploaded_at", "sha256")


def original_bytes(content: bytes) -> bytes:
    """The original bytes of a stored file (stored gzip-compressed; sha256 is of the original)."""
    return gzip.decompress(content) if content[:2] == GZIP_MAGIC else content


async def _own_file(user: User | None, file_id: int) -> BillingFile | None:
    partner_id = partner_id_of(user)
    return await BillingFile.filter(id=file_id, partner_id=partner_id).first()


async def file_report(user: User | None, file_id: int) -> IngestReport | None:
    """The report of one of the partner's files, or None when it is not theirs."""
    row = await _own_file(user, file_id)
    return await billing_ingest.stored_report(row) if row else None


async def list_files(user: User | None, offset: int, limit: int) -> tuple[list[BillingFile], int]:
    """The partner's sends, newest first, and how many there are."""
    partner_id = partner_id_of(user)
    query = BillingFile.filter(partner_id=partner_id)
    total = await query.count()
    rows = await query.order_by("-uploaded_at", "-id").offset(offset).limit(limit) \
        .only(*_SUMMARY_FIELDS)
    return list(rows), total


async def sync_files(user: User | None, *, since: datetime | None, after: Position | None,
                     limit: int, now: datetime) -> KeysetPage:
    """The partner's sends in the stable order (uploaded_at, id), from `since` or after a
    position: what a vendor's software synchronises (ppas/services/sync.py)."""
    partner_id = partner_id_of(user)
    return await keyset_page(BillingFile.filter(partner_id=partner_id).only(*_SUMMARY_FIELDS),
                             time_field="uploaded_at", since=since, after=after, limit=limit,
                             now=now)


async def anomalies_csv(user: User | None, file_id: int) -> Iterable[str] | None:
    """The anomalies of a file as CSV rows (semicolon, for French spreadsheets), or None."""
    row = await _own_file(user, file_id)
    if row is None:
        return None
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";")
    writer.writerow(["Code", "Phase", "N° d'enregistrement", "Intitulé", "Message", "Que faire"])
    phases = {"billing": "au dépôt", "report": "à l'intégration"}
    offset, batch = 0, billing_ingest.BATCH_SIZE
    while True:
        chunk = await Anomaly.filter(file_id=row.id).order_by("record_number", "id") \
            .offset(offset).limit(batch).values_list("code", "phase", "record_number", "message")
        for code, phase, record, message in chunk:
            kind = CATALOG.get(code)
            phase = getattr(phase, "value", phase)
            writer.writerow([code, phases.get(phase, phase),
                             "" if record is None else record, kind.heading if kind else "",
                             message, kind.what_to_do if kind else ""])
        if len(chunk) < batch:
            break
        offset += batch
    return ["\ufeff" + out.getvalue()]
