"""Who may see what: every query of partner data goes through these scopes."""
from __future__ import annotations

from ppas.models import User
from ppas.models.account import CAISSE_ROLES, PARTNER_ROLES
from ppas.services.errors import AccessDenied, ErrorCode


PASSWORD_CHANGE_FIRST = (
    "Choisissez d'abord votre nouveau mot de passe (page « Nouveau mot de passe ») : "
    "le mot de passe temporaire ne donne accès à rien d'autre."
)


def require_usable_account(user: User | None) -> User:
    """The signed-in user, if they may act: active, and not holding a password to change."""
    if user is None or not user.active:
        raise AccessDenied("Connectez-vous pour accéder à cette information.",
                           code=ErrorCode.UNAUTHENTICATED)
    if user.must_change_password:
        raise AccessDenied(PASSWORD_CHANGE_FIRST, code=ErrorCode.PASSWORD_CHANGE_REQUIRED)
    return user


def caisse_id_of(user: User | None, refusal: str) -> int:
    """The caisse a caisse agent or admin acts for; `refusal` explains it to anyone else."""
    user = require_usable_account(user)
    if user.role not in CAISSE_ROLES:
        raise AccessDenied(refusal)
    return user.caisse_id


def partner_id_of(user: User | None) -> int:
    """The partner whose data `user` may read, or AccessDenied."""
    user = require_usable_account(user)
    if user.role not in PARTNER_ROLES or user.partner_id is None:
        raise AccessDenied("Cette information est réservée aux partenaires.")
    return user.partner_id
