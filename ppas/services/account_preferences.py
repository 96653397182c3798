"""« Mon compte »: the signed-in user's own preferences (the event e-mails of partner admins)."""
from __future__ import annotations

from tortoise.transactions import in_transaction

from ppas.domain.roles import Role
from ppas.models import User
from ppas.services import audit
from ppas.services.access import require_usable_account
from ppas.services.errors import AccessDenied, ErrorCode


def event_mail_offered(user: User) -> bool:
    """Only a partner's administrators receive the event e-mails (report anomalies, slips)."""
    return user.role == Role.PARTNER_ADMIN and user.partner_id is not None


async def set_event_mail(user: User | None, enabled: bool) -> bool:
    """Turn the caller's event e-mails on or off; returns the stored value."""
    user = require_usable_account(user)
    if not event_mail_offered(user):
        raise AccessDenied("Seuls les administrateurs d'une structure reçoivent ces avis par "
                           "courriel.", code=ErrorCode.FORBIDDEN)
    async with in_transaction():
        await User.filter(id=user.id).update(event_mail=enabled)
        await audit.record("account.event_mail", actor=user, object_type="user",
                           object_id=user.id, enabled=enabled)
    user.event_mail = enabled
    return enabled
