"""/healthz, /readyz and /metrics: for load balancers, orchestrators and Prometheus.

Answered by `OpsEndpoints`, a middleware placed before the session, CSRF and password-change
middlewares: these addresses need no session, set no cookie, read no session from the
database, and are not rate limited. Their answers hold no secret (no URL, no password, no
exception text: a failed check says which one failed, the log says why).
"""
from __future__ import annotations

import asyncio
import hmac
import ipaddress
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta, timezone

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.registry import CollectorRegistry
from prometheus_client import generate_latest
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route, Router
from starlette.types import ASGIApp, Receive, Scope, Send

from ppas import metrics
from ppas.services import health
from ppas.services.jobs import last_worker_heartbeat, queue_figures
from ppas.web.identity import bearer_token

CHECK_TIMEOUT_SECONDS = 3.0
# The jobs worker beats at least this often (ppas/services/jobs, `ppas jobs run`).
WORKER_STALE_AFTER = timedelta(minutes=2)
_log = logging.getLogger("ppas.ops")

CheckResult = dict[str, object]


@dataclass(frozen=True)
class ReadinessCheck:
    """One line of /readyz. `critical`: a failure makes the answer 503."""

    name: str
    run: Callable[[Request], Awaitable[CheckResult]]
    critical: bool = True


async def database_check(request: Request) -> CheckResult:
    await health.ping_database()
    return {"status": "ok"}


async def migrations_check(request: Request) -> CheckResult:
    pending = await health.pending_migrations()
    if pending:
        # Names of this code's own files: no secret. `ppas migrate` applies them.
        return {"status": "fail", "pending": pending}
    return {"status": "ok"}


async def jobs_worker_check(request: Request) -> CheckResult:
    """The jobs worker's last heartbeat (ppas.services.jobs.last_worker_heartbeat)."""
    beat = await last_worker_heartbeat()
    if beat is None:
        return {"status": "fail", "detail": "no heartbeat yet"}
    now = request.app.state.clock.now()
    if beat.tzinfo is None:
        beat = beat.replace(tzinfo=timezone.utc)
    age = (now - beat).total_seconds()
    status = "ok" if age <= WORKER_STALE_AFTER.total_seconds() else "fail"
    return {"status": status, "seconds_since_heartbeat": round(age)}


# The lead (or a later module) appends here. The worker check is not critical: a stopped
# worker delays mail and retries, while the web processes still serve every page; taking
# them all out of the load balancer for it would turn a delay into an outage.
READINESS_CHECKS: list[ReadinessCheck] = [
    ReadinessCheck("database", database_check),
    ReadinessCheck("migrations", migrations_check),
    ReadinessCheck("jobs_worker", jobs_worker_check, critical=False),
]


async def _run_check(check: ReadinessCheck, request: Request) -> CheckResult:
    try:
        return await asyncio.wait_for(check.run(request), CHECK_TIMEOUT_SECONDS)
    except TimeoutError:
        _log.warning("readiness check %s timed out", check.name)
        return {"status": "fail", "detail": "timeout"}
    except Exception:  # noqa: BLE001 - a failed check is an answer, not a 500
        _log.exception("readiness check %s failed", check.name)
        return {"status": "fail"}


async def healthz(request: Request) -> Response:
    """The process answers (no database call)."""
    return JSONResponse({"status": "ok"}, headers={"cache-control": "no-store"})


async def readyz(request: Request) -> Response:
    """200 when every critical check passes, else 503; each check's status in the body."""
    checks: dict[str, CheckResult] = {}
    ready = True
    for check in READINESS_CHECKS:
        result = await _run_check(check, request)
        checks[check.name] = result
        if check.critical and result.get("status") != "ok":
            ready = False
    return JSONResponse({"status": "ok" if ready else "fail", "checks": checks},
                        status_code=200 if ready else 503,
                        headers={"cache-control": "no-store"})


# ---- /metrics ------------------------------------------------------------------------------

class _Figures:
    """A collector of figures computed before the scrape (the database is async)."""

    def __init__(self, families: list) -> None:
        self.families = families

    def collect(self):
        return self.families


async def job_queue_families() -> list:
    """Job queue depth and failures, read from the job table at scrape time.

    `ppas.services.jobs.queue_figures()`: a mapping of job state to count, e.g.
    {"queued": 3, "running": 1, "failed": 2, "done": 40}.
    """
    figures = await queue_figures()
    family = GaugeMetricFamily("ppas_jobs", "Tâches en base, par état (au moment de la lecture).",
                               labels=["state"])
    for state, count in sorted(figures.items()):
        family.add_metric([str(state)], float(count))
    return [family]


SCRAPE_FAMILIES: list[Callable[[], Awaitable[list]]] = [job_queue_families]


def metrics_allowed(request: Request) -> bool:
    """A valid `Authorization: Bearer <PPAS_METRICS_TOKEN>`, or a client in PPAS_METRICS_ALLOW."""
    settings = request.app.state.settings
    expected = getattr(settings, "metrics_token", "")
    supplied = bearer_token(request.headers)
    if expected and supplied and hmac.compare_digest(supplied.encode("utf-8", "surrogateescape"),
                                                     expected.encode()):
        return True
    networks = allowed_networks(getattr(settings, "metrics_allow", ""))
    client = request.client.host if request.client else ""
    try:
        address = ipaddress.ip_address(client)
    except ValueError:
        return False
    return any(address in network for network in networks)


def allowed_networks(spec: str) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    """"10.0.0.0/8, 127.0.0.1" → networks (a malformed entry is refused at start-up)."""
    return [ipaddress.ip_network(part.strip(), strict=False)
            for part in spec.split(",") if part.strip()]


async def metrics_endpoint(request: Request) -> Response:
    """The Prometheus text format; 404 unless allowed (it does not say it exists)."""
    if not metrics_allowed(request):
        return PlainTextResponse("Page introuvable.", status_code=404)
    families: list = []
    for source in SCRAPE_FAMILIES:
        try:
            families.extend(await asyncio.wait_for(source(), CHECK_TIMEOUT_SECONDS))
        except Exception:  # noqa: BLE001 - the process metrics still answer
            _log.exception("metrics source %s failed", getattr(source, "__name__", source))
    body = metrics.exposition()
    if families:
        registry = CollectorRegistry()
        registry.register(_Figures(families))
        body += generate_latest(registry)
    return Response(body, media_type=CONTENT_TYPE_LATEST, headers={"cache-control": "no-store"})


OPS_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})


class OpsEndpoints:
    """Answers the three operations addresses before the session and CSRF middlewares."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.router = Router(routes=[Route("/healthz", healthz, methods=["GET", "HEAD"]),
                                     Route("/readyz", readyz, methods=["GET", "HEAD"]),
                                     Route("/metrics", metrics_endpoint, methods=["GET"])])

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] in OPS_PATHS:
            await self.router(scope, receive, send)
            return
        await self.app(scope, receive, send)


def check_metrics_settings(settings) -> None:
    """Stops start-up on a malformed PPAS_METRICS_ALLOW."""
    allowed_networks(getattr(settings, "metrics_allow", ""))
