"""Results of the account mutations: sign-in, password change, password reset."""
from __future__ import annotations

from typing import Annotated

import strawberry

from ppas.schema.errors import UserError
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
    pass


SignInResult = Annotated[SignInSuccess | SignInError, strawberry.union("SignInResult")]


@strawberry.type(description="Mot de passe changé ; les autres sessions du compte sont fermées.")
class ChangePasswordSuccess:
    message: str


@strawberry.type(description="Changement refusé ; `problems` liste chaque règle non respectée.")
class ChangePasswordError(UserError):
    problems: list[str] = strawberry.field(default_factory=list)


ChangePasswordResult = Annotated[ChangePasswordSuccess | ChangePasswordError,
                                 strawberry.union("ChangePasswordResult")]


@strawberry.type(description="Demande prise en compte ; la réponse est la même que le compte "
                             "existe ou non.")
class RequestPasswordResetSuccess:
    message: str


@strawberry.type(description="Demande incomplète.")
class RequestPasswordResetError(UserError):
    pass


RequestPasswordResetResult = Annotated[RequestPasswordResetSuccess | RequestPasswordResetError,
                                       strawberry.union("RequestPasswordResetResult")]
