"""The caisse's list of pending pre-registrations."""
from __future__ import annotations

import strawberry

from ppas.schema.permissions import REGISTRATION_DESK
from ppas.schema.context import Info
from ppas.schema.registrations.types import PendingRegistration
from ppas.services import registration


@strawberry.type
class RegistrationQueries:
    @strawberry.field(description="Préinscriptions en attente de la caisse de l'agent connecté.",
                      permission_classes=REGISTRATION_DESK)
    async def pending_registrations(self, info: Info) -> list[PendingRegistration]:
        rows = await registration.list_pending(info.context.user)
        return [PendingRegistration.from_row(row) for row in rows]
