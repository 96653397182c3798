"""GraphQL types of beneficiaries and care plans."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import strawberry

from ppas import models
from ppas.schema.context import Info
from ppas.schema.partners.types import Convention
from ppas.services.access import partner_id_of


@strawberry.type(description="Prise en charge (PEC) notifiée par la caisse.")
class CarePlan:
    id: strawberry.ID
    hours_per_month: Decimal
    hourly_rate: Decimal
    participation: Decimal
    start_date: date
    end_date: date | None
    notified_at: datetime | None
    closed_at: datetime | None
    beneficiary_id: strawberry.Private[int]
    convention_id: strawberry.Private[int]

    @classmethod
    def from_model(cls, row: models.CarePlan) -> CarePlan:
        return cls(
            id=strawberry.ID(str(row.id)), hours_per_month=row.hours_per_month,
            hourly_rate=row.hourly_rate, participation=row.participation,
            start_date=row.start_date, end_date=row.end_date, notified_at=row.notified_at,
            closed_at=row.closed_at, beneficiary_id=row.beneficiary_id,
            convention_id=row.convention_id,
        )

    @strawberry.field(description="Le bénéficiaire de la prise en charge.")
    async def beneficiary(self, info: Info) -> Beneficiary:
        return Beneficiary.from_model(await info.context.loaders.beneficiary.load(self.beneficiary_id))

    @strawberry.field(description="La convention sous laquelle la prise en charge est facturée.")
    async def convention(self, info: Info) -> Convention:
        return Convention.from_model(await info.context.loaders.convention.load(self.convention_id))


@strawberry.type(description="Bénéficiaire (retraité) aidé par le partenaire.")
class Beneficiary:
    id: strawberry.ID
    file_number: str
    last_name: str
    first_name: str
    city: str

    @classmethod
    def from_model(cls, row: models.Beneficiary) -> Beneficiary:
        return cls(
            id=strawberry.ID(str(row.id)), file_number=row.file_number,
            last_name=row.last_name, first_name=row.first_name, city=row.city,
        )

    @strawberry.field(description="Les prises en charge de ce bénéficiaire chez le partenaire.")
    async def care_plans(self, info: Info) -> list[CarePlan]:
        loader = info.context.loaders.care_plans_of(partner_id_of(info.context.user))
        return [CarePlan.from_model(row) for row in await loader.load(int(self.id))]
