"""CSRF check on every cookie-authenticated write.

On /graphql, a POST that carries no session cookie and a JSON body needs no token: it has no
ambient credential to abuse, and a page of another site cannot send a JSON body without a
CORS preflight, which the portal never grants. So vendors' software (and the graphql-http
audit) may call it with a bearer token or anonymously; a signed-in browser still sends
X-CSRF-Token, and a form-encoded, multipart or text body still needs it. Refusals on /graphql
are JSON with `extensions.code`.
"""
from __future__ import annotations

import hmac
from http.cookies import SimpleCookie
from urllib.parse import parse_qs

from python_multipart.multipart import parse_options_header
from starlette.datastructures import Headers
from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ppas.services.errors import ErrorCode
from ppas.services.sessions import SESSION_COOKIE
from ppas.web.graphql_errors import is_graphql, json_error

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
FORM_FIELD = "csrf_token"
HEADER = "x-csrf-token"
MAX_FORM_BYTES = 1024 * 1024
MAX_FIRST_PART_BYTES = 8 * 1024
REFUSED = (
    "Requête refusée : le jeton de sécurité du formulaire est absent ou périmé. "
    "Rechargez la page puis recommencez."
)
SESSION_EXPIRED = (
    "Votre session a expiré : rien n'a été enregistré. Reconnectez-vous (dans un nouvel onglet "
    "pour garder cette page), puis enregistrez à nouveau."
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
        if is_graphql(scope) and _without_credential_json(headers):
            await self.app(scope, receive, send)
            return
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
        elif supplied is None and content_type.startswith("multipart/form-data"):
            # A file form sent without JavaScript: its token must be its first field (browsers
            # send fields in page order), so only the body's first part is read here.
            boundary = _boundary(content_type)
            head = b""
            while boundary and head.count(boundary) < 2 and len(head) <= MAX_FIRST_PART_BYTES:
                message = await receive()
                replay.append(message)
                head += message.get("body", b"")
                if not message.get("more_body"):
                    break
            supplied = _first_part_token(head, boundary) if boundary else None
        expected = state.get("csrf_token")
        # Bytes, not text: compare_digest raises on non-ASCII text (a crafted header).
        if not supplied or not expected or not hmac.compare_digest(
                supplied.encode("utf-8", "surrogateescape"), expected.encode()):
            # 401 tells a page's script "sign in again, then send the same thing": its token
            # belonged to the session that ended. 403 stays for a token that is simply wrong.
            if is_graphql(scope):
                expired = bool(state.get("session_expired"))
                await json_error(SESSION_EXPIRED if expired else REFUSED,
                                 ErrorCode.UNAUTHENTICATED if expired
                                 else ErrorCode.CSRF_TOKEN_INVALID,
                                 401 if expired else 403,
                                 headers=None if expired else {"X-PPAS-Refus": "jeton"},
                                 )(scope, receive, send)
            elif state.get("session_expired"):
                await PlainTextResponse(SESSION_EXPIRED, status_code=401)(scope, receive, send)
            else:
                await PlainTextResponse(REFUSED, status_code=403,
                                        headers={"X-PPAS-Refus": "jeton"})(scope, receive, send)
            return

        async def replaying_receive() -> Message:
            return replay.pop(0) if replay else await receive()

        await self.app(scope, replaying_receive, send)


# Bodies a page of another site may send without a CORS preflight (the Fetch standard's
# CORS-safelisted request content types): they always need the token.
_SIMPLE_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data", "text/plain")


def _without_credential_json(headers: Headers) -> bool:
    """No session cookie, and a body type that needs a preflight (application/json…)."""
    if SESSION_COOKIE in SimpleCookie(headers.get("cookie", "")):
        return False
    content_type = headers.get("content-type", "").split(";")[0].strip().lower()
    return bool(content_type) and content_type not in _SIMPLE_TYPES


def _boundary(content_type: str) -> bytes | None:
    _, options = parse_options_header(content_type)
    value = options.get(b"boundary")
    return b"--" + value if value else None


def _first_part_token(head: bytes, boundary: bytes) -> str | None:
    """The value of the body's first part when that part is the CSRF field, else None."""
    parts = head.split(boundary)
    if len(parts) < 3:  # the first part is not complete within the bytes read
        return None
    headers, found, value = parts[1].partition(b"\r\n\r\n")
    if not found:
        return None
    for line in headers.split(b"\r\n"):
        name, _, rest = line.partition(b":")
        if name.strip().lower() == b"content-disposition":
            kind, options = parse_options_header(rest.strip())
            if kind == b"form-data" and options.get(b"name") == FORM_FIELD.encode() \
                    and b"filename" not in options:
                return value.removesuffix(b"\r\n").decode("latin-1")
    return None
