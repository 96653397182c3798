"""« Évaluations »: the evaluator's orders (reserve, release), the online evaluation form,
and the caisse's received evaluations and conflicts; the form's definitions for the browser.

The online form is drawn from the same definitions as the offline one
(ppas/domain/evaluation_form.py) and sent through `synchroniseEvaluations` with a clientId
drawn when the form is shown: sending it twice gives DUPLICATE, never a second evaluation.
"""
from __future__ import annotations

import uuid
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ppas.domain import evaluation_form
from ppas.domain.roles import CAISSE_ROLES, Role
from ppas.web.admin_pages import paris_time
from ppas.web.guards import redirect, refusal_page, run_operation, signed_in
from ppas.web.operations import OperationFailed, Outcome
from ppas.web.templating import render

_DEFINITIONS = evaluation_form.definitions_json().encode()
_ETAG = f'"{evaluation_form.DEFINITIONS_VERSION}"'
PAGE_SIZE = 20
EVALUATORS_ONLY = "Les commandes d'évaluation sont réservées aux évaluateurs."
CAISSE_ONLY = "Les évaluations reçues sont examinées par les agents de la caisse."
NOTICES = {
    "reservee": "Commande réservée : elle est dans « Mes commandes réservées ».",
    "liberee": "Réservation libérée : la commande est de nouveau proposée.",
    "tranche": "Conflit traité.",
    "commandee": "Commande d'évaluation créée : elle est proposée à la structure choisie.",
}
STATUS_LABELS = {"OPEN": "Ouverte", "RESERVED": "Réservée", "EVALUATED": "Évaluée",
                 "CANCELLED": "Annulée"}


async def definitions(request: Request) -> Response:
    """The form's fields, rules, messages and the AGGIR table: public data, cacheable, its
    `version` (also the ETag) changing with any rule."""
    if request.headers.get("if-none-match") == _ETAG:
        return Response(status_code=304, headers={"ETag": _ETAG})
    return Response(_DEFINITIONS, media_type="application/json",
                    headers={"ETag": _ETAG, "Cache-Control": "public, max-age=300"})


def _area(roles: frozenset[str], refusal: str):
    def wrap(handler):
        @signed_in
        async def guarded(request: Request) -> Response:
            if request.state.user.role not in roles:
                return render(request, "pages/refused.html", status_code=403,
                              messages=[refusal])
            try:
                return await handler(request)
            except OperationFailed as failure:
                return refusal_page(request, failure)
        guarded.__name__ = handler.__name__
        return guarded
    return wrap


evaluator_area = _area(frozenset({Role.EVALUATOR}), EVALUATORS_ONLY)
caisse_area = _area(CAISSE_ROLES, CAISSE_ONLY)


def _page_number(request: Request) -> int:
    text = request.query_params.get("page", "1")
    return int(text) if text.isdigit() and 0 < int(text) < 100_000 else 1


# ---------------------------------------------------------------- evaluator


async def _orders_page(request: Request, *, notice: str = "", error: str = "",
                       status_code: int = 200) -> Response:
    page = _page_number(request)
    data = await run_operation(request, "EvaluationOrders", offset=(page - 1) * PAGE_SIZE,
                               limit=PAGE_SIZE)
    return render(request, "pages/evaluation_orders.html", status_code=status_code,
                  mine=data["mine"], open=data["open"], packages=data["packages"], page=page, notice=notice, error=error,
                  when=paris_time, status_labels=STATUS_LABELS)


@evaluator_area
async def orders(request: Request) -> Response:
    return await _orders_page(request, notice=NOTICES.get(request.query_params.get("fait", ""), ""))


async def _order_action(request: Request, operation: str, field: str, done: str) -> Response:
    data = await run_operation(request, operation, id=str(request.path_params["id"]))
    result = Outcome.of(data[field])
    if result.is_error:
        return await _orders_page(request, error=result.message, status_code=409
                                  if result.code == "CONFLICT" else 400)
    return redirect(request, f"/evaluations?fait={done}")


@evaluator_area
async def reserve(request: Request) -> Response:
    return await _order_action(request, "ReserveEvaluationOrder", "reserveEvaluationOrder",
                               "reservee")


@evaluator_area
async def release(request: Request) -> Response:
    return await _order_action(request, "ReleaseEvaluationOrder", "releaseEvaluationOrder",
                               "liberee")


def _form_page(request: Request, order: dict[str, Any], values: dict[str, Any],
               problems: dict[str, str], client_id: str, status_code: int = 200,
               error: str = "") -> Response:
    return render(request, "pages/evaluation_form.html", status_code=status_code, order=order,
                  values=values, problems=problems, client_id=client_id, error=error,
                  sections=evaluation_form.SECTIONS, fields=evaluation_form.FIELDS,
                  labels={f["name"]: f["label"] for f in evaluation_form.FIELDS},
                  when=paris_time)


async def _held_order(request: Request) -> dict[str, Any] | None:
    data = await run_operation(request, "EvaluationOrder", id=str(request.path_params["id"]))
    order = data["evaluationOrder"]
    return order if order and order["reservedByMe"] else None


@evaluator_area
async def evaluation_form_page(request: Request) -> Response:
    order = await _held_order(request)
    if order is None:
        return render(request, "pages/not_found.html", status_code=404)
    return _form_page(request, order, {}, {}, str(uuid.uuid4()))


def _typed(form) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for f in evaluation_form.FIELDS:
        if f["type"] == "multi":
            values[f["name"]] = [str(v) for v in form.getlist(f["name"])]
        else:
            values[f["name"]] = str(form.get(f["name"], "")).strip()
    return values


@evaluator_area
async def submit_evaluation(request: Request) -> Response:
    order = await _held_order(request)
    if order is None:
        return render(request, "pages/not_found.html", status_code=404)
    form = await request.form()
    values = _typed(form)
    client_id = str(form.get("clientId", "")) or str(uuid.uuid4())
    item = {
        "clientId": client_id, "orderId": order["id"], "orderVersion": order["version"],
        "visitDate": values["visitDate"] or None,
        "discriminant": [{"code": c, "modality": values[c]}
                         for c, _ in evaluation_form.DISCRIMINANT if values[c]],
        "illustrative": [{"code": c, "modality": values[c]}
                         for c, _ in evaluation_form.ILLUSTRATIVE if values[c]],
        "livingConditions": values["livingConditions"], "needs": values["needs"],
        "recommendedHoursPerMonth": values["recommendedHoursPerMonth"],
        "preventionActions": values["preventionActions"], "comments": values["comments"],
    }
    [receipt] = (await run_operation(request, "SubmitEvaluation", item=item))["synchroniseEvaluations"]
    if receipt["status"] == "INVALID":
        problems = {p["field"]: p["message"] for p in receipt["problems"]}
        return _form_page(request, order, values, problems, client_id, status_code=400,
                          error=receipt["message"])
    if receipt["status"] == "CONFLICT":
        return _form_page(request, order, values, {}, client_id, status_code=409,
                          error=receipt["message"])
    return render(request, "pages/evaluation_sent.html", order=order, receipt=receipt)


# ---------------------------------------------------------------- caisse


@caisse_area
async def caisse_evaluations(request: Request) -> Response:
    page = _page_number(request)
    data = await run_operation(request, "CaisseEvaluations", offset=(page - 1) * PAGE_SIZE,
                               limit=PAGE_SIZE)
    return render(request, "pages/caisse_evaluations.html", conflicts=data["evaluationConflicts"],
                  received=data["evaluations"], packages=data["packages"], page=page,
                  when=paris_time,
                  notice=NOTICES.get(request.query_params.get("fait", ""), ""))


@caisse_area
async def caisse_evaluation(request: Request) -> Response:
    data = await run_operation(request, "CaisseEvaluation", id=str(request.path_params["id"]))
    if data["evaluation"] is None:
        return render(request, "pages/not_found.html", status_code=404)
    return render(request, "pages/caisse_evaluation.html", item=data["evaluation"],
                  conflict=False, when=paris_time)


@caisse_area
async def caisse_conflict(request: Request) -> Response:
    data = await run_operation(request, "CaisseEvaluationConflict",
                               id=str(request.path_params["id"]))
    if data["evaluationConflict"] is None:
        return render(request, "pages/not_found.html", status_code=404)
    return render(request, "pages/caisse_evaluation.html", item=data["evaluationConflict"],
                  conflict=True, when=paris_time)


@caisse_area
async def resolve_conflict(request: Request) -> Response:
    form = await request.form()
    decision = "ACCEPT" if str(form.get("decision", "")) == "accepter" else "SET_ASIDE"
    data = await run_operation(request, "ResolveEvaluationConflict",
                               id=str(request.path_params["id"]), decision=decision)
    result = Outcome.of(data["resolveEvaluationConflict"])
    if result.is_error:
        return render(request, "pages/refused.html", status_code=400, messages=[result.message])
    return redirect(request, "/caisse/evaluations?fait=tranche")


ORDER_LABELS = {"beneficiaryFileNumber": "Numéro de dossier", "beneficiaryId": "Numéro de dossier",
                "partnerId": "Structure d'évaluation", "dueDate": "Échéance"}


async def _new_order_page(request: Request, values: dict[str, str], problems: dict[str, str],
                          status_code: int = 200) -> Response:
    data = await run_operation(request, "CaisseNewEvaluationOrder")
    return render(request, "pages/caisse_evaluation_order_form.html", status_code=status_code,
                  structures=data["evaluationStructures"], values=values, problems=problems,
                  labels=ORDER_LABELS)


@caisse_area
async def new_order(request: Request) -> Response:
    return await _new_order_page(request, {}, {})


@caisse_area
async def create_order(request: Request) -> Response:
    form = await request.form()
    values = {name: str(form.get(name, "")).strip()
              for name in ("beneficiaryFileNumber", "partnerId", "dueDate")}
    data = await run_operation(request, "CreateEvaluationOrder", input={
        "beneficiaryFileNumber": values["beneficiaryFileNumber"],
        "partnerId": values["partnerId"] or "0", "dueDate": values["dueDate"]})
    result = Outcome.of(data["createEvaluationOrder"])
    if result.is_error:
        problems = {p["field"]: p["message"] for p in result.problems} or {
            result.field or "": result.message}
        if "beneficiaryId" in problems:
            problems["beneficiaryFileNumber"] = problems.pop("beneficiaryId")
        return await _new_order_page(request, values, problems, status_code=400)
    return redirect(request, "/caisse/evaluations?fait=commandee")


routes = [
    Route("/evaluations/definitions.json", definitions, name="evaluation_definitions"),
    Route("/evaluations", orders, methods=["GET"], name="evaluations"),
    Route("/evaluations/commandes/{id:int}/reserver", reserve, methods=["POST"]),
    Route("/evaluations/commandes/{id:int}/liberer", release, methods=["POST"]),
    Route("/evaluations/commandes/{id:int}", evaluation_form_page, methods=["GET"]),
    Route("/evaluations/commandes/{id:int}", submit_evaluation, methods=["POST"]),
    Route("/caisse/evaluations", caisse_evaluations, methods=["GET"], name="caisse_evaluations"),
    Route("/caisse/evaluations/{id:int}", caisse_evaluation, methods=["GET"]),
    Route("/caisse/evaluations/commandes/nouvelle", new_order, methods=["GET"]),
    Route("/caisse/evaluations/commandes/nouvelle", create_order, methods=["POST"]),
    Route("/caisse/evaluations/conflits/{id:int}", caisse_conflict, methods=["GET"]),
    Route("/caisse/evaluations/conflits/{id:int}", resolve_conflict, methods=["POST"]),
]
