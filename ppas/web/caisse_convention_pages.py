"""The caisse agent's page of convention requests: validate (number, rate) or refuse."""
from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ppas.domain.roles import CAISSE_ROLES
from ppas.web.admin_pages import paris_time, problems_of
from ppas.web.caisse_back_office_pages import DONE as BACK_OFFICE_DONE
from ppas.web.guards import page_number, redirect, refusal_page, run_operation, signed_in
from ppas.web.operations import OperationFailed, Outcome
from ppas.web.templating import render

CAISSE_ONLY = "Les demandes de convention sont traitées par les agents de la caisse."
DONE = {
    "validee": ("La demande est validée : la convention est active. Les administrateurs "
                "de la structure sont prévenus par courriel."),
    "refusee": ("La demande est refusée : la convention est close. Les administrateurs "
                "de la structure sont prévenus par courriel."),
}


def caisse_area(handler):
    @signed_in
    async def guarded(request: Request) -> Response:
        if request.state.user.role not in CAISSE_ROLES:
            return render(request, "pages/refused.html", status_code=403, messages=[CAISSE_ONLY])
        try:
            return await handler(request)
        except OperationFailed as failure:
            return refusal_page(request, failure)

    return guarded


async def _requests(request: Request) -> list[dict[str, Any]]:
    return (await run_operation(request, "CaisseConventionRequests"))["conventionRequests"]


@caisse_area
async def requests_page(request: Request) -> Response:
    notice = (DONE | BACK_OFFICE_DONE).get(request.query_params.get("fait", ""), "")
    # The conventions in force (active or suspended), to suspend or resume, paginated.
    page = page_number(request.query_params.get("page"))
    size = request.app.state.settings.page_size
    current = (await run_operation(request, "CaisseConventionChoices", offset=(page - 1) * size,
                                   limit=size))["caisseConventions"]
    return render(request, "pages/caisse_conventions.html", requests=await _requests(request),
                  notice=notice, when=paris_time, current=current, page=page,
                  pages=max((current["totalCount"] + size - 1) // size, 1))


def _decision_page(request: Request, item, *, values=None, problems=None, status_code=200):
    return render(request, "pages/caisse_convention_decision.html", status_code=status_code,
                  item=item, values=values or {}, problems=problems or {}, when=paris_time)


async def _one(request: Request) -> dict[str, Any] | None:
    wanted = str(request.path_params["id"])
    return next((r for r in await _requests(request) if r["id"] == wanted), None)


@caisse_area
async def decision_form(request: Request) -> Response:
    item = await _one(request)
    if item is None:
        return render(request, "pages/not_found.html", status_code=404)
    return _decision_page(request, item)


@caisse_area
async def decide(request: Request) -> Response:
    item = await _one(request)
    if item is None:
        return render(request, "pages/not_found.html", status_code=404)
    form = await request.form()
    accept = str(form.get("decision", "")) == "valider"
    values = {name: str(form.get(name, "")).strip() for name in ("number", "hourlyRate", "reason")}
    data = await run_operation(request, "CaisseDecideConventionRequest", id=item["id"],
                               decision="VALIDATE" if accept else "REFUSE", **values)
    result = Outcome.of(data["decideConventionRequest"])
    if result.is_error:
        return _decision_page(request, item, values=values, problems=problems_of(result),
                              status_code=400)
    return redirect(request, f"/caisse/conventions?fait={'validee' if accept else 'refusee'}")


routes = [
    Route("/caisse/conventions", requests_page, methods=["GET"], name="caisse_conventions"),
    Route("/caisse/conventions/{id:int}", decision_form, methods=["GET"]),
    Route("/caisse/conventions/{id:int}", decide, methods=["POST"]),
]
