"""Reading back the lines of billing files: one line for its re-billing form, anomaly counts.

Authorisation: a partner account sees only the lines and files of its own partner.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from tortoise.functions import Count

from ppas.models import Anomaly, BillingLine, User
from ppas.models.billing_file import FileStatus, LineStatus
from ppas.models.prepared import placeholders
from ppas.services.access import partner_id_of
from ppas.services.billing_rebill import rebill_refusal

__all__ = ["LineDetail", "accepted_amounts", "anomaly_counts", "line_detail"]


@dataclass
class LineDetail:
    """A stored file line with its anomalies, and whether the portal may re-bill it."""

    line: BillingLine
    file_id: int
    file_name: str
    anomalies: list[tuple[str, str]] = field(default_factory=list)  # (code, message)
    refusal: str | None = None  # why it cannot be re-billed, None when it can

    @property
    def rebillable(self) -> bool:
        return self.refusal is None


async def line_detail(user: User | None, line_id: int) -> LineDetail | None:
    """One line of the partner's accepted files, or None when it is not theirs."""
    partner_id = partner_id_of(user)
    line = await BillingLine.filter(id=line_id, file__partner_id=partner_id,
                                    file__status=FileStatus.ACCEPTED) \
        .prefetch_related("file").first()
    if line is None:
        return None
    anomalies = list(await Anomaly.filter(line_id=line.id).order_by("id")
                     .values_list("code", "message"))
    refusal = None
    if line.status == LineStatus.ACCEPTED:
        refusal = "Cette ligne a été acceptée : il n'y a rien à refacturer."
    elif line.status == LineStatus.REBILLED:
        refusal = "Cette ligne a déjà été corrigée et refacturée."
    else:
        refusal = rebill_refusal(code for code, _ in anomalies)
    return LineDetail(line, line.file_id, line.file.name, anomalies, refusal)


async def anomaly_counts(file_ids: Sequence[int]) -> dict[int, int]:
    """How many anomalies each file has (one query whatever the number of files)."""
    if not file_ids:
        return {}
    rows = await Anomaly.filter(file_id__in=list(file_ids)).annotate(n=Count("id")) \
        .group_by("file_id").values_list("file_id", "n")
    return {file_id: n for file_id, n in rows}


async def accepted_amounts(file_ids: Sequence[int]) -> dict[int, Decimal]:
    """What each file's accepted lines amount to (re-billed corrections included), in one query.

    Summed as whole cents by the database: amounts have 2 places, so `ROUND(amount * 100)` is
    exact on both backends (SQLite keeps decimals as text and would sum them as floats).
    """
    if not file_ids:
        return {}
    db = BillingLine._meta.db
    marks = placeholders(db.capabilities.dialect, len(file_ids) + 1)
    sql = ('SELECT "file_id", SUM(CAST(ROUND("amount" * 100) AS BIGINT)) FROM "billing_line" '
           f'WHERE "status" = {marks[0]} AND "file_id" IN ({", ".join(marks[1:])}) '
           'GROUP BY "file_id"')
    _, rows = await db.execute_query(sql, [LineStatus.ACCEPTED.value, *file_ids])
    return {row[0]: Decimal(int(row[1])) / 100 for row in rows}
