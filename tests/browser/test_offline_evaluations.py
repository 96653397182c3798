"""The evaluators' offline mode in a real Chromium (persistent profile, service workers on)
against a real server process that the tests stop and start again."""
from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Page, async_playwright, expect

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


SAMPLE_AGGIR = json.loads((Path(__file__).parents[1] / "sw" / "aggir_sample.json").read_text())
SAMPLE_DEFINITIONS = {
    "version": "essai",
    "sections": [
        {"title": "Visite", "fields": [
            {"name": "visitDate", "label": "Date de la visite", "type": "date", "required": True,
             "notAfterToday": True}]},
        {"title": "Variables discriminantes", "fields": [
            {"name": code, "label": f"Variable {code}", "type": "choice", "required": True,
             "choices": ["A", "B", "C"]} for code in SAMPLE_AGGIR["variables"]]},
        {"title": "Plan d'aide", "fields": [
            {"name": "hours", "label": "Heures d'aide par mois", "type": "integer", "min": 0,
             "max": 120}]},
    ],
    "aggir": SAMPLE_AGGIR,
}


async def seed_package(page: Page, orders: list[dict], definitions: dict = SAMPLE_DEFINITIONS) -> None:
    await page.evaluate("""async ([orders, definitions]) => {
        const store = await import('/sw/store.js');
        await store.savePackage({id: 'essai'}, orders, definitions);
    }""", [orders, definitions])


async def test_the_form_offline_saves_each_change_checks_the_rules_and_shows_the_gir(server, profile):
    async with profile.open() as context:
        page = await context.new_page()
        await page.goto(server.url + "/hors-ligne/")
        await install_worker(page)
        await seed_package(page, [{"id": "61", "version": 3, "dueDate": "2026-12-20",
                                   "beneficiary": {"fullName": "Jeanne ESSAI"}}])
        server.stop()
        await page.reload()
        await page.get_by_role("link", name="Évaluer Jeanne ESSAI").click()
        await expect(page.get_by_role("heading", name="Évaluation de Jeanne ESSAI")).to_be_focused()

        hours = page.get_by_label("Heures d'aide par mois")
        await hours.fill("200")
        await hours.press("Tab")
        await expect(page.locator("#erreur-hours")).to_have_text("« Heures d'aide par mois » doit être au plus 120.")
        await page.get_by_role("button", name="Terminer l'évaluation").click()
        summary = page.get_by_role("alert")
        await expect(summary).to_be_focused()
        await expect(summary).to_contain_text("12 réponses sont à corriger")

        await page.get_by_label("Date de la visite").fill("2026-12-01")
        for code in SAMPLE_AGGIR["variables"]:
            await page.get_by_label(f"Variable {code}").select_option("C")
        await expect(page.locator("#gir")).to_have_text("1")
        await page.get_by_label("Variable COH").select_option("A")
        await page.get_by_label("Variable ORI").select_option("A")
        await expect(page.locator("#gir")).to_have_text("2")
        await hours.fill("40")
        records = await stored_records(page)
        assert len(records) == 1
        (record,) = records
        assert record["orderId"] == "61" and record["orderVersion"] == 3 and record["state"] == "draft"
        assert record["answers"]["hours"] == "40" and record["answers"]["COH"] == "A"
        assert re.fullmatch(r"[0-9a-f-]{36}", record["clientId"])
        await expect(page.locator("#non-synchronisees")).to_have_text("1 évaluation non synchronisée")

        await page.get_by_role("button", name="Terminer l'évaluation").click()
        await expect(page.locator("#enregistrement")).to_contain_text("Évaluation terminée")
        (record,) = await stored_records(page)
        assert record["state"] == "ready" and record["gir"] == 2

        # Opened again: the same record (same UUID), its answers in the fields. Leaving the page
        # with evaluations not synchronised asks first.
        dialogs: list[str] = []
        accept_dialogs(page, dialogs)
        await page.reload()
        assert [d.split(":")[0] for d in dialogs] == ["beforeunload"]
        await expect(page.get_by_label("Heures d'aide par mois")).to_have_value("40")
        await expect(page.locator("#gir")).to_have_text("2")
        await page.get_by_label("Heures d'aide par mois").fill("41")
        (again,) = await stored_records(page)
        assert again["clientId"] == record["clientId"] and again["answers"]["hours"] == "41"
        server.start()


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
