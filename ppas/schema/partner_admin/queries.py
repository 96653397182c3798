"""Queries of the partner administration (and the caisse's view of convention requests)."""
from __future__ import annotations

import strawberry

from ppas.schema.context import Info
from ppas.schema.partner_admin.types import ApiToken, ConventionRequest, PartnerUser
from ppas.schema.partners.types import Convention, Partner
from ppas.services import api_tokens, partner_admin
from ppas.schema.permissions import CONVENTION_DESK, PARTNER_ADMINISTRATION

@strawberry.type
class PartnerAdminQueries:
    @strawberry.field(description="Les utilisateurs du partenaire (administrateur seulement).",
                      permission_classes=PARTNER_ADMINISTRATION)
    async def partner_users(self, info: Info) -> list[PartnerUser]:
        rows = await partner_admin.list_users(info.context.user)
        return [PartnerUser.from_model(row) for row in rows]

    @strawberry.field(description="Les jetons d'API du partenaire, révoqués compris "
                                  "(administrateur seulement).",
                      permission_classes=PARTNER_ADMINISTRATION)
    async def api_tokens(self, info: Info) -> list[ApiToken]:
        rows = await api_tokens.list_tokens(info.context.user)
        return [ApiToken.from_model(row) for row in rows]

    @strawberry.field(description="Les demandes de convention en attente (agents de la caisse).",
                      permission_classes=CONVENTION_DESK)
    async def convention_requests(self, info: Info) -> list[ConventionRequest]:
        rows = await partner_admin.list_convention_requests(info.context.user)
        return [
            ConventionRequest(
                id=strawberry.ID(str(row.convention.id)),
                convention=Convention.from_model(row.convention),
                partner=Partner.from_model(row.partner), comment=row.comment,
                requested_by=row.requested_by, requested_at=row.convention.requested_at,
            )
            for row in rows
        ]
