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
    preloaded_beneficiary: strawberry.Private[models.Beneficiary | None] = None
    preloaded_convention: strawberry.Private[models.Convention | None] = None

    @classmethod
    def from_model(cls, row: models.CarePlan, *, beneficiary: models.Beneficiary | None = None,
                   convention: models.Convention | None = None) -> CarePlan:
        return cls(
            id=strawberry.ID(str(row.id)), hours_per_month=row.hours_per_month,
            hourly_rate=row.hourly_rate, participation=row.participation,
            start_date=row.start_date, end_date=row.end_date, notified_at=row.notified_at,
            closed_at=row.closed_at, beneficiary_id=row.beneficiary_id,
            convention_id=row.convention_id, preloaded_beneficiary=beneficiary,
            preloaded_convention=convention,
        )

    @classmethod
    async def page_of(cls, rows: list[models.CarePlan], info: Info) -> list[CarePlan]:
        """A list of plans with their beneficiaries and conventions loaded in two batches.

        Resolving 2 × N nested fields one awaitable at a time costs far more than the
        two queries; preloaded, the fields below answer synchronously.
        """
        loaders = info.context.loaders
        beneficiaries = await loaders.beneficiary.load_many([r.beneficiary_id for r in rows])
        conventions = await loaders.convention.load_many([r.convention_id for r in rows])
        return [cls.from_model(row, beneficiary=b, convention=c)
                for row, b, c in zip(rows, beneficiaries, conventions, strict=True)]

    # Sync resolvers that return an awaitable only when nothing was preloaded:
    # graphql-core awaits whatever awaitable a resolver returns.
    @strawberry.field(description="Le bénéficiaire de la prise en charge.")
    def beneficiary(self, info: Info) -> Beneficiary:
        if self.preloaded_beneficiary is not None:
            return Beneficiary.from_model(self.preloaded_beneficiary)
        return self._load_beneficiary(info)

    @strawberry.field(description="La convention sous laquelle la prise en charge est facturée.")
    def convention(self, info: Info) -> Convention:
        if self.preloaded_convention is not None:
            return Convention.from_model(self.preloaded_convention)
        return self._load_convention(info)

    async def _load_beneficiary(self, info: Info) -> Beneficiary:
        return Beneficiary.from_model(await info.context.loaders.beneficiary.load(self.beneficiary_id))

    async def _load_convention(self, info: Info) -> Convention:
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
        return await CarePlan.page_of(await loader.load(int(self.id)), info)
