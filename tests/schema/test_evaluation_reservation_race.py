"""Twenty evaluators reserve the same order at the same moment, through the real server
(uvicorn, its own process) on the test database: exactly one wins, the nineteen others get
CONFLICT naming the winner and the end of the reservation. Then the GraphQL round trip of a
synchronisation: accepted, replayed as duplicate."""
from __future__ import annotations

import asyncio
import re
import uuid

import httpx

from ppas.models import EvaluationOrder, OrderStatus
from tests.conftest import sign_in_as
from tests.evaluation_support import PASSWORD, make_order, make_structure

RESERVE = """mutation($id: ID!) { reserveEvaluationOrder(id: $id) {
  __typename
  ... on EvaluationOrderSuccess { order { id status reservedByMe version reservedUntil } }
  ... on EvaluationError { code message } } }"""
SYNC = """mutation($items: [EvaluationInput!]!) { synchroniseEvaluations(items: $items) {
  clientId status message gir problems { field message } } }"""
CONTESTANTS = 20


async def _session(url: str, login: str) -> tuple[httpx.AsyncClient, dict]:
    http = httpx.AsyncClient(base_url=url, timeout=60)
    token = await sign_in_as(http, login, PASSWORD)
    return http, {"X-CSRF-Token": token}


async def test_twenty_evaluators_at_once_exactly_one_wins(live_server):
    structure = await make_structure(evaluators=CONTESTANTS)
    order = await make_order(structure)
    sessions = await asyncio.gather(*(_session(live_server, u.login)
                                      for u in structure.evaluators))
    try:
        start = asyncio.Event()

        async def reserve(http, headers):
            await start.wait()
            response = await http.post("/graphql", headers=headers, json={
                "query": RESERVE, "variables": {"id": str(order.id)}})
            return response.json()["data"]["reserveEvaluationOrder"]

        tasks = [asyncio.create_task(reserve(h, hd)) for h, hd in sessions]
        await asyncio.sleep(0.05)
        start.set()
        results = await asyncio.gather(*tasks)
    finally:
        await asyncio.gather(*(h.aclose() for h, _ in sessions))
    winners = [i for i, r in enumerate(results) if r["__typename"] == "EvaluationOrderSuccess"]
    assert len(winners) == 1, results
    winner = structure.evaluators[winners[0]]
    losers = [r for r in results if r["__typename"] == "EvaluationError"]
    assert len(losers) == CONTESTANTS - 1
    assert {r["code"] for r in losers} == {"CONFLICT"}
    for refused in losers:
        assert winner.first_name in refused["message"]
        assert re.search(r"jusqu'au \d\d/\d\d/\d{4} à \d\d:\d\d", refused["message"])
    stored = await EvaluationOrder.get(id=order.id)
    assert stored.status == OrderStatus.RESERVED and stored.reserved_by_id == winner.id
    assert stored.version == order.version + 1


async def test_a_sync_over_graphql_is_accepted_once_and_replayed_as_duplicate(live_server):
    structure = await make_structure(evaluators=1)
    order = await make_order(structure)
    http, headers = await _session(live_server, structure.evaluators[0].login)
    try:
        reserved = (await http.post("/graphql", headers=headers, json={
            "query": RESERVE, "variables": {"id": str(order.id)}})).json()
        version = reserved["data"]["reserveEvaluationOrder"]["order"]["version"]
        discriminant = [{"code": c, "modality": "C"} for c in
                        ("COH", "ORI", "TOI", "HAB", "ALI", "ELI", "TRA", "DIN", "DEX", "COM")]
        illustrative = [{"code": c, "modality": "C"} for c in
                        ("GES", "CUI", "MEN", "TRN", "ACH", "SUI", "TLI")]
        good = {"clientId": str(uuid.uuid4()), "orderId": str(order.id), "orderVersion": version,
                "visitDate": "2026-11-18", "discriminant": discriminant,
                "illustrative": illustrative, "livingConditions": "En EHPAD d'ici peu.",
                "needs": "Aide totale.", "recommendedHoursPerMonth": "60",
                "preventionActions": ["aidants"]}
        bad = {**good, "clientId": str(uuid.uuid4()), "visitDate": "31/02/2026",
               "discriminant": discriminant[:9]}
        body = {"query": SYNC, "variables": {"items": [bad, good]}}
        first = (await http.post("/graphql", headers=headers, json=body)).json()
        again = (await http.post("/graphql", headers=headers, json=body)).json()
    finally:
        await http.aclose()
    invalid, accepted = first["data"]["synchroniseEvaluations"]
    assert invalid["status"] == "INVALID"
    assert {p["field"] for p in invalid["problems"]} == {"visitDate", "COM"}
    assert accepted == {"clientId": good["clientId"], "status": "ACCEPTED",
                        "message": "Évaluation reçue : GIR 1.", "gir": 1, "problems": []}
    assert again["data"]["synchroniseEvaluations"][1]["status"] == "DUPLICATE"
