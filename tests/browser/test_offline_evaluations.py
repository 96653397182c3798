"""The evaluators' offline mode in a real Chromium (persistent profile, service workers on)
against a real server process that the tests stop and start again."""
from __future__ import annotations

import asyncio
import itertools
import json
import re
import time
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.async_api import Page, async_playwright, expect

from ppas.domain import aggir

from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS
from tests.browser.offline_support import Profile, RestartableServer
from tests.browser_support import sign_in_demo

pytestmark = pytest.mark.browser


@pytest.fixture
async def playwright(monkeypatch) -> AsyncIterator:
    # The service worker's own requests (its precache downloads) go through context.route too,
    # so a test can make one fail.
    monkeypatch.setenv("PW_EXPERIMENTAL_SERVICE_WORKER_NETWORK_EVENTS", "1")
    async with async_playwright() as pw:
        yield pw


@pytest.fixture
def server(database_url: str, db) -> RestartableServer:
    live = RestartableServer(database_url, PPAS_OFFLINE_VERSION="v1")
    live.start()
    yield live
    live.stop()


@pytest.fixture
def profile(playwright) -> Profile:
    made = Profile(playwright)
    yield made
    made.remove()


def accept_dialogs(page: Page, seen: list[str]) -> None:
    """Accept every dialog (beforeunload, confirm) and note its kind and words."""
    async def handle(dialog):
        seen.append(f"{dialog.type}: {dialog.message}")
        await dialog.accept()
    page.on("dialog", handle)


async def install_worker(page: Page) -> None:
    await page.evaluate("""async () => {
        await navigator.serviceWorker.register('/sw.js', {scope: '/'});
        await navigator.serviceWorker.ready;
    }""")


async def worker_version(page: Page) -> str:
    return await page.evaluate("""() => new Promise((resolve) => {
        const channel = new MessageChannel();
        channel.port1.onmessage = (event) => resolve(event.data);
        navigator.serviceWorker.controller.postMessage('version', [channel.port2]);
    })""")


async def wait_for_active_version(page: Page, version: str) -> None:
    """Until the active worker of / is the one of `version` (install, precache, activate)."""
    found = await page.evaluate("""async (version) => {
        const ask = (worker) => new Promise((resolve) => {
            const channel = new MessageChannel();
            channel.port1.onmessage = (event) => resolve(event.data);
            worker.postMessage('version', [channel.port2]);
        });
        for (let i = 0; i < 100; i += 1) {
            const r = await navigator.serviceWorker.getRegistration('/');
            if (r && r.active && !r.installing && !r.waiting && await ask(r.active) === version) return version;
            if (r) await r.update().catch(() => {});
            await new Promise((resolve) => setTimeout(resolve, 200));
        }
        return null;
    }""", version)
    assert found == version


async def put_record(page: Page, client_id: str, order_id: str, state: str = "ready") -> None:
    await page.evaluate("""async ([clientId, orderId, state]) => {
        const store = await import('/sw/store.js');
        await store.setMeta('package', {id: 'essai'});
        await store.putRecord({clientId, orderId, orderVersion: 1, answers: {COH: 'A'}, state});
    }""", [client_id, order_id, state])


async def stored_records(page: Page) -> list[dict]:
    return await page.evaluate("""async () => (await import('/sw/store.js')).records()""")


async def test_an_update_of_the_worker_keeps_the_records_and_serves_the_new_shell(server, profile):
    async with profile.open() as context:
        page = await context.new_page()
        await page.goto(server.url + "/hors-ligne/")
        await install_worker(page)
        await page.reload()
        assert await worker_version(page) == "v1"
        await put_record(page, "11111111-1111-4111-8111-111111111111", "41")
        await expect(page.locator("#non-synchronisees")).to_have_text("1 évaluation non synchronisée")

        # No server at all: the shell comes from the precache, the record from IndexedDB.
        server.stop()
        await page.reload()
        await expect(page.get_by_role("heading", name="Mode déconnecté", exact=True)).to_be_visible()
        await expect(page.locator("#non-synchronisees")).to_have_text("1 évaluation non synchronisée")
        await page.goto(server.url + "/hors-ligne/evaluation?commande=41")
        await expect(page.locator("#commande")).to_contain_text("n'est pas sur ce navigateur")

        # A new version whose download fails halfway (one file of the shell refused): the
        # old worker stays, with its whole cache.
        server.start(PPAS_OFFLINE_VERSION="v2")
        refused: list[str] = []

        async def refuse(route):
            refused.append(route.request.url)
            await route.abort()
        labels = "**/sw/labels.js*"
        await context.route(labels, refuse)
        await page.evaluate("async () => (await navigator.serviceWorker.getRegistration('/')).update()")
        for _ in range(50):
            if refused:
                break
            await page.wait_for_timeout(100)
        assert refused and refused[0].endswith("/sw/labels.js")
        await page.wait_for_timeout(500)
        assert await worker_version(page) == "v1"
        server.stop()
        await page.reload()
        await expect(page.locator("meta[name=ppas-offline-version]")).to_have_attribute("content", "v1")
        await expect(page.locator("#non-synchronisees")).to_have_text("1 évaluation non synchronisée")
        await context.unroute(labels)

        # The same version deployed whole, while the record waits.
        server.start(PPAS_OFFLINE_VERSION="v2")
        await page.goto(server.url + "/hors-ligne/")
        await wait_for_active_version(page, "v2")
        await page.reload()
        assert await worker_version(page) == "v2"
        revisions = await page.evaluate("""async () => {
            const name = (await caches.keys()).find(k => k.includes('precache'));
            return (await (await caches.open(name)).keys()).map(r => new URL(r.url).searchParams.get('__WB_REVISION__'));
        }""")
        assert set(revisions) == {"v2"}, revisions  # the old entries went once the new were in
        records = await stored_records(page)
        assert [(r["clientId"], r["state"]) for r in records] == [
            ("11111111-1111-4111-8111-111111111111", "ready")]

        # The new shell works without the server too.
        server.stop()
        await page.reload()
        await expect(page.locator("#non-synchronisees")).to_have_text("1 évaluation non synchronisée")
        server.start()

    # The profile closed and opened again: the record is still there.
    async with profile.open() as context:
        page = await context.new_page()
        await page.goto(server.url + "/hors-ligne/")
        await expect(page.locator("#non-synchronisees")).to_have_text("1 évaluation non synchronisée")
        assert len(await stored_records(page)) == 1


async def test_export_on_one_profile_import_on_another_with_checks(server, playwright, tmp_path):
    first, second = Profile(playwright), Profile(playwright)
    try:
        async with first.open() as context:
            page = await context.new_page()
            await page.goto(server.url + "/hors-ligne/")
            await put_record(page, "22222222-2222-4222-8222-222222222222", "51")
            await put_record(page, "33333333-3333-4333-8333-333333333333", "52", state="draft")
            await put_record(page, "44444444-4444-4444-8444-444444444444", "53", state="synced")
            async with page.expect_download() as waiting:
                await page.get_by_role("button", name="Exporter").click()
            download = await waiting.value
            exported = tmp_path / download.suggested_filename
            await download.save_as(exported)
            await expect(page.get_by_role("status").filter(has_text="exportées")).to_contain_text(
                "2 évaluations exportées")
        assert re.fullmatch(r"evaluations-non-synchronisees-\d{8}-\d{4}\.json", exported.name)

        async with second.open() as context:
            page = await context.new_page()
            await page.goto(server.url + "/hors-ligne/")
            status = page.locator("#etat-hors-ligne")
            not_an_export = tmp_path / "autre.json"
            not_an_export.write_text('{"format": "autre"}')
            await page.get_by_label("Importer un fichier").set_input_files(not_an_export)
            await expect(status).to_contain_text("Import refusé")
            await expect(status).to_be_focused()
            broken = tmp_path / "abime.json"
            broken.write_text(exported.read_text().replace("22222222-2222", "pas-un-uuid"))
            await page.get_by_label("Importer un fichier").set_input_files(broken)
            await expect(status).to_contain_text("Évaluation n° ")
            assert await stored_records(page) == []

            await page.get_by_label("Importer un fichier").set_input_files(exported)
            await expect(status).to_contain_text("2 évaluations importées")
            await expect(page.locator("#non-synchronisees")).to_have_text("2 évaluations non synchronisées")
            records = {r["clientId"]: r["state"] for r in await stored_records(page)}
            assert records == {"22222222-2222-4222-8222-222222222222": "ready",
                               "33333333-3333-4333-8333-333333333333": "draft"}
            # The same file again changes nothing.
            await page.get_by_label("Importer un fichier").set_input_files(exported)
            await expect(status).to_contain_text("0 évaluation importée (2 déjà présentes sur ce navigateur, conservées)")
            assert len(await stored_records(page)) == 2
    finally:
        first.remove()
        second.remove()


async def test_signing_out_with_evaluations_not_synchronised_asks_first(server, profile):
    async with profile.open() as context:
        page = await context.new_page()
        await sign_in_demo(page, server.url, "demoeval")
        badge = page.locator("#non-synchronisees")
        await expect(badge).to_be_hidden()  # this browser never had the offline mode
        await put_record(page, "55555555-5555-4555-8555-555555555555", "71", state="draft")
        await expect(badge).to_have_text("1 évaluation non synchronisée")
        await expect(badge).to_have_attribute("aria-live", "polite")

        answers = iter([False, True])
        questions: list[str] = []

        async def answer(dialog):
            questions.append(dialog.message)
            await (dialog.accept() if next(answers) else dialog.dismiss())
        page.on("dialog", answer)

        await page.get_by_role("button", name="Se déconnecter").click()
        await expect(page.get_by_role("button", name="Se déconnecter")).to_be_visible()
        assert questions and "1 évaluation non synchronisée" in questions[0]
        await page.get_by_role("button", name="Se déconnecter").focus()
        await page.keyboard.press("Enter")
        await expect(page.get_by_role("link", name="Se connecter")).to_be_visible()
        assert len(questions) == 2
        # Signed out, the record is still on this browser.
        assert [r["clientId"] for r in await stored_records(page)] == ["55555555-5555-4555-8555-555555555555"]


async def test_generating_is_refused_in_words_where_service_workers_are_blocked(server, playwright):
    browser = await playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
    try:
        context = await browser.new_context(service_workers="block", locale="fr-FR")
        page = await context.new_page()
        await sign_in_demo(page, server.url, "demoeval")
        await page.goto(server.url + "/hors-ligne/")
        button = page.get_by_role("button", name="Générer le mode déconnecté")
        await button.focus()
        await page.keyboard.press("Enter")
        result = page.locator("#resultat-generation")
        await expect(result).to_contain_text("Ce navigateur ne permet pas le mode déconnecté")
        await expect(result).to_contain_text("navigation privée")
        await expect(result).to_be_focused()
    finally:
        await browser.close()


# ---------------------------------------------------------------- with the real server side

_numbers = itertools.count((int(time.time()) % 100_000) * 100)
PASSWORD = "Secret2026"


async def make_evaluator() -> str:
    """A fresh evaluator of the demo's evaluation structure (13009876); returns the login."""
    from ppas.domain.password_hashing import hash_password
    from ppas.models import Caisse, Partner, User

    login = f"evalhl{next(_numbers)}"
    await User.create(login=login, password_hash=hash_password(PASSWORD), role="evaluator",
                      caisse=await Caisse.get(code="03"),
                      partner=await Partner.get(structure_id="13009876"),
                      first_name="Inès", last_name="HORS-LIGNE", email=f"{login}@essai.invalid",
                      password_changed_at=datetime.now(UTC))
    return login


async def make_orders(count: int) -> list:
    """`count` open orders of new beneficiaries, offered to the structure 13009876."""
    from ppas.models import Beneficiary, Caisse, EvaluationOrder, Partner

    caisse = await Caisse.get(code="03")
    partner = await Partner.get(structure_id="13009876")
    orders = []
    for _ in range(count):
        n = next(_numbers)
        person = await Beneficiary.create(caisse=caisse, file_number=f"9{n:09d}"[-10:],
                                          last_name=f"ESSAI{n}", first_name="Jeanne", city="Toulon")
        order = await EvaluationOrder.create(partner=partner, beneficiary=person,
                                             due_date=date.today() + timedelta(days=10),
                                             created_at=datetime.now(UTC) - timedelta(days=2))
        order.reference = f"HL{n}"
        await order.save(update_fields=["reference"])
        orders.append(order)
    return orders


async def browser_sign_in(page: Page, base_url: str, login: str) -> None:
    await page.goto(base_url + "/connexion")
    if "/connexion" not in page.url:
        return  # still signed in (the profile kept its session)
    await page.get_by_label("Identifiant", exact=True).fill(login)
    await page.get_by_label("Mot de passe", exact=True).fill(PASSWORD)
    await page.get_by_label("Mot de passe", exact=True).press("Enter")
    await expect(page).to_have_url(re.compile(r"/espace$"))


async def graphql(page: Page, query: str, variables: dict | None = None) -> dict:
    """A GraphQL request from the page, with its session and CSRF token."""
    return await page.evaluate("""async ([query, variables]) => {
        const token = (await (await fetch('/session/jeton')).json()).csrfToken;
        const response = await fetch('/graphql', {method: 'POST', body: JSON.stringify({query, variables}),
            headers: {'Content-Type': 'application/json', 'X-CSRF-Token': token}});
        return response.json();
    }""", [query, variables or {}])


async def reserve(page: Page, orders: list) -> None:
    for order in orders:
        answer = await graphql(page, """mutation R($id: ID!) { reserveEvaluationOrder(id: $id) {
            __typename ... on EvaluationError { message } } }""", {"id": str(order.id)})
        assert answer["data"]["reserveEvaluationOrder"]["__typename"] == "EvaluationOrderSuccess", answer


async def generate(page: Page, base_url: str, count: int, where: str = "/hors-ligne/") -> None:
    await page.goto(base_url + where)
    await page.get_by_role("button", name="Générer le mode déconnecté").click()
    result = page.locator("#resultat-generation")
    await expect(result).to_contain_text(
        f"{count} commandes réservées sont disponibles" if count > 1 else "1 commande réservée est disponible",
        timeout=20000)
    await expect(result).to_contain_text("Stockage persistant")
    await expect(result).to_contain_text("Espace utilisé")


def paris_today() -> str:
    return datetime.now(ZoneInfo("Europe/Paris")).date().isoformat()


async def fill_evaluation(page: Page, person: str, modality: str, hours: str) -> None:
    """From /hors-ligne/: open the order, answer every field, « Terminer », come back."""
    from ppas.domain import evaluation_form

    await page.get_by_role("link", name=f"Évaluer {person}").click()
    await expect(page.get_by_role("heading", name=f"Évaluation de {person}")).to_be_focused()
    for field in evaluation_form.FIELDS:
        label = field["label"] + (" (obligatoire)" if field["required"] else "")
        if field["type"] == "multi":
            await page.get_by_label(field["options"][0]["label"], exact=True).check()
            continue
        control = page.get_by_label(label, exact=True)
        if field["type"] == "date":
            await control.fill(paris_today())
        elif field["type"] == "choice":
            await control.select_option(modality if field["section"] == "discriminant" else "A")
        elif field["type"] == "number":
            await control.click()
            await page.keyboard.type(hours)  # typed, with its comma
        else:
            await control.fill(f"{field['label']} : noté pendant la visite.")
    await page.get_by_role("button", name="Terminer l'évaluation").press("Enter")
    await expect(page.locator("#enregistrement")).to_contain_text("Évaluation terminée")
    await expect(page.locator("#enregistrement")).to_be_focused()
    await page.get_by_role("link", name="Retour au mode déconnecté").click()


async def received(order_ids: list[int]) -> dict[int, int]:
    """order id → GIR of the evaluations the server holds for these orders."""
    from ppas.models import Evaluation

    rows = await Evaluation.filter(order_id__in=order_ids)
    return {row.order_id: row.gir for row in rows}


async def caisse_sees(client, sign_in_fixture, order_ids: list[int]) -> dict[str, int]:
    """What a caisse agent reads through GraphQL: order id → GIR."""
    from ppas.services.demo import DEMO_PASSWORD

    token = await sign_in_fixture(client, "caisseagent", DEMO_PASSWORD)
    response = await client.post("/graphql", headers={"X-CSRF-Token": token}, json={
        "query": "{ evaluations(limit: 200) { items { gir order { id } } } }"})
    items = response.json()["data"]["evaluations"]["items"]
    wanted = {str(i) for i in order_ids}
    return {item["order"]["id"]: item["gir"] for item in items if item["order"]["id"] in wanted}


async def test_reserve_generate_work_with_the_server_stopped_reopen_then_synchronise(
        server, profile, client, sign_in):
    login = await make_evaluator()
    first, second = await make_orders(2)
    await first.fetch_related("beneficiary")
    await second.fetch_related("beneficiary")
    async with profile.open() as context:
        page = await context.new_page()
        dialogs: list[str] = []
        accept_dialogs(page, dialogs)
        await browser_sign_in(page, server.url, login)
        await reserve(page, [first, second])
        await generate(page, server.url, 2, where="/evaluations")
        await page.get_by_role("link", name="le mode déconnecté").click()

        server.stop()  # the portal is gone, not only the browser's network
        await page.reload()
        await fill_evaluation(page, f"Jeanne {first.beneficiary.last_name}", "C", "12,5")
        await fill_evaluation(page, f"Jeanne {second.beneficiary.last_name}", "B", "30")
        await expect(page.locator("#non-synchronisees")).to_have_text("2 évaluations non synchronisées")

    # The browser closed and opened again, the server still stopped: all still there.
    async with profile.open() as context:
        page = await context.new_page()
        accept_dialogs(page, [])
        await page.goto(server.url + "/hors-ligne/")
        await expect(page.locator("#non-synchronisees")).to_have_text("2 évaluations non synchronisées")
        await expect(page.locator("#evaluations tbody tr")).to_have_count(2)
        await expect(page.locator("#evaluations")).to_contain_text("À synchroniser")

        # The server comes back with a new offline version; the records go, once each.
        server.start(PPAS_OFFLINE_VERSION="v2")
        await browser_sign_in(page, server.url, login)
        await page.goto(server.url + "/hors-ligne/")
        await wait_for_active_version(page, "v2")
        await page.get_by_role("button", name="Synchroniser").click()
        await expect(page.locator("#non-synchronisees")).to_have_text("0 évaluation non synchronisée",
                                                                        timeout=15000)
        rows = page.locator("#evaluations tbody tr")
        await expect(rows.filter(has_text="Synchronisée")).to_have_count(2)
        expected = {first.id: aggir.gir(dict.fromkeys(aggir.VARIABLES, "C")),
                    second.id: aggir.gir(dict.fromkeys(aggir.VARIABLES, "B"))}
        await expect(rows.filter(has_text=f"Jeanne {first.beneficiary.last_name}")).to_contain_text(
            str(expected[first.id]))
        assert await received([first.id, second.id]) == expected
        # The caisse reads them, with their GIR.
        assert await caisse_sees(client, sign_in, [first.id, second.id]) == {
            str(k): v for k, v in expected.items()}


async def prepared(profile_context, server, count: int, modality: str = "B"):
    """An evaluator with `count` reserved orders, the offline mode generated and every
    evaluation filled and finished with the server stopped; returns (page, login, orders)."""
    login = await make_evaluator()
    orders = await make_orders(count)
    for order in orders:
        await order.fetch_related("beneficiary")
    page = await profile_context.new_page()
    accept_dialogs(page, [])
    await browser_sign_in(page, server.url, login)
    await reserve(page, orders)
    await generate(page, server.url, count)
    server.stop()
    await page.reload()
    for order in orders:
        await fill_evaluation(page, f"Jeanne {order.beneficiary.last_name}", modality, "20")
    return page, login, orders


async def test_a_synchronisation_cut_halfway_loses_nothing_and_a_replay_creates_nothing(server, profile):
    async with profile.open() as context:
        page, login, (first, second) = await prepared(context, server, 2)
        sent: list[dict] = []

        async def cut_after_the_first(route):
            body = route.request.post_data or ""
            if "SynchroniseEvaluations" not in body:
                await route.continue_()
                return
            sent.append({"body": body})
            if len(sent) == 1:
                await route.continue_()
            else:
                server.stop()  # the portal goes away between two evaluations
                await route.abort("connectionrefused")
        await context.route("**/graphql", cut_after_the_first)

        server.start()
        await browser_sign_in(page, server.url, login)  # the evaluator's pages synchronise on load
        await expect(page.locator("#non-synchronisees")).to_have_text("1 évaluation non synchronisée",
                                                                        timeout=15000)
        # The badge counts the first receipt before the second item goes out: wait for it.
        for _ in range(150):
            if len(sent) == 2 and server.process is None:
                break
            await asyncio.sleep(0.1)
        assert len(sent) == 2
        assert list((await received([first.id, second.id])).keys()) == [first.id]
        # Reloaded with the server still stopped: the second is still there, ready.
        await page.goto(server.url + "/hors-ligne/")
        states = sorted(r["state"] for r in await stored_records(page))
        assert states == ["ready", "synced"]

        await context.unroute("**/graphql")
        server.start()
        await page.reload()
        await page.get_by_role("button", name="Synchroniser").click()
        await expect(page.locator("#non-synchronisees")).to_have_text("0 évaluation non synchronisée",
                                                                        timeout=15000)
        assert set(await received([first.id, second.id])) == {first.id, second.id}

        # The first request sent again, as it was: a duplicate, nothing new on the server.
        replay = json.loads(sent[0]["body"])
        answer = await graphql(page, replay["query"], replay["variables"])
        (receipt,) = answer["data"]["synchroniseEvaluations"]
        assert receipt["status"] == "DUPLICATE"
        from ppas.models import Evaluation
        assert await Evaluation.filter(order_id__in=[first.id, second.id]).count() == 2


async def test_a_late_synchronisation_is_kept_as_a_conflict_and_shown(server, profile):
    from ppas.models import EvaluationConflict, EvaluationOrder

    async with profile.open() as context:
        page, login, (order,) = await prepared(context, server, 1)
        # Meanwhile the reservation ran out.
        await EvaluationOrder.filter(id=order.id).update(
            reserved_until=datetime.now(UTC) - timedelta(hours=1))
        server.start()
        await browser_sign_in(page, server.url, login)
        await page.goto(server.url + "/hors-ligne/")
        row = page.locator("#evaluations tbody tr")
        await expect(row).to_contain_text("En conflit", timeout=15000)
        await expect(row).to_contain_text("réservation de cette commande a expiré")
        await expect(page.locator("#non-synchronisees")).to_have_text("0 évaluation non synchronisée")
        assert await EvaluationConflict.filter(order_id=order.id).count() == 1


async def test_exported_then_imported_elsewhere_is_accepted_once(server, playwright, tmp_path):
    from ppas.models import Evaluation

    first, second = Profile(playwright), Profile(playwright)
    try:
        async with first.open() as context:
            page, login, (order,) = await prepared(context, server, 1)
            async with page.expect_download() as waiting:
                await page.get_by_role("button", name="Exporter").click()
            exported = tmp_path / "export.json"
            await (await waiting.value).save_as(exported)
        server.start()
        async with second.open() as context:
            page = await context.new_page()
            accept_dialogs(page, [])
            await browser_sign_in(page, server.url, login)
            await page.goto(server.url + "/hors-ligne/")
            await page.get_by_label("Importer un fichier").set_input_files(exported)
            await expect(page.locator("#etat-hors-ligne")).to_contain_text("1 évaluation importée")
            await page.get_by_role("button", name="Synchroniser").click()
            await expect(page.locator("#non-synchronisees")).to_have_text("0 évaluation non synchronisée",
                                                                            timeout=15000)
            await expect(page.locator("#evaluations tbody tr")).to_contain_text("Synchronisée")
        # The first browser sends its copy too: the server already has it.
        async with first.open() as context:
            page = await context.new_page()
            accept_dialogs(page, [])
            await browser_sign_in(page, server.url, login)
            await page.goto(server.url + "/hors-ligne/")
            await page.get_by_role("button", name="Synchroniser").click()
            await expect(page.locator("#non-synchronisees")).to_have_text("0 évaluation non synchronisée",
                                                                            timeout=15000)
            records = await stored_records(page)
            assert [(r["state"], r["receiptStatus"]) for r in records] == [("synced", "DUPLICATE")]
        assert await Evaluation.filter(order_id=order.id).count() == 1
    finally:
        first.remove()
        second.remove()


async def test_generating_elsewhere_supersedes_and_shows_the_old_packages_last_synchronisation(
        server, playwright):
    login = await make_evaluator()
    (order,) = await make_orders(1)
    first, second = Profile(playwright), Profile(playwright)
    try:
        async with first.open() as context:
            page = await context.new_page()
            accept_dialogs(page, [])
            await browser_sign_in(page, server.url, login)
            await reserve(page, [order])
            await generate(page, server.url, 1)
        async with second.open() as context:
            page = await context.new_page()
            accept_dialogs(page, [])
            await browser_sign_in(page, server.url, login)
            await generate(page, server.url, 1)
            await page.reload()
            packages = page.locator("#paquets tbody tr")
            await expect(packages).to_have_count(2)
            await expect(packages.filter(has_text="Ce navigateur-ci")).to_contain_text("En service")
            old = packages.filter(has_text="Un autre navigateur")
            await expect(old).to_contain_text("Remplacé le")
            await expect(old).to_contain_text("peut encore contenir des évaluations non synchronisées")
            await expect(old).to_contain_text("Jamais")
    finally:
        first.remove()
        second.remove()


async def test_an_evaluation_the_server_refuses_stays_visible_with_its_message(server, profile):
    login = await make_evaluator()
    (order,) = await make_orders(1)
    async with profile.open() as context:
        page = await context.new_page()
        accept_dialogs(page, [])
        await browser_sign_in(page, server.url, login)
        await reserve(page, [order])
        await generate(page, server.url, 1)
        # A finished record whose answers the server refuses (written by an older version).
        await page.evaluate("""async (orderId) => {
            const store = await import('/sw/store.js');
            await store.putRecord({clientId: crypto.randomUUID(), orderId, orderVersion: 2,
                                   answers: {COH: 'A'}, state: 'ready'});
        }""", str(order.id))
        await page.get_by_role("button", name="Synchroniser").click()
        status = page.locator("#etat-hors-ligne")
        await expect(status).to_contain_text("refusée")
        await expect(status).to_be_focused()
        row = page.locator("#evaluations tbody tr")
        await expect(row).to_contain_text("Refusée : à corriger")
        await expect(row).to_contain_text("Évaluation non reçue : corrigez les")
        await expect(page.locator("#non-synchronisees")).to_have_text("1 évaluation non synchronisée")
        # Opened, it says what to fix, field by field.
        await page.get_by_role("link", name=re.compile(r"^Évaluer Jeanne")).click()
        await expect(page.locator("#erreurs-evaluation")).to_contain_text("Date de la visite : Ce champ est obligatoire")


async def test_synchronised_records_are_kept_a_while_then_purged_and_nothing_else(server, profile):
    async with profile.open() as context:
        page = await context.new_page()
        await page.goto(server.url + "/hors-ligne/")
        kept = await page.evaluate("""async () => {
            const store = await import('/sw/store.js');
            const day = 86400000;
            const old = new Date(Date.now() - 31 * day).toISOString();
            const recent = new Date(Date.now() - 29 * day).toISOString();
            const put = (clientId, state, syncedAt) => store.putRecord(
                {clientId, orderId: '1', orderVersion: 1, answers: {}, state, syncedAt});
            await put('a0000000-0000-4000-8000-000000000001', 'synced', old);
            await put('a0000000-0000-4000-8000-000000000002', 'synced', recent);
            await put('a0000000-0000-4000-8000-000000000003', 'ready', old);
            await put('a0000000-0000-4000-8000-000000000004', 'conflict', old);
            await store.purgeSynced();
            return (await store.records()).map((r) => r.clientId.slice(-1)).sort();
        }""")
        assert kept == ["2", "3", "4"]
