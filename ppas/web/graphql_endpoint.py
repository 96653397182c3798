"""The /graphql endpoint: typed context, GraphiQL for caisse admins only.

GraphQL over HTTP (checked by the graphql-http audit, tests/web/test_graphql_http_audit.py):
every answer is JSON with `errors[].extensions.code`, HTTP refusals included; a client that
accepts `application/graphql-response+json` gets that type, and HTTP 400 without a `data`
entry for a document that does not parse, validate or whose variables do not coerce.
"""
from __future__ import annotations

import json
import secrets
from pathlib import Path

from cross_web import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from strawberry.asgi import GraphQL
from strawberry.http import GraphQLHTTPResponse
from strawberry.types.unset import UNSET

from ppas.domain.roles import Role
from ppas.schema.context import Context
from ppas.schema.extensions.request_errors import label_syntax_errors
from ppas.services.errors import REQUEST_ERROR_CODES, ErrorCode
from ppas.web.graphql_errors import json_error
from ppas.web.guards import session_id
from ppas.web.security_headers import graphiql_policy
from ppas.web.templating import render

NOT_UTF8 = "Requête refusée : le corps doit être du JSON encodé en UTF-8."
NOT_AN_OBJECT = ("Requête refusée : le corps doit être un objet JSON, par exemple "
                 '{"query": "{ partner { name } }", "variables": {}}.')
BAD_FILE_MAP = ("Requête refusée : le champ « map » de l'envoi de fichiers doit être un objet "
                'JSON qui associe chaque fichier à ses variables, par exemple '
                '{"0": ["variables.file"]}.')
BAD_MULTIPART = ("Requête refusée : le corps multipart/form-data est illisible ; envoyez les "
                 "champs « operations », « map » et les fichiers.")
COMPRESSED = ("Requête refusée : les corps compressés (Content-Encoding) ne sont pas acceptés ; "
              "envoyez le JSON ou le formulaire sans compression.")


GRAPHIQL_REFUSED = "L'explorateur GraphQL est réservé aux administrateurs de la caisse."
GRAPHQL_RESPONSE = "application/graphql-response+json"
_HTTP_CODES = {413: ErrorCode.PAYLOAD_TOO_LARGE, 404: ErrorCode.NOT_FOUND}


def wants_graphql_response(accept: str) -> bool:
    """Whether the Accept header prefers application/graphql-response+json to application/json
    (its q at least as high); no header, `*/*` or only application/json: plain JSON."""
    best: dict[str, float] = {}
    for part in accept.split(","):
        kind, *params = [piece.strip() for piece in part.split(";")]
        quality = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        kind = kind.lower()
        best[kind] = max(best.get(kind, 0.0), quality)
    wanted = best.get(GRAPHQL_RESPONSE, 0.0)
    return wanted > 0 and wanted >= best.get("application/json", 0.0)


def default_tab_path(settings) -> Path:
    """The example operations GraphiQL opens with (graphql/graphiql/default_tab.graphql)."""
    return settings.operations_dir.parent / "graphiql" / "default_tab.graphql"


class PortalGraphQL(GraphQL):
    """Strawberry's ASGI view with the PPAS context; GET never runs a mutation.

    What a client sends that is not a GraphQL request gets a 400 (or 415) in words, never
    an exception: Strawberry assumes a UTF-8 JSON object and a well-formed file map.
    """

    def __init__(self, schema, *, settings, clock) -> None:
        # Uploads (billing files): bearer requests, or cookie requests with the CSRF token
        # (CsrfMiddleware refuses a multipart cookie request without X-CSRF-Token).
        super().__init__(schema, graphql_ide="graphiql", allow_queries_via_get=True,
                         multipart_uploads_enabled=True)
        self.settings = settings
        self.clock = clock

    async def get_context(self, request: Request, response: Response) -> Context:
        return Context(
            request=request,
            user=request.state.user,
            via_token=bool(getattr(request.state, "via_token", False)),
            session_id=session_id(request),
            settings=self.settings,
            clock=self.clock,
            response=response,
        )

    async def run(self, request, context=UNSET, root_value=UNSET):
        if self.is_websocket_request(request):
            return await super().run(request, context, root_value)
        try:
            response = await super().run(request, context, root_value)
        except HTTPException as error:  # Strawberry's own answer would be plain text
            response = json_error(error.reason, _HTTP_CODES.get(error.status_code,
                                                                ErrorCode.BAD_REQUEST),
                                  error.status_code)
        if (response.headers.get("content-type", "").startswith("application/json")
                and wants_graphql_response(request.headers.get("accept", ""))):
            response.headers["content-type"] = f"{GRAPHQL_RESPONSE}; charset=utf-8"
            if getattr(request.state, "graphql_request_error", False) \
                    and response.status_code == 200:
                response.status_code = 400
        return response

    async def process_result(self, request: Request, result) -> GraphQLHTTPResponse:
        label_syntax_errors(result.errors)
        data = await super().process_result(request, result)
        errors = data.get("errors") if isinstance(data, dict) else None
        if result.data is None and errors and all(
                (error.get("extensions") or {}).get("code") in REQUEST_ERROR_CODES
                for error in errors):
            # Refused before running: a request error has no `data` entry.
            data.pop("data", None)
            request.state.graphql_request_error = True
        return data

    async def render_graphql_ide(self, request: Request) -> Response:
        """GraphiQL in the portal's own page, its assets from node_modules (app.py).

        Off (`PPAS_GRAPHIQL=0`): the French 404 page, as for any address that does not exist.
        """
        if not self.settings.graphiql:
            return render(request, "pages/not_found.html", status_code=404)
        user = request.state.user
        if user is None or user.role != Role.CAISSE_ADMIN:
            return render(request, "pages/refused.html", status_code=403,
                          messages=[GRAPHIQL_REFUSED])
        nonce = secrets.token_urlsafe(18)
        response = render(request, "pages/graphiql.html", style_nonce=nonce,
                          default_tab=default_tab_path(self.settings).read_text(encoding="utf-8"))
        response.headers["content-security-policy"] = graphiql_policy(nonce)
        return response

    def decode_json(self, data: str | bytes) -> object:
        # Every JSON this view reads is an object: the body, a multipart request's
        # `operations` and `map`, a GET request's `variables` and `extensions`.
        if isinstance(data, bytes):
            try:
                data = data.decode("utf-8")  # json.loads would guess UTF-16/32 and crash
            except UnicodeDecodeError:
                raise HTTPException(400, NOT_UTF8) from None
        value = json.loads(data)
        if not isinstance(value, dict):
            raise HTTPException(400, NOT_AN_OBJECT)
        return value

    async def parse_http_body(self, request):
        encoding = request.headers.get("content-encoding", "identity").strip().lower()
        if encoding not in ("", "identity"):
            raise HTTPException(415, COMPRESSED)
        return await super().parse_http_body(request)

    async def parse_multipart(self, request) -> dict[str, str]:
        try:
            form = (await request.get_form_data()).form
        except ValueError as error:
            raise HTTPException(400, BAD_MULTIPART) from error
        files_map = form.get("map", "{}")
        if isinstance(files_map, (bytes, str)):
            # Strawberry walks the map without looking: a string of paths is read letter by
            # letter, a number is not iterable.
            files_map = self.parse_json(files_map)
            if not all(isinstance(paths, list) and all(isinstance(p, str) for p in paths)
                       for paths in files_map.values()):
                raise HTTPException(400, BAD_FILE_MAP)
        try:
            return await super().parse_multipart(request)  # the form is read once, cached
        except (LookupError, TypeError, ValueError) as error:
            # A path of the map that leads nowhere in `operations` ("variables.x.y").
            raise HTTPException(400, BAD_FILE_MAP) from error
