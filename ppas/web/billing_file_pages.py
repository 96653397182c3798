"""« Fichiers »: upload a billing file (htmx, progress), its report, CSV of anomalies,
re-billing of a refused line; « Documentation › Cahiers des charges » generated from the XSD.

Every handler runs a named operation of graphql/operations/. The upload passes Starlette's
UploadFile as the `Upload` variable of SubmitBillingFile, in-process.
"""
from __future__ import annotations

import re
from typing import Any

from starlette.datastructures import FormData, UploadFile
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ppas.domain.anomalies import CATALOG
from ppas.domain.format_documentation import (
    XSD_FILE_NAME,
    anomaly_title,
    describe_format,
    xsd_bytes,
)
from ppas.domain.ids import parse_id
from ppas.domain.plural import count_of, plural
from ppas.domain.periods import Period
from ppas.settings import Settings
from ppas.web.body_limit import BodyTooLarge, body_cap
from ppas.web.guards import page_number, refusal_page, run_operation, signed_in
from ppas.web.operations import OperationFailed, Outcome
from ppas.web.templating import is_htmx, paris_time, render

ROWS_PER_CODE = 50  # a report shows this many anomalies of one code; the CSV has them all
_FIELDS = ("fileNumber", "periodStart", "periodEnd", "hours", "sundayHours", "hourlyRate",
           "participation", "amount")


def _paris(value: str | None) -> str:
    return paris_time(value, "%d/%m/%Y à %H:%M") or "—"


def _period_label(value: str | None) -> str:
    if not value:
        return "—"
    try:
        return Period.parse(value).label_fr
    except ValueError:
        return value


def _page(request: Request) -> int:
    return page_number(request.query_params.get("page", "1"))


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.0f} Mo"


# --------------------------------------------------------------------------- view models


def _report_view(report: dict) -> dict:
    """Group the report's anomalies by code, with the catalog's texts, capped per code."""
    anomalies = report["anomalies"]
    blocked = {a["lineId"] for a in anomalies
               if a["lineId"] and a["code"] in CATALOG and not CATALOG[a["code"]].rebillable}
    groups = []
    for group in report["anomalyGroups"]:
        rows = [a for a in anomalies if a["code"] == group["code"]]
        shown = rows[:ROWS_PER_CODE]
        groups.append({**group, "rows": [
            {**a, "can_rebill": bool(a["lineId"]) and group["rebillable"]
             and a["lineId"] not in blocked and not report["dryRun"]} for a in shown],
            "shown": len(shown), "file_level": group["code"].startswith("F")})
    refused = report["status"] == "refused"
    accepted = report["acceptedCount"]
    if refused:
        summary = f"Fichier {report['name']} refusé en entier"
    elif report["dryRun"]:
        summary = (f"Contrôle sans enregistrement de {report['name']} : "
                   f"{count_of(accepted, 'ligne', 'lignes')} sur {report['lineCount']} "
                   f"{plural(accepted, 'serait acceptée', 'seraient acceptées')}")
    else:
        summary = (f"Fichier {report['name']} accepté : {count_of(accepted, 'ligne', 'lignes')} "
                   f"{plural(accepted, 'acceptée', 'acceptées')} sur {report['lineCount']}")
    summary += f", {count_of(report['anomalyCount'], 'anomalie', 'anomalies')}."
    return {**report, "groups": groups, "refused": refused, "summary": summary,
            "uploaded_label": _paris(report["uploadedAt"]),
            "period_label": _period_label(report["period"])}


async def _history(request: Request, page: int = 1) -> dict:
    size = request.app.state.settings.page_size
    data = await run_operation(request, "BillingFiles", offset=(page - 1) * size, limit=size)
    listing = data["billingFiles"]
    items = [{**item, "uploaded_label": _paris(item["uploadedAt"])} for item in listing["items"]]
    return {"items": items, "total": listing["totalCount"], "page": page,
            "pages": max(1, -(-listing["totalCount"] // size))}


# --------------------------------------------------------------------------- « Fichiers »


@signed_in
async def files_page(request: Request) -> Response:
    try:
        history = await _history(request, _page(request))
    except OperationFailed as failure:
        return refusal_page(request, failure)
    return render(request, "pages/billing_files.html", history=history,
                  max_size=_megabytes(request.app.state.settings.max_upload_bytes))


async def _submit(request: Request, form: FormData) -> tuple[str | None, dict | None]:
    """Run the upload's operation: (the error message, or None and the report)."""
    upload_file = form.get("file")
    if not isinstance(upload_file, UploadFile) or not upload_file.filename:
        return "Choisissez le fichier XML à envoyer, puis cliquez sur « Envoyer le fichier ».", None
    data = await run_operation(request, "SubmitBillingFile", file=upload_file,
                               dryRun=form.get("dry_run") == "1")
    result = Outcome.of(data["submitBillingFile"])
    if result.is_error:
        return result.message, None
    return None, _report_view(dict(result.payload))


def _too_large(settings: Settings) -> str:
    return (f"Le fichier dépasse la taille acceptée ({_megabytes(settings.max_upload_bytes)}) "
            "(anomalie F08) : découpez l'envoi en plusieurs fichiers.")


@signed_in
async def upload(request: Request) -> Response:
    settings = request.app.state.settings
    length = request.headers.get("content-length", "")
    error = None
    report = None
    if length.isdigit() and int(length) > body_cap(settings):
        # Refused before reading the body: nothing is spooled to disk.
        error = _too_large(settings)
    else:
        try:
            form = await request.form(max_files=1, max_fields=10)
        except BodyTooLarge:  # no length declared (chunked): reading stopped at the cap
            error = _too_large(settings)
        else:
            try:
                error, report = await _submit(request, form)
            except OperationFailed as failure:
                return refusal_page(request, failure)
            finally:
                await form.close()
    try:
        history = await _history(request)
    except OperationFailed as failure:
        return refusal_page(request, failure)
    context: dict[str, Any] = {"report": report, "upload_error": error, "history": history,
                               "max_size": _megabytes(settings.max_upload_bytes)}
    if is_htmx(request):
        # htmx swaps 2xx only: errors come back as 200 fragments with role=alert.
        return render(request, "partials/billing_files_upload_result.html", **context)
    return render(request, "pages/billing_files.html", status_code=422 if error else 200,
                  **context)


@signed_in
async def report_page(request: Request) -> Response:
    try:
        data = await run_operation(request, "BillingFile", id=str(request.path_params["id"]))
    except OperationFailed as failure:
        return refusal_page(request, failure)
    if data["billingFile"] is None:
        return render(request, "pages/not_found.html", status_code=404)
    return render(request, "pages/billing_files_report.html",
                  report=_report_view(data["billingFile"]),
                  rebilled=parse_id(request.query_params.get("refacturee")) or "")


@signed_in
async def anomalies_csv(request: Request) -> Response:
    file_id = str(request.path_params["id"])
    try:
        data = await run_operation(request, "BillingFileAnomaliesCsv", id=file_id)
    except OperationFailed as failure:
        return refusal_page(request, failure)
    text = data["billingFileAnomaliesCsv"]
    if text is None:
        return render(request, "pages/not_found.html", status_code=404)
    if not text.startswith("\ufeff"):
        text = "\ufeff" + text  # Excel reads UTF-8 only with its BOM
    return Response(text.encode("utf-8"), media_type="text/csv; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="anomalies-fichier-{file_id}.csv"'})


# --------------------------------------------------------------------------- re-billing


def _french(value: str) -> str:
    return value.replace(".", ",") if re.fullmatch(r"[0-9]+\.[0-9]+", value or "") else value


async def _load_line(request: Request) -> dict | None:
    data = await run_operation(request, "BillingFileLine", id=str(request.path_params["id"]))
    return data["billingFileLine"]


def _prefill(line: dict) -> dict:
    values = {name: _french(str(line[name])) for name in _FIELDS}
    if values["sundayHours"] in ("0,00", "0"):
        values["sundayHours"] = ""
    return values


@signed_in
async def rebill_form(request: Request) -> Response:
    try:
        line = await _load_line(request)
    except OperationFailed as failure:
        return refusal_page(request, failure)
    if line is None:
        return render(request, "pages/not_found.html", status_code=404)
    return render(request, "pages/billing_files_rebill.html", line=line, values=_prefill(line))


@signed_in
async def rebill(request: Request) -> Response:
    try:
        line = await _load_line(request)
    except OperationFailed as failure:
        return refusal_page(request, failure)
    if line is None:
        return render(request, "pages/not_found.html", status_code=404)
    form = await request.form()
    values = {name: str(form.get(name, "")).strip() for name in _FIELDS}
    try:
        result = Outcome.of((await run_operation(request, "RebillBillingLine", lineId=line["id"],
                                                 input=values))["rebillBillingLine"])
    except OperationFailed as failure:
        return refusal_page(request, failure)
    if result.is_error:
        return render(request, "pages/billing_files_rebill.html", status_code=422, line=line,
                      values=values, error=result)
    return render(request, "pages/billing_files_rebill.html", line=line, values=values,
                  done=result.payload["line"])


# --------------------------------------------------------------------------- documentation


async def format_page(request: Request) -> Response:
    description = describe_format()
    return render(request, "pages/billing_files_format.html", format=description,
                  anomalies=[(kind, anomaly_title(kind)) for kind in description.anomalies],
                  xsd_name=XSD_FILE_NAME)


async def xsd_download(request: Request) -> Response:
    return Response(xsd_bytes(), media_type="application/xml", headers={
        "Content-Disposition": f'attachment; filename="{XSD_FILE_NAME}"'})


routes = [
    Route("/fichiers", files_page, name="billing_files"),
    Route("/fichiers/envoyer", upload, methods=["POST"], name="billing_file_upload"),
    Route("/fichiers/{id:int}", report_page, name="billing_file_report"),
    Route("/fichiers/{id:int}/anomalies.csv", anomalies_csv, name="billing_file_csv"),
    Route("/fichiers/lignes/{id:int}/refacturer", rebill_form, name="billing_line_rebill"),
    Route("/fichiers/lignes/{id:int}/refacturer", rebill, methods=["POST"]),
    Route("/documentation/cahier-des-charges", format_page, name="billing_format"),
    Route(f"/documentation/{XSD_FILE_NAME}", xsd_download, name="billing_format_xsd"),
]
