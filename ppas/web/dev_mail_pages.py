"""Development only: the outbox, for a caisse administrator (404 for anyone else)."""
from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ppas.services.dev_mail import may_read_outbox
from ppas.web.caisse_registration_pages import paris_time
from ppas.web.guards import run_operation
from ppas.web.templating import render


async def outbox(request: Request) -> Response:
    if not may_read_outbox(request.state.user, request.app.state.settings):
        # Not even a sign-in prompt: in production the page does not exist.
        return render(request, "pages/not_found.html", status_code=404)
    data = await run_operation(request, "DevelopmentOutbox", limit=100)
    return render(request, "pages/dev_mail.html", messages=data["developmentOutbox"],
                  paris_time=paris_time)


routes = [Route("/admin/courriels", outbox, methods=["GET"], name="dev_mail")]
