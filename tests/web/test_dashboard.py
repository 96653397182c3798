"""« Mon espace » says what to do now, for each role."""
from __future__ import annotations

import html
import re
from datetime import datetime, timezone

import httpx

from ppas.domain.periods import current_period, last_online_billing_day
from ppas.services.demo import DEMO_PASSWORD
from tests.billing_file_support import PASSWORD, billing_xml, ligne, make_provider


def text_of(response) -> str:
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", response.text)))


async def test_a_provider_sees_its_forms_to_fill_with_their_deadline_and_its_files_in_anomaly(
        client, sign_in, db):
    provider = await make_provider(plan_count=3)
    csrf = await sign_in(client, provider.login, PASSWORD)
    before = text_of(await client.get("/espace"))
    previous = current_period(datetime.now(timezone.utc)).previous()
    deadline = last_online_billing_day(previous).strftime("%d/%m/%Y")
    # The two months the worklist offers, each with the last day it can be billed online.
    assert f"Formulaire de {previous.label_fr} ({provider.convention.number}) : à ouvrir" in before
    assert f"À valider au plus tard le {deadline}" in before
    assert "Fichiers récents avec des anomalies" not in before

    data = billing_xml(provider, [ligne(1, provider.numbers[0]), ligne(2, "0999999999")])
    sent = await client.post("/fichiers/envoyer", headers={"HX-Request": "true", "X-CSRF-Token": csrf},
                             files={"file": (provider.amd_name(), data, "text/xml")})
    assert sent.status_code == 200
    after = text_of(await client.get("/espace"))
    assert "Fichiers récents avec des anomalies" in after
    assert f"Accepté avec anomalies 1 ligne en anomalie sur 2 {provider.amd_name()}" in after


async def test_an_evaluator_is_not_offered_billing(app, sign_in, db):
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://testserver") as http:
        await sign_in(http, "demoeval", DEMO_PASSWORD)
        page = text_of(await http.get("/espace"))
    assert "À faire maintenant" in page and "commande d'évaluation" in page
    assert "Facturer en ligne" not in page and "Formulaire de" not in page


async def test_a_caisse_agent_sees_what_waits_for_the_caisse(app, sign_in, db):
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://testserver") as http:
        await sign_in(http, "caisseagent", DEMO_PASSWORD)
        page = text_of(await http.get("/espace"))
    assert "À faire maintenant" in page
    assert re.search(r"Préinscriptions : (\d+ préinscriptions? à traiter|aucune préinscription)", page)
    assert re.search(r"Demandes de convention : (\d+ demandes? à traiter|aucune demande)", page)
