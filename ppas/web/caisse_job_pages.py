"""The caisse's « Tâches de fond »: the portal's background jobs, and « Relancer » for the
failed ones (a plain POST form with its CSRF token: it works without JavaScript). A retry
done answers with a redirect to the list (POST/redirect/GET: reloading the page does not
post again), which says which job was relaunched (`?relancee=<id>`) and takes the focus."""
from __future__ import annotations

from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ppas.domain.ids import parse_id
from ppas.web.caisse_registration_pages import paris_time
from ppas.web.guards import page_number, redirect, refusal_page, run_operation, signed_in
from ppas.web.operations import OperationFailed, Outcome
from ppas.web.templating import render

PATH = "/caisse/taches"
# The filter of the page: the stored state (query string) and what the select says.
STATES = {"failed": "En échec", "queued": "En attente", "running": "En cours",
          "done": "Terminées"}


async def _page(request: Request, *, status_code: int = 200, notice: str = "",
                error: str = "", error_for: str = "") -> Response:
    page = page_number(request.query_params.get("page", "1"))
    state = request.query_params.get("etat", "")
    state = state if state in STATES else ""
    size = request.app.state.settings.page_size
    try:
        data = await run_operation(request, "CaisseJobs", offset=(page - 1) * size, limit=size,
                                   state=state.upper() or None)
    except OperationFailed as failure:
        return refusal_page(request, failure)
    jobs = data["jobs"]
    return render(request, "pages/caisse_jobs.html", status_code=status_code, jobs=jobs,
                  page=page, pages=max(1, -(-jobs["totalCount"] // size)), state=state,
                  states=STATES, notice=notice, error=error, error_for=error_for,
                  paris_time=paris_time)


@signed_in
async def jobs_page(request: Request) -> Response:
    retried = parse_id(request.query_params.get("relancee"))
    notice = (f"Tâche n° {retried} relancée : elle repart au prochain passage des processus "
              "de fond, avec une nouvelle série d'essais." if retried else "")
    return await _page(request, notice=notice)


@signed_in
async def retry(request: Request) -> Response:
    job_id = str(request.path_params["id"])
    try:
        data = await run_operation(request, "CaisseRetryJob", id=job_id)
    except OperationFailed as failure:  # not a caisse agent: refused for who asks
        return refusal_page(request, failure)
    result = Outcome.of(data["retryJob"])
    if result.ok:
        kept = {k: request.query_params[k] for k in ("etat", "page")
                if request.query_params.get(k)}
        return redirect(request, f"{PATH}?{urlencode({**kept, 'relancee': job_id})}")
    return await _page(request, status_code=400, error=result.message, error_for=job_id)


routes = [
    Route(PATH, jobs_page, methods=["GET"], name="caisse_jobs"),
    Route(PATH + "/{id}/relancer", retry, methods=["POST"]),
]
