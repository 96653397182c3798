"""Queries on the signed-in user's partner."""
from __future__ import annotations

import strawberry

from ppas.schema.permissions import PARTNER
from ppas.schema.context import Info
from ppas.schema.partners.types import Convention, Partner
from ppas.services import partner_data


@strawberry.type
class PartnerQueries:
    @strawberry.field(description="Le partenaire de l'utilisateur connecté.",
                      permission_classes=PARTNER)
    async def partner(self, info: Info) -> Partner:
        return Partner.from_model(await partner_data.own_partner(info.context.user))

    @strawberry.field(description="Les conventions du partenaire.",
                      permission_classes=PARTNER)
    async def conventions(self, info: Info) -> list[Convention]:
        rows = await partner_data.own_conventions(info.context.user)
        return [Convention.from_model(row) for row in rows]
