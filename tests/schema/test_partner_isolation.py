"""Through /graphql, a partner sees its own data and nothing of another partner's."""
from __future__ import annotations

from ppas.models import Beneficiary
from ppas.services.demo import DEMO_PASSWORD


async def _graphql(client, token, query, variables=None):
    response = await client.post("/graphql", json={"query": query, "variables": variables or {}},
                                 headers={"X-CSRF-Token": token})
    assert response.status_code == 200, response.text
    return response.json()


async def test_other_providers_beneficiary_by_id_is_null(client, sign_in):
    token = await sign_in(client, "demoadmin", DEMO_PASSWORD)
    theirs = await Beneficiary.get(file_number="0300020001")
    ours = await Beneficiary.get(file_number="0300010001")
    query = "query($id: ID!) { beneficiary(id: $id) { fileNumber carePlans { id } } }"
    assert (await _graphql(client, token, query, {"id": str(theirs.id)}))["data"] == {"beneficiary": None}
    mine = await _graphql(client, token, query, {"id": str(ours.id)})
    assert mine["data"]["beneficiary"]["fileNumber"] == "0300010001"
    assert len(mine["data"]["beneficiary"]["carePlans"]) == 1


async def test_lists_hold_only_the_partners_own_rows(client, sign_in):
    token = await sign_in(client, "demoadmin", DEMO_PASSWORD)
    result = await _graphql(client, token, """{
      beneficiaries(limit: 100) { totalCount items { fileNumber } }
      carePlans(limit: 100) { totalCount items { beneficiary { fileNumber } convention { number } } }
      conventions { number }
    }""")
    data = result["data"]
    numbers = {b["fileNumber"] for b in data["beneficiaries"]["items"]}
    assert data["beneficiaries"]["totalCount"] == 40 and len(numbers) == 40
    assert all(n.startswith("030001") for n in numbers)
    assert data["carePlans"]["totalCount"] == 40
    assert {p["convention"]["number"] for p in data["carePlans"]["items"]} == {"C03-0001"}
    # Other tests may add convention requests to this provider; never the other's C03-0002.
    conventions = {c["number"] for c in data["conventions"]}
    assert "C03-0001" in conventions and "C03-0002" not in conventions


async def test_the_other_provider_sees_its_own_and_not_ours(client, sign_in):
    token = await sign_in(client, "autreadmin", DEMO_PASSWORD)
    data = (await _graphql(client, token, "{ beneficiaries(limit: 100) { totalCount items { fileNumber } } }"))["data"]
    assert data["beneficiaries"]["totalCount"] == 8
    assert all(b["fileNumber"].startswith("030002") for b in data["beneficiaries"]["items"])


async def test_anonymous_graphql_gets_a_refusal_not_data(client):
    response = await client.post("/graphql", json={"query": "{ beneficiaries { totalCount } }"})
    # An anonymous JSON POST carries no session (nothing to forge): it reaches the schema…
    assert response.status_code == 200
    assert response.json()["data"] is None
    assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    # …and a GET query too, with the French refusal and no data.
    result = (await client.get("/graphql", params={"query": "{ beneficiaries { totalCount } }"})).json()
    assert result["data"] is None
    assert result["errors"][0]["message"].startswith("Connectez-vous")


async def test_caisse_agent_gets_no_partner_data(client, sign_in):
    token = await sign_in(client, "caisseagent", DEMO_PASSWORD)
    result = await _graphql(client, token, "{ partner { name } }")
    assert result["data"] is None
    assert result["errors"][0]["message"] == "Cette information est réservée aux partenaires."


async def test_page_size_is_bounded_with_a_clear_message(client, sign_in):
    token = await sign_in(client, "demoadmin", DEMO_PASSWORD)
    result = await _graphql(client, token, "{ beneficiaries(limit: 100000) { totalCount } }")
    assert "entre 1 et 500" in result["errors"][0]["message"]
