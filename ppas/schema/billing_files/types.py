"""GraphQL types of billing by file: a send's report and its anomalies."""
from __future__ import annotations

from decimal import Decimal
from typing import Annotated

import strawberry

from ppas.models.billing_file import AnomalyPhase, FileStatus, LineStatus
from ppas.schema.enums import AnomalyCode
from ppas.domain.anomalies import CATALOG, heading
from ppas.schema.errors import BillingFileErrorCode, UserError
from ppas.schema.extensions.document_cost import cost
from ppas.services.errors import ServiceError
from ppas.services.billing_ingest import MAX_REPORTED_ANOMALIES, AnomalyItem, IngestReport

_LINE_CODES = sum(1 for kind in CATALOG.values() if kind.level == "line")


@strawberry.type(description="Une anomalie trouvée au dépôt d'un fichier de facturation.")
class BillingFileAnomaly:
    code: AnomalyCode = strawberry.field(description="Code stable (F01–F08, L01–L08).")
    phase: AnomalyPhase = strawberry.field(description="BILLING (au dépôt) ou REPORT (à l'intégration).")
    record_number: int | None = strawberry.field(
        description="n-enregistrement de la ligne en cause ; null pour une anomalie du fichier.")
    message: str
    title: str = strawberry.field(
        description="Intitulé du motif, sans valeurs propres à cette anomalie (elles sont dans "
                    "message).")
    line_id: strawberry.ID | None = strawberry.field(
        description="La ligne stockée (pour la refacturer depuis le portail), s'il y en a une.")

    @classmethod
    def from_item(cls, item: AnomalyItem) -> BillingFileAnomaly:
        return cls(code=AnomalyCode[item.code], phase=AnomalyPhase(item.phase), record_number=item.record_number,
                   message=item.message, title=item.title,
                   line_id=strawberry.ID(str(item.line_id)) if item.line_id else None)


@strawberry.type(description="Les anomalies d'un même code dans un compte rendu, avec le texte du catalogue.")
class BillingFileAnomalyGroup:
    code: AnomalyCode
    title: str = strawberry.field(
        description="Intitulé du motif, sans valeurs propres à une anomalie (numéro "
                    "d'enregistrement, ligne, colonne : elles sont dans le message de chacune).")
    explanation: str
    what_to_do: str
    rebillable: bool = strawberry.field(
        description="Vrai si une ligne refusée pour ce motif peut être corrigée et refacturée "
                    "depuis le portail.")
    count: int = strawberry.field(description="Nombre d'anomalies de ce code dans le fichier.")

    @classmethod
    def of(cls, code: str, count: int) -> BillingFileAnomalyGroup:
        kind = CATALOG.get(code)
        return cls(code=AnomalyCode[code], title=heading(code),
                   explanation=kind.explanation if kind else "",
                   what_to_do=kind.what_to_do if kind else "",
                   rebillable=bool(kind and kind.rebillable), count=count)


@strawberry.type(description="Le compte rendu d'un envoi de fichier de facturation.")
class BillingFileReport:
    id: strawberry.ID | None = strawberry.field(
        description="Le fichier stocké ; null pour un essai (dryRun).")
    name: str
    status: FileStatus = strawberry.field(description="ACCEPTED ou REFUSED (refusé en entier).")
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
        description="Les anomalies (les 1 000 premières ; anomalyCount les compte toutes).",
        metadata=cost(size=MAX_REPORTED_ANOMALIES))
    uploaded_at: str | None
    anomaly_groups: list[BillingFileAnomalyGroup] = strawberry.field(
        default_factory=list,
        description="Le nombre d'anomalies de chaque code, avec l'explication du catalogue.",
        metadata=cost(size=len(CATALOG)))

    @classmethod
    def from_report(cls, report: IngestReport) -> BillingFileReport:
        return cls(
            id=strawberry.ID(str(report.file_id)) if report.file_id else None, name=report.name,
            status=FileStatus(report.status), dry_run=report.dry_run, replayed=report.replayed,
            period=report.period, sha256=report.sha256, line_count=report.line_count,
            accepted_count=report.accepted_count, total_amount=f"{report.total_amount:.2f}",
            accepted_amount=f"{report.accepted_amount:.2f}", anomaly_count=report.anomaly_count,
            anomalies=[BillingFileAnomaly.from_item(a) for a in report.anomalies],
            uploaded_at=report.uploaded_at.isoformat() if report.uploaded_at else None,
            anomaly_groups=[BillingFileAnomalyGroup.of(code, n)
                            for code, n in sorted(report.counts_by_code.items())])


@strawberry.type(description="Un envoi dans l'historique des fichiers.")
class BillingFileSummary:
    id: strawberry.ID
    name: str
    status: FileStatus
    period: str | None
    line_count: int
    accepted_count: int
    total_amount: str
    uploaded_at: str
    anomaly_count: int = 0
    accepted_amount: str = strawberry.field(
        default="0.00", description="Montant des lignes acceptées, refacturations comprises "
                                    "(le montant du fichier est celui déclaré dans son en-tête).")

    @classmethod
    def from_model(cls, row, anomaly_count: int = 0,
                   accepted_amount: Decimal | None = None) -> BillingFileSummary:
        return cls(id=strawberry.ID(str(row.id)), name=row.name, status=FileStatus(row.status),
                   period=row.period, line_count=row.line_count, accepted_count=row.accepted_count,
                   total_amount=f"{row.total_amount:.2f}", uploaded_at=row.uploaded_at.isoformat(),
                   anomaly_count=anomaly_count,
                   accepted_amount=f"{accepted_amount or Decimal(0):.2f}")


@strawberry.type(description="Refus expliqué d'un dépôt (compte non autorisé, fichier absent…).")
class BillingFileError(UserError):
    code_enum = BillingFileErrorCode
    code: BillingFileErrorCode = strawberry.field(description="Code stable du refus.")


SubmitBillingFileResult = Annotated[BillingFileReport | BillingFileError,
                                    strawberry.union("SubmitBillingFileResult")]


@strawberry.type(description="Une ligne d'un fichier accepté, avec ses anomalies (pour la refacturer).")
class BillingFileLine:
    id: strawberry.ID
    file_id: strawberry.ID
    file_name: str
    record_number: int
    status: LineStatus = strawberry.field(description="ACCEPTED, ANOMALY ou REBILLED (refacturée).")
    file_number: str
    last_name: str
    first_name: str
    period_start: str
    period_end: str
    hours: str
    sunday_hours: str
    hourly_rate: str
    participation: str
    amount: str
    anomalies: list[BillingFileAnomaly] = strawberry.field(metadata=cost(size=_LINE_CODES))
    rebillable: bool
    rebill_refusal: str | None = strawberry.field(
        description="Pourquoi la ligne ne peut pas être refacturée par le portail ; null sinon.")

    @classmethod
    def from_detail(cls, detail) -> BillingFileLine:
        line = detail.line
        return cls(
            id=strawberry.ID(str(line.id)), file_id=strawberry.ID(str(detail.file_id)),
            file_name=detail.file_name, record_number=line.record_number,
            status=LineStatus(line.status), file_number=line.file_number,
            last_name=line.last_name, first_name=line.first_name,
            period_start=line.period_start.isoformat(), period_end=line.period_end.isoformat(),
            hours=f"{line.hours:.2f}", sunday_hours=f"{line.sunday_hours:.2f}",
            hourly_rate=f"{line.hourly_rate:.2f}", participation=f"{line.participation:.2f}",
            amount=f"{line.amount:.2f}",
            anomalies=[BillingFileAnomaly(code=AnomalyCode[code], phase=AnomalyPhase.BILLING,
                                          record_number=line.record_number, message=message,
                                          title=heading(code),
                                          line_id=strawberry.ID(str(line.id)))
                       for code, message in detail.anomalies],
            rebillable=detail.rebillable, rebill_refusal=detail.refusal)


@strawberry.input(description="Les valeurs corrigées d'une ligne à refacturer (décimales « 12,50 » "
                              "ou « 12.50 », dates AAAA-MM-JJ).")
class RebillLineInput:
    file_number: str
    period_start: str
    period_end: str
    hours: str
    hourly_rate: str
    participation: str
    amount: str
    sunday_hours: str = ""


@strawberry.type(description="La ligne corrigée a passé les contrôles : elle est acceptée.")
class RebillLineSuccess:
    line: BillingFileLine


@strawberry.type(description="Refus expliqué d'une refacturation (la ligne corrigée reste en "
                             "anomalie, valeur mal écrite, ligne non refacturable…).")
class RebillLineError(UserError):
    code_enum = BillingFileErrorCode
    code: BillingFileErrorCode = strawberry.field(description="Code stable du refus.")

    @classmethod
    def from_service(cls, error: ServiceError, info=None) -> RebillLineError:
        return cls(code=BillingFileErrorCode[error.code.name], message=error.message,
                   field=_INPUT_FIELDS.get(error.field or ""))


# Service field names → the GraphQL input's (camelCase) names.
_INPUT_FIELDS = {"file_number": "fileNumber", "start": "periodStart", "end": "periodEnd",
                 "hours": "hours", "sunday_hours": "sundayHours", "rate": "hourlyRate",
                 "participation": "participation", "amount": "amount"}


RebillLineResult = Annotated[RebillLineSuccess | RebillLineError,
                             strawberry.union("RebillLineResult")]
