"""Server-side sessions: the cookie holds a secret, the table holds its hash."""
from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from ppas.models import Session, User
from ppas.models.prepared import PreparedQuery

SESSION_COOKIE = "ppas_session"

# Writing last_seen_at on every request would turn reads into writes; a minute
# of slack on a 30-minute idle timeout is harmless.
LAST_SEEN_RESOLUTION = timedelta(minutes=1)


# Every request of a signed-in user runs it: built once (see PreparedQuery).
_SESSION_BY_KEY = PreparedQuery(
    lambda key_hash: Session.filter(key_hash=key_hash).select_related("user__caisse").limit(1),
    key_hash="\x00key_hash")


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True)
class SessionLimits:
    """How long a session lives without activity, and at most."""

    idle: timedelta
    absolute: timedelta


async def open_session(user: User, now: datetime) -> tuple[str, Session]:
    """A new session for `user`; returns the cookie value (shown once) and the row."""
    secret = secrets.token_urlsafe(32)
    session = await Session.create(
        key_hash=_digest(secret),
        user=user,
        csrf_token=secrets.token_urlsafe(32),
        created_at=now,
        last_seen_at=now,
    )
    return secret, session


async def find_session(secret: str | None, now: datetime, limits: SessionLimits) -> Session | None:
    """The live session behind a cookie value, with its user; expired ones are deleted."""
    if not secret:
        return None
    session = await _SESSION_BY_KEY.first(key_hash=_digest(secret))
    if session is None:
        return None
    expired = (
        now - session.last_seen_at > limits.idle
        or now - session.created_at > limits.absolute
        or not session.user.active
    )
    if expired:
        await session.delete()
        return None
    if now - session.last_seen_at > LAST_SEEN_RESOLUTION:
        session.last_seen_at = now
        await session.save(update_fields=["last_seen_at"])
    return session


async def close_session(secret: str | None) -> None:
    """End one session (sign-out)."""
    if secret:
        await Session.filter(key_hash=_digest(secret)).delete()


async def close_all_sessions(user_id: int) -> None:
    """End every session of a user (deactivation, password change)."""
    await Session.filter(user_id=user_id).delete()
