"""Billing file ingest, its results: the report of an upload and the refusal of a whole file."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from ppas.domain.anomalies import heading
from ppas.domain.billing_lines import line_message
from ppas.models.billing_file import FileStatus

MAX_REPORTED_ANOMALIES = 1000  # a report lists this many; counts cover them all
GZIP_MAGIC = b"\x1f\x8b"
NOT_YOURS = "Ce fichier n'existe pas ou n'appartient pas à votre structure."


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
