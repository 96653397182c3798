"""« Bordereaux » (the partner's payment slips: list, PDF, CSV) and « Paiements » (the
caisse's payment runs: start one, list them, a run's slips)."""
from __future__ import annotations

import base64
from datetime import timedelta

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ppas.domain.periods import paris_date
from ppas.web.caisse_convention_pages import caisse_area
from ppas.web.guards import page_number, redirect, refusal_page, run_operation, signed_in
from ppas.web.operations import OperationFailed, Outcome
from ppas.web.templating import render


def _pages(total: int, size: int) -> int:
    return max(1, -(-total // size))


# --------------------------------------------------------------------------- « Bordereaux »


@signed_in
async def slips_page(request: Request) -> Response:
    size = request.app.state.settings.page_size
    page = page_number(request.query_params.get("page", "1"))
    try:
        data = await run_operation(request, "PaymentSlips", offset=(page - 1) * size, limit=size)
    except OperationFailed as failure:
        return refusal_page(request, failure)
    listing = data["paymentSlips"]
    return render(request, "pages/payment_slips.html", listing=listing, page=page,
                  pages=_pages(listing["totalCount"], size),
                  pending=data["pendingPaymentSlips"],
                  delay_hours=request.app.state.settings.slip_delay_hours)


async def _slip(request: Request, operation: str) -> dict | Response:
    try:
        data = await run_operation(request, operation, id=str(request.path_params["id"]))
    except OperationFailed as failure:
        return refusal_page(request, failure)
    slip = data["paymentSlip"]
    if slip is None:
        return render(request, "pages/not_found.html", status_code=404)
    return slip


@signed_in
async def slip_pdf(request: Request) -> Response:
    slip = await _slip(request, "PaymentSlipPdf")
    if isinstance(slip, Response):
        return slip
    if not slip["pdfBase64"]:
        return render(request, "pages/not_found.html", status_code=404)
    return Response(base64.b64decode(slip["pdfBase64"]), media_type="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="bordereau-{slip["number"]}.pdf"'})


@signed_in
async def slip_csv(request: Request) -> Response:
    slip = await _slip(request, "PaymentSlipCsv")
    if isinstance(slip, Response):
        return slip
    text = slip["csv"] or ""
    if not text.startswith("\ufeff"):
        text = "\ufeff" + text  # Excel reads UTF-8 only with its BOM
    return Response(text.encode("utf-8"), media_type="text/csv; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="bordereau-{slip["number"]}.csv"'})


# --------------------------------------------------------------------------- « Paiements »

DONE = "Le paiement est exécuté : ses bordereaux sont écrits et seront en ligne pour les partenaires {when}."


async def _runs_page(request: Request, *, values=None, problems=None, notice="",
                     status_code=200) -> Response:
    size = request.app.state.settings.page_size
    page = page_number(request.query_params.get("page", "1"))
    data = await run_operation(request, "CaissePaymentRuns", offset=(page - 1) * size, limit=size)
    listing = data["paymentRuns"]
    today = paris_date(request.app.state.clock.now())
    return render(request, "pages/caisse_payments.html", status_code=status_code,
                  listing=listing, page=page, pages=_pages(listing["totalCount"], size),
                  values=values or {"paidOn": (today + timedelta(days=1)).isoformat()},
                  problems=problems or {}, notice=notice, today=today.isoformat(),
                  delay_hours=request.app.state.settings.slip_delay_hours)


@caisse_area
async def runs_page(request: Request) -> Response:
    notice = ""
    if request.query_params.get("fait"):
        notice = "Le paiement est exécuté : ses bordereaux sont écrits (détail ci-dessous)."
    return await _runs_page(request, notice=notice)


@caisse_area
async def start_run(request: Request) -> Response:
    form = await request.form()
    paid_on = str(form.get("paidOn", "")).strip()
    data = await run_operation(request, "CaisseStartPaymentRun", paidOn=paid_on)
    result = Outcome.of(data["startPaymentRun"])
    if result.is_error:
        return await _runs_page(request, values={"paidOn": paid_on},
                                problems={result.field or "paidOn": result.message},
                                status_code=400)
    run = result.payload["run"]
    return redirect(request, f"/caisse/paiements/{run['id']}?fait=1")


@caisse_area
async def run_page(request: Request) -> Response:
    size = request.app.state.settings.page_size
    page = page_number(request.query_params.get("page", "1"))
    data = await run_operation(request, "CaissePaymentRun", id=str(request.path_params["id"]),
                               offset=(page - 1) * size, limit=size)
    run = data["paymentRun"]
    if run is None:
        return render(request, "pages/not_found.html", status_code=404)
    return render(request, "pages/caisse_payment_run.html", run=run, slips=run["slips"],
                  page=page, pages=_pages(run["slips"]["totalCount"], size),
                  done=bool(request.query_params.get("fait")))


routes = [
    Route("/bordereaux", slips_page, name="payment_slips"),
    Route("/bordereaux/{id:int}.pdf", slip_pdf, name="payment_slip_pdf"),
    Route("/bordereaux/{id:int}.csv", slip_csv, name="payment_slip_csv"),
    Route("/caisse/paiements", runs_page, methods=["GET"], name="caisse_payments"),
    Route("/caisse/paiements", start_run, methods=["POST"]),
    Route("/caisse/paiements/{id:int}", run_page, methods=["GET"], name="caisse_payment_run"),
]
