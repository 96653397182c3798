"""JSON answers of the refusals on /graphql that happen before the GraphQL view runs (CSRF,
an invalid bearer token, a body too large): a GraphQL response with one top-level error and
its `extensions.code`, never plain text."""
from __future__ import annotations

import json

from starlette.responses import Response

from ppas.services.errors import ErrorCode

GRAPHQL_PATH = "/graphql"


def is_graphql(scope) -> bool:
    return scope.get("path", "").startswith(GRAPHQL_PATH)


def error_body(message: str, code: ErrorCode | str) -> bytes:
    """A GraphQL response that holds one top-level error (no `data`: nothing ran)."""
    return json.dumps({"errors": [{"message": message, "extensions": {"code": str(code)}}]},
                      ensure_ascii=False).encode("utf-8")


def json_error(message: str, code: ErrorCode | str, status_code: int,
               headers: dict[str, str] | None = None) -> Response:
    """The JSON answer of a refusal on /graphql, for the middlewares and this view."""
    return Response(error_body(message, code), status_code=status_code,
                    media_type="application/json", headers=headers)
