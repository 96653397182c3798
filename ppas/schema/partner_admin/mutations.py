"""Mutations of the partner administration; refusals come back as AdminError."""
from __future__ import annotations

import strawberry

from ppas.schema.context import Info
from ppas.schema.errors import errors_as_data
from ppas.schema.partner_admin.queries import acting_user
from ppas.schema.partner_admin.types import (
    AdminError,
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
from ppas.services.errors import AccessDenied, ServiceError
from ppas.services.partner_admin import PartnerData, UserData

UNKNOWN_ID = "Cet élément n'existe pas ou ne vous est pas accessible."


def _id(value: strawberry.ID) -> int:
    key = parse_id(value)
    if key is None:
        raise AccessDenied(UNKNOWN_ID)
    return key


def _user_data(data: CreatePartnerUserInput | UpdatePartnerUserInput) -> UserData:
    return UserData(last_name=data.last_name, first_name=data.first_name, email=data.email,
                    role=data.role, phone=data.phone, login=getattr(data, "login", ""))


@strawberry.type
class PartnerAdminMutations:
    @strawberry.mutation(description="Créer un utilisateur du partenaire ; un mot de passe "
                                     "provisoire lui est envoyé par courriel.")
    async def create_partner_user(self, info: Info,
                                  input: CreatePartnerUserInput) -> PartnerUserResult:
        context = info.context
        return await errors_as_data(
            partner_admin.create_user(
                acting_user(info), _user_data(input), settings=context.settings,
                now=context.now(), ip=context.client_ip),
            lambda created: PartnerUserSuccess(user=PartnerUser.from_model(created.user)),
            AdminError)

    @strawberry.mutation(description="Modifier le nom, le courriel, le téléphone ou le rôle "
                                     "d'un utilisateur.")
    async def update_partner_user(self, info: Info, id: strawberry.ID,
                                  input: UpdatePartnerUserInput) -> PartnerUserResult:
        return await errors_as_data(
            partner_admin.update_user(acting_user(info), _id(id), _user_data(input),
                ip=info.context.client_ip),
            lambda user: PartnerUserSuccess(user=PartnerUser.from_model(user)),
            AdminError)

    @strawberry.mutation(description="Désactiver un utilisateur : ses sessions prennent fin.")
    async def deactivate_partner_user(self, info: Info, id: strawberry.ID) -> PartnerUserResult:
        return await errors_as_data(
            partner_admin.deactivate_user(acting_user(info), _id(id),
                ip=info.context.client_ip),
            lambda user: PartnerUserSuccess(user=PartnerUser.from_model(user)),
            AdminError)

    @strawberry.mutation(description="Réactiver un utilisateur désactivé.")
    async def reactivate_partner_user(self, info: Info, id: strawberry.ID) -> PartnerUserResult:
        return await errors_as_data(
            partner_admin.reactivate_user(acting_user(info), _id(id),
                ip=info.context.client_ip),
            lambda user: PartnerUserSuccess(user=PartnerUser.from_model(user)),
            AdminError)

    @strawberry.mutation(description="Modifier les données du partenaire (journalisé).")
    async def update_partner(self, info: Info, input: PartnerDataInput) -> UpdatePartnerResult:
        data = PartnerData(name=input.name, address_line=input.address_line,
                           postal_code=input.postal_code, city=input.city, phone=input.phone,
                           email=input.email)
        return await errors_as_data(
            partner_admin.update_partner(acting_user(info), data,
                ip=info.context.client_ip),
            lambda partner: UpdatePartnerSuccess(partner=Partner.from_model(partner)),
            AdminError)

    @strawberry.mutation(description="Demander une nouvelle convention à la caisse.")
    async def request_convention(self, info: Info, prestation_code: str,
                                 comment: str = "") -> RequestConventionResult:
        return await errors_as_data(
            partner_admin.request_convention(
                acting_user(info), prestation_code, comment, now=info.context.now(),
                ip=info.context.client_ip),
            lambda row: RequestConventionSuccess(convention=Convention.from_model(row)),
            AdminError)

    @strawberry.mutation(description="Créer un jeton d'API nommé ; son secret n'est renvoyé "
                                     "qu'ici, une seule fois.")
    async def create_api_token(self, info: Info, name: str) -> CreateApiTokenResult:
        try:
            created = await api_tokens.create_token(acting_user(info), name,
                                                    ip=info.context.client_ip)
        except AccessDenied:
            raise
        except ServiceError as error:
            return AdminError.from_service(error)
        await created.token.fetch_related("created_by")
        return CreateApiTokenSuccess(token=ApiToken.from_model(created.token),
                                     secret=created.secret)

    @strawberry.mutation(description="Révoquer un jeton d'API : il ne donne plus accès à rien.")
    async def revoke_api_token(self, info: Info, id: strawberry.ID) -> RevokeApiTokenResult:
        return await errors_as_data(
            api_tokens.revoke_token(acting_user(info), _id(id),
                now=info.context.now(),
                ip=info.context.client_ip),
            lambda token: RevokeApiTokenSuccess(token=ApiToken.from_model(token)),
            AdminError)

    @strawberry.mutation(description="Valider (numéro et taux horaire) ou refuser une demande "
                                     "de convention (agents de la caisse).")
    async def decide_convention_request(
        self, info: Info, id: strawberry.ID, decision: ConventionDecision,
        number: str = "", hourly_rate: str = "", reason: str = "",
    ) -> DecideConventionRequestResult:
        return await errors_as_data(
            partner_admin.decide_convention_request(
                acting_user(info), _id(id), accept=decision == ConventionDecision.VALIDATE,
                number=number, hourly_rate=hourly_rate, reason=reason,
                settings=info.context.settings, now=info.context.now(),
                ip=info.context.client_ip),
            lambda row: DecideConventionRequestSuccess(convention=Convention.from_model(row)),
            AdminError)
