"""Queries on the partner's beneficiaries and care plans (paginated)."""
from __future__ import annotations

import strawberry

from ppas.schema.permissions import PARTNER
from ppas.schema.beneficiaries.types import Beneficiary, CarePlan
from ppas.schema.context import Info
from ppas.schema.ids import parse_id
from ppas.schema.pagination import Page, checked_window
from ppas.services import partner_data


def _window(info: Info, offset: int, limit: int | None) -> tuple[int, int]:
    settings = info.context.settings
    return checked_window(offset, limit or settings.page_size, settings.max_page_size)


@strawberry.type
class BeneficiaryQueries:
    @strawberry.field(description="Les bénéficiaires du partenaire, par nom.",
                      permission_classes=PARTNER)
    async def beneficiaries(
        self, info: Info, offset: int = 0, limit: int | None = None
    ) -> Page[Beneficiary]:
        offset, limit = _window(info, offset, limit)
        page = await partner_data.own_beneficiaries(info.context.user, offset, limit)
        return Page(items=[Beneficiary.from_model(b) for b in page.items],
                    total_count=page.total, offset=offset, limit=limit)

    @strawberry.field(description="Un bénéficiaire du partenaire ; null s'il n'est pas le sien.",
                      permission_classes=PARTNER)
    async def beneficiary(self, info: Info, id: strawberry.ID) -> Beneficiary | None:
        beneficiary_id = parse_id(id)
        if beneficiary_id is None:
            return None
        row = await partner_data.own_beneficiary(info.context.user, beneficiary_id)
        return Beneficiary.from_model(row) if row else None

    @strawberry.field(description="Les prises en charge du partenaire, les plus récentes d'abord.",
                      permission_classes=PARTNER)
    async def care_plans(
        self, info: Info, offset: int = 0, limit: int | None = None,
        beneficiary_id: strawberry.ID | None = None,
    ) -> Page[CarePlan]:
        offset, limit = _window(info, offset, limit)
        page = await partner_data.own_care_plans(
            info.context.user, offset, limit,
            beneficiary_id=parse_id(beneficiary_id) if beneficiary_id is not None else None,
        )
        return Page(items=await CarePlan.list_of(page.items, info),
                    total_count=page.total, offset=offset, limit=limit)
