"""Registrations over /graphql: errors as data, captcha required, caisse-only desk."""
from __future__ import annotations

import altcha

from ppas.services.demo import DEMO_PASSWORD

SUBMIT = """
mutation($input: RegistrationInput!, $captcha: String!) {
  submitRegistration(input: $input, captcha: $captcha) {
    __typename
    ... on SubmitRegistrationError { code message field problems { field message } }
  }
}"""
INPUT = {"caisseCode": "03", "conventionNumber": "C03-0001", "structureId": "21231300",
         "structureName": "Aide et Domicile Provence", "lastName": "X", "firstName": "Y",
         "email": "x@example.org", "phone": "0491000000", "login": "jean.dupont",
         "addressLine": "1 rue A", "postalCode": "13001", "city": "Marseille",
         "acceptConditions": False}


async def _anonymous_token(client) -> str:
    page = await client.get("/connexion")
    return page.text.split('name="csrf_token" value="')[1].split('"')[0]


async def test_submit_returns_field_problems_as_data(client):
    token = await _anonymous_token(client)
    challenge = altcha.Challenge.from_dict((await client.get("/inscription/captcha")).json())
    payload = altcha.Payload(challenge, altcha.solve_challenge(challenge)).to_base64()
    response = await client.post("/graphql", json={"query": SUBMIT, "variables": {
        "input": INPUT, "captcha": payload}}, headers={"X-CSRF-Token": token})
    result = response.json()["data"]["submitRegistration"]
    assert result["code"] == "INVALID"
    fields = {p["field"]: p["message"] for p in result["problems"]}
    assert set(fields) == {"acceptConditions", "login"}
    assert "« . »" in fields["login"]


async def test_submit_without_a_captcha_is_refused_on_the_captcha_field(client):
    token = await _anonymous_token(client)
    response = await client.post("/graphql", json={"query": SUBMIT, "variables": {
        "input": {**INPUT, "acceptConditions": True}, "captcha": ""}},
        headers={"X-CSRF-Token": token})
    result = response.json()["data"]["submitRegistration"]
    assert result["code"] == "CAPTCHA_FAILED" and result["field"] == "captcha"
    assert "anti-robot" in result["message"]


async def test_the_pending_list_and_decisions_are_for_caisse_agents_only(client, sign_in):
    token = await sign_in(client, "demoadmin", DEMO_PASSWORD)
    listing = await client.post("/graphql", json={"query": "{ pendingRegistrations { id } }"},
                                headers={"X-CSRF-Token": token})
    body = listing.json()
    assert body["data"] is None
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    # The wording says who may: the point of a refusal shown as is.
    assert "traitées par les agents de la caisse" in body["errors"][0]["message"]
    decision = await client.post("/graphql", json={"query": (
        'mutation { validateRegistration(id: "1") { __typename '
        "... on RegistrationDecisionError { code message } } }")}, headers={"X-CSRF-Token": token})
    refused = decision.json()
    # A role that may not decide is refused for who it is, not as data about the object.
    assert refused["data"] is None
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert refused["errors"][0]["path"] == ["validateRegistration"]
    outbox = await client.post("/graphql", json={"query": "{ developmentOutbox { subject } }"},
                               headers={"X-CSRF-Token": token})
    assert outbox.json()["data"] is None


async def test_a_caisse_agent_reads_the_pending_list(client, sign_in):
    token = await sign_in(client, "caisseagent", DEMO_PASSWORD)
    listing = await client.post("/graphql", json={"query": "{ pendingRegistrations { id } }"},
                                headers={"X-CSRF-Token": token})
    assert isinstance(listing.json()["data"]["pendingRegistrations"], list)
