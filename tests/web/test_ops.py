"""/healthz, /readyz, /metrics, the request id and the request log (docs/deploy.md)."""
from __future__ import annotations

import io
import json
import logging
import re
import shutil
from dataclasses import replace

import httpx
import pytest

from ppas.logs import configure_logging
from ppas.services import health

METRICS_TOKEN = "jeton-de-mesure-0123456789"


@pytest.fixture(scope="module")
def ops_app(settings, db):
    """The app with a metrics token and the loopback allowed to scrape nothing else."""
    from ppas.app import create_app

    return create_app(replace(settings, metrics_token=METRICS_TOKEN, metrics_allow="10.9.0.0/16"),
                      manage_database=False)


@pytest.fixture
async def ops_client(ops_app):
    transport = httpx.ASGITransport(app=ops_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


@pytest.fixture
def captured_logs():
    """Every log record of the app as the JSON lines a log shipper would read."""
    stream = io.StringIO()
    handler = configure_logging("json", stream=stream)
    yield stream
    logging.getLogger().removeHandler(handler)


def json_lines(stream: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]


async def test_healthz_answers_json_without_session_or_cookie(client):
    response = await client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert "set-cookie" not in response.headers
    assert response.headers["cache-control"] == "no-store"


async def test_readyz_is_green_on_a_migrated_database(client):
    response = await client.get("/readyz")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "ok"
    assert body["checks"]["database"] == {"status": "ok"}
    assert body["checks"]["migrations"] == {"status": "ok"}
    assert body["checks"]["jobs_worker"]["status"] in {"ok", "fail"}
    assert "set-cookie" not in response.headers


async def test_readyz_shows_the_jobs_worker_heartbeat_without_going_red_for_it(client, settings):
    from ppas.domain.clock import SystemClock
    from ppas.models import WorkerHeartbeat
    from ppas.services.jobs import run_due

    await WorkerHeartbeat.all().delete()
    silent = await client.get("/readyz")
    # A stopped worker delays mail and integration; the pages still serve: not critical.
    assert silent.status_code == 200
    assert silent.json()["checks"]["jobs_worker"] == {"status": "fail",
                                                      "detail": "no heartbeat yet"}
    await run_due(settings, SystemClock(), kinds={"aucune_tache"})  # a worker round beats
    alive = (await client.get("/readyz")).json()["checks"]["jobs_worker"]
    assert alive["status"] == "ok" and alive["seconds_since_heartbeat"] <= 5


async def test_metrics_count_the_jobs_by_state(ops_client, settings):
    from datetime import datetime, timezone

    from ppas.models import Job, JobState

    now = datetime.now(timezone.utc)
    before = await Job.filter(state=JobState.FAILED).count()
    await Job.create(kind="essai_mesure", payload={}, state=JobState.FAILED, run_at=now,
                     attempts=1, max_attempts=1, created_at=now, last_error="x")
    text = (await ops_client.get("/metrics", headers={
        "Authorization": f"Bearer {METRICS_TOKEN}"})).text
    assert f'ppas_jobs{{state="failed"}} {float(before + 1)}' in text
    assert 'ppas_jobs{state="queued"}' in text


async def test_readyz_is_503_while_a_migration_is_pending(client, tmp_path, monkeypatch):
    for path in health.MIGRATIONS_DIR.glob("*.py"):
        shutil.copy(path, tmp_path / path.name)
    (tmp_path / "9999_not_yet_applied.py").write_text("# a release's new migration\n")
    monkeypatch.setattr(health, "MIGRATIONS_DIR", tmp_path)
    response = await client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "fail"
    assert body["checks"]["migrations"] == {"status": "fail", "pending": ["9999_not_yet_applied"]}
    assert body["checks"]["database"] == {"status": "ok"}


async def test_readyz_is_503_when_the_database_does_not_answer(client, monkeypatch, database_url):
    from tortoise import connections

    real_get = connections.get

    class Unreachable:
        async def execute_query(self, *args, **kwargs):
            raise ConnectionRefusedError("connection refused by 127.0.0.1:5432")

    monkeypatch.setattr(connections, "get", lambda name: Unreachable())
    try:
        response = await client.get("/readyz")
    finally:
        monkeypatch.setattr(connections, "get", real_get)
    assert response.status_code == 503
    body = response.json()
    assert body["checks"]["database"] == {"status": "fail"}
    # No exception text, no URL: the log says why, the answer only what.
    assert "5432" not in response.text and "refused" not in response.text
    assert database_url not in response.text


async def test_metrics_is_404_without_token_or_allowed_address(ops_client, client):
    assert (await ops_client.get("/metrics")).status_code == 404
    wrong = await ops_client.get("/metrics", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 404
    # The default settings: no token, no address: never served.
    assert (await client.get("/metrics")).status_code == 404


async def test_metrics_from_an_allowed_address(settings, db):
    from ppas.app import create_app

    allowed = create_app(replace(settings, metrics_allow="10.0.0.0/8, 127.0.0.1"),
                         manage_database=False)
    refused = create_app(replace(settings, metrics_allow="10.0.0.0/8"), manage_database=False)
    for app, expected in ((allowed, 200), (refused, 404)):
        transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 40000))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            assert (await http.get("/metrics")).status_code == expected


async def test_metrics_count_routes_operations_and_sign_in_failures(ops_client, make_user):
    user = await make_user(password="Juste2026ok")
    await ops_client.get("/administration/utilisateurs/987654321")
    page = await ops_client.get("/connexion")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    for _ in range(3):  # the page runs graphql/operations/SignIn.graphql; the 3rd locks
        await ops_client.post("/connexion", data={"csrf_token": token, "login": user.login,
                                                  "password": "Faux2026mauvais"})
    # A vendor's own operation name, through /graphql (cookie request: CSRF header).
    await ops_client.post("/graphql", json={"query": "query EssaiMetrique { __typename }"},
                          headers={"X-CSRF-Token": token})
    response = await ops_client.get("/metrics",
                                    headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    text = response.text
    # The route's template, never the raw path.
    assert re.search(r'ppas_http_request_duration_seconds_bucket\{.*route="/administration/'
                     r'utilisateurs/\{id:int\}".*\}', text)
    assert "987654321" not in text
    assert re.search(r'ppas_graphql_operations_total\{operation="EssaiMetrique",outcome="ok"\} 1',
                     text)
    assert sample(text, "ppas_graphql_operations_total",
                  'operation="SignIn",outcome="ok"') >= 3
    assert re.search(r'ppas_sign_in_failures_total\{reason="WRONG_CREDENTIALS"\} [1-9]', text)
    assert re.search(r"ppas_account_lockouts_total [1-9]", text)


def sample(text: str, name: str, labels: str = "") -> float:
    """The value of one sample of the exposition (0 when absent)."""
    pattern = re.escape(name) + (r"\{" + re.escape(labels) + r"\}" if labels else "") + r" (\S+)"
    found = re.search(pattern, text)
    return float(found.group(1)) if found else 0.0


async def test_metrics_count_an_uploaded_file_lines_and_anomalies(ops_client):
    from ppas.services import api_tokens
    from tests.billing_file_support import billing_xml, ligne, make_provider
    from tests.schema.test_billing_file_upload import multipart

    auth = {"Authorization": f"Bearer {METRICS_TOKEN}"}
    before = (await ops_client.get("/metrics", headers=auth)).text
    provider = await make_provider()
    token = await api_tokens.create_token(provider.user, "Logiciel de mesure")
    data = billing_xml(provider, [ligne(1, provider.numbers[0]), ligne(2, "0999999999")])
    answer = await ops_client.post("/graphql", headers={"Authorization": f"Bearer {token.secret}"},
                                   **multipart(data, provider.amd_name()))
    assert answer.json()["data"]["submitBillingFile"]["status"] == "ACCEPTED"
    after = (await ops_client.get("/metrics", headers=auth)).text
    for name, labels, more in (("ppas_ingest_files_total", 'status="accepted"', 1),
                               ("ppas_ingest_lines_total", 'outcome="accepted"', 1),
                               ("ppas_ingest_lines_total", 'outcome="refused"', 1),
                               ("ppas_ingest_anomalies_total", 'code="L01"', 1)):
        assert sample(after, name, labels) - sample(before, name, labels) == more, name


def test_operation_labels_are_bounded(monkeypatch):
    from ppas import metrics

    monkeypatch.setattr(metrics, "_names", set())
    monkeypatch.setattr(metrics, "MAX_OPERATION_NAMES", 2)
    assert metrics.operation_label(None) == "_anonymous"
    assert metrics.operation_label("Un") == "Un"
    assert metrics.operation_label("Deux") == "Deux"
    assert metrics.operation_label("Trois") == "_other"
    assert metrics.operation_label("Un") == "Un"
    assert metrics.operation_label('x"} 1\nfake') == "_other"


async def test_request_id_generated_or_accepted_when_well_formed(client):
    generated = await client.get("/healthz")
    assert re.fullmatch(r"[0-9a-f]{32}", generated.headers["x-request-id"])
    kept = await client.get("/", headers={"X-Request-ID": "proxy-1234.abcd_EF"})
    assert kept.headers["x-request-id"] == "proxy-1234.abcd_EF"
    for bad in ("court", "a" * 65, "espace interdit 123", "ligne\\nfausse123", "é" * 10):
        answer = await client.get("/", headers={"X-Request-ID": bad.encode("utf-8")})
        assert answer.headers["x-request-id"] != bad
        assert re.fullmatch(r"[0-9a-f]{32}", answer.headers["x-request-id"])
    refused = await client.post("/connexion", data={"login": "x"})  # CSRF refusal: still there
    assert refused.status_code == 403 and refused.headers["x-request-id"]


async def test_request_log_lines_hold_the_fields_and_never_the_password(client, make_user,
                                                                        captured_logs):
    password = "Secret2026ppasXYZ"
    wrong = "Mauvais2026ppasQRS"
    user = await make_user(password=password)
    page = await client.get("/connexion")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    await client.post("/connexion", data={"csrf_token": token, "login": user.login,
                                          "password": wrong, "next": "/espace"})
    signed = await client.post("/connexion", data={"csrf_token": token, "login": user.login,
                                                   "password": password, "next": "/espace"},
                               headers={"X-Request-ID": "connexion-reussie-01"})
    assert signed.status_code == 303
    home = await client.get("/espace")
    assert home.status_code == 200
    text = captured_logs.getvalue()
    assert password not in text and wrong not in text
    assert token not in text
    lines = json_lines(captured_logs)
    requests = [line for line in lines if line["logger"] == "ppas.request"]
    sign_in_line = next(line for line in requests if line["request_id"] == "connexion-reussie-01")
    assert sign_in_line["method"] == "POST" and sign_in_line["route"] == "/connexion"
    assert sign_in_line["status"] == 303
    assert isinstance(sign_in_line["duration_ms"], float)
    assert sign_in_line["user_id"] is None  # the session starts with the answer
    home_line = [line for line in requests if line["route"] == "/espace"][-1]
    assert home_line["user_id"] == user.id and home_line["status"] == 200
    assert re.fullmatch(r"[0-9a-f]{32}", home_line["request_id"])


async def test_text_log_format_is_one_readable_line(client):
    stream = io.StringIO()
    handler = configure_logging("text", stream=stream)
    try:
        await client.get("/healthz", headers={"X-Request-ID": "texte-12345678"})
    finally:
        logging.getLogger().removeHandler(handler)
    line = next(line for line in stream.getvalue().splitlines() if "ppas.request" in line)
    assert "[texte-12345678] GET /healthz 200" in line
    assert "status=200" in line and "route=/healthz" in line


async def test_masked_graphql_error_shows_the_request_id_logged_once(client, make_user, sign_in,
                                                                     monkeypatch, captured_logs):
    from ppas.schema import viewer
    from ppas.schema.extensions.masking import GENERIC_MESSAGE

    user = await make_user()
    csrf = await sign_in(client, user.login, "Secret2026")

    def broken(value):
        raise RuntimeError("panne interne secrète")

    monkeypatch.setattr(viewer, "Role", broken)
    response = await client.post("/graphql", json={"query": "query Moi { me { login } }"},
                                 headers={"X-CSRF-Token": csrf, "X-Request-ID": "support-ref-0042"})
    error = response.json()["errors"][0]
    assert GENERIC_MESSAGE in error["message"]
    assert "support-ref-0042" in error["message"]
    assert error["extensions"] == {"code": "INTERNAL_ERROR", "requestId": "support-ref-0042"}
    assert "secrète" not in response.text
    logged = [line for line in json_lines(captured_logs) if "traceback" in line]
    assert len(logged) == 1, logged
    assert logged[0]["request_id"] == "support-ref-0042"
    assert "panne interne secrète" in logged[0]["traceback"]


async def test_unexpected_exception_logged_once_and_answered_500_with_its_id(captured_logs):
    from starlette.applications import Starlette
    from starlette.middleware import Middleware
    from starlette.routing import Route

    from ppas.web.request_log import RequestLogMiddleware

    async def crash(request):
        raise ValueError("défaillance imprévue")

    # Where the portal puts it: first of the app's middlewares (app.py).
    app = Starlette(routes=[Route("/panne/{n:int}", crash)],
                    middleware=[Middleware(RequestLogMiddleware)])
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        response = await http.get("/panne/3", headers={"X-Request-ID": "panne-000123"})
    assert response.status_code == 500
    assert response.headers["x-request-id"] == "panne-000123"
    assert "panne-000123" in response.text and "défaillance" not in response.text
    lines = json_lines(captured_logs)
    errors = [line for line in lines if "traceback" in line]
    assert len(errors) == 1
    assert errors[0]["request_id"] == "panne-000123"
    assert "défaillance imprévue" in errors[0]["traceback"]
    request_line = next(line for line in lines if line["logger"] == "ppas.request")
    assert request_line["status"] == 500 and request_line["route"] == "/panne/{n:int}"


def test_ops_settings_come_from_the_environment(monkeypatch):
    from ppas.settings import Settings

    monkeypatch.setenv("PPAS_DEVELOPMENT", "1")
    monkeypatch.setenv("PPAS_LOG_FORMAT", "JSON")
    monkeypatch.setenv("PPAS_METRICS_TOKEN", METRICS_TOKEN)
    monkeypatch.setenv("PPAS_METRICS_ALLOW", "10.0.0.0/8")
    monkeypatch.setenv("PPAS_FORWARDED_ALLOW_IPS", "127.0.0.1")
    settings = Settings.from_env()
    assert (settings.log_format, settings.metrics_token, settings.metrics_allow,
            settings.forwarded_allow_ips) == ("json", METRICS_TOKEN, "10.0.0.0/8", "127.0.0.1")
    defaults = Settings()
    assert (defaults.log_format, defaults.metrics_token, defaults.metrics_allow,
            defaults.forwarded_allow_ips) == ("text", "", "", "")


def test_a_malformed_metrics_address_stops_start_up(settings, db):
    from ppas.app import create_app

    with pytest.raises(ValueError):
        create_app(replace(settings, metrics_allow="10.0.0.0/8, pas-une-adresse"),
                   manage_database=False)


def test_the_printed_database_url_hides_its_password():
    from ppas.cli import without_password

    assert without_password("postgres://ppas:s3cret@db:5432/ppas") == "postgres://ppas:***@db:5432/ppas"
    assert without_password("postgres://ppas@db/ppas") == "postgres://ppas@db/ppas"


async def test_forwarded_for_is_believed_only_from_configured_proxies(database_url, db, make_user):
    """The address of the audit log and the rate limits: X-Forwarded-For from a client is
    ignored unless its peer is in PPAS_FORWARDED_ALLOW_IPS (then it is the proxy's word)."""
    from ppas.models import AuditEvent
    from tests.server_support import start_server, stop_server

    user = await make_user(password="Juste2026ok")
    seen = {}
    for trusted in ("", "127.0.0.1"):
        process, url = start_server(database_url, {"PPAS_FORWARDED_ALLOW_IPS": trusted})
        try:
            async with httpx.AsyncClient(base_url=url) as http:
                page = await http.get("/connexion")
                csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
                await http.post("/connexion", headers={"X-Forwarded-For": "203.0.113.9"},
                                data={"csrf_token": csrf, "login": user.login,
                                      "password": "Faux2026mauvais"})
        finally:
            stop_server(process)
        event = await AuditEvent.filter(actor_id=user.id, action="sign_in_failed") \
            .order_by("-id").first()
        seen[trusted] = event.ip
    assert seen == {"": "127.0.0.1", "127.0.0.1": "203.0.113.9"}
