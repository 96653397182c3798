"""submitBillingFile over the GraphQL multipart request spec, billingFile and billingFiles."""
from __future__ import annotations

import json

import pytest

from ppas.services import api_tokens
from tests.billing_file_support import PASSWORD, billing_xml, ligne, make_provider

SUBMIT = """mutation($file: Upload!, $dryRun: Boolean) {
  submitBillingFile(file: $file, dryRun: $dryRun) {
    __typename
    ... on BillingFileReport { id name status dryRun replayed lineCount acceptedCount
      anomalies { code phase recordNumber message } }
    ... on BillingFileError { message }
  }
}"""


def multipart(data: bytes, name: str, dry_run: bool = False) -> dict:
    operations = json.dumps({"query": SUBMIT, "variables": {"file": None, "dryRun": dry_run}})
    return {"data": {"operations": operations, "map": json.dumps({"0": ["variables.file"]})},
            "files": {"0": (name, data, "text/xml")}}


@pytest.fixture
async def vendor(db):
    provider = await make_provider()
    token = await api_tokens.create_token(provider.user, "Logiciel d'essai")
    return provider, {"Authorization": f"Bearer {token.secret}"}


async def test_a_vendor_uploads_with_a_bearer_token_and_reads_the_report(client, vendor):
    provider, headers = vendor
    data = billing_xml(provider, [ligne(1, provider.numbers[0]), ligne(2, "0999999999")])
    response = await client.post("/graphql", headers=headers,
                                 **multipart(data, provider.amd_name()))
    result = response.json()["data"]["submitBillingFile"]
    assert result["status"] == "ACCEPTED" and result["lineCount"] == 2
    assert result["acceptedCount"] == 1
    assert result["anomalies"] == [{"code": "L01", "phase": "BILLING", "recordNumber": 2,
                                    "message": result["anomalies"][0]["message"]}]
    query = "query($id: ID!) { billingFile(id: $id) { name status anomalies { code } } }"
    again = await client.post("/graphql", headers=headers,
                              json={"query": query, "variables": {"id": result["id"]}})
    assert again.json()["data"]["billingFile"] == {
        "name": provider.amd_name(), "status": "ACCEPTED", "anomalies": [{"code": "L01"}]}
    listing = await client.post("/graphql", headers=headers, json={
        "query": "{ billingFiles(limit: 5) { totalCount items { name status acceptedCount } } }"})
    assert listing.json()["data"]["billingFiles"] == {
        "totalCount": 1, "items": [{"name": provider.amd_name(), "status": "ACCEPTED",
                                    "acceptedCount": 1}]}


async def test_dry_run_stores_nothing_and_keeps_the_name_free(client, vendor):
    provider, headers = vendor
    data = billing_xml(provider, [ligne(1, provider.numbers[0])])
    dry = (await client.post("/graphql", headers=headers,
                             **multipart(data, provider.amd_name(), dry_run=True))).json()
    assert dry["data"]["submitBillingFile"]["dryRun"] is True
    assert dry["data"]["submitBillingFile"]["id"] is None
    real = (await client.post("/graphql", headers=headers,
                              **multipart(data, provider.amd_name()))).json()
    assert real["data"]["submitBillingFile"]["status"] == "ACCEPTED"


async def test_idempotency_key_returns_the_first_result(client, vendor):
    provider, headers = vendor
    data = billing_xml(provider, [ligne(1, provider.numbers[0])])
    keyed = {**headers, "Idempotency-Key": "envoi-42"}
    first = (await client.post("/graphql", headers=keyed,
                               **multipart(data, provider.amd_name()))).json()
    second = (await client.post("/graphql", headers=keyed,
                                **multipart(data, provider.amd_name()))).json()
    a, b = first["data"]["submitBillingFile"], second["data"]["submitBillingFile"]
    assert a["status"] == "ACCEPTED" and b["id"] == a["id"] and b["replayed"] is True
    third = (await client.post("/graphql", headers=headers,
                               **multipart(data, provider.amd_name()))).json()
    assert third["data"]["submitBillingFile"]["anomalies"][0]["code"] == "F02"


async def test_refused_file_reports_its_code(client, vendor):
    provider, headers = vendor
    response = await client.post("/graphql", headers=headers,
                                 **multipart(b"<not-closed>", provider.amd_name()))
    result = response.json()["data"]["submitBillingFile"]
    assert result["status"] == "REFUSED" and result["anomalies"][0]["code"] == "F04"


async def test_cookie_uploads_need_the_csrf_token(client, sign_in, db):
    provider = await make_provider()
    csrf = await sign_in(client, provider.login, PASSWORD)
    data = billing_xml(provider, [ligne(1, provider.numbers[0])])
    refused = await client.post("/graphql", **multipart(data, provider.amd_name()))
    assert refused.status_code == 403
    accepted = await client.post("/graphql", headers={"X-CSRF-Token": csrf},
                                 **multipart(data, provider.amd_name()))
    assert accepted.json()["data"]["submitBillingFile"]["status"] == "ACCEPTED"


async def test_another_partner_cannot_read_the_file(client, vendor, db):
    provider, headers = vendor
    data = billing_xml(provider, [ligne(1, provider.numbers[0])])
    result = (await client.post("/graphql", headers=headers,
                                **multipart(data, provider.amd_name()))).json()
    other = await make_provider()
    token = await api_tokens.create_token(other.user, "Autre")
    query = "query($id: ID!) { billingFile(id: $id) { name } }"
    seen = await client.post("/graphql", headers={"Authorization": f"Bearer {token.secret}"},
                             json={"query": query,
                                   "variables": {"id": result["data"]["submitBillingFile"]["id"]}})
    assert seen.json()["data"]["billingFile"] is None


async def test_anonymous_upload_is_refused(client, db):
    response = await client.post("/graphql", **multipart(b"<x/>", "x.xml"))
    assert response.status_code == 403


async def test_titles_name_the_motive_and_messages_carry_the_values(client, vendor):
    provider, headers = vendor
    query = SUBMIT.replace("anomalies { code phase recordNumber message }",
                           "anomalies { code title message } anomalyGroups { code title }")
    lines = [ligne(1, provider.numbers[0]), ligne(2, provider.numbers[0])]  # 2 repeats 1: L05
    operations = json.dumps({"query": query, "variables": {"file": None, "dryRun": False}})
    response = await client.post("/graphql", headers=headers, data={
        "operations": operations, "map": json.dumps({"0": ["variables.file"]})},
        files={"0": (provider.amd_name(), billing_xml(provider, lines), "text/xml")})
    result = response.json()["data"]["submitBillingFile"]
    heading = "Ligne déjà envoyée ou période déjà facturée"
    assert result["anomalyGroups"] == [{"code": "L05", "title": heading}]
    [anomaly] = result["anomalies"]
    assert anomaly["title"] == heading
    assert anomaly["message"].startswith(f"{heading} (enregistrement n°1)")
