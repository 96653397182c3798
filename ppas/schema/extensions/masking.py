"""Mask every error but the French refusals written for users."""
from __future__ import annotations

from graphql import GraphQLError
from strawberry.extensions import MaskErrors

from ppas.services.errors import ServiceError

GENERIC_MESSAGE = "Une erreur inattendue s'est produite. Réessayez ; si elle persiste, contactez la caisse."


def should_mask(error: GraphQLError) -> bool:
    """Validation errors and ServiceErrors stay readable; anything else is hidden."""
    original = error.original_error
    return original is not None and not isinstance(original, ServiceError)


def masked_errors() -> MaskErrors:
    """The MaskErrors extension configured for PPAS."""
    return MaskErrors(should_mask_error=should_mask, error_message=GENERIC_MESSAGE)
