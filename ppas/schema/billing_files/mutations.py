"""Mutations of billing by file: the upload (GraphQL multipart request spec)."""
from __future__ import annotations

import strawberry
from strawberry.file_uploads import Upload

from ppas.schema.billing_files.types import (
    BillingFileError,
    BillingFileReport,
    SubmitBillingFileResult,
)
from ppas.schema.context import Info
from ppas.services import billing_ingest
from ppas.services.errors import ServiceError

IDEMPOTENCY_HEADER = "idempotency-key"


@strawberry.type
class BillingFileMutations:
    @strawberry.mutation(description=(
        "Déposer un fichier de facturation (requête multipart GraphQL). Avec dryRun: true, "
        "tous les contrôles sont faits et rien n'est enregistré. L'en-tête HTTP Idempotency-Key "
        "rend, pour un envoi répété, le compte rendu du premier."))
    async def submit_billing_file(self, info: Info, file: Upload,
                                  dry_run: bool = False) -> SubmitBillingFileResult:
        request = info.context.request
        key = request.headers.get(IDEMPOTENCY_HEADER) if request is not None else None
        source = getattr(file, "file", None)
        name = getattr(file, "filename", None) or ""
        if source is None:
            return BillingFileError(message="Joignez le fichier XML à envoyer.")
        try:
            report = await billing_ingest.submit_file(
                info.context.user, source, name, now=info.context.now(),
                max_bytes=info.context.settings.max_upload_bytes, dry_run=dry_run,
                idempotency_key=key, ip=info.context.client_ip)
        except ServiceError as error:
            return BillingFileError(message=error.message)
        return BillingFileReport.from_report(report)
