"""Mask every error but the French refusals written for users."""
from __future__ import annotations

from graphql import GraphQLError
from strawberry.extensions import MaskErrors

from ppas.services.errors import ErrorCode, ServiceError

GENERIC_MESSAGE = "Une erreur inattendue s'est produite. Réessayez ; si elle persiste, contactez la caisse."


def should_mask(error: GraphQLError) -> bool:
    """Only unexpected exceptions are hidden.

    Validation errors carry no original error; a variable that fails coercion (`Int!` given
    "x") carries graphql-core's own GraphQLError, which says which variable and why: the
    client must read it to fix its request. ServiceErrors are the refusals written for users.
    """
    original = error.original_error
    return original is not None and not isinstance(original, (ServiceError, GraphQLError))


class _MaskErrors(MaskErrors):
    """Strawberry's MaskErrors, with the code every top-level error carries."""

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        masked = super().anonymise_error(error)
        masked.extensions = {"code": ErrorCode.INTERNAL_ERROR.value}
        return masked


def masked_errors() -> MaskErrors:
    """The MaskErrors extension configured for PPAS."""
    return _MaskErrors(should_mask_error=should_mask, error_message=GENERIC_MESSAGE)
