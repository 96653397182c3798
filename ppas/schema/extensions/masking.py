"""Mask every error but the French refusals written for users; log the unexpected ones once."""
from __future__ import annotations

import logging

import strawberry
from graphql import GraphQLError
from strawberry.extensions import MaskErrors

from ppas.logs import current_request_id
from ppas.services.errors import ErrorCode, ServiceError

GENERIC_MESSAGE = "Une erreur inattendue s'est produite. Réessayez ; si elle persiste, contactez la caisse."
REFERENCE = " Référence à donner : {request_id}."

_log = logging.getLogger("ppas.graphql")


def should_mask(error: GraphQLError) -> bool:
    """Only unexpected exceptions are hidden.

    Validation errors carry no original error; a variable that fails coercion (`Int!` given
    "x") carries graphql-core's own GraphQLError, which says which variable and why: the
    client must read it to fix its request. ServiceErrors are the refusals written for users.
    """
    original = error.original_error
    return original is not None and not isinstance(original, (ServiceError, GraphQLError))


class _MaskErrors(MaskErrors):
    """Strawberry's MaskErrors, with the code every top-level error carries and the request
    id (X-Request-ID, in the logs beside the traceback) that support asks for."""

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        masked = super().anonymise_error(error)
        request_id = current_request_id()
        masked.message = GENERIC_MESSAGE + REFERENCE.format(request_id=request_id)
        masked.extensions = {"code": ErrorCode.INTERNAL_ERROR.value, "requestId": request_id}
        return masked


def masked_errors() -> MaskErrors:
    """The MaskErrors extension configured for PPAS."""
    return _MaskErrors(should_mask_error=should_mask, error_message=GENERIC_MESSAGE)


class LoggedSchema(strawberry.Schema):
    """Strawberry logs every error with a traceback, refusals included. Here: an unexpected
    exception once, at ERROR with its traceback (the request id rides on the record, see
    ppas/logs.py); what the client did wrong (validation, refusals) at DEBUG, no traceback."""

    def process_errors(self, errors, execution_context=None) -> None:
        for error in errors:
            if should_mask(error):
                _log.error("unexpected error in GraphQL operation %s: %s",
                           getattr(execution_context, "operation_name", None) or "-",
                           error.message, exc_info=error.original_error)
            else:
                _log.debug("GraphQL error: %s", error.message)
