"""« Anomalies »: every anomaly of a partner, billing and report phases, filtered and paginated.

An anomaly belongs to the partner of its file (file-level and file-line anomalies, report
anomalies of file lines) or of its form line's convention (report anomalies of form lines).
The month filter is the billed month (échéance) of the file or of the form. A page costs three
statements whatever its size: the count, the page with its joins, the anomalies of the page's
lines (to tell which refused lines can still be re-billed).
"""
from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone

from tortoise.expressions import Q

from ppas.domain.anomalies import CATALOG
from ppas.domain.periods import PARIS, Period
from ppas.models import Anomaly, User
from ppas.models.billing_file import AnomalyPhase, LineStatus
from ppas.services.access import partner_id_of
from ppas.services.errors import ServiceError

__all__ = ["AnomalyFilter", "AnomalyRow", "anomalies_csv", "list_anomalies", "parse_month"]

POST_TO_CAISSE = ("Adressez cette facturation par courrier à votre caisse, qui la traitera "
                  "manuellement : elle ne peut pas être refacturée par le portail.")
CSV_BATCH = 1000


@dataclass(frozen=True)
class AnomalyFilter:
    """What the list is narrowed to (None: no narrowing)."""

    phase: str | None = None  # "billing" or "report"
    code: str | None = None  # a catalog code
    month: str | None = None  # YYYY-MM, the billed month of the file or form
    file_id: int | None = None
    form_id: int | None = None


@dataclass(frozen=True)
class AnomalyRow:
    """One anomaly with where it comes from and what the partner can do about it."""

    id: int
    code: str
    phase: str
    message: str
    created_at: datetime
    month: str | None
    file_id: int | None
    file_name: str | None
    record_number: int | None
    line_id: int | None
    form_id: int | None
    form_line_position: int | None
    beneficiary: str
    rebillable: bool  # the refused line can be corrected and re-billed through the portal now
    post_to_caisse: bool  # report anomalies and L05: send the bill by post to the caisse

    @property
    def title(self) -> str:
        kind = CATALOG.get(self.code)
        return kind.heading if kind else self.code

    @property
    def explanation(self) -> str:
        kind = CATALOG.get(self.code)
        return kind.explanation if kind else ""

    @property
    def what_to_do(self) -> str:
        kind = CATALOG.get(self.code)
        text = kind.what_to_do if kind else ""
        if self.post_to_caisse and self.phase == AnomalyPhase.REPORT:
            text = f"{text} {POST_TO_CAISSE}".strip()
        return text


def parse_month(text: str | None) -> str | None:
    """A YYYY-MM month, normalised, or None when empty; ServiceError (field month) if invalid."""
    text = (text or "").strip()
    if not text:
        return None
    try:
        return str(Period.parse(text))
    except ValueError:
        raise ServiceError("Mois : saisissez l'échéance au format AAAA-MM, par exemple 2026-04.",
                           field="month") from None


def _query(partner_id: int, f: AnomalyFilter):
    query = Anomaly.filter(Q(file__partner_id=partner_id)
                           | Q(form_line__form__convention__partner_id=partner_id))
    if f.phase:
        query = query.filter(phase=f.phase)
    if f.code:
        query = query.filter(code=f.code)
    if f.month:
        query = query.filter(Q(file__period=f.month) | Q(form_line__form__period=f.month))
    if f.file_id is not None:
        query = query.filter(file_id=f.file_id)
    if f.form_id is not None:
        query = query.filter(form_line__form_id=f.form_id)
    return query


_FIELDS = ("id", "code", "phase", "message", "created_at", "file_id", "file__name",
           "file__period", "record_number", "line_id", "line__status", "line__last_name",
           "line__first_name", "form_line__position", "form_line__form_id",
           "form_line__form__period", "form_line__care_plan__beneficiary__last_name",
           "form_line__care_plan__beneficiary__first_name")


async def _rows(values: Sequence[dict]) -> list[AnomalyRow]:
    line_ids = {v["line_id"] for v in values if v["line_id"] is not None}
    blocked: set[int] = set()
    if line_ids:
        for line_id, code in await Anomaly.filter(line_id__in=line_ids).values_list(
                "line_id", "code"):
            kind = CATALOG.get(code)
            if kind is None or not kind.rebillable:
                blocked.add(line_id)
    rows = []
    for v in values:
        code, phase = v["code"], str(getattr(v["phase"], "value", v["phase"]))
        kind = CATALOG.get(code)
        status = v["line__status"]
        rebillable = bool(kind and kind.rebillable and phase == AnomalyPhase.BILLING
                          and v["line_id"] is not None and v["line_id"] not in blocked
                          and str(getattr(status, "value", status)) == LineStatus.ANOMALY)
        last = v["line__last_name"] or v["form_line__care_plan__beneficiary__last_name"] or ""
        first = v["line__first_name"] or v["form_line__care_plan__beneficiary__first_name"] or ""
        created = v["created_at"]
        if created is not None and created.tzinfo is None:
            created = created.replace(tzinfo=timezone.utc)
        rows.append(AnomalyRow(
            id=v["id"], code=code, phase=phase, message=v["message"], created_at=created,
            month=v["file__period"] or v["form_line__form__period"], file_id=v["file_id"],
            file_name=v["file__name"], record_number=v["record_number"], line_id=v["line_id"],
            form_id=v["form_line__form_id"], form_line_position=v["form_line__position"],
            beneficiary=f"{last} {first}".strip(), rebillable=rebillable,
            post_to_caisse=phase == AnomalyPhase.REPORT or code == "L05"))
    return rows


async def list_anomalies(user: User | None, f: AnomalyFilter, offset: int,
                         limit: int) -> tuple[list[AnomalyRow], int]:
    """The caller's partner's anomalies matching `f`, newest first, and how many match."""
    partner_id = partner_id_of(user)
    query = _query(partner_id, f)
    total = await query.count()
    values = await query.order_by("-created_at", "-id").offset(offset).limit(limit).values(*_FIELDS)
    return await _rows(values), total


_PHASES = {"billing": "au dépôt", "report": "à l'intégration"}


async def anomalies_csv(user: User | None, f: AnomalyFilter) -> str:
    """Every matching anomaly as CSV (`;`, UTF-8 BOM, header row), newest first."""
    partner_id = partner_id_of(user)
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";")
    writer.writerow(["Code", "Phase", "Échéance", "Fichier", "N° d'enregistrement",
                     "Formulaire", "Ligne du formulaire", "Bénéficiaire", "Intitulé", "Message",
                     "Que faire", "Date"])
    offset = 0
    while True:
        values = await _query(partner_id, f).order_by("-created_at", "-id").offset(offset) \
            .limit(CSV_BATCH).values(*_FIELDS)
        for row in await _rows(values):
            writer.writerow([
                row.code, _PHASES.get(row.phase, row.phase), row.month or "", row.file_name or "",
                "" if row.record_number is None else row.record_number,
                "" if row.form_id is None else row.form_id,
                "" if row.form_line_position is None else row.form_line_position,
                row.beneficiary, row.title, row.message, row.what_to_do,
                # The Paris day, as everywhere the portal shows a date.
                row.created_at.astimezone(PARIS).strftime("%Y-%m-%d") if row.created_at else ""])
        if len(values) < CSV_BATCH:
            break
        offset += CSV_BATCH
    return "\ufeff" + out.getvalue()
