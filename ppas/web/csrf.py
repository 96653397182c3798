"""CSRF check on every cookie-authenticated write."""
from __future__ import annotations

import hmac
from urllib.parse import parse_qs

from starlette.datastructures import Headers
from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
FORM_FIELD = "csrf_token"
HEADER = "x-csrf-token"
MAX_FORM_BYTES = 1024 * 1024
REFUSED = (
    "Requête refusée : le jeton de sécurité du formulaire est absent ou périmé. "
    "Rechargez la page puis recommencez."
)


class CsrfMiddleware:
    """Refuses unsafe requests whose token (header or form field) is not the session's."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in SAFE_METHODS:
            await self.app(scope, receive, send)
            return
        state = scope.get("state", {})
        if state.get("via_token"):
            # Bearer requests carry no ambient credential a third-party page could reuse.
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        supplied = headers.get(HEADER)
        replay: list[Message] = []
        content_type = headers.get("content-type", "")
        if supplied is None and content_type.startswith("application/x-www-form-urlencoded"):
            body = b""
            while True:
                message = await receive()
                replay.append(message)
                body += message.get("body", b"")
                if len(body) > MAX_FORM_BYTES:
                    await PlainTextResponse("Formulaire trop volumineux.", 413)(scope, receive, send)
                    return
                if not message.get("more_body"):
                    break
            supplied = (parse_qs(body.decode("latin-1")).get(FORM_FIELD) or [None])[0]
        expected = state.get("csrf_token")
        if not supplied or not expected or not hmac.compare_digest(supplied, expected):
            await PlainTextResponse(REFUSED, status_code=403)(scope, receive, send)
            return

        async def replaying_receive() -> Message:
            return replay.pop(0) if replay else await receive()

        await self.app(scope, replaying_receive, send)
