"""Who may do what, as the menus and pages need it: the roles and the areas they open."""
from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    """What a user may do: partner roles are scoped to their partner."""

    PARTNER_ADMIN = "partner_admin"
    PARTNER_USER = "partner_user"
    EVALUATOR = "evaluator"
    CAISSE_AGENT = "caisse_agent"
    CAISSE_ADMIN = "caisse_admin"


PARTNER_ROLES = frozenset({Role.PARTNER_ADMIN, Role.PARTNER_USER, Role.EVALUATOR})
CAISSE_ROLES = frozenset({Role.CAISSE_AGENT, Role.CAISSE_ADMIN})
# Home-help providers bill; an evaluation structure evaluates and never bills.
BILLING_ROLES = frozenset({Role.PARTNER_ADMIN, Role.PARTNER_USER})

# The main menu: (label, path, roles that may use it; None: everybody, signed in or not).
# Only built areas are listed: a menu entry that ends on « Service à venir » or on a refusal
# wastes a click and says the portal is broken.
_MENU: tuple[tuple[str, str, frozenset[str] | None], ...] = (
    ("Facturation", "/facturation", BILLING_ROLES),
    ("Fichiers", "/fichiers", BILLING_ROLES),
    ("Bénéficiaires", "/beneficiaires", BILLING_ROLES),
    ("Demandes de convention", "/caisse/conventions", CAISSE_ROLES),
    ("Préinscriptions", "/caisse/inscriptions", CAISSE_ROLES),
    ("Messages reçus", "/caisse/messages", CAISSE_ROLES),
    ("Évaluations", "/evaluations", frozenset({Role.EVALUATOR})),
    ("Évaluations reçues", "/caisse/evaluations", CAISSE_ROLES),
    ("Documentation", "/documentation", None),
    ("Contact", "/contact", None),
)


def menu_for(role: str | None) -> list[tuple[str, str]]:
    """The main menu entries of a role (None: an anonymous visitor), in order."""
    return [(label, path) for label, path, roles in _MENU if roles is None or role in roles]
