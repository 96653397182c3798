"""API tokens for billing-software vendors: created by a partner admin, shown once,
stored as a SHA-256 digest, scoped to the partner, revocable."""
from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from tortoise.transactions import in_transaction

from ppas.domain.text import invisible_characters
from ppas.models import ApiToken, Role, User
from ppas.services import audit
from ppas.services.errors import AccessDenied, ErrorCode, NotFound, ServiceError
from ppas.services.partner_admin import InvalidInput, admin_partner_id

# A recognisable prefix: secret scanners and people spot a leaked PPAS token at a glance.
TOKEN_PREFIX = "ppas_"
NAME_MAX_LENGTH = 100


def token_digest(secret: str) -> str:
    """The SHA-256 hex digest stored in ApiToken.token_hash (the web layer computes the same)."""
    return hashlib.sha256(secret.encode()).hexdigest()


def new_secret() -> str:
    """A fresh token: the prefix and 256 random bits."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


@dataclass(frozen=True)
class CreatedToken:
    """The token row and its secret; the secret is never readable again."""

    token: ApiToken
    secret: str


def _checked_name(name: str) -> str:
    hidden = invisible_characters(name or "")
    if hidden:
        raise InvalidInput({"name": "Le nom du jeton contient des caractères de contrôle ou "
                                    f"invisibles ({', '.join(hidden[:5])}) : retapez-le avec "
                                    "des lettres, des chiffres et des espaces."})
    name = " ".join((name or "").split())
    if not name:
        raise InvalidInput({"name": "Donnez un nom au jeton, par exemple celui du logiciel "
                                    "de facturation qui l'utilisera."})
    if len(name) > NAME_MAX_LENGTH:
        raise InvalidInput({"name": f"Le nom du jeton est trop long : {NAME_MAX_LENGTH} "
                                    "caractères au plus."})
    return name


async def _create(actor: User, partner_id: int, name: str, ip: str) -> CreatedToken:
    async with in_transaction() as connection:
        taken = await ApiToken.filter(partner_id=partner_id, name=name,
                                      revoked_at=None).using_db(connection).exists()
        if taken:
            raise InvalidInput({"name": f"Un jeton actif s'appelle déjà « {name} » : "
                                        "choisissez un autre nom."},
                               code=ErrorCode.ALREADY_EXISTS)
        secret = new_secret()
        token = await ApiToken.create(using_db=connection, partner_id=partner_id,
                                      created_by=actor, name=name,
                                      token_hash=token_digest(secret))
        await audit.record("api_token_created", actor=actor, object_type="api_token",
                           object_id=token.id, ip=ip, name=name, partner_id=partner_id)
    return CreatedToken(token, secret)


async def create_token(actor: User | None, name: str, *, ip: str = "") -> CreatedToken:
    """A new named token for the admin's partner; its secret is returned this once."""
    partner_id = admin_partner_id(actor)
    return await _create(actor, partner_id, _checked_name(name), ip)


async def create_token_for_login(login: str, name: str) -> CreatedToken:
    """`ppas token create`: a token for the partner administered by `login`."""
    user = await User.get_or_none(login=login)
    if (user is None or not user.active or user.role != Role.PARTNER_ADMIN
            or user.partner_id is None):
        raise AccessDenied(f"« {login} » n'est pas un administrateur de partenaire actif : "
                           "seul un administrateur de partenaire peut recevoir un jeton d'API.")
    return await _create(user, user.partner_id, _checked_name(name), "cli")


async def list_tokens(actor: User | None) -> list[ApiToken]:
    """Every token of the admin's partner, revoked ones included, newest first."""
    partner_id = admin_partner_id(actor)
    return await ApiToken.filter(partner_id=partner_id).select_related(
        "created_by").order_by("-created_at", "-id")


async def get_token(actor: User | None, token_id: int) -> ApiToken:
    """One token of the admin's partner (for the revocation confirmation)."""
    partner_id = admin_partner_id(actor)
    token = await ApiToken.filter(id=token_id, partner_id=partner_id).select_related(
        "created_by").first()
    if token is None:
        raise NotFound("Ce jeton n'existe pas ou n'appartient pas à votre structure.")
    return token


async def revoke_token(actor: User | None, token_id: int, *, now: datetime,
                       ip: str = "") -> ApiToken:
    """Revoke a token of the admin's partner: it authenticates nothing from now on."""
    partner_id = admin_partner_id(actor)
    async with in_transaction() as connection:
        token = await ApiToken.filter(id=token_id, partner_id=partner_id).using_db(
            connection).select_related("created_by").first()
        if token is None:
            raise NotFound("Ce jeton n'existe pas ou n'appartient pas à votre structure.")
        if token.revoked_at is not None:
            raise ServiceError(f"Le jeton « {token.name} » est déjà révoqué.",
                               code=ErrorCode.ALREADY_DONE)
        token.revoked_at = now
        await token.save(using_db=connection, update_fields=["revoked_at"])
        await audit.record("api_token_revoked", actor=actor, object_type="api_token",
                           object_id=token.id, ip=ip, name=token.name)
    return token


# Like a session's last_seen_at: at most one write per minute per token.
TOKEN_LAST_USED_RESOLUTION = timedelta(minutes=1)


async def user_for_token(token: str, now: datetime | None = None) -> User | None:
    """The user behind a live API token (issued by a partner admin); notes its last use."""
    # The caisse too, as for a session: an HTML page asked with a token names it in its header.
    row = await ApiToken.get_or_none(token_hash=token_digest(token), revoked_at=None
                                     ).select_related("created_by__caisse")
    if row is None or not row.created_by.active:
        return None
    if now is not None and (row.last_used_at is None
                            or now - row.last_used_at >= TOKEN_LAST_USED_RESOLUTION):
        await ApiToken.filter(id=row.id).update(last_used_at=now)
    return row.created_by
