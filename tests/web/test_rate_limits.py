"""Per-address limits on sign-in, « Mot de passe oublié » and registration: 429 with a French
answer and Retry-After (a page for the forms, a GraphQL error with a code on /graphql).
The shared test app raises the limits; here an app of its own has low ones."""
from __future__ import annotations

import re
from dataclasses import replace

import httpx
import pytest

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture(scope="module")
def limited_app(settings, db):
    from ppas.app import create_app

    return create_app(replace(settings, rate_limit_sign_in="3/minute",
                              rate_limit_password_reset="2/minute",
                              rate_limit_registration="2/minute"), manage_database=False)


def client_from(app, address: str) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=(address, 40000))
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


async def token_of(http: httpx.AsyncClient, path: str = "/connexion") -> str:
    return CSRF.search((await http.get(path)).text).group(1)


async def test_the_sign_in_form_answers_429_in_french_past_the_limit(limited_app, make_user):
    user = await make_user("Secret2026")
    async with client_from(limited_app, "10.1.0.1") as http:
        token = await token_of(http)
        answers = [await http.post("/connexion", data={
            "csrf_token": token, "login": "inconnu77", "password": "Faux2026x"})
            for _ in range(4)]
        assert [a.status_code for a in answers] == [400, 400, 400, 429]
        refused = answers[-1]
        assert int(refused.headers["retry-after"]) >= 1
        assert "Trop de tentatives" in refused.text and "<html" in refused.text
        # Another address is not held back by this one.
        async with client_from(limited_app, "10.1.0.2") as other:
            signed = await other.post("/connexion", data={
                "csrf_token": await token_of(other), "login": user.login,
                "password": "Secret2026", "next": "/espace"})
            assert signed.status_code == 303


async def test_graphql_sign_in_answers_429_with_a_coded_error(limited_app):
    query = ('mutation { signIn(login: "inconnu78", password: "Faux2026x") '
             "{ __typename } }")
    async with client_from(limited_app, "10.1.0.3") as http:
        token = await token_of(http)
        answers = [await http.post("/graphql", json={"query": query},
                                   headers={"X-CSRF-Token": token}) for _ in range(4)]
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    refused = answers[-1]
    assert int(refused.headers["retry-after"]) >= 1
    [error] = refused.json()["errors"]
    assert error["extensions"]["code"] == "TOO_MANY_REQUESTS"
    assert "Trop de tentatives" in error["message"]


async def test_aliases_count_each_sign_in_against_the_limit(limited_app):
    guesses = " ".join(f'g{i}: signIn(login: "inconnu79", password: "Faux{i}2026") '
                       "{ __typename }" for i in range(5))
    async with client_from(limited_app, "10.1.0.4") as http:
        token = await token_of(http)
        answer = await http.post("/graphql", json={"query": f"mutation {{ {guesses} }}"},
                                 headers={"X-CSRF-Token": token})
    assert answer.status_code == 429
    # The fourth alias meets the limit; signIn is non-null, so the document stops there.
    [error] = answer.json()["errors"]
    assert error["path"] == ["g3"] and error["extensions"]["code"] == "TOO_MANY_REQUESTS"
    assert answer.json()["data"] is None


async def test_forgot_password_answers_429_in_french_past_the_limit(limited_app):
    async with client_from(limited_app, "10.1.0.5") as http:
        token = await token_of(http, "/mot-de-passe-oublie")
        answers = [await http.post("/mot-de-passe-oublie", data={
            "csrf_token": token, "login": "inconnu80", "email": "x@example.org"})
            for _ in range(3)]
    assert [a.status_code for a in answers] == [303, 303, 429]
    assert int(answers[-1].headers["retry-after"]) >= 1
    assert "Trop de demandes" in answers[-1].text


async def test_registration_answers_429_in_french_past_the_limit(limited_app):
    async with client_from(limited_app, "10.1.0.6") as http:
        token = await token_of(http, "/inscription")
        await http.post("/inscription", data={"csrf_token": token, "accepte": "oui"})
        answers = [await http.post("/inscription/formulaire", data={"csrf_token": token})
                   for _ in range(3)]
    assert [a.status_code for a in answers] == [400, 400, 429]
    assert int(answers[-1].headers["retry-after"]) >= 1
    assert "Trop de préinscriptions" in answers[-1].text
