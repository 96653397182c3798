"""Sign-in, sign-out and password pages; each runs one of the schema's mutations."""
from __future__ import annotations

import re
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ppas.domain.passwords import PasswordPolicy
from ppas.services.passwords import reset_answer
from ppas.services.sign_in import FORGOT_PASSWORD_PATH, LOCKED, current_warning
from ppas.web.guards import carry_cookies, redirect, refusal_page, run_operation, signed_in
from ppas.web.operations import OperationFailed, Outcome
from ppas.web.password_gate import CHANGE_PATH  # forced after a temporary password
from ppas.web.templating import render

VOLUNTARY_CHANGE_PATH = "/mot-de-passe/changer"  # « Changer mon mot de passe »
EXPIRING_PATH = "/mot-de-passe/expiration"

# GraphQL argument → form field (id and name in the page).
FORM_FIELDS = {"login": "login", "oldPassword": "old_password", "newPassword": "new_password",
               "confirmation": "confirmation", "email": "email"}


# A same-site path: "/" not followed by "/" or a backslash (browsers read "/<backslash>evil.com"
# as "//evil.com"), no backslash, control character or space anywhere (browsers drop tabs and
# newlines, so "/<tab>/evil.com" would become "//evil.com" too).
_SAME_SITE_PATH = re.compile(r"/(?![/\\])[^\x00-\x20\x7f\\]*")


def _safe_next(target: str | None) -> str:
    """Only same-site paths: never an open redirect (it also lands raw in HX-Redirect)."""
    if target and _SAME_SITE_PATH.fullmatch(target):
        return target
    return "/espace"


def rules_text(policy: PasswordPolicy) -> str:
    """The password rules in force, as the change page states them."""
    parts = [f"entre {policy.min_length} et {policy.max_length} caractères"]
    if policy.require_digit:
        parts.append("au moins un chiffre")
    if policy.forbidden_chars:
        parts.append("aucun des caractères " + " ".join(policy.forbidden_chars))
    if policy.reject_login:
        parts.append("différent de votre identifiant")
    if policy.blocklist:
        parts.append("pas un mot de passe courant")
    if policy.history_size == 1:
        parts.append("différent du mot de passe actuel")
    elif policy.history_size > 1:
        parts.append(f"différent de vos {policy.history_size} derniers mots de passe")
    text = "Le mot de passe doit comporter " + ", ".join(parts) + "."
    if policy.validity is not None:
        months = round(policy.validity.days / 30.5)
        text += f" Il est valable {months} mois."
    return text


async def sign_in_page(request: Request) -> Response:
    if request.state.user is not None:
        # Already signed in (another tab did it): go where the link meant, e.g. the page that
        # tells an open form to send what it kept.
        return redirect(request, _safe_next(request.query_params.get("suivant")))
    locked = request.query_params.get("bloque") == "1"
    return render(request, "pages/sign_in.html", next=_safe_next(request.query_params.get("suivant")),
                  changed=request.query_params.get("mot-de-passe") == "modifie",
                  forgot_path=FORGOT_PASSWORD_PATH, error=LOCKED if locked else "")


async def sign_in_submit(request: Request) -> Response:
    form = await request.form()
    login = str(form.get("login", "")).strip()
    password = str(form.get("password", ""))
    target = _safe_next(str(form.get("next", "")))
    if not login or not password:
        return render(request, "pages/sign_in.html", status_code=400, login=login, next=target,
                      forgot_path=FORGOT_PASSWORD_PATH,
                      error="Saisissez votre identifiant et votre mot de passe.")
    cookies = Response()
    try:
        data = await run_operation(request, "SignIn", response=cookies, login=login,
                                   password=password)
    except OperationFailed as failure:  # past the rate limit: 429
        return refusal_page(request, failure)
    result = Outcome.of(data["signIn"])
    if result.is_error:
        return render(request, "pages/sign_in.html", status_code=400, login=login, next=target,
                      forgot_path=FORGOT_PASSWORD_PATH, error=result.message)
    if result.payload["mustChangePassword"]:
        return carry_cookies(cookies, redirect(request, CHANGE_PATH))
    if result.payload["warning"]:
        # The countdown is shown on the next page, which offers the change at once.
        return carry_cookies(cookies, redirect(request, f"{EXPIRING_PATH}?suivant={quote(target)}"))
    return carry_cookies(cookies, redirect(request, target))


async def sign_out(request: Request) -> Response:
    cookies = Response()
    await run_operation(request, "SignOut", response=cookies)
    return carry_cookies(cookies, redirect(request, "/connexion?deconnecte=1"))


@signed_in
async def expiring_page(request: Request) -> Response:
    """After a grace sign-in: the countdown, the change offered, or carry on."""
    target = _safe_next(request.query_params.get("suivant"))
    settings = request.app.state.settings
    warning = current_warning(request.state.user, settings.password_rules,
                              request.app.state.clock.now())
    if not warning:
        return redirect(request, target)
    return render(request, "pages/password_expiring.html", warning=warning, next=target,
                  change_path=VOLUNTARY_CHANGE_PATH)


def _change_page(request: Request, status_code: int = 200, **context) -> Response:
    user = request.state.user
    settings = request.app.state.settings
    forced = user.must_change_password
    return render(
        request, "pages/change_password.html", status_code=status_code, forced=forced,
        heading="Nouveau mot de passe" if forced else "Changer mon mot de passe",
        action=CHANGE_PATH if forced else VOLUNTARY_CHANGE_PATH,
        rules=rules_text(settings.password_rules),
        warning=current_warning(user, settings.password_rules, request.app.state.clock.now()),
        done=request.query_params.get("modifie") == "1" and not forced,
        **context,
    )


@signed_in
async def change_password_page(request: Request) -> Response:
    return _change_page(request)


@signed_in
async def change_password_submit(request: Request) -> Response:
    form = await request.form()
    # Signed in: the account is the session's, never typed again.
    login = request.state.user.login
    try:
        data = await run_operation(
            request, "ChangePassword", login=login,
            oldPassword=str(form.get("old_password", "")),
            newPassword=str(form.get("new_password", "")),
            confirmation=str(form.get("confirmation", "")))
    except OperationFailed as failure:
        return refusal_page(request, failure)
    result = Outcome.of(data["changePassword"])
    if result.is_error:
        if result.code == "ACCOUNT_LOCKED":
            # Locked by wrong old passwords: every session ended, this one too.
            cookies = Response()
            await run_operation(request, "SignOut", response=cookies)
            return carry_cookies(cookies, redirect(request, "/connexion?bloque=1"))
        field = FORM_FIELDS.get(result.field or "", "")
        return _change_page(request, status_code=400, login=login, error_field=field,
                            problems=result.problems or [result.message])
    # The session that just proved the old password stays open (the others were closed):
    # the real portal sent the user back to sign in again, which only cost a step.
    return redirect(request, f"{VOLUNTARY_CHANGE_PATH}?modifie=1")


async def forgot_password_page(request: Request) -> Response:
    settings = request.app.state.settings
    sent = request.query_params.get("envoye") == "1"
    return render(request, "pages/forgot_password.html",
                  sent=reset_answer(settings) if sent else "")


async def forgot_password_submit(request: Request) -> Response:
    form = await request.form()
    login = str(form.get("login", "")).strip()
    email = str(form.get("email", "")).strip()
    try:
        data = await run_operation(request, "RequestPasswordReset", login=login, email=email)
    except OperationFailed as failure:  # past the rate limit: 429
        return refusal_page(request, failure)
    result = Outcome.of(data["requestPasswordReset"])
    if result.is_error:
        return render(request, "pages/forgot_password.html", status_code=400, login=login,
                      email=email, error=result.message,
                      error_field=FORM_FIELDS.get(result.field or "", ""))
    return redirect(request, f"{FORGOT_PASSWORD_PATH}?envoye=1")


routes = [
    Route("/connexion", sign_in_page, methods=["GET"], name="sign_in"),
    Route("/connexion", sign_in_submit, methods=["POST"]),
    Route("/deconnexion", sign_out, methods=["POST"], name="sign_out"),
    Route(EXPIRING_PATH, expiring_page, methods=["GET"], name="password_expiring"),
    Route(CHANGE_PATH, change_password_page, methods=["GET"], name="password_change"),
    Route(CHANGE_PATH, change_password_submit, methods=["POST"]),
    Route(VOLUNTARY_CHANGE_PATH, change_password_page, methods=["GET"],
          name="password_change_voluntary"),
    Route(VOLUNTARY_CHANGE_PATH, change_password_submit, methods=["POST"]),
    Route(FORGOT_PASSWORD_PATH, forgot_password_page, methods=["GET"], name="forgot_password"),
    Route(FORGOT_PASSWORD_PATH, forgot_password_submit, methods=["POST"]),
]
