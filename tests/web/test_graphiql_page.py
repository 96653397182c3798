"""GraphiQL's page over HTTP: who gets it, the policy it is sent with, assets from the portal
only, example queries that run within the schema's limits, and PPAS_GRAPHIQL=0."""
from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import replace
from html import unescape

import httpx
import pytest
from graphql import OperationDefinitionNode, parse, validate

from ppas.domain.typography import french_spacing
from ppas.services.demo import DEMO_PASSWORD
from ppas.settings import Settings
from ppas.web.graphql_endpoint import default_tab_path

HTML = {"Accept": "text/html"}
ATTRIBUTE = re.compile(r'\b(src|href|data-endpoint)="([^"]*)"')


def example_operations(settings: Settings) -> dict[str, str]:
    document = parse(default_tab_path(settings).read_text(encoding="utf-8"))
    return {d.name.value: d.operation.value for d in document.definitions
            if isinstance(d, OperationDefinitionNode)}


async def test_a_caisse_admin_gets_the_portal_page_under_a_strict_policy(client, sign_in):
    token = await sign_in(client, "caisseadmin", DEMO_PASSWORD)
    response = await client.get("/graphql", headers=HTML)
    assert response.status_code == 200
    page = response.text
    assert "<h1>Explorateur GraphQL</h1>" in page
    assert '<div id="graphiql-root" lang="en">' in page  # GraphiQL's interface is English
    assert french_spacing("Connecté : <strong>Anne VIDAL</strong> (caisseadmin)") in page
    assert 'href="/graphql/schema"' in page and 'href="/espace"' in page

    policy = response.headers["content-security-policy"]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";"))
    nonce = re.search(r'<script src="/static/js/graphiql-setup.js" nonce="([^"]+)"', page).group(1)
    assert directives["script-src"] == "'self'"
    assert directives["style-src"] == f"'self' 'nonce-{nonce}'"
    assert directives["font-src"] == "'self' data:"
    assert directives["default-src"] == "'self'" and directives["frame-ancestors"] == "'none'"
    assert "unsafe" not in policy
    assert "<script>" not in page and " style=" not in page  # nothing inline
    assert response.headers["cache-control"] == "no-store"

    # The fetcher's CSRF token is the session's; every address is the portal's own.
    assert f'data-csrf-token="{token}"' in page
    addresses = [value for _, value in ATTRIBUTE.findall(page)]
    assert addresses and all(a.startswith(("/", "#")) and not a.startswith("//")
                             for a in addresses), addresses
    assets = [a for a in addresses if a.startswith("/static/")]
    assert {"/static/vendor/react/react.production.min.js",
            "/static/vendor/react-dom/react-dom.production.min.js",
            "/static/vendor/graphiql/index.umd.js", "/static/vendor/graphiql/style.css",
            "/static/vendor/graphiql-explorer/index.umd.js",
            "/static/vendor/graphiql-explorer/style.css",
            "/static/js/graphiql-setup.js", "/static/css/graphiql.css"} <= set(assets)
    for asset in assets:
        served = await client.get(asset)
        assert served.status_code == 200, asset
        kinds = {".js": "javascript", ".css": "css", ".svg": "svg"}
        assert kinds[asset[asset.rindex("."):]] in served.headers["content-type"], asset
        assert "unpkg.com" not in served.text


async def test_others_get_the_french_refusal(client, sign_in):
    anonymous = await client.get("/graphql", headers=HTML)
    assert anonymous.status_code == 403
    assert "réservé aux administrateurs de la caisse" in anonymous.text
    for login in ("caisseagent", "demoadmin"):
        client.cookies.clear()
        await sign_in(client, login, DEMO_PASSWORD)
        refused = await client.get("/graphql", headers=HTML)
        assert refused.status_code == 403, login
        assert "L&#39;explorateur GraphQL est réservé aux administrateurs de la caisse." in refused.text
        assert "graphiql-setup.js" not in refused.text


async def test_the_example_tab_is_the_file_and_every_operation_runs(app, client, sign_in, settings):
    operations = example_operations(settings)
    assert set(operations) == {"PreinscriptionsEnAttente", "DemandesDeConvention", "MessagesRecus"}
    assert set(operations.values()) == {"query"}  # the tab never changes anything by itself
    text = default_tab_path(settings).read_text(encoding="utf-8")
    assert validate(app.state.schema._schema, parse(text)) == []

    token = await sign_in(client, "caisseadmin", DEMO_PASSWORD)
    page = (await client.get("/graphql", headers=HTML)).text
    shown = re.search(r'data-default-query="([^"]*)"', page).group(1)
    assert unescape(shown) == text
    for name in operations:
        # Each one as GraphiQL sends it, through every extension (depth, tokens, cost).
        response = await client.post("/graphql", headers={"X-CSRF-Token": token},
                                     json={"query": text, "operationName": name})
        answer = response.json()
        assert response.status_code == 200 and "errors" not in answer, (name, answer)
        assert all(value is not None for value in answer["data"].values()), (name, answer)


async def test_cookie_queries_need_the_token_the_page_gives(client, sign_in):
    await sign_in(client, "caisseadmin", DEMO_PASSWORD)
    page = (await client.get("/graphql", headers=HTML)).text
    token = re.search(r'data-csrf-token="([^"]+)"', page).group(1)
    query = {"query": "{ me { login } }"}
    assert (await client.post("/graphql", json=query)).status_code == 403
    answer = await client.post("/graphql", json=query, headers={"X-CSRF-Token": token})
    assert answer.json() == {"data": {"me": {"login": "caisseadmin"}}}


@pytest.fixture(scope="module")
def app_without_graphiql(settings, db):
    from ppas.app import create_app

    return create_app(replace(settings, graphiql=False), manage_database=False)


@pytest.fixture
async def plain(app_without_graphiql) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app_without_graphiql)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


async def test_graphiql_switched_off_is_not_found_and_the_api_still_answers(plain, sign_in):
    token = await sign_in(plain, "caisseadmin", DEMO_PASSWORD)
    home = await plain.get("/espace")
    assert "<h1>Espace caisse</h1>" in home.text and 'href="/graphql"' not in home.text
    page = await plain.get("/graphql", headers=HTML)
    assert page.status_code == 404 and "<h1>Page introuvable</h1>" in page.text
    assert "graphiql" not in page.text.lower()
    for asset in ("/static/vendor/graphiql/index.umd.js", "/static/vendor/react/react.production.min.js"):
        assert (await plain.get(asset)).status_code == 404, asset
    answer = await plain.post("/graphql", json={"query": "{ me { login } }"},
                              headers={"X-CSRF-Token": token})
    assert answer.json() == {"data": {"me": {"login": "caisseadmin"}}}
    assert (await plain.get("/graphql/schema")).status_code == 200


def test_the_setting_reads_ppas_graphiql(monkeypatch):
    monkeypatch.setenv("PPAS_DEVELOPMENT", "1")
    monkeypatch.delenv("PPAS_GRAPHIQL", raising=False)
    assert Settings.from_env().graphiql is True
    monkeypatch.setenv("PPAS_GRAPHIQL", "0")
    assert Settings.from_env().graphiql is False
