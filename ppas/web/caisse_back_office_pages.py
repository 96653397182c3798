"""The caisse's back office: beneficiaries, care plans (notify, close), CSV import, and
suspending or resuming a convention. Caisse agents and admins only; every object is checked
again by the services (another caisse's object is « introuvable »)."""
from __future__ import annotations

from datetime import date
from typing import Any

from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ppas.domain.roles import CAISSE_ROLES
from ppas.domain.beneficiary_import import IMPORT_COLUMNS, IMPORT_MAX_ROWS, import_template
from ppas.web.admin_pages import problems_of
from ppas.web.body_limit import UPLOAD_MARGIN, BodyTooLarge
from ppas.web.guards import page_number, redirect, refusal_page, run_operation, signed_in
from ppas.web.operations import OperationFailed, Outcome
from ppas.web.templating import render

BASE = "/caisse/beneficiaires"
CAISSE_ONLY = ("Le suivi des bénéficiaires, des prises en charge et des conventions est "
               "réservé aux agents de la caisse.")
BENEFICIARY_FIELDS = ("fileNumber", "lastName", "firstName", "birthDate", "deceasedOn")
PLAN_FIELDS = ("conventionId", "hoursPerMonth", "hourlyRate", "participation", "startDate",
               "endDate")
DONE = {
    "cree": "Le bénéficiaire est enregistré. Ajoutez-lui une prise en charge ci-dessous.",
    "modifie": "Les modifications du bénéficiaire sont enregistrées.",
    "pec-creee": ("La prise en charge est enregistrée, non notifiée : elle n'apparaîtra sur "
                  "les formulaires du partenaire qu'une fois notifiée."),
    "pec-modifiee": "Les modifications de la prise en charge sont enregistrées.",
    "pec-notifiee": ("La prise en charge est notifiée : elle apparaît désormais sur les "
                     "formulaires du partenaire et dans les contrôles de ses fichiers."),
    "pec-cloturee": "La prise en charge est clôturée.",
    "suspendue": ("La convention est suspendue : le partenaire n'ouvre plus de formulaire "
                  "sur elle, et ses lignes sont refusées à l'intégration (R02)."),
    "reprise": "La convention est de nouveau active.",
}


def back_office_area(handler):
    """Signed in as a caisse agent or admin; an operation's refusal becomes a page."""

    @signed_in
    async def guarded(request: Request) -> Response:
        if request.state.user.role not in CAISSE_ROLES:
            return render(request, "pages/refused.html", status_code=403,
                          messages=[CAISSE_ONLY])
        try:
            return await handler(request)
        except OperationFailed as failure:
            return refusal_page(request, failure)

    return guarded


def _typed_date(value: str | None) -> str:
    """A GraphQL date as the forms show it (31/01/2026)."""
    return date.fromisoformat(value).strftime("%d/%m/%Y") if value else ""


def _typed_decimal(value: str | None) -> str:
    return str(value).replace(".", ",") if value is not None else ""


def _not_found(request: Request) -> Response:
    return render(request, "pages/not_found.html", status_code=404)


def _page_size(request: Request) -> int:
    return request.app.state.settings.page_size


def _pages(total: int, size: int) -> int:
    return max((total + size - 1) // size, 1)


async def _form_values(request: Request, names: tuple[str, ...]) -> dict[str, str]:
    form = await request.form()
    return {name: str(form.get(name, "")).strip() for name in names}


# --------------------------------------------------------------------------- beneficiaries

@back_office_area
async def beneficiaries(request: Request) -> Response:
    search = request.query_params.get("q", "").strip()[:100]
    page, size = page_number(request.query_params.get("page")), _page_size(request)
    data = await run_operation(request, "CaisseBeneficiaries", search=search,
                               offset=(page - 1) * size, limit=size)
    listing = data["caisseBeneficiaries"]
    return render(request, "pages/caisse_beneficiaries.html", listing=listing, search=search,
                  page=page, pages=_pages(listing["totalCount"], size))


def _beneficiary_form(request: Request, *, edited=None, values=None, problems=None,
                      status_code: int = 200) -> Response:
    return render(request, "pages/caisse_beneficiary_form.html", status_code=status_code,
                  edited=edited, values=values or {}, problems=problems or {})


@back_office_area
async def new_beneficiary(request: Request) -> Response:
    return _beneficiary_form(request)


@back_office_area
async def create_beneficiary(request: Request) -> Response:
    values = await _form_values(request, BENEFICIARY_FIELDS)
    data = await run_operation(request, "CaisseCreateBeneficiary", input=values)
    result = Outcome.of(data["createBeneficiary"])
    if result.is_error:
        return _beneficiary_form(request, values=values, problems=problems_of(result),
                                 status_code=400)
    return redirect(request, f"{BASE}/{result.payload['beneficiary']['id']}?fait=cree")


async def _beneficiary(request: Request, page: int = 1,
                       beneficiary_id: str | None = None) -> dict[str, Any] | None:
    size = _page_size(request)
    data = await run_operation(request, "CaisseBeneficiary",
                               id=beneficiary_id or str(request.path_params["id"]),
                               offset=(page - 1) * size, limit=size)
    if data["caisseBeneficiary"] is None:
        return None
    return data


async def _beneficiary_page(request: Request, *, error: str = "", status_code: int = 200,
                            beneficiary_id: str | None = None) -> Response:
    page = page_number(request.query_params.get("page"))
    data = await _beneficiary(request, page, beneficiary_id)
    if data is None:
        return _not_found(request)
    plans = data["caisseCarePlans"]
    return render(request, "pages/caisse_beneficiary.html", status_code=status_code,
                  beneficiary=data["caisseBeneficiary"], plans=plans, page=page,
                  pages=_pages(plans["totalCount"], _page_size(request)), error=error,
                  notice=DONE.get(request.query_params.get("fait", ""), ""))


@back_office_area
async def beneficiary(request: Request) -> Response:
    return await _beneficiary_page(request)


@back_office_area
async def edit_beneficiary(request: Request) -> Response:
    data = await _beneficiary(request)
    if data is None:
        return _not_found(request)
    row = data["caisseBeneficiary"]
    values = {"fileNumber": row["fileNumber"], "lastName": row["lastName"],
              "firstName": row["firstName"], "birthDate": _typed_date(row["birthDate"]),
              "deceasedOn": _typed_date(row["deceasedOn"])}
    return _beneficiary_form(request, edited=row, values=values)


@back_office_area
async def update_beneficiary(request: Request) -> Response:
    data = await _beneficiary(request)
    if data is None:
        return _not_found(request)
    values = await _form_values(request, BENEFICIARY_FIELDS)
    result = Outcome.of((await run_operation(
        request, "CaisseUpdateBeneficiary", id=str(request.path_params["id"]),
        input=values))["updateBeneficiary"])
    if result.is_error:
        return _beneficiary_form(request, edited=data["caisseBeneficiary"], values=values,
                                 problems=problems_of(result), status_code=400)
    return redirect(request, f"{BASE}/{request.path_params['id']}?fait=modifie")


# --------------------------------------------------------------------------- care plans

async def _conventions(request: Request) -> list[dict[str, Any]]:
    """Every convention of the caisse (active and suspended), page after page."""
    limit = request.app.state.settings.max_page_size
    items: list[dict[str, Any]] = []
    while True:
        data = await run_operation(request, "CaisseConventionChoices", offset=len(items),
                                   limit=limit)
        page = data["caisseConventions"]
        items += page["items"]
        if not page["items"] or len(items) >= page["totalCount"]:
            return items


async def _plan_form(request: Request, *, beneficiary: dict[str, Any], plan=None, values=None,
                     problems=None, status_code: int = 200) -> Response:
    conventions = [c for c in await _conventions(request)
                   if c["status"] == "active" or (plan and c["id"] == plan["conventionId"])]
    return render(request, "pages/caisse_care_plan_form.html", status_code=status_code,
                  beneficiary=beneficiary, plan=plan, conventions=conventions,
                  values=values or {}, problems=problems or {})


@back_office_area
async def new_plan(request: Request) -> Response:
    data = await _beneficiary(request)
    if data is None:
        return _not_found(request)
    return await _plan_form(request, beneficiary=data["caisseBeneficiary"])


@back_office_area
async def create_plan(request: Request) -> Response:
    data = await _beneficiary(request)
    if data is None:
        return _not_found(request)
    values = await _form_values(request, PLAN_FIELDS)
    result = Outcome.of((await run_operation(
        request, "CaisseCreateCarePlan", beneficiaryId=str(request.path_params["id"]),
        input=values))["createCarePlan"])
    if result.is_error:
        return await _plan_form(request, beneficiary=data["caisseBeneficiary"], values=values,
                                problems=problems_of(result), status_code=400)
    return redirect(request, f"{BASE}/{request.path_params['id']}?fait=pec-creee")


async def _plan(request: Request) -> dict[str, Any] | None:
    data = await run_operation(request, "CaisseCarePlan", id=str(request.path_params["id"]))
    return data["caisseCarePlan"]


def _plan_owner(plan: dict[str, Any]) -> dict[str, Any]:
    return {"id": plan["beneficiaryId"], "fileNumber": plan["fileNumber"],
            "name": plan["beneficiaryName"]}


@back_office_area
async def edit_plan(request: Request) -> Response:
    plan = await _plan(request)
    if plan is None:
        return _not_found(request)
    values = {"conventionId": plan["conventionId"],
              "hoursPerMonth": _typed_decimal(plan["hoursPerMonth"]),
              "hourlyRate": _typed_decimal(plan["hourlyRate"]),
              "participation": _typed_decimal(plan["participation"]),
              "startDate": _typed_date(plan["startDate"]), "endDate": _typed_date(plan["endDate"])}
    return await _plan_form(request, beneficiary=_plan_owner(plan), plan=plan, values=values)


@back_office_area
async def update_plan(request: Request) -> Response:
    plan = await _plan(request)
    if plan is None:
        return _not_found(request)
    values = await _form_values(request, PLAN_FIELDS)
    result = Outcome.of((await run_operation(request, "CaisseUpdateCarePlan", id=plan["id"],
                                             input=values))["updateCarePlan"])
    if result.is_error:
        return await _plan_form(request, beneficiary=_plan_owner(plan), plan=plan,
                                values=values, problems=problems_of(result), status_code=400)
    return redirect(request, f"{BASE}/{plan['beneficiaryId']}?fait=pec-modifiee")


@back_office_area
async def notify_confirmation(request: Request) -> Response:
    """Notifying makes the plan billable by the partner, for good: say so, and ask first
    (a page, so that it works without JavaScript)."""
    plan = await _plan(request)
    if plan is None:
        return _not_found(request)
    return render(request, "pages/caisse_care_plan_notify.html", plan=plan)


@back_office_area
async def notify_plan(request: Request) -> Response:
    plan = await _plan(request)
    if plan is None:
        return _not_found(request)
    result = Outcome.of((await run_operation(request, "CaisseNotifyCarePlan",
                                             id=plan["id"]))["notifyCarePlan"])
    if result.is_error:
        return await _beneficiary_page(request, error=result.message, status_code=400,
                                       beneficiary_id=plan["beneficiaryId"])
    return redirect(request, f"{BASE}/{plan['beneficiaryId']}?fait=pec-notifiee")


def _close_page(request: Request, plan, *, values=None, problems=None, status_code=200):
    return render(request, "pages/caisse_care_plan_close.html", status_code=status_code,
                  plan=plan, values=values or {}, problems=problems or {})


@back_office_area
async def close_form(request: Request) -> Response:
    plan = await _plan(request)
    if plan is None:
        return _not_found(request)
    return _close_page(request, plan)


@back_office_area
async def close_plan(request: Request) -> Response:
    plan = await _plan(request)
    if plan is None:
        return _not_found(request)
    values = await _form_values(request, ("endDate",))
    result = Outcome.of((await run_operation(request, "CaisseCloseCarePlan", id=plan["id"],
                                             **values))["closeCarePlan"])
    if result.is_error:
        return _close_page(request, plan, values=values, problems=problems_of(result),
                           status_code=400)
    return redirect(request, f"{BASE}/{plan['beneficiaryId']}?fait=pec-cloturee")


# --------------------------------------------------------------------------- conventions

async def _convention(request: Request) -> dict[str, Any] | None:
    data = await run_operation(request, "CaisseConvention", id=str(request.path_params["id"]))
    return data["caisseConvention"]


@back_office_area
async def convention_plans(request: Request) -> Response:
    convention = await _convention(request)
    if convention is None:
        return _not_found(request)
    page, size = page_number(request.query_params.get("page")), _page_size(request)
    data = await run_operation(request, "CaisseCarePlans", conventionId=convention["id"],
                               partnerId=None, offset=(page - 1) * size, limit=size)
    plans = data["caisseCarePlans"]
    return render(request, "pages/caisse_convention_plans.html", convention=convention,
                  plans=plans, page=page, pages=_pages(plans["totalCount"], size))


ACTIONS = {"suspendre": ("CaisseSuspendConvention", "suspendConvention", "suspendue"),
           "reprendre": ("CaisseResumeConvention", "resumeConvention", "reprise")}


def _action(request: Request) -> str:
    """« suspendre » or « reprendre », the last part of the path."""
    return request.url.path.rstrip("/").rsplit("/", 1)[1]


def _status_page(request: Request, convention, action: str, *, values=None, problems=None,
                 status_code: int = 200) -> Response:
    return render(request, "pages/caisse_convention_status.html", status_code=status_code,
                  convention=convention, action=action, values=values or {},
                  problems=problems or {})


@back_office_area
async def status_form(request: Request) -> Response:
    convention = await _convention(request)
    if convention is None:
        return _not_found(request)
    return _status_page(request, convention, _action(request))


@back_office_area
async def change_status(request: Request) -> Response:
    convention = await _convention(request)
    if convention is None:
        return _not_found(request)
    action = _action(request)
    operation, field, done = ACTIONS[action]
    values = await _form_values(request, ("reason",))
    result = Outcome.of((await run_operation(request, operation, id=convention["id"],
                                             **values))[field])
    if result.is_error:
        return _status_page(request, convention, action, values=values,
                            problems=problems_of(result), status_code=400)
    return redirect(request, f"/caisse/conventions?fait={done}#conventions-en-cours")


# --------------------------------------------------------------------------- CSV import

def _import_page(request: Request, *, report=None, error: str = "",
                 status_code: int = 200) -> Response:
    cap = request.app.state.settings.back_office_import_max_bytes
    return render(request, "pages/caisse_import.html", status_code=status_code, report=report,
                  error=error, columns=IMPORT_COLUMNS, max_size=f"{cap // 1024} Kio",
                  max_rows=f"{IMPORT_MAX_ROWS:,}".replace(",", "\u202f"))


@back_office_area
async def import_form(request: Request) -> Response:
    return _import_page(request)


@back_office_area
async def import_file(request: Request) -> Response:
    cap = request.app.state.settings.back_office_import_max_bytes
    too_large = (f"Le fichier dépasse {cap // 1024} Kio : découpez-le en plusieurs fichiers.")
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > cap + UPLOAD_MARGIN:
        return _import_page(request, error=too_large, status_code=413)
    try:
        form = await request.form(max_files=1, max_fields=5)
    except BodyTooLarge:
        return _import_page(request, error=too_large, status_code=413)
    try:
        upload = form.get("file")
        if not isinstance(upload, UploadFile) or not upload.filename:
            return _import_page(request, error="Choisissez le fichier CSV à importer, puis "
                                               "cliquez sur « Importer le fichier ».",
                                status_code=400)
        data = await run_operation(request, "CaisseImportBeneficiaries", file=upload)
    finally:
        await form.close()
    result = Outcome.of(data["importBeneficiaries"])
    if result.is_error:
        return _import_page(request, error=result.message, status_code=400)
    return _import_page(request, report=result.payload)


@back_office_area
async def import_template_file(request: Request) -> Response:
    return Response("\ufeff" + import_template(), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition":
                             'attachment; filename="modele-beneficiaires.csv"'})


routes = [
    Route(BASE, beneficiaries, methods=["GET"], name="caisse_beneficiaries"),
    Route(BASE + "/nouveau", new_beneficiary, methods=["GET"]),
    Route(BASE + "/nouveau", create_beneficiary, methods=["POST"]),
    Route(BASE + "/{id:int}", beneficiary, methods=["GET"]),
    Route(BASE + "/{id:int}/modifier", edit_beneficiary, methods=["GET"]),
    Route(BASE + "/{id:int}/modifier", update_beneficiary, methods=["POST"]),
    Route(BASE + "/{id:int}/prises-en-charge/nouvelle", new_plan, methods=["GET"]),
    Route(BASE + "/{id:int}/prises-en-charge/nouvelle", create_plan, methods=["POST"]),
    Route("/caisse/prises-en-charge/{id:int}/modifier", edit_plan, methods=["GET"]),
    Route("/caisse/prises-en-charge/{id:int}/modifier", update_plan, methods=["POST"]),
    Route("/caisse/prises-en-charge/{id:int}/notifier", notify_confirmation, methods=["GET"]),
    Route("/caisse/prises-en-charge/{id:int}/notifier", notify_plan, methods=["POST"]),
    Route("/caisse/prises-en-charge/{id:int}/cloturer", close_form, methods=["GET"]),
    Route("/caisse/prises-en-charge/{id:int}/cloturer", close_plan, methods=["POST"]),
    Route("/caisse/conventions/{id:int}/prises-en-charge", convention_plans, methods=["GET"]),
    *[Route(f"/caisse/conventions/{{id:int}}/{action}", handler, methods=[method])
      for action in ACTIONS
      for handler, method in ((status_form, "GET"), (change_status, "POST"))],
    Route("/caisse/import", import_form, methods=["GET"], name="caisse_import"),
    Route("/caisse/import", import_file, methods=["POST"]),
    Route("/caisse/import/modele.csv", import_template_file, methods=["GET"]),
]
