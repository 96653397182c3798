"""Who is asking: the session cookie or a bearer token, loaded once per request."""
from __future__ import annotations

import secrets
from http.cookies import SimpleCookie

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ppas.services.api_tokens import user_for_token
from ppas.services.errors import ErrorCode
from ppas.services.sessions import SESSION_COOKIE, SessionLimits, find_session
from ppas.web.graphql_errors import json_error

__all__ = ["CSRF_COOKIE", "SESSION_COOKIE", "IdentityMiddleware"]
CSRF_COOKIE = "ppas_csrf"
INVALID_TOKEN = ("Jeton d'API invalide, révoqué ou dont le compte est désactivé : demandez "
                 "un nouveau jeton à l'administrateur de votre structure (Administration › "
                 "Jetons d'API).")


def bearer_token(headers: Headers) -> str | None:
    """The token of an `Authorization: Bearer …` header, if any."""
    scheme, _, token = headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer":
        return None
    return token.strip() or None


class IdentityMiddleware:
    """Puts `user`, `session`, `csrf_token` and `via_token` on the request state."""

    def __init__(self, app: ASGIApp, *, limits: SessionLimits, clock, secure: bool) -> None:
        self.app = app
        self.limits = limits
        self.clock = clock
        self.secure = secure

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        state = scope.setdefault("state", {})
        state.update(user=None, session=None, via_token=False, csrf_token=None,
                     session_expired=False)
        token = bearer_token(headers)
        if token is not None:
            # A bearer request never uses cookies, so it cannot ride on a browser session.
            state["via_token"] = True
            state["user"] = await user_for_token(token, self.clock.now())
            if state["user"] is None:
                # A token that opens nothing is not served as anonymous: the software must
                # learn that its credential is wrong (RFC 6750).
                await json_error(INVALID_TOKEN, ErrorCode.UNAUTHENTICATED, 401, headers={
                    "WWW-Authenticate": 'Bearer realm="ppas", error="invalid_token"',
                })(scope, receive, send)
                return
            await self.app(scope, receive, send)
            return
        cookies = SimpleCookie(headers.get("cookie", ""))
        secret = cookies[SESSION_COOKIE].value if SESSION_COOKIE in cookies else None
        session = await find_session(secret, self.clock.now(), self.limits)
        # A session cookie that opens nothing: the session timed out or was closed. A page
        # still open from it must say so (and keep what was typed), not fail as a forgery.
        state["session_expired"] = secret is not None and session is None
        anonymous_csrf = cookies[CSRF_COOKIE].value if CSRF_COOKIE in cookies else None
        new_csrf = None
        if session is not None:
            state.update(user=session.user, session=session, csrf_token=session.csrf_token)
        elif anonymous_csrf:
            state["csrf_token"] = anonymous_csrf
        else:
            new_csrf = state["csrf_token"] = secrets.token_urlsafe(32)

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start" and new_csrf:
                response_headers = MutableHeaders(scope=message)
                flags = "; Secure" if self.secure else ""
                response_headers.append(
                    "set-cookie",
                    f"{CSRF_COOKIE}={new_csrf}; Path=/; HttpOnly; SameSite=Lax{flags}",
                )
            await send(message)

        await self.app(scope, receive, send_with_cookie)
