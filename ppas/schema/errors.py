"""Errors as data, and their codes: the one place where a refusal becomes GraphQL.

The rule (written for vendors on /documentation/api):
* a refusal of *who asks* — not signed in (`UNAUTHENTICATED`), temporary password to change
  first (`PASSWORD_CHANGE_REQUIRED`), a role or an API token that may not take the action
  (`FORBIDDEN`), too many requests (`TOO_MANY_REQUESTS`) — is a top-level GraphQL error with
  `extensions.code`. Permissions are declared on the fields (ppas/schema/permissions.py);
  services raise AccessDenied with the same codes, and graphql-core copies an exception's
  `extensions` onto the error, so no resolver formats them;
* a refusal of *what is asked* — an object that does not exist or is not the caller's
  (`NOT_FOUND`, the two never told apart), a value to correct, a state that forbids the
  action — is data: the mutation's error type with `code` from its feature's enum. Strawberry's
  `exception_handlers` (see `refusal_handlers`) turn every ServiceError a mutation raises into
  its error type; resolvers have no try/except. A query answers null for an object it may not
  show.
"""
from __future__ import annotations

import inspect
from collections.abc import Iterable
from enum import Enum
from typing import Any, ClassVar

import strawberry

from ppas.services.errors import (
    DESCRIPTIONS,
    TOP_LEVEL_CODES,
    AccessDenied,
    ErrorCode,
    ServiceError,
)

# Every feature may answer these (bad id, missing or invalid value, uniqueness).
COMMON_CODES = (ErrorCode.NOT_FOUND, ErrorCode.REQUIRED, ErrorCode.INVALID)


def _feature_enum(name: str, description: str, codes: Iterable[ErrorCode]) -> type[Enum]:
    """A GraphQL enum of the codes a feature's mutations may return, described from
    ppas/services/errors.py (the documentation page reads the descriptions back)."""
    members = dict.fromkeys((*COMMON_CODES, *codes))
    enum = Enum(name, {code.name: code.value for code in members})
    enum.__doc__ = description
    strawberry.enum(enum, name=name, description=description)
    for value in enum.__strawberry_definition__.values:
        value.description = DESCRIPTIONS[ErrorCode(value.value)]
    return enum


AccountErrorCode = _feature_enum(
    "AccountErrorCode", "Codes des refus de connexion et de mot de passe.",
    (ErrorCode.WRONG_CREDENTIALS, ErrorCode.ACCOUNT_LOCKED, ErrorCode.PASSWORD_EXPIRED,
     ErrorCode.TEMPORARY_PASSWORD_EXPIRED, ErrorCode.WRONG_PASSWORD, ErrorCode.PASSWORD_MISMATCH,
     ErrorCode.PASSWORD_REFUSED, ErrorCode.TRY_AGAIN))
BillingFormErrorCode = _feature_enum(
    "BillingFormErrorCode", "Codes des refus du formulaire de facturation en ligne.",
    (ErrorCode.PERIOD_NOT_BILLABLE, ErrorCode.CONVENTION_NOT_ACTIVE, ErrorCode.FORM_NOT_OPEN,
     ErrorCode.LINE_CROSSED_OUT, ErrorCode.FORM_EMPTY, ErrorCode.FORM_INCOMPLETE,
     ErrorCode.FORM_NOT_VALIDATED, ErrorCode.CANCELLATION_CLOSED))
BillingFileErrorCode = _feature_enum(
    "BillingFileErrorCode", "Codes des refus d'un dépôt de fichier ou d'une refacturation "
                            "(les anomalies d'un fichier sont dans son compte rendu).",
    (ErrorCode.FILE_MISSING, ErrorCode.LINE_NOT_IN_ANOMALY, ErrorCode.LINE_NOT_REBILLABLE,
     ErrorCode.LINE_STILL_IN_ANOMALY))
PartnerAdminErrorCode = _feature_enum(
    "PartnerAdminErrorCode", "Codes des refus de l'administration du partenaire et des "
                             "décisions de la caisse sur les demandes de convention.",
    (ErrorCode.ALREADY_EXISTS, ErrorCode.ALREADY_DONE, ErrorCode.LAST_ADMINISTRATOR,
     ErrorCode.OWN_ACCOUNT))
RegistrationErrorCode = _feature_enum(
    "RegistrationErrorCode", "Codes des refus d'une préinscription et des décisions de la "
                             "caisse sur les préinscriptions.",
    (ErrorCode.CAPTCHA_FAILED, ErrorCode.ALREADY_EXISTS, ErrorCode.ALREADY_DONE,
     ErrorCode.CONVENTION_MISMATCH))

ContactErrorCode = _feature_enum(
    "ContactErrorCode", "Codes des refus d'un message à l'assistance de la caisse "
                        "(chaque champ à corriger est dans `problems`).", ())

EvaluationErrorCode = _feature_enum(
    "EvaluationErrorCode", "Codes des refus sur les commandes d'évaluation, le mode "
                           "déconnecté et l'examen des conflits.",
    (ErrorCode.CONFLICT, ErrorCode.ORDER_CLOSED, ErrorCode.NOT_RESERVED, ErrorCode.ALREADY_DONE))

FEATURE_ENUMS: tuple[type[Enum], ...] = (AccountErrorCode, BillingFormErrorCode,
                                         BillingFileErrorCode, PartnerAdminErrorCode,
                                         RegistrationErrorCode, ContactErrorCode,
                                         EvaluationErrorCode)


def feature_code(code: ErrorCode, enum: type[Enum]) -> Enum:
    """The feature's GraphQL value of a service code.

    A code its feature does not list is a bug (the schema would promise a closed list and
    break it): it fails loudly, and tests/schema/test_error_codes.py checks statically that
    every code a feature's services raise is in its enum.
    """
    return enum[code.name]


@strawberry.type(description="Refus expliqué : `code` pour les programmes, `message` (français) "
                             "dit quoi corriger.")
class UserError:
    """Base of the error types; each sets `code_enum` and declares `code` with its enum."""

    code_enum: ClassVar[type[Enum]]

    message: str
    field: str | None = strawberry.field(
        default=None, description="Le champ en cause, s'il y en a un."
    )

    @classmethod
    def from_service(cls, error: ServiceError, info: Any = None) -> UserError:
        """The error type for a service refusal (subclasses add their details)."""
        return cls(code=feature_code(error.code, cls.code_enum), message=error.message,
                   field=error.field)

    @classmethod
    def of(cls, code: ErrorCode, message: str, field: str | None = None, **extra: Any) -> UserError:
        """An error the schema itself decides (e.g. a missing upload)."""
        return cls(code=feature_code(code, cls.code_enum), message=message, field=field, **extra)


class RefusalHandler:
    """Strawberry exception handler: a ServiceError raised by a mutation whose result union
    holds `error_type` becomes that error type. AccessDenied (who asks) is declined, so it
    stays a top-level error with its `extensions.code`."""

    exception_type = ServiceError

    def __init__(self, error_type: type[UserError]) -> None:
        self.error_type = error_type

    def handle(self, exception: ServiceError, *, field: Any, info: Any) -> Any:
        if isinstance(exception, AccessDenied):
            return None
        built = self.error_type.from_service(exception, info)
        return built


def refusal_handlers() -> list[RefusalHandler]:
    """One handler per error type of the schema (every subclass of UserError)."""
    found: list[type[UserError]] = []
    pending = list(UserError.__subclasses__())
    while pending:
        cls = pending.pop()
        found.append(cls)
        pending.extend(cls.__subclasses__())
    return [RefusalHandler(cls) for cls in sorted(found, key=lambda c: c.__name__)
            if not inspect.isabstract(cls)]


__all__ = ["TOP_LEVEL_CODES", "FEATURE_ENUMS", "UserError", "RefusalHandler", "refusal_handlers",
           "feature_code"]


def field_arguments(info: Any) -> dict[str, Any]:
    """The arguments of the field being resolved, by GraphQL name, as the client sent them:
    an error type built by a handler shows back what was typed."""
    from graphql import VariableNode, value_from_ast

    raw = info._raw_info
    definition = raw.parent_type.fields[raw.field_name]
    values: dict[str, Any] = {}
    for argument in raw.field_nodes[0].arguments:
        name, node = argument.name.value, argument.value
        if isinstance(node, VariableNode):
            values[name] = (raw.variable_values or {}).get(node.name.value)
        elif name in definition.args:
            values[name] = value_from_ast(node, definition.args[name].type)
    return values


# --------------------------------------------------------------------------- documentation

def code_tables(graphql_schema: Any) -> dict[str, Any]:
    """The code and enum tables of the vendor page, read from the built schema (what the SDL
    says), not copied: {"top_level": [(code, description)], "features": [...], "enums": [...]},
    each feature or enum as (name, description, [(value, description)])."""
    from ppas.schema.enums import STATUS_ENUMS, AnomalyCode

    def table(enum: type[Enum]) -> tuple[str, str, list[tuple[str, str]]]:
        name = enum.__strawberry_definition__.name
        gql = graphql_schema.type_map[name]
        return name, gql.description or "", [(value, item.description or "")
                                             for value, item in gql.values.items()]

    return {
        "top_level": [(code.value, DESCRIPTIONS[code]) for code in TOP_LEVEL_CODES],
        "features": [table(enum) for enum in FEATURE_ENUMS],
        "enums": [table(enum) for enum in (*STATUS_ENUMS, AnomalyCode)],
    }
