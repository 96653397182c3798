"""Queries of the webhooks (partner admins)."""
from __future__ import annotations

import strawberry

from ppas.schema.context import Info
from ppas.schema.extensions.document_cost import cost
from ppas.schema.pagination import Page, checked_window
from ppas.schema.permissions import PARTNER_ADMINISTRATION
from ppas.schema.webhooks.types import WebhookDelivery, WebhookSubscription
from ppas.services import webhooks


@strawberry.type
class WebhookQueries:
    @strawberry.field(description="Les adresses qui reçoivent les événements du partenaire "
                                  "(administrateur seulement).",
                      permission_classes=PARTNER_ADMINISTRATION,
                      metadata=cost(size=webhooks.MAX_SUBSCRIPTIONS))
    async def webhook_subscriptions(self, info: Info) -> list[WebhookSubscription]:
        rows = await webhooks.list_subscriptions(info.context.user)
        return [WebhookSubscription.from_model(row) for row in rows]

    @strawberry.field(description="Le journal des envois d'événements, du plus récent au plus "
                                  "ancien (administrateur seulement).",
                      permission_classes=PARTNER_ADMINISTRATION)
    async def webhook_deliveries(self, info: Info, offset: int = 0,
                                 limit: int = 20) -> Page[WebhookDelivery]:
        offset, limit = checked_window(offset, limit, info.context.settings.max_page_size)
        rows, total = await webhooks.list_deliveries(info.context.user, offset, limit)
        return Page(items=[WebhookDelivery.from_model(row) for row in rows], total_count=total,
                    offset=offset, limit=limit)
