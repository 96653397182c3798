"""Development only: the outbox as a caisse administrator reads it in the portal."""
from __future__ import annotations

from ppas.models import OutboxMessage, Registration, Role, User
from ppas.services.errors import AccessDenied
from ppas.settings import Settings

NOT_AVAILABLE = "Cette page n'existe pas."


def may_read_outbox(user: User | None, settings: Settings) -> bool:
    """Only in development, and only for an active caisse administrator."""
    return bool(settings.development and user is not None and user.active
                and user.role == Role.CAISSE_ADMIN)


async def _addresses_by_caisse() -> dict[str, set[int]]:
    """Each known address (lower case) and the caisses whose people use it."""
    caisses: dict[str, set[int]] = {}
    for email, caisse_id in [
        *await User.exclude(email="").values_list("email", "caisse_id"),
        *await Registration.exclude(admin_email="").values_list("admin_email", "caisse_id"),
    ]:
        caisses.setdefault(email.strip().lower(), set()).add(caisse_id)
    return caisses


async def recent_messages(user: User | None, settings: Settings,
                          limit: int = 100) -> list[OutboxMessage]:
    """The latest messages addressed within the reader's caisse, newest first, or AccessDenied.

    The outbox holds temporary passwords: a caisse's administrator reads only the mail of
    its own people (accounts and pre-registrations). An address also used in another caisse
    is left out, since its mail may belong to that caisse.
    """
    if not may_read_outbox(user, settings):
        raise AccessDenied(NOT_AVAILABLE)
    limit = min(max(limit, 1), 500)
    ours = {address for address, caisses in (await _addresses_by_caisse()).items()
            if caisses == {user.caisse_id}}
    # Compared in lower case, in Python: the outbox keeps each address as it was typed
    # (development only, where the outbox stays small).
    rows = await OutboxMessage.all().order_by("-created_at", "-id").values_list("id", "recipient")
    ids = [row_id for row_id, recipient in rows if recipient.strip().lower() in ours][:limit]
    return await OutboxMessage.filter(id__in=ids).order_by("-created_at", "-id") if ids else []
