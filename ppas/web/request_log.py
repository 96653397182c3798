"""One log line and one latency observation per request; the request id; unexpected errors.

Outermost of the portal's middlewares (pure ASGI):
* `X-Request-ID`: the client's (or the proxy's) when it is 8–64 characters of
  [A-Za-z0-9._-], else a new one; returned on every response, set in the logging contextvar
  so every record logged while serving carries it (ppas/logs.py), and shown in the masked
  GraphQL error (ppas/schema/extensions/masking.py).
* the line: method, route template (never the raw path: it may hold a token), status,
  duration in ms, request id, user id. No query string, header, body or name.
* an exception no layer handled: logged once here, with its traceback and request id, and
  answered 500 in French with the id to quote (never re-raised: uvicorn would log it again).
"""
from __future__ import annotations

import logging
import re
import secrets
import time

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ppas import metrics
from ppas.logs import REQUEST_ID

HEADER = "x-request-id"
_VALID_ID = re.compile(r"[A-Za-z0-9._-]{8,64}")
UNMATCHED = "<unmatched>"
UNEXPECTED = ("Une erreur inattendue s'est produite. Réessayez ; si elle persiste, contactez "
              "la caisse en donnant la référence {request_id}.")

request_logger = logging.getLogger("ppas.request")
error_logger = logging.getLogger("ppas.error")


def request_id_from(scope: Scope) -> str:
    """The caller's request id when well-formed, else a new one."""
    for name, value in scope.get("headers", ()):
        if name == b"x-request-id":
            supplied = value.decode("latin-1").strip()
            if _VALID_ID.fullmatch(supplied):
                return supplied
            break
    return secrets.token_hex(16)


def route_template(scope: Scope) -> str:
    """The matched route's path template ("/fichiers/{file_id}"), bounded by the route table."""
    route = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) and path else UNMATCHED


class RequestLogMiddleware:
    """Request id, the request's log line and latency metric, the unexpected error's log."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = request_id_from(scope)
        token = REQUEST_ID.set(request_id)
        state = scope.setdefault("state", {})
        state["request_id"] = request_id
        started = time.perf_counter()
        status = 500
        response_started = False

        async def send_with_id(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                response_started = True
                status = message["status"]
                MutableHeaders(scope=message)["x-request-id"] = request_id
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception:  # noqa: BLE001 - the one place an unexpected error is logged
            error_logger.exception("unexpected error on %s %s", scope["method"],
                                   route_template(scope))
            if not response_started:
                await _internal_error(request_id, send_with_id)
        finally:
            elapsed = time.perf_counter() - started
            route = route_template(scope)
            user = state.get("user")
            metrics.REQUEST_LATENCY.labels(scope["method"], route, str(status)).observe(elapsed)
            request_logger.info(
                "%s %s %s %.1fms", scope["method"], route, status, elapsed * 1000,
                extra={"method": scope["method"], "route": route, "status": status,
                       "duration_ms": round(elapsed * 1000, 1),
                       "user_id": getattr(user, "id", None)})
            REQUEST_ID.reset(token)


async def _internal_error(request_id: str, send: Send) -> None:
    body = UNEXPECTED.format(request_id=request_id).encode("utf-8")
    await send({"type": "http.response.start", "status": 500,
                "headers": [(b"content-type", b"text/plain; charset=utf-8"),
                            (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})
