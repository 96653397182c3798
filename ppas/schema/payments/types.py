"""GraphQL types of payment slips and payment runs."""
from __future__ import annotations

import base64
from datetime import datetime
from enum import StrEnum
from typing import Annotated

import strawberry

from ppas.models.payment import RunStatus
from ppas.schema.context import Info
from ppas.schema.enums import _described
from ppas.schema.errors import PaymentErrorCode, UserError
from ppas.schema.extensions.document_cost import cost
from ppas.schema.pagination import Page, checked_window
from ppas.services import payment_slips


class PaymentLineOrigin(StrEnum):
    """Where a paid line was billed."""

    FILE = "FILE"
    FORM = "FORM"


_described(PaymentLineOrigin, "PaymentLineOrigin", "Origine d'une ligne payée.", {
    "FILE": "Une ligne d'un fichier de facturation (fileName, recordNumber).",
    "FORM": "Une ligne d'un formulaire en ligne (conventionNumber, formPeriod, formPosition)."})
_described(RunStatus, "PaymentRunStatus", "Avancement d'un paiement (mandatement).", {
    "PLANNED": "Enregistré, pas encore exécuté.",
    "RUNNING": "En cours : bordereaux en écriture (repris s'il a été interrompu).",
    "DONE": "Terminé : bordereaux écrits, lignes payées."})

# The stored PDF, base64, counts like a large value in a document's budget.
PDF_WEIGHT = 1000


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


@strawberry.type(description="Une ligne payée d'un bordereau.")
class PaymentSlipLine:
    id: strawberry.ID
    file_number: str = strawberry.field(description="N° de dossier du bénéficiaire.")
    last_name: str
    first_name: str
    period_start: str = strawberry.field(description="Début de période (AAAA-MM-JJ).")
    period_end: str
    hours: str = strawberry.field(description="Heures en semaine (texte, point décimal).")
    sunday_hours: str = strawberry.field(description="Heures dimanches et jours fériés.")
    hourly_rate: str
    participation: str
    amount: str = strawberry.field(description="Montant payé en euros (texte, point décimal).")
    origin: PaymentLineOrigin
    file_name: str | None
    record_number: int | None
    convention_number: str | None
    form_period: str | None
    form_position: int | None

    @classmethod
    def of(cls, line: payment_slips.SlipLine) -> PaymentSlipLine:
        from_file = line.origin == "FILE"
        return cls(
            id=strawberry.ID(str(line.id)), file_number=line.file_number,
            last_name=line.last_name, first_name=line.first_name,
            period_start=line.period_start.isoformat(), period_end=line.period_end.isoformat(),
            hours=f"{line.hours:.2f}", sunday_hours=f"{line.sunday_hours:.2f}",
            hourly_rate=f"{line.hourly_rate:.2f}", participation=f"{line.participation:.2f}",
            amount=f"{line.amount:.2f}", origin=PaymentLineOrigin(line.origin),
            file_name=line.file_name if from_file else None,
            record_number=line.record_number if from_file else None,
            convention_number=None if from_file else line.convention_number,
            form_period=None if from_file else line.form_period,
            form_position=None if from_file else line.form_position)


@strawberry.type(description="Un bordereau de paiement publié du partenaire.")
class PaymentSlip:
    id: strawberry.ID
    number: str = strawberry.field(description="Numéro lisible : caisse-année-numéro.")
    paid_on: str = strawberry.field(description="Date du paiement (AAAA-MM-JJ).")
    available_at: str = strawberry.field(
        description="Instant de mise en ligne (ISO 8601, UTC) : date de paiement à 0 h (Paris) "
                    "+ le délai de publication (48 h par défaut).")
    published_at: str
    amount: str = strawberry.field(description="Montant total payé, en euros (texte).")
    line_count: int
    pdf_url: str = strawberry.field(
        description="Le PDF (même jeton ou même session que cette requête).")
    csv_url: str = strawberry.field(
        description="Les lignes en CSV pour la comptabilité (`;`, UTF-8 avec BOM, virgule "
                    "décimale ; colonnes décrites sur la page de l'API).")

    @classmethod
    def of(cls, row, public_url: str) -> PaymentSlip:
        base = public_url.rstrip("/") + f"/bordereaux/{row.id}"
        return cls(id=strawberry.ID(str(row.id)), number=row.number or "",
                   paid_on=row.paid_on.isoformat() if row.paid_on else "",
                   available_at=_iso(row.available_at) or "",
                   published_at=_iso(row.published_at) or "", amount=f"{row.amount:.2f}",
                   line_count=row.line_count, pdf_url=base + ".pdf", csv_url=base + ".csv")

    @strawberry.field(description="Les lignes payées, par bénéficiaire puis période.",
                      metadata=cost(outside_lists=True))
    async def lines(self, info: Info, offset: int = 0,
                    limit: int = 20) -> Page[PaymentSlipLine]:
        offset, limit = checked_window(offset, limit, info.context.settings.max_page_size)
        found = await payment_slips.own_slip_lines(info.context.user, int(self.id), offset, limit)
        rows, total = found or ([], 0)
        return Page(items=[PaymentSlipLine.of(r) for r in rows], total_count=total,
                    offset=offset, limit=limit)

    @strawberry.field(description="Le PDF stocké, en base64 (pour l'interface ; les éditeurs "
                                  "préfèrent pdfUrl).",
                      metadata=cost(outside_lists=True, weight=PDF_WEIGHT))
    async def pdf_base64(self, info: Info) -> str | None:
        found = await payment_slips.own_slip_pdf(info.context.user, int(self.id))
        return None if found is None else base64.b64encode(found[1]).decode("ascii")

    @strawberry.field(description="Le CSV du bordereau (texte, avec BOM).",
                      metadata=cost(outside_lists=True, weight=PDF_WEIGHT))
    async def csv(self, info: Info) -> str | None:
        found = await payment_slips.own_slip_csv(info.context.user, int(self.id))
        return None if found is None else found[1]


@strawberry.type(description="Des bordereaux payés, pas encore en ligne : quand ils le seront.")
class PendingPaymentSlips:
    available_at: str = strawberry.field(description="Instant de mise en ligne (ISO 8601).")
    paid_on: str | None
    count: int


@strawberry.type(description="Un bordereau d'un paiement, vu par la caisse.")
class PaymentRunSlip:
    id: strawberry.ID
    number: str
    partner_name: str
    structure_id: str
    line_count: int
    amount: str
    available_at: str | None
    published_at: str | None


@strawberry.type(description="Un paiement (mandatement) de la caisse.")
class PaymentRun:
    id: strawberry.ID
    status: RunStatus
    paid_on: str | None
    started_at: str | None
    started_by: str | None = strawberry.field(description="Nom de l'agent qui l'a lancé.")
    finished_at: str | None
    slip_count: int
    line_count: int
    total_amount: str

    @classmethod
    def of(cls, row) -> PaymentRun:
        by = row.started_by
        return cls(id=strawberry.ID(str(row.id)), status=RunStatus(row.status),
                   paid_on=row.paid_on.isoformat() if row.paid_on else None,
                   started_at=_iso(row.started_at),
                   started_by=f"{by.first_name} {by.last_name}".strip() if by else None,
                   finished_at=_iso(row.paid_at), slip_count=row.slip_count,
                   line_count=row.line_count, total_amount=f"{row.total_amount:.2f}")

    @strawberry.field(description="Les bordereaux de ce paiement, par partenaire.",
                      metadata=cost(outside_lists=True))
    async def slips(self, info: Info, offset: int = 0,
                    limit: int = 20) -> Page[PaymentRunSlip]:
        from ppas.services import payments

        offset, limit = checked_window(offset, limit, info.context.settings.max_page_size)
        rows, total = await payments.run_slips(info.context.user, int(self.id), offset, limit)
        return Page(items=[PaymentRunSlip(
            id=strawberry.ID(str(r["id"])), number=r["number"] or "",
            partner_name=r["partner__name"], structure_id=r["partner__structure_id"],
            line_count=r["line_count"], amount=f"{r['amount']:.2f}",
            available_at=_iso(r["available_at"]), published_at=_iso(r["published_at"]))
            for r in rows], total_count=total, offset=offset, limit=limit)


@strawberry.type(description="Le paiement est exécuté : ses bordereaux sont écrits.")
class StartPaymentRunSuccess:
    run: PaymentRun


@strawberry.type(description="Refus expliqué d'un paiement (date passée, illisible…).")
class PaymentRunError(UserError):
    code_enum = PaymentErrorCode
    code: PaymentErrorCode = strawberry.field(description="Code stable du refus.")


StartPaymentRunResult = Annotated[StartPaymentRunSuccess | PaymentRunError,
                                  strawberry.union("StartPaymentRunResult")]
