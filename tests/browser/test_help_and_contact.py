"""« Contact » and the help pages in a real browser: the form is filled and sent with the
keyboard alone (anonymous, with the captcha solved under the CSP), a failed send puts the focus on
the list of what to fix, and axe finds no serious violation on any of these pages."""
from __future__ import annotations

import re
import uuid

import pytest
from playwright.async_api import Page, expect

from ppas.models import ContactMessage
from ppas.services.demo import DEMO_PASSWORD
from ppas.settings import ROOT
from ppas.web.help_pages import GUIDES

pytestmark = pytest.mark.browser

SCREENSHOTS = ROOT / "var" / "screenshots"


def watch_console(page: Page) -> list[str]:
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    return problems


async def shoot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=SCREENSHOTS / f"{name}.png")


async def test_anonymous_visitor_writes_with_the_keyboard_and_fixes_what_is_refused(
        page: Page, live_server, assert_accessible):
    problems = watch_console(page)
    subject = f"Mot de passe {uuid.uuid4().hex[:6]}"
    await page.goto(live_server + "/contact")
    await expect(page.get_by_text("04 91 00 12 34")).to_be_visible()
    await expect(page.locator("altcha-widget [data-state]")).to_have_attribute(
        "data-state", "verified", timeout=30_000)
    await assert_accessible()
    await shoot(page, "contact-formulaire")

    # Sent without choosing the caisse nor typing the address: refused, focus on the summary.
    await page.get_by_label("Votre nom").focus()
    await page.keyboard.type("Lucie GARNIER")
    await page.keyboard.press("Tab")
    await page.keyboard.press("Tab")  # the address stays empty
    await page.keyboard.type(subject)
    await page.keyboard.press("Tab")
    await page.keyboard.type("Je n'ai pas reçu le mot de passe temporaire.")
    await page.get_by_role("button", name="Envoyer le message").focus()
    await page.keyboard.press("Enter")

    summary = page.get_by_role("alert")
    await expect(summary).to_contain_text("corrigez les 2 champs signalés")
    await expect(summary).to_be_focused()
    await expect(page.get_by_label("Votre caisse")).to_have_attribute("aria-invalid", "true")
    await expect(page.get_by_label("Message", exact=True)).to_have_value(
        "Je n'ai pas reçu le mot de passe temporaire.")
    await assert_accessible()
    await shoot(page, "contact-erreurs")

    # The summary's link leads to the field; the keyboard finishes the form.
    await summary.get_by_role("link", name=re.compile("Choisissez la caisse")).press("Enter")
    caisse = page.get_by_label("Votre caisse")
    await caisse.focus()
    await caisse.select_option("03")
    await page.get_by_label("Votre adresse électronique").focus()
    await page.keyboard.type("lucie.garnier@example.org")
    await expect(page.locator("altcha-widget [data-state]")).to_have_attribute(
        "data-state", "verified", timeout=30_000)
    await page.get_by_role("button", name="Envoyer le message").focus()
    await page.keyboard.press("Enter")

    await expect(page).to_have_url(re.compile(r"/contact/envoye\?n=\d+$"))
    row = await ContactMessage.get(subject=subject)
    await expect(page.get_by_role("status")).to_contain_text(f"n°\u00a0{row.id}")
    await assert_accessible()
    await shoot(page, "contact-envoye")
    assert row.caisse_id and row.sender_email == "lucie.garnier@example.org"
    # The refused send answers 400, which the console reports; nothing else may (a CSP refusal).
    assert [p for p in problems if "status of 400" not in p] == []


async def test_partner_form_is_prefilled_and_the_agent_reads_it(page: Page, browser, live_server,
                                                                assert_accessible):
    subject = f"Fichier de mars {uuid.uuid4().hex[:6]}"
    await page.goto(live_server + "/connexion")
    await page.get_by_label("Identifiant", exact=True).fill("demouser")
    await page.get_by_label("Mot de passe", exact=True).fill(DEMO_PASSWORD)
    await page.get_by_label("Mot de passe", exact=True).press("Enter")
    await page.goto(live_server + "/contact")
    await expect(page.get_by_label("Votre nom")).to_have_value("Julien ARNAUD")
    await expect(page.locator("altcha-widget")).to_have_count(0)
    await page.get_by_label("Objet").fill(subject)
    await page.get_by_label("Message", exact=True).fill("La ligne 3 est en anomalie L06.")
    await page.get_by_label("Pièce jointe (facultative)").set_input_files(
        files=[{"name": "extrait.txt", "mimeType": "text/plain", "buffer": b"ligne 3"}])
    await page.get_by_label("Message", exact=True).focus()
    await page.keyboard.press("Tab")  # to the file input
    await page.keyboard.press("Tab")  # to the button
    await expect(page.get_by_role("button", name="Envoyer le message")).to_be_focused()
    await page.keyboard.press("Enter")
    await expect(page).to_have_url(re.compile(r"/contact/envoye\?n=\d+$"))

    context = await browser.new_context(viewport={"width": 1280, "height": 768}, locale="fr-FR")
    agent = await context.new_page()
    await agent.goto(live_server + "/connexion")
    await agent.get_by_label("Identifiant", exact=True).fill("caisseagent")
    await agent.get_by_label("Mot de passe", exact=True).fill(DEMO_PASSWORD)
    await agent.get_by_label("Mot de passe", exact=True).press("Enter")
    await agent.goto(live_server + "/caisse/messages")
    message = agent.get_by_role("article").filter(has_text=subject)
    await expect(message).to_contain_text("identifiant 21231300")
    await expect(message.get_by_role("link", name="extrait.txt")).to_be_visible()
    await assert_accessible(agent)
    await shoot(agent, "caisse-messages-recus")
    await context.close()


async def test_the_help_pages_pass_axe(page: Page, live_server, assert_accessible):
    paths = ["/faq", "/documentation", "/documentation/guides", "/documentation/anomalies",
             *[f"/documentation/guides/{guide.slug}" for guide in GUIDES]]
    for path in paths:
        await page.goto(live_server + path)
        await expect(page.get_by_role("heading", level=1)).to_be_visible()
        await assert_accessible()
    await page.goto(live_server + "/documentation/anomalies")
    await shoot(page, "procedure-anomalies")
