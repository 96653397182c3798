"""create_app(settings): the ASGI application of the portal."""
from __future__ import annotations

import asyncio
import contextlib
from datetime import timedelta

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from ppas.db import close_database, open_database
from ppas.domain.clock import Clock, SystemClock
from ppas.schema import build_schema
from ppas.services import hashing
from ppas.services.jobs import run_forever as run_jobs_forever
from ppas.services.rate_limits import RateLimits
from ppas.services.sessions import SessionLimits
from ppas.settings import Settings
from ppas.web import auth_routes, partner_pages, public_pages
from ppas.web import billing_form_pages
from ppas.web import billing_file_pages
from ppas.web import admin_pages, caisse_convention_pages
from ppas.web import caisse_registration_pages, dev_mail_pages, registration_pages
from ppas.web import session_pages
from ppas.web import account_pages, anomaly_pages
from ppas.web import caisse_job_pages
from ppas.web import caisse_back_office_pages
from ppas.web import payment_pages
from ppas.web import contact_pages, help_pages, webhook_pages
from ppas.web import offline_pages
from ppas.web import evaluation_pages
from ppas.web.body_limit import BodySizeLimit, body_cap
from ppas.web.csrf import CsrfMiddleware
from ppas.web.graphql_endpoint import PortalGraphQL
from ppas.web.identity import IdentityMiddleware
from ppas.web.operations import OperationRunner, load_operations
from ppas.web.password_gate import PasswordChangeGate
from ppas.web.ops import OpsEndpoints, check_metrics_settings
from ppas.web.request_log import RequestLogMiddleware
from ppas.web.security_headers import SecurityHeadersMiddleware
from ppas.web.templating import make_environment, render


# GraphiQL's page (templates/pages/graphiql.html) and what it loads: UMD builds from npm,
# pinned in package-lock.json, so that no request leaves the portal's origin.
GRAPHIQL_ASSETS = {
    "react": ("react", "umd"),
    "react-dom": ("react-dom", "umd"),
    "graphiql": ("graphiql", "dist"),
    "graphiql-explorer": ("@graphiql/plugin-explorer", "dist"),
}


def graphiql_assets(settings: Settings) -> list[Mount]:
    """/static/vendor/<name> for each of GraphiQL's libraries; none when GraphiQL is off."""
    if not settings.graphiql:
        return []
    return [Mount(f"/static/vendor/{name}",
                  StaticFiles(directory=settings.node_modules_dir.joinpath(*parts), check_dir=False))
            for name, parts in GRAPHIQL_ASSETS.items()]


def create_app(settings: Settings | None = None, *, clock: Clock | None = None,
               manage_database: bool = True) -> Starlette:
    """Build the app; `manage_database=False` when the caller already opened Tortoise."""
    settings = settings or Settings.from_env()
    clock = clock or SystemClock()
    schema = build_schema(settings)
    # Parsed and validated here: a document that drifted from the schema stops start-up.
    operations = load_operations(settings.operations_dir, schema)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette):
        if manage_database:
            await open_database(settings.database_url)
        # The job worker (mail, integration…) runs beside the server unless PPAS_JOBS=off.
        worker = asyncio.create_task(run_jobs_forever(settings, clock)) if settings.jobs else None
        try:
            yield
        finally:
            if worker is not None:
                worker.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await worker
            if manage_database:
                await close_database()

    async def not_found(request: Request, exc: Exception) -> Response:
        return render(request, "pages/not_found.html", status_code=404)

    routes = [
        *public_pages.routes,
        *auth_routes.routes,
        *session_pages.routes,
        *billing_form_pages.routes,
        *billing_file_pages.routes,
        *anomaly_pages.routes,
        *account_pages.routes,
        *partner_pages.routes,
        *admin_pages.routes,
        *caisse_convention_pages.routes,
        *registration_pages.routes,
        *caisse_registration_pages.routes,
        *dev_mail_pages.routes,
        *contact_pages.routes,
        *help_pages.routes,
        *caisse_job_pages.routes,
        *caisse_back_office_pages.routes,
        *payment_pages.routes,
        *webhook_pages.routes,
        *evaluation_pages.routes,
        Route("/graphql", PortalGraphQL(schema, settings=settings, clock=clock),
              methods=["GET", "POST"]),
        *offline_pages.routes(settings),
        Mount("/static/vendor/htmx",
              StaticFiles(directory=settings.node_modules_dir / "htmx.org" / "dist",
                          check_dir=False)),
        # The ALTCHA widget's "external" build (CSP-friendly), its translations and workers.
        Mount("/static/vendor/altcha",
              StaticFiles(directory=settings.node_modules_dir / "altcha" / "dist",
                          check_dir=False)),
        *graphiql_assets(settings),
        Mount("/static", StaticFiles(directory=settings.static_dir), name="static"),
    ]
    check_metrics_settings(settings)
    middleware = [
        # First: the request id and log line cover every answer, /healthz… before the session.
        Middleware(RequestLogMiddleware),
        Middleware(OpsEndpoints),
        Middleware(SecurityHeadersMiddleware, production=not settings.development),
        Middleware(BodySizeLimit, max_bytes=body_cap(settings)),
        Middleware(IdentityMiddleware, clock=clock, secure=settings.secure_cookies,
                   limits=SessionLimits(idle=timedelta(minutes=settings.session_idle_minutes),
                                        absolute=timedelta(hours=settings.session_absolute_hours))),
        Middleware(CsrfMiddleware),
        Middleware(PasswordChangeGate),
    ]
    app = Starlette(routes=routes, middleware=middleware, lifespan=lifespan,
                    exception_handlers={404: not_found})
    app.state.settings = settings
    app.state.rate_limits = RateLimits(settings)
    hashing.configure(settings.hash_workers)
    app.state.clock = clock
    app.state.schema = schema
    app.state.operations = OperationRunner(schema, operations)
    app.state.templates = make_environment(settings.templates_dir)
    return app
