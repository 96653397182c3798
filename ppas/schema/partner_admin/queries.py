"""Queries of the partner administration (and the caisse's view of convention requests)."""
from __future__ import annotations

import strawberry

from ppas.models import User
from ppas.schema.context import Info
from ppas.schema.partner_admin.types import ApiToken, ConventionRequest, PartnerUser
from ppas.schema.partners.types import Convention, Partner
from ppas.services import api_tokens, partner_admin
from ppas.services.errors import AccessDenied

NOT_WITH_A_TOKEN = ("L'administration du compte partenaire ne se fait pas avec un jeton d'API : "
                    "connectez-vous au portail avec votre identifiant.")


def acting_user(info: Info) -> User | None:
    """The signed-in user, refusing API tokens: a vendor's token bills, it never administers
    (it could otherwise mint more tokens or users)."""
    request = info.context.request
    if request is not None and getattr(request.state, "via_token", False):
        raise AccessDenied(NOT_WITH_A_TOKEN)
    return info.context.user


@strawberry.type
class PartnerAdminQueries:
    @strawberry.field(description="Les utilisateurs du partenaire (administrateur seulement).")
    async def partner_users(self, info: Info) -> list[PartnerUser]:
        rows = await partner_admin.list_users(acting_user(info))
        return [PartnerUser.from_model(row) for row in rows]

    @strawberry.field(description="Les jetons d'API du partenaire, révoqués compris "
                                  "(administrateur seulement).")
    async def api_tokens(self, info: Info) -> list[ApiToken]:
        rows = await api_tokens.list_tokens(acting_user(info))
        return [ApiToken.from_model(row) for row in rows]

    @strawberry.field(description="Les demandes de convention en attente (agents de la caisse).")
    async def convention_requests(self, info: Info) -> list[ConventionRequest]:
        rows = await partner_admin.list_convention_requests(acting_user(info))
        return [
            ConventionRequest(
                id=strawberry.ID(str(row.convention.id)),
                convention=Convention.from_model(row.convention),
                partner=Partner.from_model(row.partner), comment=row.comment,
                requested_by=row.requested_by, requested_at=row.convention.requested_at,
            )
            for row in rows
        ]
