"""Mutations of the partner administration; refusals come back as AdminError."""
from __future__ import annotations

import strawberry

from ppas.schema.context import Info
from ppas.schema.permissions import CONVENTION_DESK, PARTNER_ADMINISTRATION
from ppas.schema.partner_admin.types import (
    ApiToken,
    ConventionDecision,
    CreateApiTokenResult,
    CreateApiTokenSuccess,
    CreatePartnerUserInput,
    DecideConventionRequestResult,
    DecideConventionRequestSuccess,
    PartnerDataInput,
    PartnerUser,
    PartnerUserResult,
    PartnerUserSuccess,
    RequestConventionResult,
    RequestConventionSuccess,
    RevokeApiTokenResult,
    RevokeApiTokenSuccess,
    UpdatePartnerResult,
    UpdatePartnerSuccess,
    UpdatePartnerUserInput,
)
from ppas.schema.ids import parse_id
from ppas.schema.partners.types import Convention, Partner
from ppas.services import api_tokens, partner_admin
from ppas.services.errors import NotFound
from ppas.services.partner_admin import PartnerData, UserData

UNKNOWN_ID = "Cet élément n'existe pas ou ne vous est pas accessible."


def _id(value: strawberry.ID) -> int:
    """A malformed id is NOT_FOUND, like someone else's object."""
    key = parse_id(value)
    if key is None:
        raise NotFound(UNKNOWN_ID)
    return key


def _user_data(data: CreatePartnerUserInput | UpdatePartnerUserInput) -> UserData:
    return UserData(last_name=data.last_name, first_name=data.first_name, email=data.email,
                    role=data.role.value, phone=data.phone, login=getattr(data, "login", ""))


# Refusals of what is asked become AdminError through the schema's exception handlers
# (ppas/schema/errors.py); who may ask is declared on each field.
@strawberry.type
class PartnerAdminMutations:
    @strawberry.mutation(description="Créer un utilisateur du partenaire ; un mot de passe "
                                     "provisoire lui est envoyé par courriel.",
                       permission_classes=PARTNER_ADMINISTRATION)
    async def create_partner_user(self, info: Info,
                                  input: CreatePartnerUserInput) -> PartnerUserResult:
        context = info.context
        created = await partner_admin.create_user(
                info.context.user, _user_data(input), settings=context.settings,
                now=context.now(), ip=context.client_ip)
        return PartnerUserSuccess(user=PartnerUser.from_model(created.user))

    @strawberry.mutation(description="Modifier le nom, le courriel, le téléphone ou le rôle "
                                     "d'un utilisateur.",
                       permission_classes=PARTNER_ADMINISTRATION)
    async def update_partner_user(self, info: Info, id: strawberry.ID,
                                  input: UpdatePartnerUserInput) -> PartnerUserResult:
        user = await partner_admin.update_user(info.context.user, _id(id), _user_data(input),
                ip=info.context.client_ip)
        return PartnerUserSuccess(user=PartnerUser.from_model(user))

    @strawberry.mutation(description="Désactiver un utilisateur : ses sessions prennent fin.",
                       permission_classes=PARTNER_ADMINISTRATION)
    async def deactivate_partner_user(self, info: Info, id: strawberry.ID) -> PartnerUserResult:
        user = await partner_admin.deactivate_user(info.context.user, _id(id),
                ip=info.context.client_ip)
        return PartnerUserSuccess(user=PartnerUser.from_model(user))

    @strawberry.mutation(description="Réactiver un utilisateur désactivé.",
                       permission_classes=PARTNER_ADMINISTRATION)
    async def reactivate_partner_user(self, info: Info, id: strawberry.ID) -> PartnerUserResult:
        user = await partner_admin.reactivate_user(info.context.user, _id(id),
                ip=info.context.client_ip)
        return PartnerUserSuccess(user=PartnerUser.from_model(user))

    @strawberry.mutation(description="Modifier les données du partenaire (journalisé).",
                       permission_classes=PARTNER_ADMINISTRATION)
    async def update_partner(self, info: Info, input: PartnerDataInput) -> UpdatePartnerResult:
        data = PartnerData(name=input.name, address_line=input.address_line,
                           postal_code=input.postal_code, city=input.city, phone=input.phone,
                           email=input.email)
        partner = await partner_admin.update_partner(info.context.user, data,
                ip=info.context.client_ip)
        return UpdatePartnerSuccess(partner=Partner.from_model(partner))

    @strawberry.mutation(description="Demander une nouvelle convention à la caisse.",
                       permission_classes=PARTNER_ADMINISTRATION)
    async def request_convention(self, info: Info, prestation_code: str,
                                 comment: str = "") -> RequestConventionResult:
        row = await partner_admin.request_convention(
                info.context.user, prestation_code, comment, now=info.context.now(),
                ip=info.context.client_ip)
        return RequestConventionSuccess(convention=Convention.from_model(row))

    @strawberry.mutation(description="Créer un jeton d'API nommé ; son secret n'est renvoyé "
                                     "qu'ici, une seule fois.",
                       permission_classes=PARTNER_ADMINISTRATION)
    async def create_api_token(self, info: Info, name: str) -> CreateApiTokenResult:
        created = await api_tokens.create_token(info.context.user, name,
                                                ip=info.context.client_ip)
        await created.token.fetch_related("created_by")
        return CreateApiTokenSuccess(token=ApiToken.from_model(created.token),
                                     secret=created.secret)

    @strawberry.mutation(description="Révoquer un jeton d'API : il ne donne plus accès à rien.",
                       permission_classes=PARTNER_ADMINISTRATION)
    async def revoke_api_token(self, info: Info, id: strawberry.ID) -> RevokeApiTokenResult:
        token = await api_tokens.revoke_token(info.context.user, _id(id),
                now=info.context.now(),
                ip=info.context.client_ip)
        return RevokeApiTokenSuccess(token=ApiToken.from_model(token))

    @strawberry.mutation(description="Valider (numéro et taux horaire) ou refuser une demande "
                                     "de convention (agents de la caisse).",
                       permission_classes=CONVENTION_DESK)
    async def decide_convention_request(
        self, info: Info, id: strawberry.ID, decision: ConventionDecision,
        number: str = "", hourly_rate: str = "", reason: str = "",
    ) -> DecideConventionRequestResult:
        row = await partner_admin.decide_convention_request(
                info.context.user, _id(id), accept=decision == ConventionDecision.VALIDATE,
                number=number, hourly_rate=hourly_rate, reason=reason,
                settings=info.context.settings, now=info.context.now(),
                ip=info.context.client_ip)
        return DecideConventionRequestSuccess(convention=Convention.from_model(row))
