"""The partner's space: dashboard, beneficiaries, one beneficiary."""
from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ppas.models.account import PARTNER_ROLES
from ppas.web.guards import page_number, refusal_page, run_operation, signed_in
from ppas.web.operations import OperationFailed
from ppas.web.templating import render


def _page_number(request: Request) -> int:
    return page_number(request.query_params.get("page", "1"))


@signed_in
async def dashboard(request: Request) -> Response:
    if request.state.user.role not in PARTNER_ROLES:
        return render(request, "pages/caisse_home.html")
    try:
        data = await run_operation(request, "PartnerHome")
    except OperationFailed as failure:
        return refusal_page(request, failure)
    return render(request, "pages/dashboard.html", **data)


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
      ("/bordereaux", "/anomalies", "/evaluations")],
]
