"""Sign-in with a login and a password (argon2id), with lockout after failures."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from tortoise.expressions import F
from tortoise.transactions import in_transaction

from ppas.domain.password_hashing import (
    hash_password,
    needs_rehash,
    verify_against_dummy,
    verify_password,
)
from ppas.domain.passwords import MAX_FAILED_ATTEMPTS
from ppas.models import User
from ppas.services import audit

WRONG_CREDENTIALS = (
    "Identifiant ou mot de passe incorrect. Vérifiez votre saisie : "
    f"après {MAX_FAILED_ATTEMPTS} essais manqués, le compte est bloqué."
)
LOCKED = (
    "Votre compte est bloqué après plusieurs essais manqués. Demandez un nouveau mot de "
    "passe avec « Mot de passe oublié » : il vous sera envoyé par courriel."
)


@dataclass(frozen=True)
class SignInResult:
    """Either a signed-in user or the French message explaining the refusal."""

    user: User | None = None
    error: str = ""


async def sign_in(login: str, password: str, *, now: datetime, ip: str = "") -> SignInResult:
    """Check the credentials; count failures per account, lock at the limit."""
    user = await User.get_or_none(login=login)
    if user is None or not user.active:
        # Same cost and same answer as a wrong password: no login enumeration.
        verify_against_dummy(password)
        await audit.record("sign_in_failed", login=login, ip=ip, reason="unknown")
        return SignInResult(error=WRONG_CREDENTIALS)
    if user.locked_at is not None:
        verify_against_dummy(password)
        await audit.record("sign_in_refused_locked", actor=user, ip=ip)
        return SignInResult(error=LOCKED)
    if not verify_password(user.password_hash, password):
        return await _count_failure(user, now=now, ip=ip)
    async with in_transaction():
        user.failed_attempts = 0
        fields = ["failed_attempts"]
        if needs_rehash(user.password_hash):
            user.password_hash = hash_password(password)
            fields.append("password_hash")
        await user.save(update_fields=fields)
        await audit.record("sign_in", actor=user, ip=ip)
    return SignInResult(user=user)


async def _count_failure(user: User, *, now: datetime, ip: str) -> SignInResult:
    async with in_transaction():
        # An atomic increment: concurrent guesses cannot all read the same count.
        await User.filter(id=user.id).update(failed_attempts=F("failed_attempts") + 1)
        await user.refresh_from_db(fields=["failed_attempts", "locked_at"])
        await audit.record("sign_in_failed", actor=user, ip=ip, reason="password")
        if user.failed_attempts >= MAX_FAILED_ATTEMPTS:
            await User.filter(id=user.id, locked_at=None).update(locked_at=now)
            await audit.record("account_locked", actor=user, ip=ip)
            return SignInResult(error=LOCKED)
    return SignInResult(error=WRONG_CREDENTIALS)
