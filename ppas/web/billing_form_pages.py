"""« Facturation »: the worklist and the monthly online billing form (autosave through htmx)."""
from __future__ import annotations

import base64
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ppas.domain.billing_form import page_count, page_of_position
from ppas.domain.ids import MAX_ID, parse_id, plain_number
from ppas.web.guards import page_number, redirect, refusal_page, run_operation, signed_in
from ppas.web.operations import OperationFailed, Outcome
from ppas.web.templating import is_htmx, render


def _page(request: Request, source: Any = None) -> int:
    return page_number((source or request.query_params).get("page", "1"))


def _window(request: Request, page: int) -> tuple[int, int]:
    size = request.app.state.settings.page_size
    return (page - 1) * size, size


def _form_url(form_id: Any, page: int | None = None, anchor: str = "") -> str:
    url = f"/facturation/{form_id}"
    if page:
        url += f"?page={page}"
    return url + (f"#{anchor}" if anchor else "")


# --------------------------------------------------------------------------- worklist


async def _worklist_page(request: Request, status_code: int = 200, **extra: Any) -> Response:
    try:
        data = await run_operation(request, "BillingWorklist")
    except OperationFailed as failure:
        return refusal_page(request, failure)
    conventions = [c for c in data["conventions"] if c["status"] == "active"
                   and c["prestationCode"] == "001"]
    return render(request, "pages/billing_worklist.html", status_code=status_code,
                  worklist=data["billingForms"], conventions=conventions, **extra)


@signed_in
async def worklist(request: Request) -> Response:
    return await _worklist_page(request)


@signed_in
async def open_form(request: Request) -> Response:
    data = await request.form()
    convention_id = str(data.get("convention", ""))
    period = str(data.get("period", ""))
    try:
        answer = await run_operation(request, "OpenBillingForm", conventionId=convention_id,
                                     period=period)
        result = Outcome.of(answer["openBillingForm"])
    except OperationFailed as failure:
        return refusal_page(request, failure)
    if result.is_error:
        return await _worklist_page(request, status_code=422, open_error=result,
                                    typed_period=period, typed_convention=convention_id)
    return redirect(request, _form_url(result.payload["form"]["id"]))


# --------------------------------------------------------------------------- the form


async def _load_page(request: Request, form_id: str, page: int) -> dict | None:
    offset, limit = _window(request, page)
    data = await run_operation(request, "BillingFormPage", id=form_id, offset=offset, limit=limit)
    return data["billingForm"]


def _page_context(request: Request, form: dict, page: int) -> dict:
    size = request.app.state.settings.page_size
    pages = page_count(form["lines"]["totalCount"], size)
    return {"form": form, "page": page, "pages": pages, "page_size": size,
            "last_page": page >= pages}


async def _form_page(request: Request, form_id: str, page: int, status_code: int = 200,
                     **extra: Any) -> Response:
    try:
        form = await _load_page(request, form_id, page)
    except OperationFailed as failure:
        return refusal_page(request, failure)
    if form is None:
        return render(request, "pages/not_found.html", status_code=404)
    context = _page_context(request, form, page)
    if page > context["pages"]:
        return redirect(request, _form_url(form_id, context["pages"]))
    done = extra.pop("done", None)
    # Announced only when the form's state agrees: a reload or an old link must not lie.
    if done == "valide" and form["status"] != "open" or done == "annule" and form["status"] == "open":
        extra["notice"] = DONE_NOTICES[done]
    return render(request, "pages/billing_form.html", status_code=status_code, **context, **extra)


# What a redirect after a successful POST announces on the form (focused, see the template).
DONE_NOTICES = {
    "valide": "Formulaire validé : il part au prochain paiement. Le récapitulatif PDF est prêt.",
    "annule": "Validation annulée : le formulaire est de nouveau modifiable, avec toutes ses "
              "saisies. Validez-le de nouveau une fois corrigé.",
}


@signed_in
async def form_page(request: Request) -> Response:
    form_id = request.path_params["id"]
    done = next((key for key in DONE_NOTICES if key in request.query_params), None)
    if done:
        return await _form_page(request, form_id, _page(request), done=done)
    if "page" not in request.query_params:
        # Resume where the user left: the page of the first line still to fill.
        try:
            form = await _load_page(request, form_id, 1)
        except OperationFailed as failure:
            return refusal_page(request, failure)
        if form is None:
            return render(request, "pages/not_found.html", status_code=404)
        position = form["totals"]["firstRemainingPosition"]
        size = request.app.state.settings.page_size
        page = page_of_position(position, size) if position and form["status"] == "open" else 1
        if page == 1:
            return render(request, "pages/billing_form.html", **_page_context(request, form, 1))
        return await _form_page(request, form_id, page)
    return await _form_page(request, form_id, _page(request))


def _typed(data: Any, line_id: str) -> tuple[str | None, str | None, int]:
    hours = data.get(f"h-{line_id}")
    sunday = data.get(f"s-{line_id}")
    return hours, sunday, plain_number(data.get(f"v-{line_id}"), MAX_ID) or 0


def _state_of(result: Outcome, hours: str | None, sunday: str | None) -> dict:
    """What a row shows after a save: saved, conflict (both values) or error (typed kept)."""
    payload = result.payload
    if result.ok:
        return {"kind": "saved", "line": payload["line"]}
    if result.is_conflict:
        return {"kind": "conflict", "line": payload["line"], "message": result.message,
                "hours": payload["typedHours"], "sunday": payload["typedSundayHours"]}
    return {"kind": "error", "line": payload.get("errorLine"), "message": result.message,
            "field": result.field or "hours", "hours": hours or "", "sunday": sunday or ""}


@signed_in
async def save_all(request: Request) -> Response:
    """The form-level « Enregistrer »: every line of the page, then the page again."""
    form_id = request.path_params["id"]
    data = await request.form()
    page = _page(request, data)
    offset, limit = _window(request, page)
    states: dict[str, dict] = {}
    saved = 0
    line_ids = [key[2:] for key in data.keys() if key.startswith("h-") and parse_id(key[2:])]
    try:
        for line_id in line_ids:
            hours, sunday, version = _typed(data, line_id)
            result = Outcome.of((await run_operation(
                request, "SaveFormLine", lineId=line_id, hours=hours, sundayHours=sunday,
                version=version, offset=offset, limit=limit))["saveFormLine"])
            state = _state_of(result, hours, sunday)
            if state["kind"] == "saved":
                saved += 1
            else:
                states[line_id] = state
    except OperationFailed as failure:
        return refusal_page(request, failure)
    if not states and not is_htmx(request):
        return redirect(request, _form_url(form_id, page))
    notice = (f"{saved} ligne{'s' if saved > 1 else ''} enregistrée{'s' if saved > 1 else ''}."
              if not states else
              f"{len(states)} ligne{'s' if len(states) > 1 else ''} non enregistrée"
              f"{'s' if len(states) > 1 else ''} : voyez les messages sur les lignes concernées.")
    failed = 422 if states and not is_htmx(request) else 200  # htmx swaps only 2xx
    return await _form_page(request, form_id, page, status_code=failed,
                            states=states, notice=notice, notice_is_error=bool(states))


async def _line_response(request: Request, result: Outcome, page: int, *, trigger: str | None,
                         hours: str | None = None, sunday: str | None = None,
                         whole_row: bool = False, toggled: bool = False) -> Response:
    """htmx: the pieces of the row that changed (out-of-band), never the field being typed in."""
    state = _state_of(result, hours, sunday)
    state["toggled"] = toggled  # just crossed out or restored: the button offers « Annuler »
    if state["line"] is None:  # the line is not the user's, or not readable any more
        # 200: htmx swaps only successful responses, and the message must reach the page.
        return render(request, "partials/billing_form_message.html",
                      message=result.message)
    form = result.payload.get("form")
    if form is None:
        line_data = await run_operation(request, "BillingFormLine", id=state["line"]["id"],
                                        offset=_window(request, page)[0],
                                        limit=_window(request, page)[1])
        form = (line_data["billingFormLine"] or {}).get("form")
    size = request.app.state.settings.page_size
    return render(request, "partials/billing_form_line.html",
                  line=state["line"], state=state, form=form, page=page, page_size=size,
                  trigger=trigger, whole_row=whole_row)


@signed_in
async def save_line(request: Request) -> Response:
    line_id = str(request.path_params["line_id"])
    data = await request.form()
    page = _page(request, data)
    offset, limit = _window(request, page)
    hours, sunday, version = _typed(data, line_id)
    confirm = plain_number(data.get("confirm"), MAX_ID)
    if confirm is not None:  # « Confirmer ma saisie » after a conflict: overwrite knowingly
        version = confirm
    try:
        result = Outcome.of((await run_operation(
            request, "SaveFormLine", lineId=line_id, hours=hours, sundayHours=sunday,
            version=version, offset=offset, limit=limit))["saveFormLine"])
    except OperationFailed as failure:
        return refusal_page(request, failure)
    if not is_htmx(request):
        form_id = data.get("form", "")
        return redirect(request, _form_url(form_id, page, f"ligne-{line_id}"))
    trigger = request.headers.get("hx-trigger-name")
    return await _line_response(request, result, page, trigger=trigger if not confirm else None,
                                hours=hours, sunday=sunday)


async def _toggle(request: Request, operation: str, field: str) -> Response:
    line_id = str(request.path_params["line_id"])
    data = await request.form()
    page = _page(request, data)
    offset, limit = _window(request, page)
    try:
        result = Outcome.of((await run_operation(request, operation, lineId=line_id,
                                                 offset=offset, limit=limit))[field])
    except OperationFailed as failure:
        return refusal_page(request, failure)
    if not is_htmx(request):
        return redirect(request, _form_url(data.get("form", ""), page, f"ligne-{line_id}"))
    if result.is_error:
        return render(request, "partials/billing_form_message.html", message=result.message)
    return await _line_response(request, result, page, trigger=None, whole_row=True,
                                toggled=operation == "CrossOutFormLine")


@signed_in
async def cross_out(request: Request) -> Response:
    return await _toggle(request, "CrossOutFormLine", "crossOutFormLine")


@signed_in
async def restore(request: Request) -> Response:
    return await _toggle(request, "RestoreFormLine", "restoreFormLine")


@signed_in
async def line_row(request: Request) -> Response:
    """The row as saved (« Reprendre la valeur enregistrée » after a conflict)."""
    line_id = str(request.path_params["line_id"])
    page = _page(request)
    offset, limit = _window(request, page)
    try:
        data = await run_operation(request, "BillingFormLine", id=line_id, offset=offset,
                                   limit=limit)
    except OperationFailed as failure:
        return refusal_page(request, failure)
    line = data["billingFormLine"]
    if line is None:
        return render(request, "pages/not_found.html", status_code=404)
    if not is_htmx(request):
        return redirect(request, _form_url(line["form"]["id"], page, f"ligne-{line_id}"))
    return render(request, "partials/billing_form_line.html", line=line,
                  state={"kind": "reloaded", "line": line}, form=line["form"], page=page,
                  page_size=request.app.state.settings.page_size, trigger=None, whole_row=True)


@signed_in
async def confirm_validation(request: Request) -> Response:
    """Before validating: what is about to leave for payment, and a button to confirm it."""
    form_id = request.path_params["id"]
    try:
        form = (await run_operation(request, "BillingFormConfirm", id=form_id))["billingForm"]
    except OperationFailed as failure:
        return refusal_page(request, failure)
    if form is None:
        return render(request, "pages/not_found.html", status_code=404)
    if form["status"] != "open":
        return redirect(request, _form_url(form_id))
    size = request.app.state.settings.page_size
    unfilled = [{**line, "url": _form_url(form_id, page_of_position(line["position"], size),
                                          f"ligne-{line['lineId']}")}
                for line in form["unfilledLines"]]
    return render(request, "pages/billing_form_confirm.html", form=form, unfilled=unfilled,
                  last_page=page_count(form["lines"]["totalCount"], size))


@signed_in
async def validate(request: Request) -> Response:
    form_id = request.path_params["id"]
    data = await request.form()
    page = _page(request, data)
    try:
        result = Outcome.of((await run_operation(request, "ValidateBillingForm", id=form_id))[
            "validateBillingForm"])
    except OperationFailed as failure:
        return refusal_page(request, failure)
    if result.is_error:
        size = request.app.state.settings.page_size
        links = [{**line, "url": _form_url(form_id, page_of_position(line["position"], size),
                                           f"ligne-{line['lineId']}")}
                 for line in result.payload["lines"]]
        return await _form_page(request, form_id, page, status_code=422,
                                validation_error=result.message, unfilled=links)
    return redirect(request, _form_url(form_id) + "?valide=1")


@signed_in
async def cancel(request: Request) -> Response:
    form_id = request.path_params["id"]
    try:
        result = Outcome.of((await run_operation(request, "CancelBillingFormValidation",
                                                 id=form_id))["cancelBillingFormValidation"])
    except OperationFailed as failure:
        return refusal_page(request, failure)
    if result.is_error:
        return await _form_page(request, form_id, 1, status_code=422,
                                cancel_error=result.message)
    return redirect(request, _form_url(form_id) + "?annule=1")


@signed_in
async def recap_pdf(request: Request) -> Response:
    form_id = request.path_params["id"]
    try:
        data = await run_operation(request, "BillingFormRecap", id=form_id)
    except OperationFailed as failure:
        return refusal_page(request, failure)
    form = data["billingForm"]
    if form is None or not form["recapPdf"]:
        return render(request, "pages/not_found.html", status_code=404)
    name = f"recapitulatif_{form['convention']['number']}_{form['period']}.pdf"
    return Response(base64.b64decode(form["recapPdf"]), media_type="application/pdf",
                    headers={"Content-Disposition": f'attachment; filename="{name}"',
                             "Cache-Control": "no-store"})


routes = [
    Route("/facturation", worklist, name="billing_worklist"),
    Route("/facturation/ouvrir", open_form, methods=["POST"]),
    Route("/facturation/{id:int}", form_page, name="billing_form"),
    Route("/facturation/{id:int}/enregistrer", save_all, methods=["POST"]),
    Route("/facturation/{id:int}/valider", confirm_validation, methods=["GET"]),
    Route("/facturation/{id:int}/valider", validate, methods=["POST"]),
    Route("/facturation/{id:int}/annuler", cancel, methods=["POST"]),
    Route("/facturation/{id:int}/recapitulatif.pdf", recap_pdf),
    Route("/facturation/lignes/{line_id:int}", line_row, methods=["GET"]),
    Route("/facturation/lignes/{line_id:int}", save_line, methods=["POST"]),
    Route("/facturation/lignes/{line_id:int}/barrer", cross_out, methods=["POST"]),
    Route("/facturation/lignes/{line_id:int}/retablir", restore, methods=["POST"]),
]
