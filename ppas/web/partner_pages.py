"""The partner's space: dashboard, beneficiaries, one beneficiary."""
from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ppas.domain.roles import BILLING_ROLES, PARTNER_ROLES
from ppas.web.guards import page_number, refusal_page, run_operation, signed_in
from ppas.web.operations import OperationFailed
from ppas.web.templating import render


def _page_number(request: Request) -> int:
    return page_number(request.query_params.get("page", "1"))


@signed_in
async def dashboard(request: Request) -> Response:
    """« Mon espace »: what this role has to do now, then who we are."""
    role = request.state.user.role
    try:
        if role not in PARTNER_ROLES:
            data = await run_operation(request, "CaisseHome")
            return render(request, "pages/caisse_home.html",
                          registrations=len(data["pendingRegistrations"]),
                          convention_requests=len(data["conventionRequests"]),
                          messages=data["receivedContactMessages"]["totalCount"])
        data = await run_operation(request, "PartnerHome", billing=role in BILLING_ROLES)
    except OperationFailed as failure:
        return refusal_page(request, failure)
    files = (data.get("billingFiles") or {}).get("items", [])
    worklist = data.get("billingForms") or {"toFill": [], "validated": []}
    return render(request, "pages/dashboard.html", **data, billing=role in BILLING_ROLES,
                  to_fill=worklist["toFill"],
                  awaiting_payment=[f for f in worklist["validated"] if f["status"] == "validated"],
                  files_with_anomalies=[f for f in files if f["status"] == "refused"
                                        or f["acceptedCount"] < f["lineCount"]])


@signed_in
async def beneficiaries(request: Request) -> Response:
    page_size = request.app.state.settings.page_size
    page = _page_number(request)
    try:
        data = await run_operation(request, "Beneficiaries", offset=(page - 1) * page_size,
                                   limit=page_size)
    except OperationFailed as failure:
        return refusal_page(request, failure)
    listing = data["beneficiaries"]
    pages = max(1, -(-listing["totalCount"] // page_size))
    return render(request, "pages/beneficiaries.html", listing=listing, page=page, pages=pages)


@signed_in
async def beneficiary(request: Request) -> Response:
    try:
        data = await run_operation(request, "Beneficiary", id=request.path_params["id"])
    except OperationFailed as failure:
        return refusal_page(request, failure)
    if data["beneficiary"] is None:
        return render(request, "pages/not_found.html", status_code=404)
    return render(request, "pages/beneficiary.html", beneficiary=data["beneficiary"])


@signed_in
async def not_yet_available(request: Request) -> Response:
    return render(request, "pages/not_yet_available.html", status_code=200)


routes = [
    Route("/espace", dashboard, name="dashboard"),
    Route("/beneficiaires", beneficiaries, name="beneficiaries"),
    Route("/beneficiaires/{id}", beneficiary, name="beneficiary"),
    *[Route(path, not_yet_available) for path in
      ("/bordereaux", "/anomalies")],
]
