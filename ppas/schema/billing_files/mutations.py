"""Mutations of billing by file: the upload (GraphQL multipart request spec)."""
from __future__ import annotations

import strawberry
from strawberry.file_uploads import Upload

from ppas.schema.billing_files.types import (
    BillingFileError,
    BillingFileLine,
    BillingFileReport,
    RebillLineInput,
    RebillLineResult,
    RebillLineSuccess,
    SubmitBillingFileResult,
)
from ppas import metrics
from ppas.schema.context import Info
from ppas.schema.ids import parse_id
from ppas.services import billing_file_lines, billing_ingest, billing_rebill
from ppas.schema.permissions import PARTNER
from ppas.services.errors import ErrorCode, NotFound

IDEMPOTENCY_HEADER = "idempotency-key"


@strawberry.type
class BillingFileMutations:
    @strawberry.mutation(description=(
        "Déposer un fichier de facturation (requête multipart GraphQL). Avec dryRun: true, "
        "tous les contrôles sont faits et rien n'est enregistré. L'en-tête HTTP Idempotency-Key "
        "rend, pour un envoi répété, le compte rendu du premier."),
        permission_classes=PARTNER)
    async def submit_billing_file(self, info: Info, file: Upload,
                                  dry_run: bool = False) -> SubmitBillingFileResult:
        request = info.context.request
        key = request.headers.get(IDEMPOTENCY_HEADER) if request is not None else None
        source = getattr(file, "file", None)
        name = getattr(file, "filename", None) or ""
        if source is None:
            return BillingFileError.of(ErrorCode.FILE_MISSING, "Joignez le fichier XML à envoyer.",
                                       field="file")
        report = await billing_ingest.submit_file(
            info.context.user, source, name, now=info.context.now(),
            max_bytes=info.context.settings.max_upload_bytes, dry_run=dry_run,
            idempotency_key=key, ip=info.context.client_ip)
        metrics.count_ingest(report)
        return BillingFileReport.from_report(report)

    @strawberry.mutation(description=(
        "Refacturer une ligne refusée au dépôt, une fois corrigée : elle repasse les mêmes "
        "contrôles (L01–L08). Impossible pour les motifs L04 et L05."),
        permission_classes=PARTNER)
    async def rebill_billing_line(self, info: Info, line_id: strawberry.ID,
                                  input: RebillLineInput) -> RebillLineResult:
        key = parse_id(line_id)
        if key is None:
            raise NotFound(billing_rebill.LINE_NOT_YOURS)
        values = billing_rebill.RebillInput(
            file_number=input.file_number, start=input.period_start, end=input.period_end,
            hours=input.hours, sunday_hours=input.sunday_hours, rate=input.hourly_rate,
            participation=input.participation, amount=input.amount)
        line = await billing_rebill.rebill_line(info.context.user, key, values,
                                                now=info.context.now(), ip=info.context.client_ip)
        detail = await billing_file_lines.line_detail(info.context.user, line.id)
        return RebillLineSuccess(line=BillingFileLine.from_detail(detail))

