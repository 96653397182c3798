"""Sign-in with a login and a password (argon2id): lockout, expiry with grace sign-ins,
temporary passwords that force a change."""
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
from ppas.domain.passwords import (
    LEGACY,
    MAX_FAILED_ATTEMPTS,
    PasswordPolicy,
    PasswordState,
    grace_warning,
    password_state,
)
from ppas.models import User
from ppas.services import audit

FORGOT_PASSWORD_PATH = "/mot-de-passe-oublie"

WRONG_CREDENTIALS = (
    "Identifiant ou mot de passe incorrect. Vérifiez votre saisie : "
    f"après {MAX_FAILED_ATTEMPTS} essais manqués, le compte est bloqué."
)
LOCKED = (
    "Votre compte est bloqué après plusieurs essais manqués. Demandez un nouveau mot de "
    "passe avec « Mot de passe oublié » : il vous sera envoyé par courriel."
)
EXPIRED = (
    "Votre mot de passe a expiré et vous avez utilisé toutes les connexions permises après "
    "son expiration : votre compte est bloqué. Demandez un nouveau mot de passe avec "
    "« Mot de passe oublié » : il vous sera envoyé par courriel."
)
TEMPORARY_EXPIRED = (
    "Ce mot de passe temporaire n'est plus valable : il a expiré ou a déjà servi. "
    "Demandez-en un nouveau avec « Mot de passe oublié » : il vous sera envoyé par courriel."
)


@dataclass(frozen=True)
class SignInResult:
    """Either a signed-in user (with a possible warning) or the French refusal."""

    user: User | None = None
    error: str = ""
    warning: str = ""
    must_change_password: bool = False


def is_temporary(user: User) -> bool:
    """True while the user holds a temporary password (sent by e-mail, expiring)."""
    return user.must_change_password and user.temporary_password_expires_at is not None


def password_set_at(user: User) -> datetime:
    """When the current password was set; the account's creation when it was never recorded."""
    return user.password_changed_at or user.created_at


def current_warning(user: User, policy: PasswordPolicy, now: datetime) -> str:
    """The expiry countdown shown after the latest grace sign-in, or "" when none applies.

    The k-th sign-in after expiry (k = 1..grace_logins) shows grace_logins − k + 1: the
    number counts that sign-in itself, so with 3 grace sign-ins the user reads 3, 2, 1,
    and the next one is refused.
    """
    if user.must_change_password or policy.validity is None:
        return ""
    if now < password_set_at(user) + policy.validity:
        return ""
    used = user.grace_logins_used
    if not 1 <= used <= policy.grace_logins:
        return ""
    return grace_warning(policy.grace_logins - used + 1)


async def sign_in(login: str, password: str, *, now: datetime, ip: str = "",
                  policy: PasswordPolicy = LEGACY) -> SignInResult:
    """Check the credentials; count failures per account, lock at the limit; apply expiry."""
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
        return await record_failure(user, now=now, ip=ip, way="sign_in")
    # The password is right: from here on, refusals reveal nothing to a guesser.
    if user.must_change_password:
        return await _sign_in_to_change(user, password, now=now, ip=ip)
    state, _ = password_state(policy, password_set_at(user), now, user.grace_logins_used)
    warning, remaining = "", 0
    async with in_transaction():
        if state is not PasswordState.VALID:
            # Counted atomically: two sign-ins at once cannot both take the last grace one.
            await User.filter(id=user.id).update(grace_logins_used=F("grace_logins_used") + 1)
            await user.refresh_from_db(fields=["grace_logins_used"])
            remaining = policy.grace_logins - user.grace_logins_used + 1
            if remaining <= 0:
                await User.filter(id=user.id).update(failed_attempts=0)
                await audit.record("sign_in_refused_expired", actor=user, ip=ip)
                return SignInResult(error=EXPIRED)
            warning = grace_warning(remaining)
        await _succeed(user, password, ip=ip, grace_remaining=remaining)
    return SignInResult(user=user, warning=warning)


async def _sign_in_to_change(user: User, password: str, *, now: datetime, ip: str) -> SignInResult:
    """A temporary (or imposed) password opens a session that can only change it."""
    expires = user.temporary_password_expires_at
    if expires is not None and now >= expires:
        await audit.record("sign_in_refused_temporary_expired", actor=user, ip=ip)
        return SignInResult(error=TEMPORARY_EXPIRED)
    async with in_transaction():
        if expires is not None:
            # Single use: the session opened now is the only one this password gives.
            user.temporary_password_expires_at = now
            await user.save(update_fields=["temporary_password_expires_at"])
        await _succeed(user, password, ip=ip, temporary=expires is not None)
    return SignInResult(user=user, must_change_password=True)


async def _succeed(user: User, password: str, *, ip: str, **details) -> None:
    user.failed_attempts = 0
    fields = ["failed_attempts"]
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
        fields.append("password_hash")
    await user.save(update_fields=fields)
    await audit.record("sign_in", actor=user, ip=ip,
                       **{key: value for key, value in details.items() if value})


async def record_failure(user: User, *, now: datetime, ip: str, way: str) -> SignInResult:
    """Count one wrong password for `user` (any way in), locking the account at the limit."""
    async with in_transaction():
        # An atomic increment: concurrent guesses cannot all read the same count.
        await User.filter(id=user.id).update(failed_attempts=F("failed_attempts") + 1)
        await user.refresh_from_db(fields=["failed_attempts", "locked_at"])
        await audit.record(f"{way}_failed", actor=user, ip=ip, reason="password")
        if user.failed_attempts >= MAX_FAILED_ATTEMPTS:
            await User.filter(id=user.id, locked_at=None).update(locked_at=now)
            user.locked_at = user.locked_at or now
            await audit.record("account_locked", actor=user, ip=ip)
            return SignInResult(error=LOCKED)
    return SignInResult(error=WRONG_CREDENTIALS)
