"""GraphQL types of the partner administration."""
from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Annotated

import strawberry

from ppas import models
from ppas.schema.enums import Role
from ppas.schema.errors import PartnerAdminErrorCode, UserError
from ppas.schema.partners.types import Convention, Partner
from ppas.services.errors import ServiceError


def camel(name: str) -> str:
    """`last_name` → `lastName`: fields are named as in the schema."""
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


@strawberry.type(description="Un champ à corriger et pourquoi.")
class FieldProblem:
    field: str
    message: str


@strawberry.type(description="Refus d'une action d'administration ; `problems` détaille "
                             "chaque champ à corriger.")
class AdminError(UserError):
    code_enum = PartnerAdminErrorCode
    code: PartnerAdminErrorCode = strawberry.field(description="Code stable du refus.")
    problems: list[FieldProblem] = strawberry.field(default_factory=list)

    @classmethod
    def from_service(cls, error: ServiceError, info=None) -> AdminError:
        problems = getattr(error, "problems", None) or {}
        return cls(
            code=PartnerAdminErrorCode[error.code.name],
            message=error.message,
            field=camel(error.field) if error.field else None,
            problems=[FieldProblem(field=camel(name), message=text)
                      for name, text in problems.items()],
        )


@strawberry.type(description="Un utilisateur du partenaire, vu par son administrateur.")
class PartnerUser:
    id: strawberry.ID
    login: str
    last_name: str
    first_name: str
    display_name: str
    email: str
    phone: str
    role: Role
    active: bool
    locked: bool = strawberry.field(description="Bloqué après des essais manqués.")
    created_at: datetime

    @classmethod
    def from_model(cls, row: models.User) -> PartnerUser:
        return cls(
            id=strawberry.ID(str(row.id)), login=row.login, last_name=row.last_name,
            first_name=row.first_name, display_name=row.display_name, email=row.email,
            phone=row.phone, role=Role(row.role), active=row.active,
            locked=row.locked_at is not None, created_at=row.created_at,
        )


@strawberry.type(description="Jeton d'API d'un éditeur de logiciel ; son secret n'est "
                             "montré qu'à la création.")
class ApiToken:
    id: strawberry.ID
    name: str
    created_at: datetime
    created_by: str = strawberry.field(
        description="Identifiant de l'administrateur qui l'a créé.")
    last_used_at: datetime | None
    revoked_at: datetime | None

    @classmethod
    def from_model(cls, row: models.ApiToken) -> ApiToken:
        return cls(
            id=strawberry.ID(str(row.id)), name=row.name, created_at=row.created_at,
            created_by=row.created_by.login, last_used_at=row.last_used_at,
            revoked_at=row.revoked_at,
        )


@strawberry.type(description="Demande de convention en attente de la caisse.")
class ConventionRequest:
    id: strawberry.ID
    convention: Convention
    partner: Partner
    comment: str
    requested_by: str
    requested_at: datetime | None


@strawberry.enum(description="Décision de la caisse sur une demande de convention.")
class ConventionDecision(Enum):
    VALIDATE = "validate"
    REFUSE = "refuse"


@strawberry.input(description="Nouvel utilisateur du partenaire.")
class CreatePartnerUserInput:
    login: str
    last_name: str
    first_name: str
    email: str
    role: Role = strawberry.field(description="PARTNER_USER, PARTNER_ADMIN ou EVALUATOR.")
    phone: str = ""


@strawberry.input(description="Modification d'un utilisateur (l'identifiant ne change pas).")
class UpdatePartnerUserInput:
    last_name: str
    first_name: str
    email: str
    role: Role = strawberry.field(description="PARTNER_USER, PARTNER_ADMIN ou EVALUATOR.")
    phone: str = ""


@strawberry.input(description="Données du partenaire ; l'identifiant structure ne se modifie pas.")
class PartnerDataInput:
    name: str
    address_line: str
    postal_code: str
    city: str
    phone: str = ""
    email: str = ""


@strawberry.type
class PartnerUserSuccess:
    user: PartnerUser


@strawberry.type
class UpdatePartnerSuccess:
    partner: Partner


@strawberry.type
class RequestConventionSuccess:
    convention: Convention


@strawberry.type
class CreateApiTokenSuccess:
    token: ApiToken
    secret: str = strawberry.field(
        description="Le jeton à transmettre à l'éditeur : affiché cette seule fois.")


@strawberry.type
class RevokeApiTokenSuccess:
    token: ApiToken


@strawberry.type
class DecideConventionRequestSuccess:
    convention: Convention


PartnerUserResult = Annotated[PartnerUserSuccess | AdminError,
                              strawberry.union("PartnerUserResult")]
UpdatePartnerResult = Annotated[UpdatePartnerSuccess | AdminError,
                                strawberry.union("UpdatePartnerResult")]
RequestConventionResult = Annotated[RequestConventionSuccess | AdminError,
                                    strawberry.union("RequestConventionResult")]
CreateApiTokenResult = Annotated[CreateApiTokenSuccess | AdminError,
                                 strawberry.union("CreateApiTokenResult")]
RevokeApiTokenResult = Annotated[RevokeApiTokenSuccess | AdminError,
                                 strawberry.union("RevokeApiTokenResult")]
DecideConventionRequestResult = Annotated[DecideConventionRequestSuccess | AdminError,
                                          strawberry.union("DecideConventionRequestResult")]
