"""« Évaluations » without JavaScript: reserve and release by POST with the CSRF token, the
online form validated by the server with French messages per field, the caisse's pages; the
definitions JSON; menus and refusals."""
from __future__ import annotations

import re

import httpx
from datetime import datetime, timedelta, timezone

from ppas.domain.roles import menu_for
from ppas.models import Evaluation, EvaluationOrder, OrderStatus
from ppas.services import evaluations
from tests.evaluation_support import PASSWORD, answers, make_order, make_structure


def form_of(csrf: str, client_id: str, **changes) -> dict:
    values = answers(**changes)
    data = {k: v for k, v in values.items() if k != "preventionActions"}
    data.update({"csrf_token": csrf, "clientId": client_id,
                 "preventionActions": values["preventionActions"],
                 "visitDate": datetime.now(timezone.utc).date().isoformat()})
    return data


async def test_the_definitions_are_served_cacheable_and_versioned(client):
    response = await client.get("/evaluations/definitions.json")
    assert response.status_code == 200
    body = response.json()
    assert body["version"] and response.headers["etag"] == f'"{body["version"]}"'
    assert "max-age" in response.headers["cache-control"]
    assert [f["name"] for f in body["fields"]][:11] == [
        "visitDate", "COH", "ORI", "TOI", "HAB", "ALI", "ELI", "TRA", "DIN", "DEX", "COM"]
    assert body["aggir"]["groups"][0]["ranks"][0] == {"threshold": 4380, "rank": 1}
    again = await client.get("/evaluations/definitions.json",
                             headers={"If-None-Match": response.headers["etag"]})
    assert again.status_code == 304


def test_menus_evaluators_see_evaluations_not_billing():
    evaluator = dict(menu_for("evaluator"))
    assert "Évaluations" in evaluator and "Facturation" not in evaluator
    assert "Évaluations" not in dict(menu_for("partner_user"))
    assert "Évaluations reçues" in dict(menu_for("caisse_agent"))


async def test_an_evaluator_reserves_fills_and_sends_an_evaluation_without_javascript(
        client, sign_in):
    s = await make_structure(evaluators=1)
    order = await make_order(s, created_at=datetime.now(timezone.utc) - timedelta(days=3))
    csrf = await sign_in(client, s.evaluators[0].login, PASSWORD)
    page = await client.get("/evaluations")
    assert page.status_code == 200 and order.reference in page.text
    reserved = await client.post(f"/evaluations/commandes/{order.id}/reserver",
                                 data={"csrf_token": csrf})
    assert reserved.status_code == 303
    listing = await client.get(reserved.headers["location"])
    assert "Commande réservée" in listing.text and "Saisir l'évaluation" in listing.text

    form = await client.get(f"/evaluations/commandes/{order.id}")
    assert form.status_code == 200
    client_id = re.search(r'name="clientId" value="([^"]+)"', form.text).group(1)
    assert 'for="f-livingConditions"' in form.text and "Cohérence" in form.text

    bad = await client.post(f"/evaluations/commandes/{order.id}",
                            data={**form_of(csrf, client_id, needs=""), "COH": "",
                                  "recommendedHoursPerMonth": "cent"})
    assert bad.status_code == 400
    assert 'id="erreur-COH"' in bad.text and 'id="erreur-needs"' in bad.text
    assert "Saisissez un nombre d&#39;heures (ex. 12,5)" in bad.text
    assert await Evaluation.filter(order_id=order.id).count() == 0

    sent = await client.post(f"/evaluations/commandes/{order.id}", data=form_of(csrf, client_id))
    assert sent.status_code == 200 and re.search(r"Évaluation reçue\s:\sGIR 4", sent.text)
    stored = await Evaluation.get(order_id=order.id)
    assert str(stored.client_id) == client_id and stored.gir == 4
    assert (await EvaluationOrder.get(id=order.id)).status == OrderStatus.EVALUATED


async def test_release_by_post_and_a_held_order_explains_who_holds_it(client, sign_in):
    s = await make_structure(evaluators=2)
    order = await make_order(s)
    now = datetime.now(timezone.utc)
    await evaluations.reserve(s.evaluators[1], order.id, now, 30)
    csrf = await sign_in(client, s.evaluators[0].login, PASSWORD)
    refused = await client.post(f"/evaluations/commandes/{order.id}/reserver",
                                data={"csrf_token": csrf})
    assert refused.status_code == 409 and "Éva1" in refused.text
    no_form = await client.get(f"/evaluations/commandes/{order.id}")
    assert no_form.status_code == 404
    mine = await make_order(s)
    await client.post(f"/evaluations/commandes/{mine.id}/reserver", data={"csrf_token": csrf})
    freed = await client.post(f"/evaluations/commandes/{mine.id}/liberer",
                              data={"csrf_token": csrf})
    assert freed.status_code == 303
    assert (await EvaluationOrder.get(id=mine.id)).status == OrderStatus.OPEN
    without_token = await client.post(f"/evaluations/commandes/{mine.id}/reserver", data={})
    assert without_token.status_code in (400, 403)
    assert (await EvaluationOrder.get(id=mine.id)).status == OrderStatus.OPEN


async def test_billing_users_are_refused_the_evaluations(client, sign_in, make_user):
    user = await make_user(role="partner_user")
    await sign_in(client, user.login, "Secret2026")
    page = await client.get("/evaluations")
    assert page.status_code == 403
    assert (await client.get("/caisse/evaluations")).status_code == 403


async def test_the_caisse_sees_received_evaluations_and_accepts_a_conflict(client, sign_in):
    s = await make_structure(evaluators=1)
    now = datetime.now(timezone.utc)
    accepted = await make_order(s, created_at=now - timedelta(days=5))
    late = await make_order(s, created_at=now - timedelta(days=40))
    visit = (now - timedelta(days=1)).date().isoformat()
    for order, at in ((accepted, now), (late, now - timedelta(days=35))):
        held = await evaluations.reserve(s.evaluators[0], order.id, at, 30)
        await evaluations.synchronise(s.evaluators[0], [evaluations.Submission(
            client_id=f"{order.id:08d}-0000-4000-8000-000000000000", order_id=order.id,
            order_version=held.version, answers=answers(visitDate=visit))], now, 30)
    await sign_in(client, s.agent.login, PASSWORD)
    page = await client.get("/caisse/evaluations")
    assert page.status_code == 200
    assert accepted.reference in page.text and late.reference in page.text
    assert "expiré" in page.text
    evaluation = await Evaluation.get(order_id=accepted.id)
    detail = await client.get(f"/caisse/evaluations/{evaluation.id}")
    assert "Toilette" in detail.text and re.search(r"GIR</dt><dd>4", detail.text)
    conflict = (await evaluations.list_conflicts(s.agent, True, 0, 100))[0]
    mine = next(c for c in conflict if c.order_id == late.id)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"',
                     (await client.get(f"/caisse/evaluations/conflits/{mine.id}")).text).group(1)
    done = await client.post(f"/caisse/evaluations/conflits/{mine.id}",
                             data={"csrf_token": csrf, "decision": "accepter"})
    assert done.status_code == 303
    assert (await Evaluation.get(order_id=late.id)).gir == 4


async def test_an_old_browsers_package_shows_its_last_sync_and_pending_work(app, client, sign_in):
    s = await make_structure(evaluators=1)
    now = datetime.now(timezone.utc)
    first, second = await make_order(s), await make_order(s)
    for order in (first, second):
        await evaluations.reserve(s.evaluators[0], order.id, now, 30)
    await evaluations.generate_package(s.evaluators[0], "ordinateur-bureau", None,
                                       now - timedelta(hours=2))
    await evaluations.synchronise(s.evaluators[0], [], now - timedelta(hours=1), 30)
    await evaluations.generate_package(s.evaluators[0], "portable", None, now)
    await sign_in(client, s.evaluators[0].login, PASSWORD)
    page = (await client.get("/evaluations")).text
    assert "ordinateur-bureau" in page and "portable" in page
    assert re.search(r"peut encore détenir\s+2 évaluations non synchronisées", page)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://testserver") as other:
        await sign_in(other, s.agent.login, PASSWORD)
        caisse = (await other.get("/caisse/evaluations")).text
    assert "ordinateur-bureau" in caisse and "Éva0" in caisse


async def test_the_caisse_orders_an_evaluation_by_file_number(client, sign_in):
    s = await make_structure(evaluators=1)
    person = (await make_order(s)).beneficiary_id
    from ppas.models import Beneficiary
    file_number = (await Beneficiary.get(id=person)).file_number
    csrf = await sign_in(client, s.agent.login, PASSWORD)
    form = await client.get("/caisse/evaluations/commandes/nouvelle")
    assert form.status_code == 200 and s.partner.name in form.text
    due = (datetime.now(timezone.utc) + timedelta(days=20)).date().isoformat()
    bad = await client.post("/caisse/evaluations/commandes/nouvelle", data={
        "csrf_token": csrf, "beneficiaryFileNumber": "0000000000", "partnerId": str(s.partner.id),
        "dueDate": "2001-01-01"})
    assert bad.status_code == 400
    assert 'id="erreur-beneficiaryFileNumber"' in bad.text and 'id="erreur-dueDate"' in bad.text
    done = await client.post("/caisse/evaluations/commandes/nouvelle", data={
        "csrf_token": csrf, "beneficiaryFileNumber": file_number, "partnerId": str(s.partner.id),
        "dueDate": due})
    assert done.status_code == 303
    created = await EvaluationOrder.filter(beneficiary_id=person).order_by("-id").first()
    assert created.status == OrderStatus.OPEN and created.created_by_id == s.agent.id
    assert created.reference.startswith("EV-")
