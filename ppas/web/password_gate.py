"""A temporary password opens one page only: « Nouveau mot de passe »."""
from __future__ import annotations

from starlette.datastructures import Headers
from starlette.responses import RedirectResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

CHANGE_PATH = "/mot-de-passe/nouveau"
# Still reachable: the change page, sign-out, a new temporary password, assets, and /graphql
# (where the services refuse everything but the change, see services/access.py).
OPEN_PATHS = frozenset({CHANGE_PATH, "/deconnexion", "/mot-de-passe-oublie", "/graphql",
                        "/sw.js"})
OPEN_PREFIXES = ("/static/",)


class PasswordChangeGate:
    """Sends a signed-in user who must change their password to the change page."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            state = scope.get("state", {})
            user = state.get("user")
            path = scope["path"]
            if (user is not None and user.must_change_password and not state.get("via_token")
                    and path not in OPEN_PATHS and not path.startswith(OPEN_PREFIXES)):
                headers = Headers(scope=scope)
                response: Response
                if headers.get("hx-request") == "true":
                    response = Response(status_code=204, headers={"HX-Redirect": CHANGE_PATH})
                else:
                    response = RedirectResponse(CHANGE_PATH, status_code=303)
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)
