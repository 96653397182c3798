"""Webhook subscriptions and deliveries as the partner admin sees them (never the secret,
except once in CreateWebhookSubscriptionSuccess)."""
from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Annotated

import strawberry

from ppas import models
from ppas.schema.partner_admin.types import AdminError
from ppas.services.webhooks import EVENTS

WebhookEvent = strawberry.enum(
    Enum("WebhookEvent", {name.upper().replace(".", "_"): name for name in EVENTS}),
    name="WebhookEvent",
    description="Événement qu'une adresse peut recevoir ; la valeur envoyée dans `event` et "
                "l'en-tête X-PPAS-Event est le nom en minuscules (billing_file.checked…).")


@strawberry.enum(description="Où en est l'envoi d'un événement.")
class WebhookDeliveryStatus(Enum):
    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"


def _events(names: str) -> list[WebhookEvent]:
    return [WebhookEvent(name) for name in names.split(",") if name in EVENTS]


@strawberry.type(description="Adresse HTTPS qui reçoit les événements choisis, signés "
                             "(HMAC-SHA256).")
class WebhookSubscription:
    id: strawberry.ID
    url: str
    events: list[WebhookEvent]
    created_at: datetime
    created_by: str = strawberry.field(description="Identifiant de l'administrateur qui l'a "
                                                   "créée.")

    @classmethod
    def from_model(cls, row: models.WebhookSubscription) -> WebhookSubscription:
        return cls(id=strawberry.ID(str(row.id)), url=row.url, events=_events(row.events),
                   created_at=row.created_at, created_by=row.created_by.login)


@strawberry.type(description="Un événement envoyé (ou à envoyer) à une adresse.")
class WebhookDelivery:
    id: strawberry.ID
    event_id: str = strawberry.field(description="Identique à chaque essai et à chaque renvoi "
                                                 "(en-tête X-PPAS-Event-Id).")
    event: WebhookEvent
    url: str
    status: WebhookDeliveryStatus
    attempts: int
    response_status: int | None = strawberry.field(description="Code HTTP de la dernière "
                                                               "réponse, s'il y en a eu une.")
    last_error: str
    created_at: datetime
    last_attempt_at: datetime | None
    next_attempt_at: datetime | None
    delivered_at: datetime | None

    @classmethod
    def from_model(cls, row: models.WebhookDelivery) -> WebhookDelivery:
        return cls(id=strawberry.ID(str(row.id)), event_id=row.event_id,
                   event=WebhookEvent(row.event), url=row.subscription.url,
                   status=WebhookDeliveryStatus(str(getattr(row.status, "value", row.status))),
                   attempts=row.attempts, response_status=row.response_status,
                   last_error=row.last_error, created_at=row.created_at,
                   last_attempt_at=row.last_attempt_at, next_attempt_at=row.next_attempt_at,
                   delivered_at=row.delivered_at)


@strawberry.type
class CreateWebhookSubscriptionSuccess:
    subscription: WebhookSubscription
    secret: str = strawberry.field(
        description="La clé de signature (HMAC-SHA256) : affichée cette seule fois.")


@strawberry.type
class DeleteWebhookSubscriptionSuccess:
    subscription: WebhookSubscription


@strawberry.type
class RedeliverWebhookSuccess:
    delivery: WebhookDelivery


CreateWebhookSubscriptionResult = Annotated[
    CreateWebhookSubscriptionSuccess | AdminError,
    strawberry.union("CreateWebhookSubscriptionResult")]
DeleteWebhookSubscriptionResult = Annotated[
    DeleteWebhookSubscriptionSuccess | AdminError,
    strawberry.union("DeleteWebhookSubscriptionResult")]
RedeliverWebhookResult = Annotated[RedeliverWebhookSuccess | AdminError,
                                   strawberry.union("RedeliverWebhookResult")]
