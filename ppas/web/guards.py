"""Route helpers: sign-in requirement and the operation context."""
from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import wraps
from typing import Any
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response

from ppas.domain.ids import plain_number
from ppas.schema.context import Context
from ppas.web.csrf import SESSION_EXPIRED
from ppas.web.operations import OperationFailed
from ppas.web.templating import is_htmx, render

Handler = Callable[[Request], Awaitable[Response]]


# Far past any list's end, and small enough that (page - 1) × page size stays a GraphQL Int
# (a bigger offset would fail the operation's variable coercion instead of showing a page).
MAX_PAGE = 100_000


def page_number(value: object) -> int:
    """A 1-based page number from a query or form value; anything else is page 1."""
    return max(plain_number(value, MAX_PAGE) or 1, 1)


def redirect(request: Request, url: str) -> Response:
    """A redirect that htmx follows as a full navigation."""
    if is_htmx(request):
        return Response(status_code=204, headers={"HX-Redirect": url})
    return RedirectResponse(url, status_code=303)


def signed_in(handler: Handler) -> Handler:
    """Send anonymous visitors to the sign-in page, then back here."""

    @wraps(handler)
    async def guarded(request: Request) -> Response:
        if request.state.user is None:
            if is_htmx(request) and request.method != "GET":
                # A write from a page still open (an autosave): navigating to the sign-in page
                # would throw away what was typed there; the page's script says so instead.
                return PlainTextResponse(SESSION_EXPIRED, status_code=401)
            return redirect(request, f"/connexion?suivant={quote(request.url.path)}")
        return await handler(request)

    return guarded


def session_id(request: Request) -> int | None:
    """The id of the browser session the request rides on (None: anonymous or a token)."""
    session = getattr(request.state, "session", None)
    return session.id if session is not None else None


def operation_context(request: Request, response: Response | None = None) -> Context:
    """The GraphQL context for an operation run on behalf of this request."""
    return Context(
        request=request,
        user=request.state.user,
        via_token=bool(getattr(request.state, "via_token", False)),
        session_id=session_id(request),
        settings=request.app.state.settings,
        clock=request.app.state.clock,
        response=response,
    )


async def run_operation(request: Request, name: str, *, response: Response | None = None,
                        **variables: Any) -> dict[str, Any]:
    """Run a named operation from graphql/operations/ for this request.

    Cookies the operation sets land on `response` (e.g. the session after sign-in).
    """
    context = operation_context(request, response)
    return await request.app.state.operations.run(name, context, **variables)


def carry_cookies(source: Response, target: Response) -> Response:
    """Copy the Set-Cookie headers an operation wrote onto the response sent back."""
    for value in source.headers.getlist("set-cookie"):
        target.headers.append("set-cookie", value)
    return target


def refusal_page(request: Request, failure: OperationFailed) -> Response:
    """The page shown when the schema refused an operation (429 past a rate limit)."""
    if failure.retry_after is not None:
        response = render(request, "pages/refused.html", status_code=429,
                          heading="Trop de demandes", messages=failure.messages)
        response.headers["Retry-After"] = str(failure.retry_after)
        return response
    return render(request, "pages/refused.html", status_code=403 if failure.denied else 400,
                  messages=failure.messages)
