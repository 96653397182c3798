"""The /graphql endpoint: typed context, GraphiQL for caisse admins only."""
from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from strawberry.asgi import GraphQL

from ppas.domain.roles import Role
from ppas.schema.context import Context
from ppas.web.templating import render


class PortalGraphQL(GraphQL):
    """Strawberry's ASGI view with the PPAS context; GET never runs a mutation."""

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
            settings=self.settings,
            clock=self.clock,
            response=response,
        )

    async def render_graphql_ide(self, request: Request) -> Response:
        user = request.state.user
        if user is None or user.role != Role.CAISSE_ADMIN:
            return render(request, "pages/refused.html", status_code=403, messages=[
                "L'explorateur GraphQL est réservé aux administrateurs de la caisse."])
        return await super().render_graphql_ide(request)
