"""Webhooks: a partner admin registers an HTTPS address and the events it wants; the portal
sends each event there, signed, and tries again with backoff until the receiver answers 2xx.

* `emit_event(partner_id, event, data)` — called by a use case inside ITS transaction: one
  delivery row per subscription that chose the event (nothing is sent yet; a rollback of the
  use case leaves no delivery).
* `deliver_due_webhooks(now, settings)` — the periodic job: every delivery whose time has
  come, through `deliver_webhook(delivery_id, now)`. Both are idempotent: a delivery is claimed
  by one conditional UPDATE, so two workers never send the same attempt twice.

Each request: POST, `Content-Type: application/json`, the body below, and the headers
`X-PPAS-Event` (the event name), `X-PPAS-Event-Id` (the same for every attempt: the receiver
ignores an id it has already processed) and `X-PPAS-Signature: t=<unix time>,v1=<hex>`, where
v1 is HMAC-SHA256(secret, "<t>.<body>"). The receiver recomputes it and refuses a `t` older
than a few minutes (examples/webhook_receiver.py).

    {"id": "evt_…", "event": "billing_file.checked", "createdAt": "…", "data": {…}}

The secret is stored as is (HMAC needs it; see ppas/models/webhook.py).
"""
from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import secrets
import socket
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

import httpx
from tortoise.expressions import F
from tortoise.transactions import in_transaction

from ppas.domain.webhook_urls import LOCAL_HOSTS, forbidden_address, url_problem
from ppas.models import DeliveryStatus, User, WebhookDelivery, WebhookSubscription
from ppas.services import audit
from ppas.services.errors import ErrorCode, NotFound, ServiceError
from ppas.services.jobs.registry import JobContext, job_handler
from ppas.services.partner_admin import InvalidInput, admin_partner_id
from ppas.settings import Settings

_log = logging.getLogger(__name__)

# Event name → what the administration pages call it.
EVENTS: dict[str, str] = {
    "billing_file.checked": "Fichier de facturation contrôlé (accepté ou refusé)",
    "report_anomalies.created": "Anomalies créées à l'intégration (R01 à R04)",
    "payment_slip.published": "Bordereau de paiement publié",
}
SECRET_PREFIX = "whsec_"
MAX_SUBSCRIPTIONS = 10
TIMEOUT_SECONDS = 10.0
MAX_ATTEMPTS = 8
FIRST_RETRY = timedelta(minutes=1)  # then doubled: 1, 2, 4 … 64 min (about 4 h in all)
LEASE = timedelta(minutes=2)  # a claimed attempt is not claimed again before this
BATCH = 50
SIGNATURE_HEADER = "X-PPAS-Signature"
EVENT_HEADER = "X-PPAS-Event"
EVENT_ID_HEADER = "X-PPAS-Event-Id"
USER_AGENT = "PPAS-Webhooks/1"


@dataclass(frozen=True)
class CreatedSubscription:
    """The subscription and its signing secret, returned this once."""

    subscription: WebhookSubscription
    secret: str


def event_list(subscription: WebhookSubscription) -> list[str]:
    return [name for name in subscription.events.split(",") if name]


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """The X-PPAS-Signature value of `body` sent at `timestamp` (Unix seconds)."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={digest.hexdigest()}"


def backoff(attempts: int) -> timedelta:
    """The wait after the `attempts`-th failed attempt."""
    return FIRST_RETRY * (2 ** max(attempts - 1, 0))


# --------------------------------------------------------------------------- addresses


async def _resolved_problem(url: str, *, development: bool) -> str | None:
    """The address's problem once its host name is resolved (no private address in production)."""
    host = (urlsplit(url).hostname or "").lower()
    if development and host in LOCAL_HOSTS:
        return None
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, None,
                                                             type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        return f"Le nom de serveur « {host} » ne se résout pas : vérifiez l'adresse."
    if any(forbidden_address(info[4][0]) for info in infos):
        return ("Le nom de serveur désigne un réseau privé ou réservé : seules les adresses "
                "publiques sont acceptées.")
    return None


def _checked_events(events: list[str]) -> str:
    chosen = [name for name in EVENTS if name in set(events)]
    unknown = sorted(set(events) - set(EVENTS))
    if unknown:
        raise InvalidInput({"events": f"Événement inconnu : {', '.join(unknown)}. Choisissez "
                                      f"parmi {', '.join(EVENTS)}."})
    if not chosen:
        raise InvalidInput({"events": "Choisissez au moins un événement à recevoir."},
                           code=ErrorCode.REQUIRED)
    return ",".join(chosen)


# --------------------------------------------------------------------------- administration


async def create_subscription(actor: User | None, url: str, events: list[str], *,
                              development: bool, ip: str = "") -> CreatedSubscription:
    """A new subscription of the admin's partner; its secret is returned this once."""
    partner_id = admin_partner_id(actor)
    url = (url or "").strip()
    problem = url_problem(url, development=development)
    if problem:
        raise InvalidInput({"url": problem})
    names = _checked_events(events)
    problem = await _resolved_problem(url, development=development)  # the name, last: DNS
    if problem:
        raise InvalidInput({"url": problem})
    async with in_transaction() as connection:
        live = WebhookSubscription.filter(partner_id=partner_id, deleted_at=None) \
            .using_db(connection)
        if await live.filter(url=url).exists():
            raise InvalidInput({"url": "Cette adresse reçoit déjà les notifications de votre "
                                       "structure : supprimez-la d'abord pour changer ses "
                                       "événements."}, code=ErrorCode.ALREADY_EXISTS)
        if await live.count() >= MAX_SUBSCRIPTIONS:
            raise InvalidInput({"url": f"Votre structure a déjà {MAX_SUBSCRIPTIONS} adresses : "
                                       "supprimez-en une avant d'en ajouter une autre."})
        secret = SECRET_PREFIX + secrets.token_urlsafe(32)
        row = await WebhookSubscription.create(using_db=connection, partner_id=partner_id,
                                               created_by=actor, url=url, events=names,
                                               secret=secret)
        await audit.record("webhook_subscription.created", actor=actor,
                           object_type="webhook_subscription", object_id=row.id, ip=ip,
                           url=url, events=names)
    return CreatedSubscription(row, secret)


async def list_subscriptions(actor: User | None) -> list[WebhookSubscription]:
    """The partner's live subscriptions, newest first (secrets are not for display)."""
    partner_id = admin_partner_id(actor)
    return list(await WebhookSubscription.filter(partner_id=partner_id, deleted_at=None)
                .order_by("-created_at", "-id").prefetch_related("created_by"))


async def delete_subscription(actor: User | None, subscription_id: int, *, now: datetime,
                              ip: str = "") -> WebhookSubscription:
    """Stop sending to this address; deliveries not yet made are given up."""
    partner_id = admin_partner_id(actor)
    async with in_transaction() as connection:
        row = await WebhookSubscription.filter(id=subscription_id, partner_id=partner_id,
                                               deleted_at=None).using_db(connection).first()
        if row is None:
            raise NotFound("Cette adresse n'existe pas ou n'est pas celle de votre structure.")
        row.deleted_at = now
        await row.save(using_db=connection, update_fields=["deleted_at"])
        await WebhookDelivery.filter(subscription_id=row.id, status=DeliveryStatus.PENDING) \
            .using_db(connection).update(status=DeliveryStatus.FAILED,
                                         last_error="adresse supprimée")
        await audit.record("webhook_subscription.deleted", actor=actor,
                           object_type="webhook_subscription", object_id=row.id, ip=ip)
    return row


async def list_deliveries(actor: User | None, offset: int, limit: int
                          ) -> tuple[list[WebhookDelivery], int]:
    """The partner's deliveries, newest first, and how many there are."""
    partner_id = admin_partner_id(actor)
    query = WebhookDelivery.filter(partner_id=partner_id)
    total = await query.count()
    rows = await query.order_by("-created_at", "-id").offset(offset).limit(limit) \
        .prefetch_related("subscription")
    return list(rows), total


async def redeliver(actor: User | None, delivery_id: int, *, now: datetime,
                    ip: str = "") -> WebhookDelivery:
    """« Renvoyer »: the same event (same id) is sent again as soon as the job runs."""
    partner_id = admin_partner_id(actor)
    async with in_transaction() as connection:
        row = await WebhookDelivery.filter(id=delivery_id, partner_id=partner_id) \
            .using_db(connection).select_related("subscription").first()
        if row is None:
            raise NotFound("Cet envoi n'existe pas ou n'est pas celui de votre structure.")
        if row.subscription.deleted_at is not None:
            raise ServiceError("L'adresse de cet envoi a été supprimée : il ne peut plus être "
                               "renvoyé.", code=ErrorCode.INVALID)
        row.status, row.attempts, row.next_attempt_at = DeliveryStatus.PENDING, 0, now
        await row.save(using_db=connection,
                       update_fields=["status", "attempts", "next_attempt_at"])
        await audit.record("webhook_delivery.redelivered", actor=actor,
                           object_type="webhook_delivery", object_id=row.id, ip=ip,
                           event_id=row.event_id)
    return row


# --------------------------------------------------------------------------- events


async def emit_event(partner_id: int, event: str, data: dict, *, now: datetime | None = None,
                     connection=None) -> int:
    """One pending delivery per subscription of the partner that chose `event`, written in the
    caller's transaction (`connection`, or the current one); returns how many. `data` must be
    JSON (no personal data beyond what the partner's software may read through the API)."""
    if event not in EVENTS:
        raise ValueError(f"unknown webhook event {event!r}")
    subscriptions = await WebhookSubscription.filter(partner_id=partner_id, deleted_at=None) \
        .using_db(connection).values_list("id", "events")
    targets = [sid for sid, names in subscriptions if event in names.split(",")]
    if not targets:
        return 0
    now = now or datetime.now().astimezone()
    event_id = "evt_" + uuid.uuid4().hex
    body = json.dumps({"id": event_id, "event": event, "createdAt": now.isoformat(),
                       "data": data}, ensure_ascii=False, separators=(",", ":"), default=str)
    await WebhookDelivery.bulk_create([
        WebhookDelivery(subscription_id=sid, partner_id=partner_id, event_id=event_id,
                        event=event, payload=body, created_at=now, next_attempt_at=now)
        for sid in targets], using_db=connection)
    return len(targets)


# --------------------------------------------------------------------------- delivery


async def deliver_due_webhooks(now: datetime, settings: Settings | None = None, *,
                               limit: int = BATCH) -> int:
    """Attempt every delivery whose time has come (at most `limit`); returns how many were
    attempted here. Safe to run from several workers at once."""
    due = await WebhookDelivery.filter(status=DeliveryStatus.PENDING, next_attempt_at__lte=now) \
        .order_by("next_attempt_at", "id").limit(limit).values_list("id", flat=True)
    attempted = 0
    for delivery_id in due:
        if await deliver_webhook(delivery_id, now, settings) is not None:
            attempted += 1
    return attempted


async def deliver_webhook(delivery_id: int, now: datetime, settings: Settings | None = None, *,
                          transport: httpx.AsyncBaseTransport | None = None
                          ) -> DeliveryStatus | None:
    """One attempt of one delivery if it is due and not claimed elsewhere; its new status,
    or None when there was nothing to do."""
    claimed = await WebhookDelivery.filter(
        id=delivery_id, status=DeliveryStatus.PENDING, next_attempt_at__lte=now,
    ).update(next_attempt_at=now + LEASE, attempts=F("attempts") + 1, last_attempt_at=now)
    if not claimed:
        return None
    row = await WebhookDelivery.get(id=delivery_id).select_related("subscription")
    development = (settings or Settings.from_env()).development
    status_code, error = await _send(row, now, development=development, transport=transport)
    if status_code is not None and 200 <= status_code < 300:
        update = {"status": DeliveryStatus.DELIVERED, "delivered_at": now,
                  "next_attempt_at": None, "last_error": ""}
    elif row.attempts >= MAX_ATTEMPTS or row.subscription.deleted_at is not None:
        update = {"status": DeliveryStatus.FAILED, "next_attempt_at": None,
                  "last_error": error[:300]}
    else:
        update = {"next_attempt_at": now + backoff(row.attempts), "last_error": error[:300]}
    await WebhookDelivery.filter(id=delivery_id).update(response_status=status_code, **update)
    return update.get("status", DeliveryStatus.PENDING)


async def _send(row: WebhookDelivery, now: datetime, *, development: bool,
                transport: httpx.AsyncBaseTransport | None) -> tuple[int | None, str]:
    """POST the signed body; (HTTP status or None, what went wrong in a few words)."""
    subscription = row.subscription
    if subscription.deleted_at is not None:
        return None, "adresse supprimée"
    problem = url_problem(subscription.url, development=development) or \
        await _resolved_problem(subscription.url, development=development)
    if problem:
        return None, problem
    body = row.payload.encode("utf-8")
    headers = {
        "Content-Type": "application/json", "User-Agent": USER_AGENT,
        EVENT_HEADER: row.event, EVENT_ID_HEADER: row.event_id,
        SIGNATURE_HEADER: signature(subscription.secret, int(now.timestamp()), body),
    }
    try:
        async with httpx.AsyncClient(timeout=TIMEOUT_SECONDS, follow_redirects=False,
                                     transport=transport, trust_env=False) as client:
            response = await client.post(subscription.url, content=body, headers=headers)
    except httpx.TimeoutException:
        return None, f"pas de réponse en {TIMEOUT_SECONDS:.0f} s"
    except httpx.HTTPError as error:
        return None, f"connexion impossible ({type(error).__name__})"
    if 200 <= response.status_code < 300:
        return response.status_code, ""
    return response.status_code, f"réponse HTTP {response.status_code}"


__all__ = ["EVENTS", "CreatedSubscription", "create_subscription", "delete_subscription",
           "deliver_due_webhooks", "deliver_webhook", "emit_event", "list_deliveries",
           "list_subscriptions", "redeliver", "signature"]


@job_handler("deliver_webhooks", label="Envoi des webhooks")
async def deliver_webhooks_job(payload: dict, context: JobContext) -> None:
    """The periodic job: attempt the deliveries whose time has come (each attempt is claimed
    by a conditional update, so two workers never send one twice)."""
    await deliver_due_webhooks(context.now(), context.settings)
