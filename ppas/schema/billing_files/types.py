"""GraphQL types of billing by file: a send's report and its anomalies."""
from __future__ import annotations

from typing import Annotated

import strawberry

from ppas.services.billing_ingest import AnomalyItem, IngestReport


@strawberry.type(description="Une anomalie trouvée au dépôt d'un fichier de facturation.")
class BillingFileAnomaly:
    code: str = strawberry.field(description="Code stable (F01–F08, L01–L08).")
    phase: str = strawberry.field(description="billing (au dépôt) ou report (à l'intégration).")
    record_number: int | None = strawberry.field(
        description="n-enregistrement de la ligne en cause ; null pour une anomalie du fichier.")
    message: str
    title: str
    line_id: strawberry.ID | None = strawberry.field(
        description="La ligne stockée (pour la refacturer depuis le portail), s'il y en a une.")

    @classmethod
    def from_item(cls, item: AnomalyItem) -> BillingFileAnomaly:
        return cls(code=item.code, phase=item.phase, record_number=item.record_number,
                   message=item.message, title=item.title,
                   line_id=strawberry.ID(str(item.line_id)) if item.line_id else None)


@strawberry.type(description="Le compte rendu d'un envoi de fichier de facturation.")
class BillingFileReport:
    id: strawberry.ID | None = strawberry.field(
        description="Le fichier stocké ; null pour un essai (dryRun).")
    name: str
    status: str = strawberry.field(description="accepted ou refused (refusé en entier).")
    dry_run: bool
    replayed: bool = strawberry.field(
        description="Vrai si ce compte rendu est celui d'un envoi antérieur de même Idempotency-Key.")
    period: str | None
    sha256: str
    line_count: int
    accepted_count: int
    total_amount: str = strawberry.field(description="Montant total du fichier, en euros (texte).")
    accepted_amount: str
    anomaly_count: int
    anomalies: list[BillingFileAnomaly] = strawberry.field(
        description="Les anomalies (les 1 000 premières ; anomalyCount les compte toutes).")
    uploaded_at: str | None

    @classmethod
    def from_report(cls, report: IngestReport) -> BillingFileReport:
        return cls(
            id=strawberry.ID(str(report.file_id)) if report.file_id else None, name=report.name,
            status=report.status, dry_run=report.dry_run, replayed=report.replayed,
            period=report.period, sha256=report.sha256, line_count=report.line_count,
            accepted_count=report.accepted_count, total_amount=f"{report.total_amount:.2f}",
            accepted_amount=f"{report.accepted_amount:.2f}", anomaly_count=report.anomaly_count,
            anomalies=[BillingFileAnomaly.from_item(a) for a in report.anomalies],
            uploaded_at=report.uploaded_at.isoformat() if report.uploaded_at else None)


@strawberry.type(description="Un envoi dans l'historique des fichiers.")
class BillingFileSummary:
    id: strawberry.ID
    name: str
    status: str
    period: str | None
    line_count: int
    accepted_count: int
    total_amount: str
    uploaded_at: str

    @classmethod
    def from_model(cls, row) -> BillingFileSummary:
        return cls(id=strawberry.ID(str(row.id)), name=row.name, status=row.status.value,
                   period=row.period, line_count=row.line_count, accepted_count=row.accepted_count,
                   total_amount=f"{row.total_amount:.2f}", uploaded_at=row.uploaded_at.isoformat())


@strawberry.type(description="Refus expliqué d'un dépôt (compte non autorisé, fichier absent…).")
class BillingFileError:
    message: str


SubmitBillingFileResult = Annotated[BillingFileReport | BillingFileError,
                                    strawberry.union("SubmitBillingFileResult")]
