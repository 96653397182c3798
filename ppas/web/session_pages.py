"""Signing in again without losing a page: the current CSRF token, and the page that says so.

A page left open past the session's end (the online form, typically) keeps what was typed.
Once its user has signed in again in another tab, the page fetches the new session's token
here and sends its unsaved lines again. The token is readable only by same-origin scripts
(no CORS header), which is what a CSRF token needs.
"""
from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ppas.web.guards import signed_in
from ppas.web.templating import render

RESTORED_PATH = "/session/retablie"


async def current_token(request: Request) -> Response:
    signed = request.state.user is not None and not request.state.via_token
    body = {"signedIn": signed, "csrfToken": request.state.csrf_token if signed else None}
    return JSONResponse(body, headers={"Cache-Control": "no-store"})


@signed_in
async def restored(request: Request) -> Response:
    return render(request, "pages/session_restored.html")


routes = [
    Route("/session/jeton", current_token, methods=["GET"]),
    Route(RESTORED_PATH, restored, methods=["GET"]),
]
