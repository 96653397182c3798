"""Sign-in and sign-out pages; both run the schema's mutations."""
from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ppas.web.guards import carry_cookies, redirect, run_operation
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
    cookies = Response()
    data = await run_operation(request, "SignIn", response=cookies, login=login, password=password)
    result = data["signIn"]
    if result["__typename"] == "SignInError":
        return render(request, "pages/sign_in.html", status_code=400, login=login, next=target,
                      error=result["message"])
    return carry_cookies(cookies, redirect(request, target))


async def sign_out(request: Request) -> Response:
    cookies = Response()
    await run_operation(request, "SignOut", response=cookies)
    return carry_cookies(cookies, redirect(request, "/connexion?deconnecte=1"))


routes = [
    Route("/connexion", sign_in_page, methods=["GET"], name="sign_in"),
    Route("/connexion", sign_in_submit, methods=["POST"]),
    Route("/deconnexion", sign_out, methods=["POST"], name="sign_out"),
]
