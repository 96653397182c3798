"""Results of the account mutations: sign-in, password change, password reset."""
from __future__ import annotations

from typing import Annotated

import strawberry

from ppas.schema.errors import AccountErrorCode, UserError
from ppas.services.errors import ServiceError
from ppas.schema.viewer import Viewer


@strawberry.type(description="Connexion réussie ; la session est portée par un cookie.")
class SignInSuccess:
    viewer: Viewer
    warning: str | None = strawberry.field(
        default=None, description="Avertissement à afficher (mot de passe bientôt expiré…)."
    )
    must_change_password: bool = strawberry.field(
        default=False,
        description="Mot de passe temporaire : seul le changement de mot de passe est permis.",
    )


@strawberry.type(description="Connexion refusée.")
class SignInError(UserError):
    code_enum = AccountErrorCode
    code: AccountErrorCode = strawberry.field(description="Code stable du refus.")


SignInResult = Annotated[SignInSuccess | SignInError, strawberry.union("SignInResult")]


@strawberry.type(description="Mot de passe changé ; les autres sessions du compte sont fermées.")
class ChangePasswordSuccess:
    message: str


@strawberry.type(description="Changement refusé ; `problems` liste chaque règle non respectée.")
class ChangePasswordError(UserError):
    code_enum = AccountErrorCode
    code: AccountErrorCode = strawberry.field(description="Code stable du refus.")
    problems: list[str] = strawberry.field(default_factory=list)

    @classmethod
    def from_service(cls, error: ServiceError, info=None) -> ChangePasswordError:
        # Every broken password rule, or the one refusal as a list of one.
        return cls(code=AccountErrorCode[error.code.name], message=error.message,
                   field=error.field, problems=getattr(error, "problems", None) or [error.message])


ChangePasswordResult = Annotated[ChangePasswordSuccess | ChangePasswordError,
                                 strawberry.union("ChangePasswordResult")]


@strawberry.type(description="Demande prise en compte ; la réponse est la même que le compte "
                             "existe ou non.")
class RequestPasswordResetSuccess:
    message: str


@strawberry.type(description="Demande incomplète.")
class RequestPasswordResetError(UserError):
    code_enum = AccountErrorCode
    code: AccountErrorCode = strawberry.field(description="Code stable du refus.")


RequestPasswordResetResult = Annotated[RequestPasswordResetSuccess | RequestPasswordResetError,
                                       strawberry.union("RequestPasswordResetResult")]
