"""A cap on every request body, counted as it arrives (with or without Content-Length)."""
from __future__ import annotations

from starlette.datastructures import Headers
from starlette.responses import JSONResponse, PlainTextResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ppas.services.errors import ErrorCode
from ppas.settings import Settings

UPLOAD_MARGIN = 64 * 1024  # multipart overhead allowed above the file size cap
UPLOAD_PAGE = "/fichiers/envoyer"


def body_cap(settings: Settings) -> int:
    """The most bytes a request body may have: the file size cap plus multipart overhead."""
    return settings.max_upload_bytes + UPLOAD_MARGIN


class BodyTooLarge(Exception):
    """The request body went past the cap; a route may catch it to explain in its own page."""

    def __init__(self, max_bytes: int) -> None:
        super().__init__(f"request body above {max_bytes} bytes")
        self.max_bytes = max_bytes


def too_large_message(max_bytes: int) -> str:
    """The refusal, in words the sender can act on."""
    return (f"Requête refusée : le contenu envoyé dépasse {max_bytes // (1024 * 1024)} Mo. "
            "Envoyez un fichier plus petit (découpez l'envoi en plusieurs fichiers).")


class BodySizeLimit:
    """Stops reading a body past `max_bytes`: a chunked upload cannot fill the disk.

    A declared Content-Length above the cap is refused before anything is read. Otherwise the
    bytes are counted as the app reads them; past the cap, reading raises BodyTooLarge, and
    unless the route turned it into its own page, the answer is 413.
    """

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = Headers(scope=scope).get("content-length", "")
        if length.isdigit() and int(length) > self.max_bytes and not _is_upload_page(scope):
            await self._refuse(scope, receive, send)
            return
        received = 0
        started = False

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise BodyTooLarge(self.max_bytes)
            return message

        async def watching_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counting_receive, watching_send)
        except BodyTooLarge:
            if started:
                raise
            await self._refuse(scope, receive, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        message = too_large_message(self.max_bytes)
        if scope["path"].startswith("/graphql"):
            response = JSONResponse({"errors": [{"message": message, "extensions": {
                "code": ErrorCode.PAYLOAD_TOO_LARGE.value}}]}, status_code=413)
        else:
            response = PlainTextResponse(message, status_code=413)
        response.headers["Connection"] = "close"  # the rest of the body is not read
        await response(scope, receive, send)


def _is_upload_page(scope: Scope) -> bool:
    # The billing-file page refuses an oversized declared length in its own words (F08).
    return scope["path"] == UPLOAD_PAGE and scope["method"] == "POST"
