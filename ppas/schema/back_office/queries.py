"""Queries of the caisse's back office (paginated, the agent's own caisse only)."""
from __future__ import annotations

import strawberry

from ppas.schema.back_office.types import CaisseBeneficiary, CaisseCarePlan, CaisseConvention
from ppas.schema.context import Info
from ppas.schema.ids import parse_id
from ppas.schema.pagination import Page, checked_window
from ppas.schema.permissions import BACK_OFFICE
from ppas.services import back_office


def _window(info: Info, offset: int, limit: int | None) -> tuple[int, int]:
    settings = info.context.settings
    return checked_window(offset, limit or settings.page_size, settings.max_page_size)


def _optional_id(value: strawberry.ID | None) -> int | None:
    """An id filter: absent is None, an id that cannot exist matches nothing (0)."""
    if value is None:
        return None
    return parse_id(value) or 0


@strawberry.type
class BackOfficeQueries:
    @strawberry.field(description="Les bénéficiaires de la caisse de l'agent, par nom ; "
                                  "`search` : début du numéro de dossier ou partie du nom.",
                      permission_classes=BACK_OFFICE)
    async def caisse_beneficiaries(self, info: Info, search: str = "", offset: int = 0,
                                   limit: int | None = None) -> Page[CaisseBeneficiary]:
        offset, limit = _window(info, offset, limit)
        page = await back_office.list_beneficiaries(info.context.user, search=search,
                                                    offset=offset, limit=limit)
        return Page(items=[CaisseBeneficiary.from_model(r) for r in page.items],
                    total_count=page.total, offset=offset, limit=limit)

    @strawberry.field(description="Un bénéficiaire de la caisse ; null s'il n'en relève pas.",
                      permission_classes=BACK_OFFICE)
    async def caisse_beneficiary(self, info: Info, id: strawberry.ID) -> CaisseBeneficiary | None:
        key = parse_id(id)
        row = await back_office.get_beneficiary(info.context.user, key) if key else None
        return CaisseBeneficiary.from_model(row) if row else None

    @strawberry.field(description="Les prises en charge de la caisse, par bénéficiaire, "
                                  "partenaire ou convention ; le début le plus récent d'abord.",
                      permission_classes=BACK_OFFICE)
    async def caisse_care_plans(
        self, info: Info, beneficiary_id: strawberry.ID | None = None,
        partner_id: strawberry.ID | None = None, convention_id: strawberry.ID | None = None,
        offset: int = 0, limit: int | None = None,
    ) -> Page[CaisseCarePlan]:
        offset, limit = _window(info, offset, limit)
        page = await back_office.list_care_plans(
            info.context.user, beneficiary_id=_optional_id(beneficiary_id),
            partner_id=_optional_id(partner_id), convention_id=_optional_id(convention_id),
            offset=offset, limit=limit)
        return Page(items=[CaisseCarePlan.from_model(r) for r in page.items],
                    total_count=page.total, offset=offset, limit=limit)

    @strawberry.field(description="Une prise en charge de la caisse ; null si elle n'en relève pas.",
                      permission_classes=BACK_OFFICE)
    async def caisse_care_plan(self, info: Info, id: strawberry.ID) -> CaisseCarePlan | None:
        key = parse_id(id)
        row = await back_office.get_care_plan(info.context.user, key) if key else None
        return CaisseCarePlan.from_model(row) if row else None

    @strawberry.field(description="Les conventions actives et suspendues des partenaires de "
                                  "la caisse, par partenaire.",
                      permission_classes=BACK_OFFICE)
    async def caisse_conventions(self, info: Info, offset: int = 0,
                                 limit: int | None = None) -> Page[CaisseConvention]:
        offset, limit = _window(info, offset, limit)
        page = await back_office.list_conventions(info.context.user, offset=offset, limit=limit)
        return Page(items=[CaisseConvention.from_model(r) for r in page.items],
                    total_count=page.total, offset=offset, limit=limit)

    @strawberry.field(description="Une convention de la caisse ; null si elle n'en relève pas.",
                      permission_classes=BACK_OFFICE)
    async def caisse_convention(self, info: Info, id: strawberry.ID) -> CaisseConvention | None:
        key = parse_id(id)
        row = await back_office.get_convention(info.context.user, key) if key else None
        return CaisseConvention.from_model(row) if row else None
