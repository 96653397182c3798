"""Who may call a field, declared where the field is (`permission_classes=[...]`).

A refusal here is about who asks, never about what is asked: a top-level GraphQL error whose
`extensions.code` is UNAUTHENTICATED, PASSWORD_CHANGE_REQUIRED or FORBIDDEN (see
ppas/schema/errors.py for the whole rule). The services check again below (the web layer and
the CLI reach them without the schema); these classes make the rule visible in the schema and
answer before any database work.
"""
from __future__ import annotations

from typing import Any

from strawberry.permission import BasePermission

from ppas.domain.roles import CAISSE_ROLES, PARTNER_ROLES, Role
from ppas.services import back_office, partner_admin, registration
from ppas.services.access import PASSWORD_CHANGE_FIRST
from ppas.services.errors import AccessDenied, ErrorCode

SIGN_IN_FIRST = "Connectez-vous pour accéder à cette information."


class _Permission(BasePermission):
    """Raises AccessDenied, so that the web layer and the masking extension treat the refusal
    like the services' own; `error_extensions` is what a client reads."""

    code: ErrorCode = ErrorCode.FORBIDDEN

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.error_extensions = {"code": cls.code.value}

    def on_unauthorized(self) -> None:
        raise AccessDenied(self.message or "", code=ErrorCode(self.error_extensions["code"]))


class SignedIn(_Permission):
    """An active account, its temporary password already changed."""

    code = ErrorCode.UNAUTHENTICATED
    message = SIGN_IN_FIRST

    def has_permission(self, source: Any, info: Any, **kwargs: Any) -> bool:
        user = info.context.user
        if user is None or not user.active:
            return False
        if user.must_change_password:
            raise AccessDenied(PASSWORD_CHANGE_FIRST, code=ErrorCode.PASSWORD_CHANGE_REQUIRED)
        return True


class NotWithApiToken(_Permission):
    """A vendor's token bills; it never administers (it could mint more tokens or users) and
    never changes a password."""

    message = ("Un jeton d'API ne permet pas cette action (administration du compte, mot de "
               "passe) : connectez-vous au portail avec votre identifiant.")

    def has_permission(self, source: Any, info: Any, **kwargs: Any) -> bool:
        return not info.context.via_token


class _RoleIn(_Permission):
    roles: frozenset[str] = frozenset()

    def has_permission(self, source: Any, info: Any, **kwargs: Any) -> bool:
        user = info.context.user
        return user is not None and user.role in self.roles


class PartnerStaff(_RoleIn):
    roles = PARTNER_ROLES
    message = "Cette information est réservée aux partenaires."


class PartnerAdmin(_RoleIn):
    roles = frozenset({Role.PARTNER_ADMIN})
    message = partner_admin.ADMIN_ONLY


class ConventionDesk(_RoleIn):
    """The caisse's agents decide the convention requests."""

    roles = CAISSE_ROLES
    message = partner_admin.CAISSE_ONLY


class RegistrationDesk(_RoleIn):
    """The caisse's agents decide the pre-registrations."""

    roles = CAISSE_ROLES
    message = registration.CAISSE_ONLY


class JobDesk(_RoleIn):
    """The caisse's agents watch the background jobs and retry the failed ones."""

    roles = CAISSE_ROLES
    message = "Les tâches de fond sont réservées aux agents de la caisse."


class BackOfficeDesk(_RoleIn):
    """The caisse's agents keep beneficiaries, care plans and conventions."""

    roles = CAISSE_ROLES
    message = back_office.CAISSE_ONLY
class PaymentDesk(_RoleIn):
    """The caisse's agents start payment runs and see them."""

    roles = CAISSE_ROLES
    message = "Les paiements sont lancés et suivis par les agents de la caisse."
class EvaluationDesk(_RoleIn):
    """Evaluators see their structure's orders; the caisse's agents see its orders."""

    roles = frozenset({Role.EVALUATOR}) | CAISSE_ROLES
    message = "Les évaluations sont réservées aux évaluateurs et aux agents de la caisse."


class Evaluator(_RoleIn):
    roles = frozenset({Role.EVALUATOR})
    message = "Seul un évaluateur réserve une commande et envoie une évaluation."


class EvaluationReview(_RoleIn):
    roles = CAISSE_ROLES
    message = "Seuls les agents de la caisse gèrent les commandes et examinent les conflits."


# The usual combinations, in the order they are checked (the first refusal answers).
PARTNER = [SignedIn, PartnerStaff]
PARTNER_ADMINISTRATION = [SignedIn, NotWithApiToken, PartnerAdmin]
CONVENTION_DESK = [SignedIn, NotWithApiToken, ConventionDesk]
REGISTRATION_DESK = [SignedIn, NotWithApiToken, RegistrationDesk]
JOB_DESK = [SignedIn, NotWithApiToken, JobDesk]
BACK_OFFICE = [SignedIn, NotWithApiToken, BackOfficeDesk]
PAYMENT_DESK = [SignedIn, NotWithApiToken, PaymentDesk]
EVALUATION_DESK = [SignedIn, EvaluationDesk]
EVALUATOR = [SignedIn, Evaluator]
EVALUATION_REVIEW = [SignedIn, NotWithApiToken, EvaluationReview]
