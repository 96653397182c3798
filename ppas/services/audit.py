"""Append-only audit trail of security-relevant actions."""
from __future__ import annotations

from typing import Any

from ppas.models import AuditEvent, User


async def record(
    action: str,
    *,
    actor: User | None = None,
    login: str = "",
    object_type: str = "",
    object_id: str | int = "",
    ip: str = "",
    **details: Any,
) -> None:
    """Write one audit event; callers never pass a password or secret in `details`."""
    await AuditEvent.create(
        action=action,
        actor=actor,
        actor_login=(actor.login if actor else login)[:30],
        object_type=object_type,
        object_id=str(object_id),
        ip=ip[:45],
        details=details,
    )
