"""The assistance desks (public) and the messages a caisse received (its agents)."""
from __future__ import annotations

import strawberry

from ppas.schema.contact.types import (
    AssistanceDesk,
    ContactAttachment,
    ReceivedContactMessage,
)
from ppas.schema.context import Info
from ppas.schema.ids import parse_id
from ppas.schema.pagination import Page, checked_window
from ppas.services import contact
from ppas.services.errors import AccessDenied, ServiceError


@strawberry.type
class ContactQueries:
    @strawberry.field(description="L'assistance de chaque caisse, par code (public).")
    async def assistance_desks(self) -> list[AssistanceDesk]:
        return [AssistanceDesk.from_model(c) for c in await contact.assistance_desks()]

    @strawberry.field(description="Les messages reçus par l'assistance de la caisse de l'agent "
                                  "connecté, du plus récent au plus ancien.")
    async def received_contact_messages(self, info: Info, offset: int = 0,
                                        limit: int = 20) -> Page[ReceivedContactMessage]:
        offset, limit = checked_window(offset, limit, info.context.settings.max_page_size)
        rows, total = await contact.list_for_caisse(info.context.user, offset, limit)
        return Page(items=[ReceivedContactMessage.from_model(r) for r in rows],
                    total_count=total, offset=offset, limit=limit)

    @strawberry.field(description="La pièce jointe d'un message reçu par la caisse de l'agent ; "
                                  "null s'il n'y en a pas.")
    async def contact_attachment(self, info: Info, id: strawberry.ID) -> ContactAttachment | None:
        key = parse_id(id)
        if key is None:
            return None
        try:
            row = await contact.attachment_for_caisse(info.context.user, key)
        except AccessDenied:
            raise
        except ServiceError:
            return None
        return ContactAttachment.from_model(row)
