"""Who may see what: every query of partner data goes through these scopes."""
from __future__ import annotations

from ppas.models import User
from ppas.models.account import PARTNER_ROLES
from ppas.services.errors import AccessDenied


def partner_id_of(user: User | None) -> int:
    """The partner whose data `user` may read, or AccessDenied."""
    if user is None or not user.active:
        raise AccessDenied("Connectez-vous pour accéder à cette information.")
    if user.role not in PARTNER_ROLES or user.partner_id is None:
        raise AccessDenied("Cette information est réservée aux partenaires.")
    return user.partner_id
