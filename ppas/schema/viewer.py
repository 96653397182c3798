"""The signed-in user, as the UI and vendors see themselves."""
from __future__ import annotations

import strawberry

from ppas.domain.roles import Role
from ppas.schema.context import Info
from ppas.schema.enums import RoleEnum
from ppas.schema.permissions import SignedIn



@strawberry.type(description="L'utilisateur connecté.")
class Viewer:
    login: str
    display_name: str
    role: RoleEnum


@strawberry.type
class ViewerQueries:
    @strawberry.field(description="L'utilisateur connecté.", permission_classes=[SignedIn])
    def me(self, info: Info) -> Viewer:
        user = info.context.user
        return Viewer(login=user.login, display_name=user.display_name, role=Role(user.role))
