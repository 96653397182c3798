"""Account mutations (the web forms run them too): sign-in and out, password change, reset."""
from __future__ import annotations

import strawberry

from ppas.schema.accounts.types import (
    ChangePasswordResult,
    ChangePasswordSuccess,
    RequestPasswordResetResult,
    RequestPasswordResetSuccess,
    SignInError,
    SignInResult,
    SignInSuccess,
)
from ppas.schema.context import Info
from ppas.schema.errors import AccountErrorCode
from ppas.schema.permissions import NotWithApiToken
from ppas.schema.viewer import Viewer
from ppas.services import sessions
from ppas.services.passwords import change_password, request_password_reset
from ppas.services.rate_limits import PASSWORD_RESET, SIGN_IN
from ppas.services.sessions import SESSION_COOKIE
from ppas.services.sign_in import sign_in
from ppas import metrics


@strawberry.type
class AccountMutations:
    @strawberry.mutation(description="Se connecter : chaque essai compte pour le blocage du compte.")
    async def sign_in(self, info: Info, login: str, password: str) -> SignInResult:
        context = info.context
        # Counted per field: each alias of a document is one more try (and one more argon2).
        await context.limit(SIGN_IN)
        result = await sign_in(login.strip(), password, now=context.now(), ip=context.client_ip,
                               policy=context.settings.password_rules)
        if result.user is None:
            metrics.SIGN_IN_FAILURES.labels(result.code.name).inc()
            return SignInError(code=AccountErrorCode[result.code.name], message=result.error)
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
                                           role=user.role),
                             warning=result.warning or None,
                             must_change_password=result.must_change_password)

    @strawberry.mutation(description="Se déconnecter : la session en cours prend fin.")
    async def sign_out(self, info: Info) -> bool:
        request = info.context.request
        if request is not None:
            await sessions.close_session(request.cookies.get(SESSION_COOKIE))
        if info.context.response is not None:
            info.context.response.delete_cookie(SESSION_COOKIE, path="/")
        return True

    # Not SignedIn: a temporary password must be changeable; the service refuses anonymity.
    @strawberry.mutation(description="Changer son mot de passe (obligatoire après un mot de passe "
                                     "temporaire) ; les autres sessions du compte prennent fin.",
                         permission_classes=[NotWithApiToken])
    async def change_password(self, info: Info, login: str, old_password: str,
                              new_password: str, confirmation: str) -> ChangePasswordResult:
        context = info.context
        message = await change_password(
            context.user, login, old_password, new_password, confirmation,
            settings=context.settings, now=context.now(), ip=context.client_ip,
            keep_session_id=context.session_id)
        return ChangePasswordSuccess(message=message)

    @strawberry.mutation(description="Mot de passe oublié : un mot de passe temporaire est envoyé "
                                     "par courriel si l'identifiant et l'adresse correspondent.")
    async def request_password_reset(self, info: Info, login: str,
                                     email: str) -> RequestPasswordResetResult:
        context = info.context
        await context.limit(PASSWORD_RESET)  # a GraphQL error (429), not a refusal as data
        message = await request_password_reset(login, email, settings=context.settings,
                                               now=context.now(), ip=context.client_ip)
        return RequestPasswordResetSuccess(message=message)
