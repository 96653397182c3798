"""GraphQL types of beneficiaries and care plans."""
from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal

import strawberry

from ppas import models
from ppas.schema.context import Info
from ppas.schema.loaders import BeneficiaryById, CarePlansOfBeneficiary, ConventionById
from ppas.schema.partners.types import Convention


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

    @staticmethod
    async def load_relations(rows: Sequence[models.CarePlan], info: Info) -> None:
        """Load the beneficiaries and conventions of a list of plans, one batch each.

        Loaded before the list is returned, the fields below answer at once; left to each
        row, 2 × N awaitables cost more than the two queries.
        """
        loaders = info.context.loaders
        await loaders.get(BeneficiaryById).load_many([r.beneficiary_id for r in rows])
        await loaders.get(ConventionById).load_many([r.convention_id for r in rows])

    @classmethod
    async def list_of(cls, rows: Sequence[models.CarePlan], info: Info) -> list[CarePlan]:
        """A list of plans, their relations loaded (see load_relations)."""
        await cls.load_relations(rows, info)
        return [cls.from_model(row) for row in rows]

    @strawberry.field(description="Le bénéficiaire de la prise en charge.")
    def beneficiary(self, info: Info) -> Beneficiary:
        return info.context.loaders.get(BeneficiaryById).resolve(self.beneficiary_id,
                                                                 Beneficiary.from_model)

    @strawberry.field(description="La convention sous laquelle la prise en charge est facturée.")
    def convention(self, info: Info) -> Convention:
        return info.context.loaders.get(ConventionById).resolve(self.convention_id,
                                                                Convention.from_model)


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
        plans = await info.context.loaders.get(CarePlansOfBeneficiary).load(int(self.id))
        return await CarePlan.list_of(plans, info)
