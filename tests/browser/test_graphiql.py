"""GraphiQL for caisse admins, in a real browser cut off from every other origin: the page
loads from the portal alone, runs the example queries, a refused query and a mutation from
the editor, shows their results, breaks no CSP rule and passes axe; others get the 403 page."""
from __future__ import annotations

import json
import re
import uuid
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import urlsplit

import altcha
import pytest
from playwright.async_api import Browser, BrowserContext, Page, expect

from ppas.schema.permissions import SIGN_IN_FIRST
from ppas.models import Registration, RegistrationStatus
from ppas.services import captcha
from ppas.services.registration import RegistrationForm, submit_registration
from ppas.web import csrf
from tests.browser_support import recording_page, sign_in_demo

pytestmark = pytest.mark.browser

SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"
SCREENSHOTS.mkdir(parents=True, exist_ok=True)
EXAMPLES = ("PreinscriptionsEnAttente", "DemandesDeConvention", "MessagesRecus")


async def cut_off_context(browser: Browser, base_url: str) -> tuple[BrowserContext, list[str]]:
    """A context where every request to another origin is aborted (and remembered)."""
    context = await browser.new_context(viewport={"width": 1280, "height": 768}, locale="fr-FR")
    origin = urlsplit(base_url)
    elsewhere: list[str] = []

    async def only_the_portal(route) -> None:
        url = urlsplit(route.request.url)
        if (url.scheme, url.netloc) == (origin.scheme, origin.netloc):
            await route.continue_()
        else:
            elsewhere.append(route.request.url)
            await route.abort()

    await context.route("**/*", only_the_portal)
    return context, elsewhere


async def pending_registration(settings, convention) -> Registration:
    """A real pre-registration (captcha solved like the widget) for the test's own convention."""
    challenge = altcha.Challenge.from_dict(captcha.new_challenge(settings))
    payload = altcha.Payload(challenge, altcha.solve_challenge(challenge)).to_base64()
    form = RegistrationForm(
        caisse_code="03", convention_number=convention.number,
        structure_id=convention.partner.structure_id, structure_name=convention.partner.name,
        last_name="GIRAUD", first_name="Inès", email="ines.giraud@example.org",
        phone="04 91 00 00 00", login=f"igiraud{uuid.uuid4().hex[:6]}",
        address_line="8 rue des Tilleuls", postal_code="13006", city="Marseille",
        accept_conditions=True)
    return await submit_registration(form, payload, settings=settings,
                                     now=datetime.now(timezone.utc))


def query_editor(page: Page):
    return page.locator(".graphiql-query-editor .CodeMirror")


def result_pane(page: Page):
    return page.locator(".result-window")


async def result_json(page: Page) -> dict:
    """The whole text of the result pane (CodeMirror draws only the lines in view)."""
    text = await result_pane(page).locator(".CodeMirror").evaluate("(node) => node.CodeMirror.getValue()")
    return json.loads(text)


async def replace_query(page: Page, text: str) -> None:
    """Select everything in the query editor and put `text` in its place, as a paste would."""
    await query_editor(page).click()
    await page.keyboard.press("Control+A")
    await page.keyboard.insert_text(text)
    await expect(query_editor(page)).to_contain_text(text.split("{")[0].strip() or text[:10])


async def run_operation(page: Page, name: str | None = None) -> None:
    """Press the run button; with several operations, pick `name` in the menu it opens.

    The button opens a menu while the editor holds several operations: after an edit, wait
    until GraphiQL has read the new document (one operation, a plain button)."""
    button = page.get_by_role("button", name=re.compile("Execute query"))
    if name is None:
        await expect(button).not_to_have_attribute("aria-haspopup", "menu")
        await button.click()
    else:
        await expect(button).to_have_attribute("aria-haspopup", "menu")
        await button.click()
        await page.get_by_role("menuitem", name=name).click()


async def test_caisse_admin_uses_graphiql_with_no_other_origin(browser, live_server, settings,
                                                               fresh_convention, assert_accessible):
    registration = await pending_registration(settings, fresh_convention)
    context, elsewhere = await cut_off_context(browser, live_server)
    page, complaints = await recording_page(context)
    await sign_in_demo(page, live_server, "caisseadmin")

    await page.get_by_role("link", name="ouvrir GraphiQL").click()
    await expect(page).to_have_url(live_server + "/graphql")
    await expect(page).to_have_title("Explorateur GraphQL — PPAS")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Explorateur GraphQL")
    await expect(page.get_by_role("banner")).to_contain_text("(caisseadmin)")
    await expect(page.get_by_role("link", name="Retour à mon espace")).to_have_attribute("href", "/espace")
    # The example tab, in the editor GraphiQL drew (from this origin only).
    await expect(query_editor(page)).to_contain_text("query PreinscriptionsEnAttente")

    # The SDL link downloads the schema the page queries.
    sdl_link = page.get_by_role("link", name="Télécharger le schéma (SDL)")
    async with page.expect_download() as download_info:
        await sdl_link.click()
    sdl = Path(await (await download_info.value).path()).read_text(encoding="utf-8")
    assert "type Query {" in sdl and "pendingRegistrations" in sdl

    # --- the example queries, picked from the run button's menu: within every limit -------
    await run_operation(page, "PreinscriptionsEnAttente")
    await expect(result_pane(page)).to_contain_text('"pendingRegistrations"')
    answer = await result_json(page)
    assert "errors" not in answer, answer
    mine = [r for r in answer["data"]["pendingRegistrations"] if r["id"] == str(registration.id)]
    assert mine and mine[0]["partnerName"] == fresh_convention.partner.name
    assert mine[0]["convention"]["number"] == fresh_convention.number
    await page.screenshot(path=SCREENSHOTS / "graphiql-preinscriptions.png")
    await assert_accessible(page)

    for name, field in (("DemandesDeConvention", "conventionRequests"),
                        ("MessagesRecus", "receivedContactMessages")):
        await run_operation(page, name)
        await expect(result_pane(page)).to_contain_text(f'"{field}"')
        answer = await result_json(page)
        assert "errors" not in answer and answer["data"][field] is not None, (name, answer)

    # --- a query the role may not run: the portal's own refusal --------------------------
    refused_query = "{ partnerUsers { login } }"
    await replace_query(page, refused_query)
    await run_operation(page)
    await expect(result_pane(page)).to_contain_text('"errors"')
    shown = await result_json(page)
    token = await page.locator("#graphiql").get_attribute("data-csrf-token")
    direct = await (await page.request.post(live_server + "/graphql",
                                            data={"query": refused_query},
                                            headers={"X-CSRF-Token": token})).json()
    assert shown["data"] is None and direct["data"] is None
    assert [e["message"] for e in shown["errors"]] == [e["message"] for e in direct["errors"]]
    await expect(result_pane(page)).to_contain_text(direct["errors"][0]["message"])

    # --- a mutation from the editor: refuse the test's own pre-registration --------------
    await replace_query(page, f'mutation Refuser {{ rejectRegistration(id: "{registration.id}", '
                              'reason: "Essai depuis GraphiQL") { __typename '
                              '... on RejectRegistrationSuccess { id message } } }')
    await run_operation(page)
    await expect(result_pane(page)).to_contain_text('"RejectRegistrationSuccess"')
    answer = await result_json(page)
    assert answer["data"]["rejectRegistration"]["id"] == str(registration.id), answer
    await registration.refresh_from_db()
    assert registration.status == RegistrationStatus.REJECTED

    # GraphiQL's panels and dialogs open without breaking the policy: the documentation,
    # the explorer plugin, the settings dialog (its modal layer adds the nonced <style>).
    await page.get_by_role("button", name="Show Documentation Explorer").click()
    await expect(page.locator(".graphiql-doc-explorer")).to_contain_text("Query")
    await assert_accessible(page)
    await page.get_by_role("button", name="Show GraphiQL Explorer").click()
    await expect(page.locator(".graphiql-explorer-root")).to_contain_text("rejectRegistration")
    await page.get_by_role("button", name="Open settings dialog").click()
    dialog = page.get_by_role("dialog")
    await expect(dialog).to_contain_text("Settings")
    await assert_accessible(page)
    await page.keyboard.press("Escape")
    await expect(dialog).to_have_count(0)

    assert complaints == [], complaints
    assert elsewhere == [], f"requests to another origin: {elsewhere}"
    await context.close()


async def test_graphiql_page_policy_is_strict(browser, live_server):
    """The page's CSP as sent: scripts from this origin only, no unsafe-*, the style nonce
    fresh per answer and given to the setup script."""
    context, _ = await cut_off_context(browser, live_server)
    page, _ = await recording_page(context)
    await sign_in_demo(page, live_server, "caisseadmin")
    policies, nonces = [], []
    for _ in range(2):
        response = await page.goto(live_server + "/graphql")
        policy = response.headers["content-security-policy"]
        policies.append(policy)
        nonces.append(await page.locator("script[src='/static/js/graphiql-setup.js']")
                      .evaluate("(script) => script.nonce"))
    for policy, nonce in zip(policies, nonces):
        directives = dict(d.strip().split(" ", 1) for d in policy.split(";"))
        assert directives["script-src"] == "'self'"
        assert directives["style-src"] == f"'self' 'nonce-{nonce}'"
        assert directives["default-src"] == "'self'"
        assert "unsafe" not in policy
    assert nonces[0] != nonces[1]
    await context.close()


async def test_graphiql_is_refused_to_a_partner_admin(browser, live_server):
    context, elsewhere = await cut_off_context(browser, live_server)
    page, complaints = await recording_page(context)
    await sign_in_demo(page, live_server, "demoadmin")
    response = await page.goto(live_server + "/graphql")
    assert response.status == 403
    await expect(page.get_by_role("alert")).to_have_text(
        "L'explorateur GraphQL est réservé aux administrateurs de la caisse.")
    await expect(page.locator(".graphiql-container")).to_have_count(0)
    assert complaints == [] and elsewhere == []
    await context.close()


async def test_a_refusal_of_the_portal_reads_in_french_in_the_result(browser, live_server):
    """Signed out from another tab, the next run shows the portal's own words, not a parse
    error of a non-JSON answer."""
    context, elsewhere = await cut_off_context(browser, live_server)
    page, complaints = await recording_page(context)
    await sign_in_demo(page, live_server, "caisseadmin")
    await page.goto(live_server + "/graphql")
    await expect(query_editor(page)).to_contain_text("query PreinscriptionsEnAttente")

    other = await context.new_page()
    await other.goto(live_server + "/espace")
    await other.get_by_role("button", name="Se déconnecter").click()
    await expect(other).to_have_url(re.compile(r"/(connexion)?(\?.*)?$"))

    await run_operation(page, "MessagesRecus")
    await expect(result_pane(page)).to_contain_text('"errors"')
    message = (await result_json(page))["errors"][0]["message"]
    # Signed out, the session cookie is gone: a JSON request without it needs no CSRF token
    # (no cookie, no ambient authority) and is answered as anonymous, in the portal's words.
    assert message in (csrf.SESSION_EXPIRED, csrf.REFUSED, SIGN_IN_FIRST), message
    await expect(result_pane(page)).to_contain_text(message[:40])
    assert complaints == [] and elsewhere == []
    await context.close()
