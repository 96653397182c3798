"""Partner administration › Notifications (webhooks): the addresses, their events, the
delivery log and « Renvoyer ». Each action runs a named operation (graphql/operations/Admin*Webhook*)."""
from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ppas.web.admin_pages import admin_area, paris_time, problems_of
from ppas.web.guards import redirect, run_operation
from ppas.web.operations import Outcome
from ppas.web.templating import render

PAGE = "/administration/webhooks"
LOG_SIZE = 30
# GraphQL value → what the page calls the event (names from services/webhooks.EVENTS).
EVENT_LABELS = {
    "BILLING_FILE_CHECKED": "Fichier de facturation contrôlé (accepté ou refusé) — billing_file.checked",
    "REPORT_ANOMALIES_CREATED": "Anomalies de rapprochement créées — report_anomalies.created",
    "PAYMENT_SLIP_PUBLISHED": "Bordereau de paiement publié — payment_slip.published",
}
# The operations runner hands enum values over as the schema's Python values (lower case).
SHOWN_EVENTS = {label.rsplit(" — ", 1)[1]: label for label in EVENT_LABELS.values()}
STATUS_LABELS = {"pending": "En attente", "delivered": "Remis", "failed": "Abandonné"}
DONE = {
    "supprime": "L'adresse est supprimée : plus aucun événement ne lui sera envoyé.",
    "renvoi": "L'événement sera renvoyé (même identifiant) lors du prochain passage des envois.",
}


async def _render(request: Request, *, created=None, values=None, problems=None, notice="",
                  status_code=200) -> Response:
    data = await run_operation(request, "AdminWebhooks", offset=0, limit=LOG_SIZE)
    response = render(request, "pages/admin_webhooks.html", status_code=status_code,
                      subscriptions=data["webhookSubscriptions"],
                      deliveries=data["webhookDeliveries"], created=created,
                      values=values or {"events": ["BILLING_FILE_CHECKED"]},
                      problems=problems or {}, notice=notice, when=paris_time,
                      event_choices=EVENT_LABELS, event_labels=SHOWN_EVENTS,
                      status_labels=STATUS_LABELS)
    # The page may hold a secret shown once: no cache may keep a copy.
    response.headers["Cache-Control"] = "no-store"
    return response


@admin_area
async def webhooks_page(request: Request) -> Response:
    return await _render(request, notice=DONE.get(request.query_params.get("fait", ""), ""))


@admin_area
async def create_webhook(request: Request) -> Response:
    form = await request.form()
    values = {"url": str(form.get("url", "")).strip(),
              "events": [str(v) for v in form.getlist("events") if str(v) in EVENT_LABELS]}
    data = await run_operation(request, "AdminCreateWebhook", url=values["url"],
                               events=values["events"])
    result = Outcome.of(data["createWebhookSubscription"])
    if result.is_error:
        return await _render(request, values=values, problems=problems_of(result),
                             status_code=400)
    # Rendered here, not after a redirect: the secret exists in this response only.
    return await _render(request, created=result.payload)


async def _one(request: Request) -> dict[str, Any] | None:
    wanted = str(request.path_params["id"])
    data = await run_operation(request, "AdminWebhooks", offset=0, limit=1)
    return next((s for s in data["webhookSubscriptions"] if s["id"] == wanted), None)


@admin_area
async def delete_confirm(request: Request) -> Response:
    subscription = await _one(request)
    if subscription is None:
        return render(request, "pages/not_found.html", status_code=404)
    return render(request, "pages/admin_webhook_delete.html", subscription=subscription,
                  error="", when=paris_time, event_labels=SHOWN_EVENTS)


@admin_area
async def delete_webhook(request: Request) -> Response:
    subscription = await _one(request)
    if subscription is None:
        return render(request, "pages/not_found.html", status_code=404)
    data = await run_operation(request, "AdminDeleteWebhook", id=subscription["id"])
    result = Outcome.of(data["deleteWebhookSubscription"])
    if result.is_error:
        return render(request, "pages/admin_webhook_delete.html", status_code=400,
                      subscription=subscription, error=result.message, when=paris_time,
                      event_labels=SHOWN_EVENTS)
    return redirect(request, f"{PAGE}?fait=supprime")


@admin_area
async def redeliver(request: Request) -> Response:
    data = await run_operation(request, "AdminRedeliverWebhook",
                               id=str(request.path_params["id"]))
    result = Outcome.of(data["redeliverWebhook"])
    if result.is_error:
        return await _render(request, problems={"": result.message}, status_code=400)
    return redirect(request, f"{PAGE}?fait=renvoi")  # no #fragment: it would keep the notice from taking focus


routes = [
    Route(PAGE, webhooks_page, methods=["GET"]),
    Route(PAGE, create_webhook, methods=["POST"]),
    Route(PAGE + "/{id:int}/supprimer", delete_confirm, methods=["GET"]),
    Route(PAGE + "/{id:int}/supprimer", delete_webhook, methods=["POST"]),
    Route(PAGE + "/envois/{id:int}/renvoyer", redeliver, methods=["POST"]),
]
