"""GraphQL types of the caisse's back office."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Annotated

import strawberry

from ppas import models
from ppas.schema.enums import ConventionStatus
from ppas.schema.errors import BackOfficeErrorCode, UserError
from ppas.schema.partner_admin.types import FieldProblem
from ppas.services import back_office
from ppas.services.errors import ServiceError


@strawberry.type(description="Bénéficiaire (retraité) de la caisse, vu par ses agents.")
class CaisseBeneficiary:
    id: strawberry.ID
    file_number: str = strawberry.field(description="Numéro de dossier (10 chiffres).")
    last_name: str
    first_name: str
    birth_date: date | None
    deceased_on: date | None

    @classmethod
    def from_model(cls, row: models.Beneficiary) -> CaisseBeneficiary:
        return cls(id=strawberry.ID(str(row.id)), file_number=row.file_number,
                   last_name=row.last_name, first_name=row.first_name,
                   birth_date=row.birth_date, deceased_on=row.deceased_on)


@strawberry.type(description="Convention d'un partenaire de la caisse, vue par ses agents.")
class CaisseConvention:
    id: strawberry.ID
    number: str
    prestation_code: str
    hourly_rate: Decimal
    valid_from: date
    valid_to: date | None
    status: ConventionStatus
    partner_id: strawberry.ID
    partner_name: str
    structure_id: str

    @classmethod
    def from_model(cls, row: models.Convention) -> CaisseConvention:
        """`row.partner` must be fetched (the services select it)."""
        return cls(id=strawberry.ID(str(row.id)), number=row.number,
                   prestation_code=row.prestation_code, hourly_rate=row.hourly_rate,
                   valid_from=row.valid_from, valid_to=row.valid_to,
                   status=ConventionStatus(row.status),
                   partner_id=strawberry.ID(str(row.partner_id)), partner_name=row.partner.name,
                   structure_id=row.partner.structure_id)


@strawberry.type(description="Prise en charge (PEC) d'un bénéficiaire de la caisse.")
class CaisseCarePlan:
    id: strawberry.ID
    beneficiary_id: strawberry.ID
    file_number: str
    beneficiary_name: str
    convention_id: strawberry.ID
    convention_number: str
    partner_name: str
    hours_per_month: Decimal
    hourly_rate: Decimal
    participation: Decimal
    start_date: date
    end_date: date | None
    notified_at: datetime | None = strawberry.field(
        description="Notifiée : la prise en charge figure sur les formulaires du partenaire "
                    "et dans les contrôles de fichier ; null tant qu'elle ne l'est pas.")
    closed_at: datetime | None

    @strawberry.field(description="Modifiable : ni notifiée ni clôturée.")
    def editable(self) -> bool:
        return self.notified_at is None and self.closed_at is None

    @classmethod
    def from_model(cls, row: models.CarePlan) -> CaisseCarePlan:
        """`row.beneficiary`, `row.convention` and `row.partner` must be fetched."""
        b = row.beneficiary
        return cls(id=strawberry.ID(str(row.id)), beneficiary_id=strawberry.ID(str(b.id)),
                   file_number=b.file_number, beneficiary_name=f"{b.last_name} {b.first_name}",
                   convention_id=strawberry.ID(str(row.convention_id)),
                   convention_number=row.convention.number, partner_name=row.partner.name,
                   hours_per_month=row.hours_per_month, hourly_rate=row.hourly_rate,
                   participation=row.participation, start_date=row.start_date,
                   end_date=row.end_date, notified_at=row.notified_at, closed_at=row.closed_at)


@strawberry.input(description="Un bénéficiaire tel que saisi : dates en jj/mm/aaaa "
                              "ou aaaa-mm-jj, vides si inconnues.")
class BeneficiaryInput:
    file_number: str
    last_name: str
    first_name: str
    birth_date: str = ""
    deceased_on: str = ""

    def to_service(self) -> back_office.BeneficiaryInput:
        return back_office.BeneficiaryInput(
            file_number=self.file_number, last_name=self.last_name,
            first_name=self.first_name, birth_date=self.birth_date,
            deceased_on=self.deceased_on)


@strawberry.input(description="Une prise en charge telle que saisie : nombres avec virgule "
                              "ou point, dates en jj/mm/aaaa ou aaaa-mm-jj ; un taux vide "
                              "prend celui de la convention (un autre est refusé).")
class CarePlanInput:
    convention_id: strawberry.ID
    hours_per_month: str
    participation: str
    start_date: str
    hourly_rate: str = ""
    end_date: str = ""

    def to_service(self) -> back_office.CarePlanInput:
        return back_office.CarePlanInput(
            convention=str(self.convention_id), hours_per_month=self.hours_per_month,
            hourly_rate=self.hourly_rate, participation=self.participation,
            start_date=self.start_date, end_date=self.end_date)


@strawberry.type(description="Refus du back-office ; `problems` détaille chaque champ à corriger.")
class BackOfficeError(UserError):
    code_enum = BackOfficeErrorCode
    code: BackOfficeErrorCode = strawberry.field(description="Code stable du refus.")
    problems: list[FieldProblem] = strawberry.field(default_factory=list)

    @classmethod
    def from_service(cls, error: ServiceError, info=None) -> BackOfficeError:
        problems = getattr(error, "problems", None) or {}
        return cls(code=BackOfficeErrorCode[error.code.name], message=error.message,
                   field=error.field,
                   problems=[FieldProblem(field=name, message=text)
                             for name, text in problems.items()])


@strawberry.type(description="Bénéficiaire enregistré.")
class BeneficiarySuccess:
    beneficiary: CaisseBeneficiary


@strawberry.type(description="Prise en charge enregistrée (créée, modifiée, notifiée ou clôturée).")
class CarePlanSuccess:
    care_plan: CaisseCarePlan


@strawberry.type(description="Convention suspendue ou reprise.")
class ConventionStatusSuccess:
    convention: CaisseConvention


@strawberry.enum(description="Ce que l'import a fait d'une ligne.")
class ImportRowStatus(Enum):
    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    REFUSED = "refused"


@strawberry.type(description="Une ligne de données du fichier importé (l'en-tête est la ligne 1).")
class ImportRowReport:
    line: int
    status: ImportRowStatus
    file_number: str
    reason: str = strawberry.field(description="Pourquoi la ligne est refusée ; vide sinon.")


@strawberry.type(description="Compte rendu d'un import CSV : chaque ligne et son sort.")
class BeneficiaryImportReport:
    created: int
    updated: int
    unchanged: int
    refused: int
    rows: list[ImportRowReport]

    @classmethod
    def from_report(cls, report: back_office.ImportReport) -> BeneficiaryImportReport:
        return cls(created=report.count(back_office.CREATED),
                   updated=report.count(back_office.UPDATED),
                   unchanged=report.count(back_office.UNCHANGED),
                   refused=report.count(back_office.REFUSED),
                   rows=[ImportRowReport(line=r.number, status=ImportRowStatus(r.status),
                                         file_number=r.file_number, reason=r.reason)
                         for r in report.rows])


BeneficiaryResult = Annotated[BeneficiarySuccess | BackOfficeError,
                              strawberry.union("BeneficiaryResult")]
CarePlanResult = Annotated[CarePlanSuccess | BackOfficeError, strawberry.union("CarePlanResult")]
ConventionStatusResult = Annotated[ConventionStatusSuccess | BackOfficeError,
                                   strawberry.union("ConventionStatusResult")]
BeneficiaryImportResult = Annotated[BeneficiaryImportReport | BackOfficeError,
                                    strawberry.union("BeneficiaryImportResult")]
