"""Bad input gets a 4xx page or a readable GraphQL error: never a 500, never a masked crash."""
from __future__ import annotations

import gzip
import json
import secrets

import pytest

from ppas.models import Caisse, Partner, Role, User
from ppas.schema.extensions.masking import GENERIC_MESSAGE
from ppas.services import api_tokens
from ppas.services.demo import DEMO_PASSWORD

# Digits Python's str.isdigit() and int() accept but an id never has: superscripts, and the
# Arabic-Indic one that int() reads as 1 (it showed beneficiary 1).
NOT_ASCII = ["²", "³", "١", "1²", "١٢"]
TOO_BIG = [str(2**63), str(2**63 + 5), "9" * 30, str(2**31)]
BAD_IDS = NOT_ASCII + TOO_BIG


@pytest.fixture(scope="module")
async def bearer(db) -> dict[str, str]:
    """A partner admin's API token (provider 21231300), shared by the module's tests."""
    admin = await User.create(login=f"badinput{secrets.token_hex(4)}", password_hash="-",
                              role=Role.PARTNER_ADMIN, caisse=await Caisse.get(code="03"),
                              partner=await Partner.get(structure_id="21231300"))
    created = await api_tokens.create_token(admin, "Entrées invalides")
    return {"Authorization": f"Bearer {created.secret}"}


def assert_readable(body: dict) -> None:
    """A GraphQL answer whose errors, if any, say something (not the masked crash)."""
    for error in body.get("errors") or []:
        assert GENERIC_MESSAGE not in error["message"], body


# --- ids and page numbers in URLs ----------------------------------------------------------

# One sign-in per test (argon2 is slow on purpose); every bad value is tried in it.

async def test_an_id_in_a_url_that_is_not_a_plain_number_finds_nothing(client, sign_in):
    await sign_in(client, "demoadmin", DEMO_PASSWORD)
    for bad in BAD_IDS:
        for path in (f"/beneficiaires/{bad}", f"/fichiers/{bad}", f"/fichiers/{bad}/anomalies.csv",
                     f"/facturation/{bad}", f"/facturation/{bad}/recapitulatif.pdf",
                     f"/fichiers/lignes/{bad}/refacturer", f"/administration/utilisateurs/{bad}",
                     f"/administration/jetons/{bad}/revoquer"):
            response = await client.get(path)
            assert response.status_code in (403, 404), (path, response.status_code)
            assert "Page introuvable" in response.text or "accessible" in response.text, path


async def test_a_caisse_decision_on_an_id_that_is_not_a_plain_number_finds_nothing(
        client, sign_in):
    csrf = await sign_in(client, "caisseagent", DEMO_PASSWORD)
    for bad in BAD_IDS:
        for path in (f"/caisse/inscriptions/{bad}/refuser", f"/caisse/conventions/{bad}"):
            response = await client.post(path, data={"csrf_token": csrf, "reason": "essai",
                                                     "decision": "REJECT"})
            assert 400 <= response.status_code < 500, (path, response.status_code)


async def test_a_page_number_that_is_not_a_plain_number_shows_a_page(client, sign_in):
    await sign_in(client, "demoadmin", DEMO_PASSWORD)
    for bad in BAD_IDS + ["-1", "0", "abc", ""]:
        for path in ("/beneficiaires", "/fichiers"):
            response = await client.get(path, params={"page": bad})
            assert response.status_code == 200, (path, bad, response.status_code)


# --- ids in GraphQL arguments --------------------------------------------------------------

ID_QUERIES = [
    "query($id: ID!) { beneficiary(id: $id) { id } }",
    "query($id: ID!) { billingFile(id: $id) { id } }",
    "query($id: ID!) { billingFileLine(id: $id) { id } }",
    "query($id: ID!) { billingFileAnomaliesCsv(id: $id) }",
    "query($id: ID!) { billingForm(id: $id) { id } }",
    "query($id: ID!) { billingFormLine(id: $id) { id } }",
    "mutation($id: ID!) { revokeApiToken(id: $id) { __typename } }",
    "mutation($id: ID!) { validateBillingForm(id: $id) { __typename } }",
    "mutation($id: ID!) { crossOutFormLine(lineId: $id) { __typename } }",
    "mutation($id: ID!) { openBillingForm(conventionId: $id, period: \"2026-01\") { __typename } }",
]


@pytest.mark.parametrize("query", ID_QUERIES)
async def test_a_graphql_id_that_is_not_a_plain_number_finds_nothing(client, bearer, query):
    for bad in BAD_IDS:
        response = await client.post("/graphql", json={"query": query, "variables": {"id": bad}},
                                     headers=bearer)
        assert response.status_code == 200
        body = response.json()
        assert_readable(body)
        assert "errors" in body or all(
            v is None or str(v.get("__typename", "")).endswith("Error")
            for v in body["data"].values()), (bad, body)


async def test_an_arabic_indic_one_is_not_beneficiary_one(client, sign_in):
    await sign_in(client, "demoadmin", DEMO_PASSWORD)
    assert (await client.get("/beneficiaires/1")).status_code == 200
    response = await client.get("/beneficiaires/١")
    assert response.status_code == 404


async def test_a_caisse_decision_on_a_non_ascii_registration_id_is_refused(client, sign_in):
    csrf = await sign_in(client, "caisseagent", DEMO_PASSWORD)
    response = await client.post("/graphql", headers={"X-CSRF-Token": csrf}, json={
        "query": 'mutation($id: ID!) { rejectRegistration(id: $id, reason: "x") { __typename '
                 "... on RegistrationDecisionError { message } } }",
        "variables": {"id": "١"}})
    assert_readable(response.json())
    assert response.json()["data"]["rejectRegistration"]["__typename"] == \
        "RegistrationDecisionError"


# --- request bodies on /graphql ------------------------------------------------------------

@pytest.mark.parametrize("body", [b"null", b"5", b'"x"', b"true", b"[]", b"[5]", b"[null]"])
async def test_a_json_body_that_is_not_an_object_is_a_400(client, bearer, body):
    response = await client.post("/graphql", content=body,
                                 headers={**bearer, "Content-Type": "application/json"})
    assert response.status_code == 400
    assert "objet JSON" in response.text


async def test_a_body_that_is_not_utf8_is_a_400(client, bearer):
    body = '{"query": "{ partner { name } }", "x": "é"}'.encode("latin-1")
    response = await client.post("/graphql", content=body,
                                 headers={**bearer, "Content-Type": "application/json"})
    assert response.status_code == 400
    assert "UTF-8" in response.text


async def test_a_gzip_encoded_body_is_refused_plainly(client, bearer):
    body = gzip.compress(json.dumps({"query": "{ partner { name } }"}).encode())
    response = await client.post("/graphql", content=body, headers={
        **bearer, "Content-Type": "application/json", "Content-Encoding": "gzip"})
    assert response.status_code == 415
    assert "compressé" in response.text


@pytest.mark.parametrize("files_map", [
    '[["variables.file"]]', '{"0": "variables.file"}', '{"0": [5]}', '{"0": ["variables.x.y"]}',
    '{"0": ["variables.file.3"]}', "5", "null",
])
async def test_a_multipart_map_of_the_wrong_shape_is_a_400(client, bearer, files_map):
    operations = json.dumps({"query": "mutation($f: Upload!) { submitBillingFile(file: $f) "
                                      "{ __typename } }", "variables": {"file": None}})
    response = await client.post("/graphql", headers=bearer, data={
        "operations": operations, "map": files_map}, files={"0": ("a.xml", b"<x/>", "text/xml")})
    assert response.status_code == 400, response.text


@pytest.mark.parametrize("operations", ["5", "null", '"x"', "[1]"])
async def test_multipart_operations_that_are_not_an_object_are_a_400(client, bearer, operations):
    response = await client.post("/graphql", headers=bearer, data={
        "operations": operations, "map": "{}"}, files={"0": ("a.xml", b"<x/>", "text/xml")})
    assert response.status_code == 400, response.text


# --- a variable of the wrong type ------------------------------------------------------------

@pytest.mark.parametrize("variables", [{"limit": "x"}, {"limit": 2**40}, {"limit": None},
                                       {"limit": [1]}, {}])
async def test_a_variable_of_the_wrong_type_gets_graphql_cores_message(client, bearer, variables):
    response = await client.post("/graphql", headers=bearer, json={
        "query": "query($limit: Int!) { beneficiaries(limit: $limit) { totalCount } }",
        "variables": variables})
    body = response.json()
    assert body["errors"], body
    assert_readable(body)
    assert "$limit" in body["errors"][0]["message"]


# --- HTML pages asked with a bearer token ----------------------------------------------------

@pytest.mark.parametrize("path", ["/fichiers", "/espace", "/page-inexistante", "/graphql", "/"])
async def test_an_html_page_asked_with_a_token_renders(client, bearer, path):
    response = await client.get(path, headers={**bearer, "Accept": "text/html"})
    assert response.status_code < 500
    if response.headers.get("content-type", "").startswith("text/html"):
        assert "Carsat Sud-Est" in response.text  # the layout names the token's caisse


# --- API token names and the redirect after sign-in -------------------------------------------

async def test_a_token_name_with_control_characters_is_refused_in_french(client, sign_in):
    csrf = await sign_in(client, "demoadmin", DEMO_PASSWORD)
    for name in ["Logiciel\x00nul", "Logiciel\x07", "Log\x1biciel", "Nom\x7f", "Nom\u200bcaché",
                 "Nom\ud800"]:
        await _refused_token_name(client, csrf, name)


async def _refused_token_name(client, csrf: str, name: str) -> None:
    response = await client.post("/graphql", content=json.dumps({
        "query": "mutation($n: String!) { createApiToken(name: $n) { __typename "
                 "... on AdminError { message field } } }",
        "variables": {"n": name}}), headers={"X-CSRF-Token": csrf,
                                                "Content-Type": "application/json"})
    body = response.json()
    assert_readable(body)
    result = body["data"]["createApiToken"]
    assert result["__typename"] == "AdminError"
    assert "caractères de contrôle" in result["message"]


@pytest.mark.parametrize("target", ["/\\evil.com", "/\\/evil.com", "//evil.com", "/\tevil",
                                    "/\t/evil.com", "/\n/evil.com", "https://evil.com",
                                    "/%5Cevil.com", "\\\\evil.com"])
async def test_sign_in_never_redirects_off_site(client, make_user, target):
    user = await make_user(password="Secret2026", role="partner_user")
    page = await client.get("/connexion")
    token = page.text.split('name="csrf_token" value="')[1].split('"')[0]
    response = await client.post("/connexion", headers={"HX-Request": "true"}, data={
        "csrf_token": token, "login": user.login, "password": "Secret2026", "next": target})
    location = response.headers.get("hx-redirect") or response.headers.get("location")
    assert location == "/espace" or (target == "/%5Cevil.com" and location == target), location
