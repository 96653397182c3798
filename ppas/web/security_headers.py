"""Browser hardening headers on every response."""
from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

HEADERS = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "same-origin",
    "permissions-policy": "camera=(), microphone=(), geolocation=()",
}
PAGE_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "frame-ancestors 'none'; form-action 'self'; base-uri 'self'"
)


def graphiql_policy(style_nonce: str) -> str:
    """The page policy of GraphiQL's page (/graphql), two sources wider, on that page only.

    * `font-src data:`: GraphiQL's stylesheet (served from node_modules) embeds its fonts as
      data: URLs; a font cannot run code.
    * a style nonce, drawn per response: when GraphiQL opens a menu or a dialog, its modal
      layer (Radix, react-remove-scroll) adds one `<style>` element that locks the page's
      scroll; it takes the nonce from `__webpack_nonce__`, which static/js/graphiql-setup.js
      sets. No other inline style is allowed; style attributes set through the CSSOM (React,
      CodeMirror) are not governed by CSP. Scripts stay `'self'` only.
    """
    return PAGE_POLICY.replace(
        "style-src 'self'", f"style-src 'self' 'nonce-{style_nonce}'; font-src 'self' data:")
# Production is served over https only: browsers must never try plain http again (a year).
# No includeSubDomains: the caisse's other hosts are not the portal's to decide.
STRICT_TRANSPORT = "max-age=31536000"
# Shared assets, the same for everyone: they may be cached even when a user asks for them.
PUBLIC_ASSETS = ("/static/", "/sw.js")


class SecurityHeadersMiddleware:
    """Adds nosniff, frame and referrer policies, and a CSP on portal pages.

    In production, HSTS on every response. Whatever the mode, a response to a signed-in
    user or an API token (page, fragment, GraphQL answer, CSV or PDF download) is
    `Cache-Control: no-store`: it holds personal data that no shared or back-button cache
    may keep after the session ends.
    """

    def __init__(self, app: ASGIApp, *, production: bool = False) -> None:
        self.app = app
        self.production = production

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        # IdentityMiddleware, further in, puts the user on this same state mapping.
        state = scope.setdefault("state", {})

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in HEADERS.items():
                    headers.setdefault(name, value)
                # GraphiQL's page sends its own (graphiql_policy); every other answer this one.
                headers.setdefault("content-security-policy", PAGE_POLICY)
                if self.production:
                    headers.setdefault("strict-transport-security", STRICT_TRANSPORT)
                if state.get("user") is not None and not scope["path"].startswith(PUBLIC_ASSETS):
                    headers["cache-control"] = "no-store"
            await send(message)

        await self.app(scope, receive, send_with_headers)
