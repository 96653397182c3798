"""« Anomalies »: every anomaly of the partner, filtered by a GET form, paginated, as CSV.

Works without JavaScript (a GET form and links); with htmx the form and the page links swap
only the results section, whose heading takes the focus.
"""
from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ppas.domain.anomalies import CATALOG
from ppas.domain.ids import parse_id
from ppas.domain.periods import Period
from ppas.web.guards import page_number, refusal_page, run_operation, signed_in
from ppas.web.operations import OperationFailed
from ppas.web.templating import is_htmx, paris_time, render

PHASES = {"billing": ("BILLING", "Au dépôt (facturation)"),
          "report": ("REPORT", "À l'intégration (report)")}
MONTH_HINT = "Mois : saisissez l'échéance au format AAAA-MM, par exemple 2026-04."


def _filters(request: Request) -> tuple[dict[str, str], dict[str, Any], str | None]:
    """(the form's values as typed and kept, the GraphQL filter, an error to show)."""
    params = request.query_params
    phase = params.get("phase", "")
    code = params.get("code", "").strip().upper()
    month = params.get("mois", "").strip()
    file_id = parse_id(params.get("fichier"))
    form_id = parse_id(params.get("formulaire"))
    values = {"phase": phase if phase in PHASES else "", "code": code if code in CATALOG else "",
              "mois": month, "fichier": str(file_id or ""), "formulaire": str(form_id or "")}
    graphql: dict[str, Any] = {}
    error = None
    if values["phase"]:
        graphql["phase"] = PHASES[phase][0]
    if values["code"]:
        graphql["code"] = code
    if month:
        try:
            graphql["month"] = values["mois"] = str(Period.parse(month))
        except ValueError:
            error = MONTH_HINT
    if file_id:
        graphql["fileId"] = str(file_id)
    if form_id:
        graphql["formId"] = str(form_id)
    return values, graphql, error


def _query_string(values: dict[str, str], **more: Any) -> str:
    kept = {k: v for k, v in {**values, **more}.items() if v not in ("", None)}
    return urlencode(kept)


def _month_label(month: str | None) -> str:
    if not month:
        return "—"
    try:
        return Period.parse(month).label_fr
    except ValueError:
        return month


@signed_in
async def anomalies_page(request: Request) -> Response:
    values, graphql, error = _filters(request)
    size = request.app.state.settings.page_size
    page = page_number(request.query_params.get("page", "1"))
    try:
        data = await run_operation(request, "Anomalies", filter=graphql or None,
                                   offset=(page - 1) * size, limit=size)
    except OperationFailed as failure:
        return refusal_page(request, failure)
    listing = data["anomalies"]
    pages = max(1, -(-listing["totalCount"] // size))
    items = [{**a, "created_label": paris_time(a["createdAt"], "%d/%m/%Y") or "—",
              "month_label": _month_label(a["month"]),
              "phase_label": "au dépôt" if a["phase"] == "BILLING" else "à l'intégration"}
             for a in listing["items"]]
    context = {
        "items": items, "total": listing["totalCount"], "page": page, "pages": pages,
        "values": values, "error": error, "phases": PHASES,
        "codes": [(code, kind.heading) for code, kind in CATALOG.items()],
        "filtered": bool(graphql), "query": _query_string(values),
        "page_query": lambda n: _query_string(values, page=n),
        "csv_query": _query_string(values),
        "all_sources_query": _query_string(values, fichier="", formulaire=""),
    }
    if is_htmx(request):
        return render(request, "partials/anomalies_results.html", **context)
    return render(request, "pages/anomalies.html", status_code=422 if error else 200, **context)


@signed_in
async def anomalies_csv(request: Request) -> Response:
    _values, graphql, error = _filters(request)
    if error:
        graphql.pop("month", None)
    try:
        data = await run_operation(request, "AnomaliesCsv", filter=graphql or None)
    except OperationFailed as failure:
        return refusal_page(request, failure)
    text = data["anomaliesCsv"]
    if not text.startswith("\ufeff"):
        text = "\ufeff" + text
    return Response(text.encode("utf-8"), media_type="text/csv; charset=utf-8", headers={
        "Content-Disposition": 'attachment; filename="anomalies.csv"'})


routes = [
    Route("/anomalies", anomalies_page, name="anomalies"),
    Route("/anomalies.csv", anomalies_csv, name="anomalies_csv"),
]
