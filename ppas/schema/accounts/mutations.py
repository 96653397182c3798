"""Sign-in and sign-out mutations (the web form runs them too)."""
from __future__ import annotations

import strawberry

from ppas.schema.accounts.types import SignInError, SignInResult, SignInSuccess
from ppas.schema.context import Info
from ppas.schema.viewer import Viewer
from ppas.services import sessions
from ppas.services.sessions import SESSION_COOKIE
from ppas.services.sign_in import sign_in


@strawberry.type
class AccountMutations:
    @strawberry.mutation(description="Se connecter : chaque essai compte pour le blocage du compte.")
    async def sign_in(self, info: Info, login: str, password: str) -> SignInResult:
        context = info.context
        result = await sign_in(login.strip(), password, now=context.now(), ip=context.client_ip)
        if result.user is None:
            return SignInError(message=result.error)
        if context.request is not None:
            # A fresh session id at sign-in: a session fixed before sign-in is worthless.
            await sessions.close_session(context.request.cookies.get(SESSION_COOKIE))
        secret, _ = await sessions.open_session(result.user, context.now())
        if context.response is not None:
            settings = context.settings
            context.response.set_cookie(
                SESSION_COOKIE, secret, httponly=True, samesite="lax",
                secure=settings.secure_cookies, max_age=settings.session_absolute_hours * 3600,
                path="/",
            )
        user = result.user
        return SignInSuccess(viewer=Viewer(login=user.login, display_name=user.display_name,
                                           role=str(user.role)))

    @strawberry.mutation(description="Se déconnecter : la session en cours prend fin.")
    async def sign_out(self, info: Info) -> bool:
        request = info.context.request
        if request is not None:
            await sessions.close_session(request.cookies.get(SESSION_COOKIE))
        if info.context.response is not None:
            info.context.response.delete_cookie(SESSION_COOKIE, path="/")
        return True
