"""Public pre-registration: general conditions, then the form with its captcha."""
from __future__ import annotations

import hashlib
import hmac

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ppas.services import captcha
from ppas.web import receipts
from ppas.web.guards import redirect, refusal_page, run_operation
from ppas.web.operations import OperationFailed, Outcome
from ppas.web.templating import render

CONDITIONS_VERSION = "2026-1"
ACCEPTED_COOKIE = "ppas_cgu"
ACCEPTED_MAX_AGE = 2 * 3600
CONDITIONS_PATH = "/inscription"
FORM_PATH = "/inscription/formulaire"
DONE_PATH = "/inscription/terminee"

# The form's fields: the GraphQL input's names, in the order of the page.
FIELDS = ["caisseCode", "conventionNumber", "structureId", "structureName", "lastName",
          "firstName", "email", "phone", "login", "addressLine", "postalCode", "city"]


def _acceptance(request: Request) -> str:
    """The signed proof that this browser accepted the conditions (bound to its CSRF token,
    so it cannot be copied to another browser)."""
    secret = request.app.state.settings.secret_key.encode()
    message = f"ppas:conditions:{CONDITIONS_VERSION}:{request.state.csrf_token or ''}"
    return hmac.new(secret, message.encode(), hashlib.sha256).hexdigest()


def has_accepted(request: Request) -> bool:
    """True when the browser ticked « J'accepte » (checked server-side on every step)."""
    supplied = request.cookies.get(ACCEPTED_COOKIE, "")
    return bool(supplied) and hmac.compare_digest(supplied.encode("utf-8", "surrogateescape"),
                                                  _acceptance(request).encode())


async def conditions(request: Request) -> Response:
    return render(request, "pages/sign_up.html")


async def accept_conditions(request: Request) -> Response:
    form = await request.form()
    if form.get("accepte") != "oui":
        return render(request, "pages/sign_up.html", status_code=400,
                      error="Cochez la case « J'accepte » pour poursuivre la préinscription.")
    response = redirect(request, FORM_PATH)
    response.set_cookie(ACCEPTED_COOKIE, _acceptance(request), max_age=ACCEPTED_MAX_AGE,
                        path=CONDITIONS_PATH, httponly=True, samesite="lax",
                        secure=request.app.state.settings.secure_cookies)
    return response


RECEIPT_PURPOSE = "preinscription"
RECEIPT_COOKIE = "ppas_preinscription"
RECEIPT_SECONDS = 3600
RECEIPT_FIELDS = ("reference", "processingDays", "conventionNumber", "partnerName", "structureId",
                  "adminName", "adminEmail", "adminLogin", "submittedAt")


async def registration_form(request: Request) -> Response:
    if not has_accepted(request):
        return redirect(request, CONDITIONS_PATH)
    return render(request, "pages/sign_up_form.html", values={}, problems={})


async def submit_registration(request: Request) -> Response:
    if not has_accepted(request):
        return redirect(request, CONDITIONS_PATH)
    form = await request.form()
    values = {name: str(form.get(name, "")) for name in FIELDS}
    try:
        data = await run_operation(
            request, "SubmitRegistration",
            input={**values, "acceptConditions": True},
            captcha=str(form.get("captcha", "")),
        )
    except OperationFailed as failure:  # past the rate limit: 429
        return refusal_page(request, failure)
    result = Outcome.of(data["submitRegistration"])
    if result.ok:
        settings = request.app.state.settings
        facts = {key: result.payload[key] for key in RECEIPT_FIELDS}
        facts["issuedAt"] = int(request.app.state.clock.now().timestamp())
        receipt = receipts.sign(settings.secret_key, RECEIPT_PURPOSE, facts)
        response = redirect(request, DONE_PATH)
        # In a cookie for the end page alone, not in its address: the recap holds the
        # administrator's name and e-mail, which would stay in histories and access logs.
        response.set_cookie(RECEIPT_COOKIE, receipt, max_age=RECEIPT_SECONDS, path=DONE_PATH,
                            httponly=True, samesite="lax", secure=settings.secure_cookies)
        return response
    problems = {p["field"]: p["message"] for p in result.problems}
    return render(request, "pages/sign_up_form.html", status_code=400, values=values,
                  problems=problems, summary=result.message)


async def registration_done(request: Request) -> Response:
    receipt = receipts.read(request.app.state.settings.secret_key, RECEIPT_PURPOSE,
                            request.cookies.get(RECEIPT_COOKIE))
    now = request.app.state.clock.now().timestamp()
    if receipt is not None and not 0 <= now - receipt.get("issuedAt", 0) <= RECEIPT_SECONDS:
        receipt = None  # an old receipt: the recap is not shown again on a shared computer
    return render(request, "pages/sign_up_done.html", receipt=receipt)


async def captcha_challenge(request: Request) -> Response:
    challenge = captcha.new_challenge(request.app.state.settings)
    return JSONResponse(challenge, headers={"Cache-Control": "no-store"})


routes = [
    Route(CONDITIONS_PATH, conditions, methods=["GET"], name="sign_up"),
    Route(CONDITIONS_PATH, accept_conditions, methods=["POST"]),
    Route(FORM_PATH, registration_form, methods=["GET"], name="sign_up_form"),
    Route(FORM_PATH, submit_registration, methods=["POST"]),
    Route(DONE_PATH, registration_done, methods=["GET"], name="sign_up_done"),
    Route("/inscription/captcha", captcha_challenge, methods=["GET"], name="sign_up_captcha"),
]
