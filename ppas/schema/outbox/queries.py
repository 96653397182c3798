"""The outbox, for a caisse administrator, in development only."""
from __future__ import annotations

from datetime import datetime

import strawberry

from ppas.schema.context import Info
from ppas.services import dev_mail


@strawberry.type(description="Courriel du portail (développement uniquement).")
class OutboxMessage:
    id: strawberry.ID
    recipient: str
    subject: str
    body: str
    created_at: datetime
    sent_at: datetime | None
    last_error: str


@strawberry.type
class OutboxQueries:
    @strawberry.field(description="Derniers courriels adressés aux comptes et aux "
                                  "préinscriptions de votre caisse, du plus récent au plus "
                                  "ancien (développement, administrateurs de la caisse).")
    async def development_outbox(self, info: Info, limit: int = 100) -> list[OutboxMessage]:
        rows = await dev_mail.recent_messages(info.context.user, info.context.settings, limit)
        return [OutboxMessage(id=strawberry.ID(str(r.id)), recipient=r.recipient,
                              subject=r.subject, body=r.body, created_at=r.created_at,
                              sent_at=r.sent_at, last_error=r.last_error) for r in rows]
