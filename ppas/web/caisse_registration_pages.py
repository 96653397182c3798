"""The caisse's registration desk: compare pending pre-registrations, validate or reject."""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ppas.web.guards import refusal_page, run_operation, signed_in
from ppas.web.operations import OperationFailed, Outcome
from ppas.web.templating import render

PATH = "/caisse/inscriptions"
PARIS = ZoneInfo("Europe/Paris")


def paris_time(value: str | None) -> str:
    """A GraphQL DateTime shown as the caisse reads it: Europe/Paris, « 28/11/2026 à 11:00 »."""
    if not value:
        return "—"
    return datetime.fromisoformat(value).astimezone(PARIS).strftime("%d/%m/%Y à %H:%M")


async def _desk(request: Request, *, status_code: int = 200, notice: str = "",
                error: str = "", error_for: str = "", reasons: dict | None = None) -> Response:
    try:
        data = await run_operation(request, "PendingRegistrations")
    except OperationFailed as failure:
        return refusal_page(request, failure)
    return render(request, "pages/caisse_registrations.html", status_code=status_code,
                  pending=data["pendingRegistrations"], notice=notice, error=error,
                  error_for=error_for, reasons=reasons or {}, paris_time=paris_time)


@signed_in
async def desk(request: Request) -> Response:
    return await _desk(request)


@signed_in
async def validate(request: Request) -> Response:
    registration_id = request.path_params["id"]
    try:
        data = await run_operation(request, "ValidateRegistration", id=registration_id)
    except OperationFailed as failure:  # not an agent of the caisse: refused for who asks
        return refusal_page(request, failure)
    result = Outcome.of(data["validateRegistration"])
    if result.ok:
        return await _desk(request, notice=result.message)
    return await _desk(request, status_code=400, error=result.message,
                       error_for=registration_id)


@signed_in
async def reject(request: Request) -> Response:
    registration_id = request.path_params["id"]
    form = await request.form()
    reason = str(form.get("reason", ""))
    try:
        data = await run_operation(request, "RejectRegistration", id=registration_id,
                                   reason=reason)
    except OperationFailed as failure:  # not an agent of the caisse: refused for who asks
        return refusal_page(request, failure)
    result = Outcome.of(data["rejectRegistration"])
    if result.ok:
        return await _desk(request, notice=result.message)
    return await _desk(request, status_code=400, error=result.message,
                       error_for=registration_id, reasons={registration_id: reason})


routes = [
    Route(PATH, desk, methods=["GET"], name="caisse_registrations"),
    Route(PATH + "/{id}/valider", validate, methods=["POST"]),
    Route(PATH + "/{id}/refuser", reject, methods=["POST"]),
]
