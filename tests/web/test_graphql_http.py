"""GraphQL over HTTP on /graphql: the graphql-http audit against the live server, JSON refusals
with `extensions.code` everywhere, application/graphql-response+json, 401 for a bad token."""
from __future__ import annotations

import json
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest

from ppas.services import api_tokens
from tests.billing_file_support import PASSWORD, make_provider

ROOT = Path(__file__).resolve().parents[2]
GRAPHQL_RESPONSE = "application/graphql-response+json"


def test_the_graphql_http_audit_passes_every_must_and_should(live_server):
    node = shutil.which("node")
    assert node, "node is needed for the graphql-http audit (npm ci installs graphql-http)"
    run = subprocess.run([node, str(ROOT / "tests/web/graphql_http_audit.mjs"),
                          live_server + "/graphql"], check=False, capture_output=True,
                         text=True, timeout=120, cwd=ROOT)
    assert run.returncode == 0, run.stderr
    results = json.loads(run.stdout)
    assert len(results) > 50  # the whole audit ran
    failed = [f"{r['id']} {r['name']}: {r['reason']}" for r in results
              if r["status"] != "ok" and not r["name"].startswith("MAY")]
    assert failed == []
    # The MAYs pass too (400 for bad parameters); a regression there shows here.
    assert [r["id"] for r in results if r["status"] != "ok"] == []


async def _post(client, body, accept=None, **headers):
    if accept:
        headers["Accept"] = accept
    return await client.post("/graphql", content=body if isinstance(body, bytes) else
                             json.dumps(body), headers={"Content-Type": "application/json",
                                                        **headers})


@pytest.mark.parametrize("query, code", [
    ("{", "GRAPHQL_PARSE_FAILED"),
    ("{ 1x }", "GRAPHQL_PARSE_FAILED"),
    ("{ champInconnu }", "GRAPHQL_VALIDATION_FAILED"),
    ("query Q($id: ID!) { billingFile(id: $id) { name } }", "BAD_USER_INPUT"),
])
async def test_a_refused_document_has_its_code_and_no_data(client, query, code):
    body = {"query": query, "variables": {"id": None}}
    plain = await _post(client, body)
    assert plain.status_code == 200 and plain.headers["content-type"] == "application/json"
    assert "data" not in plain.json()
    assert plain.json()["errors"][0]["extensions"]["code"] == code
    strict = await _post(client, body, accept=f"{GRAPHQL_RESPONSE}, application/json;q=0.9")
    assert strict.status_code == 400
    assert strict.headers["content-type"] == f"{GRAPHQL_RESPONSE}; charset=utf-8"
    assert "data" not in strict.json() and strict.json()["errors"][0]["extensions"]["code"] == code


async def test_the_media_type_follows_the_accept_header(client):
    query = {"query": "{ __typename }"}
    for accept, expected in [(None, "application/json"), ("*/*", "application/json"),
                             ("application/json", "application/json"),
                             (f"application/json, {GRAPHQL_RESPONSE};q=0.5", "application/json"),
                             (GRAPHQL_RESPONSE, f"{GRAPHQL_RESPONSE}; charset=utf-8")]:
        answer = await _post(client, query, accept=accept)
        assert answer.status_code == 200 and answer.headers["content-type"] == expected, accept
        assert answer.json() == {"data": {"__typename": "Query"}}


async def test_an_executed_error_keeps_its_data_and_200(client):
    # Not signed in: the query ran and said so; that is not a request error.
    answer = await _post(client, {"query": "{ billingForms { toFill { period } } }"},
                         accept=GRAPHQL_RESPONSE)
    assert answer.status_code == 200
    assert answer.json()["data"] is None
    assert answer.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


@pytest.mark.parametrize("body, status", [
    (b"\xff\xfe{}", 400), (b"{pas du json", 400), (b"[1, 2]", 400), (b'{"query": 3}', 400),
    (b'{"query": "{ __typename }", "variables": "x"}', 400), (b"{}", 400),
])
async def test_a_body_that_is_not_a_graphql_request_is_a_json_bad_request(client, body, status):
    answer = await _post(client, body)
    assert answer.status_code == status
    error = answer.json()["errors"][0]
    assert error["extensions"]["code"] == "BAD_REQUEST" and error["message"]


async def test_a_compressed_body_is_refused_in_json(client):
    answer = await _post(client, b"{}", **{"Content-Encoding": "gzip"})
    assert answer.status_code == 415
    assert answer.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"


async def test_an_invalid_or_revoked_token_is_401_with_www_authenticate(client):
    provider = await make_provider(1)
    token = await api_tokens.create_token(provider.user, "Logiciel révoqué")
    query = {"query": "{ __typename }"}
    live = await _post(client, query, Authorization=f"Bearer {token.secret}")
    assert live.status_code == 200
    await api_tokens.revoke_token(provider.user, token.token.id, now=datetime.now(UTC))
    for secret in (token.secret, "inconnu"):
        answer = await _post(client, query, Authorization=f"Bearer {secret}")
        assert answer.status_code == 401
        assert answer.headers["www-authenticate"].startswith("Bearer ")
        assert 'error="invalid_token"' in answer.headers["www-authenticate"]
        assert answer.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
        assert "jeton" in answer.json()["errors"][0]["message"].lower()


async def test_a_signed_in_browser_still_needs_its_csrf_token(client, sign_in):
    provider = await make_provider(1)
    csrf = await sign_in(client, provider.login, PASSWORD)
    query = {"query": "{ me { login } }"}
    refused = await _post(client, query)
    assert refused.status_code == 403
    assert refused.json()["errors"][0]["extensions"]["code"] == "CSRF_TOKEN_INVALID"
    assert refused.headers["x-ppas-refus"] == "jeton"
    accepted = await _post(client, query, **{"X-CSRF-Token": csrf})
    assert accepted.status_code == 200 and accepted.json()["data"]["me"]["login"]


async def test_a_cookie_less_form_or_text_body_still_needs_the_token(client):
    for content_type in ("application/x-www-form-urlencoded", "text/plain",
                         "multipart/form-data; boundary=x"):
        answer = await client.post("/graphql", content=b'{"query": "{ __typename }"}',
                                   headers={"Content-Type": content_type})
        assert answer.status_code == 403, content_type
        assert answer.json()["errors"][0]["extensions"]["code"] == "CSRF_TOKEN_INVALID"


async def test_an_expired_session_is_told_in_json(client):
    client.cookies.set("ppas_session", "plus-valable")
    answer = await _post(client, {"query": "{ __typename }"})
    assert answer.status_code == 401
    assert answer.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_a_body_too_large_is_told_in_json(client, app):
    cap = app.state.settings.max_upload_bytes + 64 * 1024
    answer = await client.post("/graphql", content=b"x", headers={
        "Content-Type": "application/json", "Content-Length": str(cap + 1)})
    assert answer.status_code == 413
    assert answer.json()["errors"][0]["extensions"]["code"] == "PAYLOAD_TOO_LARGE"


async def test_the_vendor_page_explains_http_codes_and_synchronisation(client):
    page = (await client.get("/documentation/api")).text
    for text in ("application/graphql-response+json", "WWW-Authenticate: Bearer",
                 "<code>GRAPHQL_PARSE_FAILED</code>", "<code>BAD_USER_INPUT</code>",
                 "<code>CSRF_TOKEN_INVALID</code>", 'id="synchroniser"', "nextCursor",
                 "Version 3", 'id="webhooks"', "X-PPAS-Signature", "X-PPAS-Event-Id",
                 "examples/webhook_receiver.py"):
        assert text in page, text


async def test_a_temporary_password_must_be_changed_first(client, make_user):
    admin = await make_user(role="partner_admin")
    token = await api_tokens.create_token(admin, "Logiciel du compte provisoire")
    admin.must_change_password = True
    await admin.save(update_fields=["must_change_password"])
    answer = await _post(client, {"query": "{ billingFiles { totalCount } }"},
                         Authorization=f"Bearer {token.secret}")
    assert answer.status_code == 200 and answer.json()["data"] is None
    assert answer.json()["errors"][0]["extensions"]["code"] == "PASSWORD_CHANGE_REQUIRED"


async def test_an_unexpected_failure_is_masked_with_its_code(client, monkeypatch):
    from ppas.services import billing_file_reports

    provider = await make_provider(1)
    token = await api_tokens.create_token(provider.user, "Logiciel malchanceux")

    async def broken(*args, **kwargs):
        raise RuntimeError("database on fire: secret detail")

    monkeypatch.setattr(billing_file_reports, "list_files", broken)
    answer = await _post(client, {"query": "{ billingFiles { totalCount } }"},
                         Authorization=f"Bearer {token.secret}")
    error = answer.json()["errors"][0]
    assert error["extensions"]["code"] == "INTERNAL_ERROR"
    assert "secret detail" not in answer.text
