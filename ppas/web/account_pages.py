"""« Mon compte »: who is signed in, the password link, and the event e-mails preference of
partner administrators (report anomalies, slips online)."""
from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ppas.web.guards import redirect, refusal_page, run_operation, signed_in
from ppas.web.operations import OperationFailed, Outcome
from ppas.web.templating import render

ACCOUNT_PATH = "/mon-compte"


async def _page(request: Request, status_code: int = 200, **more) -> Response:
    try:
        data = await run_operation(request, "AccountPreferences")
    except OperationFailed as failure:
        return refusal_page(request, failure)
    return render(request, "pages/account.html", status_code=status_code, me=data["me"],
                  preferences=data["accountPreferences"], **more)


@signed_in
async def account_page(request: Request) -> Response:
    return await _page(request, saved=request.query_params.get("enregistre") == "1")


@signed_in
async def save_event_mail(request: Request) -> Response:
    form = await request.form()
    try:
        data = await run_operation(request, "SetEventMail", enabled=form.get("event_mail") == "1")
    except OperationFailed as failure:
        return refusal_page(request, failure)
    result = Outcome.of(data["setEventMail"])
    if result.is_error:
        return await _page(request, status_code=422, error=result.message)
    return redirect(request, f"{ACCOUNT_PATH}?enregistre=1")


routes = [
    Route(ACCOUNT_PATH, account_page, name="account"),
    Route(f"{ACCOUNT_PATH}/avis", save_event_mail, methods=["POST"], name="account_event_mail"),
]
