"""Re-billing a line refused at upload: corrected on the portal, through the same checks."""
from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from tortoise.transactions import in_transaction

from ppas.domain.anomalies import CATALOG
from ppas.domain.billing_lines import LineFacts
from ppas.domain.periods import Period, paris_date
from ppas.models import Anomaly, BillingFile, BillingLine, User
from ppas.models.billing_file import FileStatus, LineStatus
from ppas.services import audit, billing_ingest
from ppas.services.access import partner_id_of
from ppas.services.errors import ErrorCode, NotFound, ServiceError

LINE_NOT_YOURS = "Cette ligne n'existe pas ou n'appartient pas à un fichier de votre structure."


@dataclass
class RebillInput:
    """Corrected values typed on the portal (French decimals accepted: « 12,5 »)."""

    file_number: str
    start: str
    end: str
    hours: str
    sunday_hours: str
    rate: str
    participation: str
    amount: str


def _decimal(text: str, label: str, field_name: str) -> Decimal:
    cleaned = (text or "").strip().replace(",", ".").replace("\u202f", "").replace(" ", "")
    if not re.fullmatch(r"[0-9]+(\.[0-9]{1,2})?", cleaned):
        raise ServiceError(f"{label} : saisissez un nombre positif avec 2 décimales au plus, "
                           "par exemple 12,50.", field=field_name)
    return Decimal(cleaned).quantize(Decimal("0.01"))


def _date(text: str, label: str, field_name: str) -> date:
    try:
        return date.fromisoformat((text or "").strip())
    except ValueError:
        raise ServiceError(f"{label} : saisissez une date au format AAAA-MM-JJ.",
                           field=field_name) from None


def rebill_refusal(codes: Iterable[str]) -> str | None:
    """Why a line with these anomaly codes cannot be re-billed through the portal, or None."""
    blocking = sorted({code for code in codes if code in CATALOG and not CATALOG[code].rebillable})
    if not blocking:
        return None
    return ("Cette ligne ne peut pas être refacturée par le portail (anomalie "
            f"{', '.join(blocking)}) : " + CATALOG[blocking[0]].what_to_do)


async def rebill_line(user: User | None, line_id: int, values: RebillInput, *, now: datetime,
                      ip: str = "") -> BillingLine:
    """Re-bill a line refused at upload, corrected, through the same checks (L01–L08).

    The original line keeps its values and anomalies and becomes « rebilled »; a new accepted
    line with the same record number joins the same file.
    """
    partner_id = partner_id_of(user)
    async with in_transaction() as conn:
        line = await BillingLine.filter(id=line_id, file__partner_id=partner_id) \
            .select_for_update().using_db(conn).prefetch_related("file").first()
        if line is None or line.file.status != FileStatus.ACCEPTED:
            raise NotFound(LINE_NOT_YOURS)
        if line.status != LineStatus.ANOMALY:
            raise ServiceError("Cette ligne n'est pas en anomalie : elle a déjà été acceptée "
                               "ou refacturée.", code=ErrorCode.LINE_NOT_IN_ANOMALY)
        codes = await Anomaly.filter(line_id=line.id).using_db(conn).values_list("code", flat=True)
        refusal = rebill_refusal(codes)
        if refusal:
            raise ServiceError(refusal, code=ErrorCode.LINE_NOT_REBILLABLE)
        number = (values.file_number or "").strip()
        if not re.fullmatch(r"[0-9]{10}", number):
            raise ServiceError("N° de dossier : saisissez les 10 chiffres du dossier.",
                               field="file_number")
        facts = LineFacts(
            record=line.record_number, file_number=number, last_name=line.last_name,
            first_name=line.first_name, start=_date(values.start, "Début de période", "start"),
            end=_date(values.end, "Fin de période", "end"),
            hours=_decimal(values.hours, "Heures", "hours"),
            sunday_hours=_decimal(values.sunday_hours, "Heures le dimanche", "sunday_hours")
            if (values.sunday_hours or "").strip() else None,
            rate=_decimal(values.rate, "Taux horaire", "rate"),
            participation=_decimal(values.participation, "Participation", "participation"),
            amount=_decimal(values.amount, "Montant", "amount"))
        batch = await billing_ingest.batch_facts(partner_id, line.file.convention_id,
                                                 [facts.file_number])
        last_month = Period.parse(line.file.period) if line.file.period else None
        checked = billing_ingest.check_batch([facts], batch, file_id=line.file_id, today=paris_date(now),
                               last_month=last_month, in_file={})
        if checked.anomaly_rows:
            raise ServiceError("La ligne corrigée reste en anomalie : "
                               + " ".join(message for _, _, message in checked.anomaly_rows),
                               code=ErrorCode.LINE_STILL_IN_ANOMALY)
        row = dict(zip(billing_ingest.LINE_COLUMNS, checked.line_rows[0], strict=True))
        # Sent now: integration counts its business days from the re-billing, not the upload.
        new_line = await BillingLine.create(using_db=conn, **row, sent_at=now)
        await BillingLine.filter(id=line.id).using_db(conn).update(status=LineStatus.REBILLED)
        await BillingFile.filter(id=line.file_id).using_db(conn).update(
            accepted_count=line.file.accepted_count + 1)
        await audit.record("billing_line.rebilled", actor=user, object_type="billing_line",
                           object_id=new_line.id, ip=ip, original=line.id,
                           file=line.file.name)
    return new_line
