"""Mutations of the webhooks (partner admins); refusals come back as AdminError."""
from __future__ import annotations

import strawberry

from ppas.schema.context import Info
from ppas.schema.partner_admin.mutations import _id
from ppas.schema.permissions import PARTNER_ADMINISTRATION
from ppas.schema.webhooks.types import (
    CreateWebhookSubscriptionResult,
    CreateWebhookSubscriptionSuccess,
    DeleteWebhookSubscriptionResult,
    DeleteWebhookSubscriptionSuccess,
    RedeliverWebhookResult,
    RedeliverWebhookSuccess,
    WebhookDelivery,
    WebhookEvent,
    WebhookSubscription,
)
from ppas.services import webhooks


@strawberry.type
class WebhookMutations:
    @strawberry.mutation(description="Enregistrer une adresse HTTPS qui recevra les événements "
                                     "choisis ; la clé de signature n'est renvoyée qu'ici.",
                         permission_classes=PARTNER_ADMINISTRATION)
    async def create_webhook_subscription(self, info: Info, url: str,
                                          events: list[WebhookEvent]
                                          ) -> CreateWebhookSubscriptionResult:
        context = info.context
        created = await webhooks.create_subscription(
            context.user, url, [event.value for event in events],
            development=context.settings.development, ip=context.client_ip)
        await created.subscription.fetch_related("created_by")
        return CreateWebhookSubscriptionSuccess(
            subscription=WebhookSubscription.from_model(created.subscription),
            secret=created.secret)

    @strawberry.mutation(description="Supprimer une adresse : plus rien ne lui est envoyé.",
                         permission_classes=PARTNER_ADMINISTRATION)
    async def delete_webhook_subscription(self, info: Info, id: strawberry.ID
                                          ) -> DeleteWebhookSubscriptionResult:
        row = await webhooks.delete_subscription(info.context.user, _id(id),
                                                 now=info.context.now(),
                                                 ip=info.context.client_ip)
        await row.fetch_related("created_by")
        return DeleteWebhookSubscriptionSuccess(subscription=WebhookSubscription.from_model(row))

    @strawberry.mutation(description="Renvoyer un événement (même identifiant) dès le "
                                     "prochain passage des envois.",
                         permission_classes=PARTNER_ADMINISTRATION)
    async def redeliver_webhook(self, info: Info, id: strawberry.ID) -> RedeliverWebhookResult:
        row = await webhooks.redeliver(info.context.user, _id(id), now=info.context.now(),
                                       ip=info.context.client_ip)
        return RedeliverWebhookSuccess(delivery=WebhookDelivery.from_model(row))
