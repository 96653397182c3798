"""Results of the sign-in mutations."""
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


@strawberry.type(description="Connexion refusée.")
class SignInError(UserError):
    pass


SignInResult = Annotated[SignInSuccess | SignInError, strawberry.union("SignInResult")]
