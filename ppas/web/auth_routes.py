"""Sign-in and sign-out pages."""
from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ppas.services.sessions import close_session, open_session
from ppas.services.sign_in import sign_in
from ppas.web.guards import redirect
from ppas.web.identity import SESSION_COOKIE
from ppas.web.templating import render


def _safe_next(target: str | None) -> str:
    """Only same-site paths: never an open redirect."""
    if target and target.startswith("/") and not target.startswith("//"):
        return target
    return "/espace"


async def sign_in_page(request: Request) -> Response:
    if request.state.user is not None:
        return redirect(request, "/espace")
    return render(request, "pages/sign_in.html", next=_safe_next(request.query_params.get("suivant")))


async def sign_in_submit(request: Request) -> Response:
    form = await request.form()
    login = str(form.get("login", "")).strip()
    password = str(form.get("password", ""))
    target = _safe_next(str(form.get("next", "")))
    if not login or not password:
        return render(request, "pages/sign_in.html", status_code=400, login=login, next=target,
                      error="Saisissez votre identifiant et votre mot de passe.")
    clock = request.app.state.clock
    result = await sign_in(login, password, now=clock.now(),
                           ip=request.client.host if request.client else "")
    if result.user is None:
        return render(request, "pages/sign_in.html", status_code=400, login=login, next=target,
                      error=result.error)
    # A fresh session id at sign-in: a session fixed before sign-in is worthless.
    await close_session(request.cookies.get(SESSION_COOKIE))
    secret, _ = await open_session(result.user, clock.now())
    response = redirect(request, target)
    settings = request.app.state.settings
    response.set_cookie(
        SESSION_COOKIE, secret, httponly=True, samesite="lax", secure=settings.secure_cookies,
        max_age=settings.session_absolute_hours * 3600, path="/",
    )
    return response


async def sign_out(request: Request) -> Response:
    await close_session(request.cookies.get(SESSION_COOKIE))
    response = redirect(request, "/connexion?deconnecte=1")
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


routes = [
    Route("/connexion", sign_in_page, methods=["GET"], name="sign_in"),
    Route("/connexion", sign_in_submit, methods=["POST"]),
    Route("/deconnexion", sign_out, methods=["POST"], name="sign_out"),
]
