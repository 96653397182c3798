"""The signed-in user, as the UI and vendors see themselves."""
from __future__ import annotations

import strawberry

from ppas.schema.context import Info
from ppas.services.errors import AccessDenied


@strawberry.type(description="L'utilisateur connecté.")
class Viewer:
    login: str
    display_name: str
    role: str


@strawberry.type
class ViewerQueries:
    @strawberry.field(description="L'utilisateur connecté.")
    def me(self, info: Info) -> Viewer:
        user = info.context.user
        if user is None:
            raise AccessDenied("Connectez-vous pour accéder à cette information.")
        return Viewer(login=user.login, display_name=user.display_name, role=str(user.role))
