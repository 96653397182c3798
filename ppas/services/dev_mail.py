"""Development only: the outbox as a caisse administrator reads it in the portal."""
from __future__ import annotations

from ppas.models import OutboxMessage, Role, User
from ppas.services.errors import AccessDenied
from ppas.settings import Settings

NOT_AVAILABLE = "Cette page n'existe pas."


def may_read_outbox(user: User | None, settings: Settings) -> bool:
    """Only in development, and only for an active caisse administrator."""
    return bool(settings.development and user is not None and user.active
                and user.role == Role.CAISSE_ADMIN)


async def recent_messages(user: User | None, settings: Settings,
                          limit: int = 100) -> list[OutboxMessage]:
    """The latest outgoing messages, newest first, or AccessDenied."""
    if not may_read_outbox(user, settings):
        raise AccessDenied(NOT_AVAILABLE)
    limit = min(max(limit, 1), 500)
    return await OutboxMessage.all().order_by("-created_at", "-id").limit(limit)
