"""« Évaluations »: the evaluation form's definitions for the browser, and the pages."""
from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ppas.domain import evaluation_form

_DEFINITIONS = evaluation_form.definitions_json().encode()
_ETAG = f'"{evaluation_form.DEFINITIONS_VERSION}"'


async def definitions(request: Request) -> Response:
    """The form's fields, rules, messages and the AGGIR table: public data, cacheable, its
    `version` (also the ETag) changing with any rule."""
    if request.headers.get("if-none-match") == _ETAG:
        return Response(status_code=304, headers={"ETag": _ETAG})
    return Response(_DEFINITIONS, media_type="application/json",
                    headers={"ETag": _ETAG, "Cache-Control": "public, max-age=300"})


routes = [
    Route("/evaluations/definitions.json", definitions, name="evaluation_definitions"),
]
