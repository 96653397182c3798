"""A code on every error of a request refused before it runs (GraphQL over HTTP).

graphql-core leaves `extensions` empty on the errors of a document that does not parse, does
not validate, or whose variables do not coerce; vendors' software branches on
`extensions.code`, so each gets one: GRAPHQL_PARSE_FAILED, GRAPHQL_VALIDATION_FAILED,
BAD_USER_INPUT. The errors that already carry a code (the cost limit's) keep it.
"""
from __future__ import annotations

from collections.abc import Iterator

from graphql import GraphQLError, GraphQLSyntaxError
from strawberry.extensions import SchemaExtension

from ppas.services.errors import ErrorCode


def _label(errors: list[GraphQLError] | None, code: ErrorCode) -> None:
    for error in errors or ():
        if not (error.extensions or {}).get("code"):
            error.extensions = {**(error.extensions or {}), "code": code.value}


def label_syntax_errors(errors: list[GraphQLError] | None) -> None:
    """GRAPHQL_PARSE_FAILED on a syntax error the parser cache raised before any hook could
    see it (Strawberry then returns it from outside the extensions): the HTTP view calls this."""
    _label([error for error in errors or () if isinstance(error, GraphQLSyntaxError)],
           ErrorCode.GRAPHQL_PARSE_FAILED)


class RequestErrorCodes(SchemaExtension):
    def on_parse(self) -> Iterator[None]:
        yield
        _label(self.execution_context.pre_execution_errors, ErrorCode.GRAPHQL_PARSE_FAILED)

    def on_validate(self) -> Iterator[None]:
        yield
        _label(self.execution_context.pre_execution_errors, ErrorCode.GRAPHQL_VALIDATION_FAILED)

    def on_execute(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        # Variables that do not coerce: graphql-core answers before executing anything, with
        # no data and errors that point at no field (a resolver's error always has a path).
        if result is not None and result.data is None and result.errors and \
                all(error.path is None for error in result.errors):
            _label(result.errors, ErrorCode.BAD_USER_INPUT)


__all__ = ["RequestErrorCodes", "label_syntax_errors"]
