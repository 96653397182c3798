"""Password lifecycle: change, temporary passwords and « Mot de passe oublié »."""
from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from tortoise.transactions import in_transaction

from ppas.domain.password_hashing import generate_temporary_password, hash_password
from ppas.domain.passwords import PasswordPolicy, password_problems
from ppas.models import AuditEvent, PasswordHistory, Session, User
from ppas.services import audit, hashing
from ppas.services.errors import AccessDenied, ErrorCode, ServiceError
from ppas.services.mail import queue_mail
from ppas.services.sessions import close_all_sessions
from ppas.services.sign_in import (
    LOCKED,
    clear_attempts,
    is_temporary,
    login_too_long,
    record_failure,
    take_attempt,
)
from ppas.settings import Settings

PARIS = ZoneInfo("Europe/Paris")
RESETS_PER_HOUR = 3
HISTORY_KEPT = 12  # enough for any policy a caisse would choose; older hashes are deleted

CHANGED = "Votre nouveau mot de passe est enregistré."
RESET_ANSWER = (
    "Demande enregistrée. Si l'identifiant et l'adresse électronique correspondent à un compte "
    "actif, un mot de passe temporaire vient d'être envoyé à cette adresse. Il est valable "
    "{hours} heures et ne sert qu'une fois : à la connexion, vous choisirez votre nouveau mot "
    "de passe. Rien reçu ? Vérifiez l'adresse et vos courriers indésirables, puis contactez "
    "votre caisse."
)
WRONG_LOGIN = (
    "Le nom utilisateur ne correspond pas au compte connecté : saisissez votre propre identifiant."
)
WRONG_OLD = (
    "L'ancien mot de passe est incorrect : saisissez le mot de passe actuel (celui reçu par "
    "courriel s'il s'agit d'un mot de passe temporaire)."
)
MISMATCH = (
    "La confirmation est différente du nouveau mot de passe : saisissez deux fois le même."
)
BUSY = (
    "D'autres essais de votre mot de passe sont en cours : attendez leur réponse, puis "
    "réessayez."
)


class PasswordRefused(ServiceError):
    """The new password breaks one or more rules; `problems` lists every one."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__(" ".join(problems), field="newPassword",
                         code=ErrorCode.PASSWORD_REFUSED)
        self.problems = problems


def reset_answer(settings: Settings) -> str:
    """What « Mot de passe oublié » always answers, whether or not an account matched."""
    return RESET_ANSWER.format(hours=settings.temporary_password_hours)


async def is_recent_password(user: User, policy: PasswordPolicy, candidate: str) -> bool:
    """Is `candidate` one of the last `history_size` passwords, the current one included?

    A temporary password does not take one of the slots: the user never chose it.
    """
    if policy.history_size == 0:
        return False
    earlier = policy.history_size if is_temporary(user) else policy.history_size - 1
    hashes = [user.password_hash]
    if earlier > 0:
        hashes += await (PasswordHistory.filter(user_id=user.id).order_by("-id")
                         .limit(earlier).values_list("password_hash", flat=True))
    for old_hash in hashes:
        if await hashing.verify_password(old_hash, candidate):
            return True
    return False


async def _remember(user: User) -> None:
    """Put the current hash in the history and forget the oldest ones."""
    await PasswordHistory.create(user_id=user.id, password_hash=user.password_hash)
    stale = await (PasswordHistory.filter(user_id=user.id).order_by("-id").offset(HISTORY_KEPT)
                   .values_list("id", flat=True))
    if stale:
        await PasswordHistory.filter(id__in=list(stale)).delete()


async def change_password(user: User | None, login: str, old_password: str, new_password: str,
                          confirmation: str, *, settings: Settings, now: datetime, ip: str = "",
                          keep_session_id: int | None = None) -> str:
    """Replace the signed-in user's password; every other session of theirs ends.

    Returns the success message; raises ServiceError (field = the form field at fault).
    """
    if user is None or not user.active:
        raise AccessDenied("Connectez-vous pour changer votre mot de passe.",
                           code=ErrorCode.UNAUTHENTICATED)
    user = await User.get(id=user.id)  # fresh counters, hash and flags
    policy = settings.password_rules
    if not login.strip():
        raise ServiceError("Saisissez votre nom utilisateur (votre identifiant).", field="login",
                           code=ErrorCode.REQUIRED)
    if login.strip() != user.login:
        raise ServiceError(WRONG_LOGIN, field="login", code=ErrorCode.INVALID)
    if not old_password:
        raise ServiceError("Saisissez votre ancien mot de passe.", field="oldPassword",
                           code=ErrorCode.REQUIRED)
    if user.locked_at is not None:
        raise ServiceError(LOCKED, field="oldPassword", code=ErrorCode.ACCOUNT_LOCKED)
    # Another way to guess a password: it takes a slot of the same lockout as sign-in.
    if not await take_attempt(user.id):
        if await User.filter(id=user.id).exclude(locked_at=None).exists():
            await close_all_sessions(user.id)
            raise ServiceError(LOCKED, field="oldPassword", code=ErrorCode.ACCOUNT_LOCKED)
        raise ServiceError(BUSY, field="oldPassword", code=ErrorCode.TRY_AGAIN)
    if not await hashing.verify_password(user.password_hash, old_password):
        if await record_failure(user, now=now, ip=ip, way="password_change"):
            await close_all_sessions(user.id)
            raise ServiceError(LOCKED, field="oldPassword", code=ErrorCode.ACCOUNT_LOCKED)
        raise ServiceError(WRONG_OLD, field="oldPassword", code=ErrorCode.WRONG_PASSWORD)
    if not await clear_attempts(user.id):  # locked meanwhile by wrong passwords sent with it
        await close_all_sessions(user.id)
        raise ServiceError(LOCKED, field="oldPassword", code=ErrorCode.ACCOUNT_LOCKED)
    if not new_password:
        raise ServiceError("Saisissez votre nouveau mot de passe.", field="newPassword",
                           code=ErrorCode.REQUIRED)
    if new_password != confirmation:
        raise ServiceError(MISMATCH, field="confirmation", code=ErrorCode.PASSWORD_MISMATCH)
    recent = await is_recent_password(user, policy, new_password)
    problems = password_problems(policy, new_password, login=user.login,
                                 matches_recent=lambda _candidate: recent)
    if problems:
        raise PasswordRefused(problems)
    new_hash = await hashing.hash_password(new_password)
    was_temporary = user.must_change_password
    async with in_transaction():
        if not is_temporary(user):
            await _remember(user)
        user.password_hash = new_hash
        user.password_changed_at = now
        user.grace_logins_used = 0
        user.must_change_password = False
        user.temporary_password_expires_at = None
        user.failed_attempts = 0
        await user.save(update_fields=[
            "password_hash", "password_changed_at", "grace_logins_used", "must_change_password",
            "temporary_password_expires_at", "failed_attempts"])
        others = Session.filter(user_id=user.id)
        if keep_session_id is not None:
            others = others.exclude(id=keep_session_id)
        ended = await others.delete()
        await audit.record("password_changed", actor=user, ip=ip, was_temporary=was_temporary,
                           other_sessions_ended=ended)
    return CHANGED


def _temporary_fields(password_hash: str, settings: Settings,
                     now: datetime) -> dict[str, object]:
    return {
        "password_hash": password_hash,
        "must_change_password": True,
        "temporary_password_expires_at": now + timedelta(hours=settings.temporary_password_hours),
        "password_changed_at": now,
    }


def temporary_credentials(settings: Settings, now: datetime) -> tuple[str, dict[str, object]]:
    """A fresh temporary password (in clear, to e-mail) and the User fields that hold it.

    Hashing takes a while: call it before opening the use case's transaction.
    """
    password = generate_temporary_password(settings.password_rules)
    return password, _temporary_fields(hash_password(password), settings, now)


async def new_temporary_credentials(settings: Settings,
                                    now: datetime) -> tuple[str, dict[str, object]]:
    """temporary_credentials, hashed in the argon2 pool (see services/hashing.py)."""
    password = generate_temporary_password(settings.password_rules)
    return password, _temporary_fields(await hashing.hash_password(password), settings, now)


async def _store_temporary(user: User, fields: dict[str, object]) -> None:
    for name, value in fields.items():
        setattr(user, name, value)
    user.grace_logins_used = 0
    user.failed_attempts = 0
    user.locked_at = None
    await user.save(update_fields=[
        "password_hash", "must_change_password", "temporary_password_expires_at",
        "password_changed_at", "grace_logins_used", "failed_attempts", "locked_at"])


async def issue_temporary_password(user: User, *, settings: Settings, now: datetime) -> str:
    """Give `user` a fresh temporary password (returned in clear, to e-mail); call it inside
    the caller's transaction. The account is unlocked and must change it at first sign-in."""
    password, fields = await new_temporary_credentials(settings, now)
    await _store_temporary(user, fields)
    return password


def _same_address(left: str, right: str) -> bool:
    return bool(left.strip()) and left.strip().casefold() == right.strip().casefold()


async def request_password_reset(login: str, email: str, *, settings: Settings, now: datetime,
                                 ip: str = "") -> str:
    """« Mot de passe oublié »: e-mail a temporary password when login and address match an
    active account. The answer never tells whether they did (no account enumeration)."""
    login, email = login.strip(), email.strip()
    if not login or not email:
        raise ServiceError("Saisissez votre identifiant et l'adresse électronique de votre compte.",
                           field="login" if not login else "email", code=ErrorCode.REQUIRED)
    too_long = login_too_long(login)
    if too_long:
        raise ServiceError(too_long, field="login", code=ErrorCode.INVALID)
    user = await User.get_or_none(login=login)
    if user is None or not user.active or not _same_address(user.email, email):
        await hashing.spend_one_hash()  # the cost of a real reset: same timing
        await audit.record("password_reset_unmatched", login=login, ip=ip)
        return reset_answer(settings)
    # Hashed before the transaction, so that it holds no lock while argon2 works; a throttled
    # request spends the same time.
    password, fields = await new_temporary_credentials(settings, now)
    async with in_transaction():
        recent = await AuditEvent.filter(actor_id=user.id, action="password_reset",
                                         at__gte=now - timedelta(hours=1)).count()
        if recent >= RESETS_PER_HOUR:
            await audit.record("password_reset_throttled", actor=user, ip=ip)
            return reset_answer(settings)
        if not is_temporary(user):
            await _remember(user)
        await _store_temporary(user, fields)
        await close_all_sessions(user.id)
        expires = user.temporary_password_expires_at.astimezone(PARIS)
        await queue_mail(user.email, "password_reset", login=user.login, password=password,
                         expires=expires.strftime("%d/%m/%Y à %H:%M"),
                         hours=settings.temporary_password_hours,
                         sign_in_url=settings.sign_in_url)
        await audit.record("password_reset", actor=user, ip=ip, unlocked=True)
    return reset_answer(settings)
