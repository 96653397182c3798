"""Public pages: home, documentation (sign-up: registration_pages; contact: contact_pages;
FAQ, guides and the anomaly procedure: help_pages)."""
from __future__ import annotations

from ppas.domain.payment_slips import CSV_COLUMNS as SLIP_CSV_COLUMNS
from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import Route

from ppas.schema.errors import code_tables
from ppas.web.templating import render


async def home(request: Request) -> Response:
    return render(request, "pages/home.html")


async def documentation(request: Request) -> Response:
    return render(request, "pages/documentation.html")


async def api_page(request: Request) -> Response:
    """« Pour les éditeurs de logiciels » : the rule for refusals, the codes and enums as the
    schema declares them, and the changelog."""
    schema = request.app.state.operations.schema._schema
    return render(request, "pages/documentation_api.html", tables=code_tables(schema),
                  slip_csv_columns=SLIP_CSV_COLUMNS)


async def schema_sdl(request: Request) -> Response:
    path = request.app.state.settings.operations_dir.parent / "schema.graphql"
    return FileResponse(path, media_type="text/plain; charset=utf-8")


routes = [
    Route("/graphql/schema", schema_sdl, name="schema_sdl"),
    Route("/", home, name="home"),
    Route("/documentation", documentation, name="documentation"),
    Route("/documentation/api", api_page, name="documentation_api"),
]
