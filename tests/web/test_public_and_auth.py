"""Public pages, sign-in, sign-out and CSRF through the real app."""
from __future__ import annotations

import pytest

from ppas.services.demo import DEMO_PASSWORD

PROTECTED = ["/espace", "/beneficiaires", "/facturation", "/fichiers", "/bordereaux",
             "/anomalies", "/evaluations"]


def menu_labels(html: str) -> list[str]:
    import re

    menu = html[html.index('aria-label="Menu principal"'):html.index("</nav>", html.index('aria-label="Menu principal"'))]
    return re.findall(r">([^<>]+)</a>", menu)


async def test_home_page_is_french_and_public(client):
    response = await client.get("/")
    assert response.status_code == 200
    assert '<html lang="fr">' in response.text
    assert "Portail Partenaires Action Sociale" in response.text
    # An anonymous visitor is offered only what opens without an account.
    assert menu_labels(response.text) == ["Documentation", "Contact"]


@pytest.mark.parametrize(("login", "menu"), [
    ("demoadmin", ["Mon espace", "Facturation", "Fichiers", "Bénéficiaires", "Documentation",
                   "Contact"]),
    ("demouser", ["Mon espace", "Facturation", "Fichiers", "Bénéficiaires", "Documentation",
                  "Contact"]),
    ("demoeval", ["Mon espace", "Évaluations", "Documentation", "Contact"]),
    ("caisseagent", ["Mon espace", "Demandes de convention", "Préinscriptions", "Messages reçus",
                     "Évaluations reçues", "Documentation",
                     "Contact"]),
])
async def test_each_role_gets_only_the_menu_entries_it_can_use(app, sign_in, login, menu):
    import httpx

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://testserver") as http:
        await sign_in(http, login, DEMO_PASSWORD)
        home = await http.get("/espace")
        assert menu_labels(home.text) == menu
        for path in (link for link in ["/facturation", "/fichiers", "/caisse/conventions",
                                                   "/evaluations", "/caisse/evaluations"]
                     if f'href="{link}"' in home.text):
            page = await http.get(path)  # every entry shown opens for this role
            assert page.status_code == 200 and "Demande refusée" not in page.text, path


@pytest.mark.parametrize("path", ["/faq", "/documentation", "/contact", "/inscription", "/connexion"])
async def test_public_pages_need_no_account(client, path):
    response = await client.get(path)
    assert response.status_code == 200


@pytest.mark.parametrize("path", PROTECTED)
async def test_private_pages_send_anonymous_visitors_to_sign_in(client, path):
    response = await client.get(path)
    assert response.status_code == 303
    assert response.headers["location"] == f"/connexion?suivant={path}"


async def test_htmx_request_gets_a_fragment_and_full_request_a_page(client, sign_in):
    await sign_in(client, "demouser", DEMO_PASSWORD)
    full = await client.get("/beneficiaires")
    fragment = await client.get("/beneficiaires", headers={"HX-Request": "true"})
    assert "<nav" in full.text and "<html" in full.text
    assert "<html" not in fragment.text and "<h1" in fragment.text
    assert fragment.headers["vary"] == "HX-Request"


async def test_htmx_request_to_private_page_redirects_with_hx_header(client):
    response = await client.get("/espace", headers={"HX-Request": "true"})
    assert response.headers["hx-redirect"] == "/connexion?suivant=/espace"


async def test_sign_in_shows_the_partner_space_and_sign_out_ends_it(client, sign_in):
    token = await sign_in(client, "demouser", DEMO_PASSWORD)
    home = await client.get("/espace")
    assert "Aide et Domicile Provence" in home.text and "C03-0001" in home.text
    assert "Carsat Sud-Est" in home.text  # the header names the caisse
    out = await client.post("/deconnexion", data={"csrf_token": token})
    assert out.status_code == 303
    assert (await client.get("/espace")).status_code == 303


async def test_wrong_password_is_refused_with_an_actionable_message(client):
    page = await client.get("/connexion")
    token = page.text.split('name="csrf_token" value="')[1].split('"')[0]
    response = await client.post("/connexion", data={"csrf_token": token, "login": "nobody",
                                                     "password": "Wrong123"})
    assert response.status_code == 400
    assert "Identifiant ou mot de passe incorrect" in response.text
    assert 'aria-invalid="true"' in response.text


async def test_post_without_csrf_token_is_refused(client):
    await client.get("/connexion")
    response = await client.post("/connexion", data={"login": "demoadmin", "password": DEMO_PASSWORD})
    assert response.status_code == 403
    assert "jeton de sécurité" in response.text


async def test_cookie_graphql_post_without_csrf_header_is_refused(client, sign_in):
    token = await sign_in(client, "demouser", DEMO_PASSWORD)
    query = {"query": "{ partner { structureId } }"}
    refused = await client.post("/graphql", json=query)
    assert refused.status_code == 403
    accepted = await client.post("/graphql", json=query, headers={"X-CSRF-Token": token})
    assert accepted.json() == {"data": {"partner": {"structureId": "21231300"}}}


async def test_open_redirect_after_sign_in_is_prevented(client):
    page = await client.get("/connexion?suivant=//evil.example/")
    assert 'name="next" value="/espace"' in page.text


async def test_session_cookie_is_httponly_and_samesite_lax(client):
    page = await client.get("/connexion")
    token = page.text.split('name="csrf_token" value="')[1].split('"')[0]
    response = await client.post("/connexion", data={"csrf_token": token, "login": "demouser",
                                                     "password": DEMO_PASSWORD})
    cookie = response.headers["set-cookie"]
    assert "ppas_session=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie


async def test_security_headers_on_pages(client):
    response = await client.get("/")
    assert response.headers["x-frame-options"] == "DENY"
    assert "default-src 'self'" in response.headers["content-security-policy"]


async def test_htmx_is_served_from_the_npm_install(client):
    response = await client.get("/static/vendor/htmx/htmx.min.js")
    assert response.status_code == 200 and "htmx" in response.text[:2000]
