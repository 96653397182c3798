"""Sign-in with a login and a password (argon2id): lockout, expiry with grace sign-ins,
temporary passwords that force a change."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from tortoise.expressions import F
from tortoise.transactions import in_transaction

from ppas.services.errors import ErrorCode
from ppas.domain.logins import LOGIN_MAX_LENGTH
from ppas.domain.password_hashing import needs_rehash
from ppas.domain.passwords import (
    LEGACY,
    MAX_FAILED_ATTEMPTS,
    PasswordPolicy,
    PasswordState,
    grace_warning,
    password_state,
)
from ppas.models import User
from ppas import metrics
from ppas.services import audit, hashing

FORGOT_PASSWORD_PATH = "/mot-de-passe-oublie"

# One answer for an unknown login, a wrong password and a locked account: telling "locked"
# apart would tell a guesser which logins exist. It says what to do in either case.
WRONG_CREDENTIALS = (
    "Identifiant ou mot de passe incorrect, ou compte bloqué. Vérifiez votre saisie : "
    f"après {MAX_FAILED_ATTEMPTS} essais manqués, le compte est bloqué ; pour le débloquer, "
    "demandez un nouveau mot de passe avec « Mot de passe oublié » : il vous sera envoyé par "
    "courriel."
)
# Said only to a signed-in user (the password-change form), who knows the account exists.
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


def login_too_long(login: str) -> str | None:
    """The refusal for a login no account can have (longer than the column), else None."""
    if len(login) <= LOGIN_MAX_LENGTH:
        return None
    return (f"L'identifiant est trop long : il compte au plus {LOGIN_MAX_LENGTH} caractères "
            f"(vous en avez saisi {len(login)}). Vérifiez votre saisie.")


@dataclass(frozen=True)
class SignInResult:
    """Either a signed-in user (with a possible warning) or the French refusal."""

    user: User | None = None
    error: str = ""
    code: ErrorCode | None = None  # with `error`
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


async def take_attempt(user_id: int) -> bool:
    """Reserve one password check for the account, or False when none is left.

    The lockout is decided here, before argon2 runs, by one conditional UPDATE that both
    backends apply atomically (SQLite: one writer at a time; PostgreSQL: the row is locked and
    the WHERE re-read after a concurrent update). `failed_attempts` counts the checks since
    the last right password, those still running included: whatever the concurrency, at most
    MAX_FAILED_ATTEMPTS wrong passwords are ever checked before the lock. A right password
    being checked holds a slot too, so under concurrency the account may lock after fewer
    wrong passwords, never after more.
    """
    taken = await User.filter(id=user_id, active=True, locked_at=None,
                              failed_attempts__lt=MAX_FAILED_ATTEMPTS,
                              ).update(failed_attempts=F("failed_attempts") + 1)
    return taken == 1


async def record_failure(user: User, *, now: datetime, ip: str, way: str) -> bool:
    """Audit the wrong password checked for `user` (its slot is already counted); lock the
    account once the checks reach the limit. True when the account is locked now."""
    async with in_transaction():
        await audit.record(f"{way}_failed", actor=user, ip=ip, reason="password")
        locked = await User.filter(id=user.id, locked_at=None,
                                   failed_attempts__gte=MAX_FAILED_ATTEMPTS).update(locked_at=now)
        if locked:
            await audit.record("account_locked", actor=user, ip=ip)
            metrics.ACCOUNT_LOCKOUTS.inc()
    return bool(locked) or await User.filter(id=user.id).exclude(locked_at=None).exists()


async def clear_attempts(user_id: int) -> bool:
    """The password was right: the failures start again from 0. False when the account was
    locked meanwhile (by wrong passwords checked at the same time): the caller refuses."""
    return await User.filter(id=user_id, locked_at=None).update(failed_attempts=0) == 1


async def _refuse(password: str, action: str, *, ip: str, user: User | None = None,
                  login: str = "", **details) -> SignInResult:
    """The one answer of every refusal before the password is known right, at the cost of a
    real verification, so that neither the answer nor its time tells anything."""
    await hashing.verify_against_dummy(password)
    await audit.record(action, actor=user, login=login, ip=ip, **details)
    return SignInResult(error=WRONG_CREDENTIALS, code=ErrorCode.WRONG_CREDENTIALS)


async def sign_in(login: str, password: str, *, now: datetime, ip: str = "",
                  policy: PasswordPolicy = LEGACY) -> SignInResult:
    """Check the credentials; count failures per account, lock at the limit; apply expiry."""
    too_long = login_too_long(login)
    if too_long:
        return SignInResult(error=too_long, code=ErrorCode.INVALID)
    user = await User.get_or_none(login=login)
    if user is None or not user.active:
        return await _refuse(password, "sign_in_failed", ip=ip, login=login, reason="unknown")
    if not await take_attempt(user.id):
        return await _refuse(password, "sign_in_refused_locked", ip=ip, user=user)
    if not await hashing.verify_password(user.password_hash, password):
        await record_failure(user, now=now, ip=ip, way="sign_in")
        return SignInResult(error=WRONG_CREDENTIALS, code=ErrorCode.WRONG_CREDENTIALS)
    # The password is right: from here on, refusals reveal nothing to a guesser.
    new_hash = await hashing.hash_password(password) if needs_rehash(user.password_hash) else None
    if user.must_change_password:
        return await _sign_in_to_change(user, new_hash, now=now, ip=ip)
    state, _ = password_state(policy, password_set_at(user), now, user.grace_logins_used)
    warning, remaining = "", 0
    async with in_transaction():
        if not await clear_attempts(user.id):
            await audit.record("sign_in_refused_locked", actor=user, ip=ip)
            return SignInResult(error=WRONG_CREDENTIALS, code=ErrorCode.WRONG_CREDENTIALS)
        if state is not PasswordState.VALID:
            # Counted atomically: two sign-ins at once cannot both take the last grace one.
            await User.filter(id=user.id).update(grace_logins_used=F("grace_logins_used") + 1)
            await user.refresh_from_db(fields=["grace_logins_used"])
            remaining = policy.grace_logins - user.grace_logins_used + 1
            if remaining <= 0:
                await audit.record("sign_in_refused_expired", actor=user, ip=ip)
                return SignInResult(error=EXPIRED, code=ErrorCode.PASSWORD_EXPIRED)
            warning = grace_warning(remaining)
        await _succeed(user, new_hash, ip=ip, grace_remaining=remaining)
    return SignInResult(user=user, warning=warning)


async def _sign_in_to_change(user: User, new_hash: str | None, *, now: datetime,
                             ip: str) -> SignInResult:
    """A temporary (or imposed) password opens a session that can only change it."""
    expires = user.temporary_password_expires_at
    async with in_transaction():
        if not await clear_attempts(user.id):
            await audit.record("sign_in_refused_locked", actor=user, ip=ip)
            return SignInResult(error=WRONG_CREDENTIALS, code=ErrorCode.WRONG_CREDENTIALS)
        if expires is not None:
            # Single use, spent by a conditional update: of several sign-ins sent at once with
            # it, one only finds the expiry it read still there. (Not "expiry > now": each
            # request has its own now, and one that read the clock earlier would find the
            # winner's now still ahead of its own.) The hash in the condition: a newer
            # temporary password (another reset meanwhile) is not spent by the older one.
            spent = now < expires and await User.filter(
                id=user.id, password_hash=user.password_hash,
                temporary_password_expires_at=expires,
            ).update(temporary_password_expires_at=now)
            if not spent:
                await audit.record("sign_in_refused_temporary_expired", actor=user, ip=ip)
                return SignInResult(error=TEMPORARY_EXPIRED,
                                    code=ErrorCode.TEMPORARY_PASSWORD_EXPIRED)
            user.temporary_password_expires_at = now
        await _succeed(user, new_hash, ip=ip, temporary=expires is not None)
    return SignInResult(user=user, must_change_password=True)


async def _succeed(user: User, new_hash: str | None, *, ip: str, **details) -> None:
    """Record the sign-in (the attempts are already cleared); store an upgraded hash."""
    user.failed_attempts = 0
    if new_hash is not None:
        await User.filter(id=user.id, password_hash=user.password_hash).update(
            password_hash=new_hash)
        user.password_hash = new_hash
    await audit.record("sign_in", actor=user, ip=ip,
                       **{key: value for key, value in details.items() if value})
