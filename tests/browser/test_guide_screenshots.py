"""The guides' screenshots, taken from the real pages at 1280×768 with the demo data.

Every run writes them to var/screenshots/guides/; with PPAS_GUIDES=1 (`make guides`) they
also replace static/guides/, which the guides show and which is committed. The screens taken
here are exactly the ones the guides show, so a guide never points at a missing picture.
"""
from __future__ import annotations

import os
import re
import shutil

import pytest
from playwright.async_api import Browser, Page, expect

from ppas.models import Role, User
from ppas.services.demo import DEMO_PASSWORD
from ppas.settings import ROOT
from tests.billing_form_support import PASSWORD, make_provider

pytestmark = pytest.mark.browser

RUN_DIR = ROOT / "var" / "screenshots" / "guides"
GUIDES_DIR = ROOT / "static" / "guides"
VIEWPORT = {"width": 1280, "height": 768}
# Realistic names for the fresh provider's beneficiaries (its own rows: the demo is untouched).
PEOPLE = [("MARTIN", "Jeanne"), ("BERNARD", "Marcel"), ("DUBOIS", "Yvonne"),
          ("THOMAS", "René"), ("PETIT", "Odette")]


def publish() -> bool:
    return os.environ.get("PPAS_GUIDES") == "1"


def referenced_screenshots() -> set[str]:
    """Every screenshot the guide templates show (their `shot("name", …)` calls)."""
    names: set[str] = set()
    for template in (ROOT / "templates" / "guides").glob("*.html"):
        names |= set(re.findall(r'shot\("([a-z0-9-]+)"', template.read_text()))
    return names


async def snap(page: Page, name: str, taken: set[str]) -> None:
    await page.wait_for_load_state("networkidle")
    RUN_DIR.mkdir(parents=True, exist_ok=True)
    path = RUN_DIR / f"{name}.png"
    await page.screenshot(path=path)
    if publish():
        GUIDES_DIR.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, GUIDES_DIR / path.name)
    taken.add(name)


async def signed_in_page(browser: Browser, base: str, login: str, password: str) -> Page:
    context = await browser.new_context(viewport=VIEWPORT, locale="fr-FR")
    page = await context.new_page()
    await page.goto(base + "/connexion")
    await page.get_by_label("Identifiant", exact=True).fill(login)
    await page.get_by_label("Mot de passe", exact=True).fill(password)
    await page.get_by_label("Mot de passe", exact=True).press("Enter")
    await expect(page).to_have_url(base + "/espace")
    return page


async def test_every_screenshot_the_guides_show_is_taken_from_the_real_pages(
        browser: Browser, page: Page, live_server):
    taken: set[str] = set()
    base = live_server

    await page.goto(base + "/connexion")
    await snap(page, "connexion", taken)
    await page.goto(base + "/mot-de-passe-oublie")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Mot de passe oublié")
    await snap(page, "mot-de-passe-oublie", taken)

    admin = await signed_in_page(browser, base, "demoadmin", DEMO_PASSWORD)
    for name, path in [("admin-accueil", "/administration"),
                       ("admin-utilisateurs", "/administration/utilisateurs"),
                       ("admin-nouvel-utilisateur", "/administration/utilisateurs/nouveau"),
                       ("admin-conventions", "/administration/conventions"),
                       ("admin-jetons", "/administration/jetons")]:
        await admin.goto(base + path)
        await snap(admin, name, taken)
    await admin.context.close()

    user = await signed_in_page(browser, base, "demouser", DEMO_PASSWORD)
    await snap(user, "espace-prestataire", taken)
    await user.goto(base + "/beneficiaires")
    await snap(user, "beneficiaires", taken)
    await user.goto(base + "/contact")
    await snap(user, "contact", taken)
    await user.context.close()

    # The billing screens on a provider of their own: opening a form must not touch the demo's.
    provider = await make_provider(plan_count=len(PEOPLE))
    for plan, (last, first) in zip(provider.plans, PEOPLE):
        person = await plan.beneficiary
        person.last_name, person.first_name = last, first
        await person.save()
    await User.filter(id=provider.user.id).update(role=Role.PARTNER_USER,
                                                  first_name="Julien", last_name="ARNAUD")
    billing = await signed_in_page(browser, base, provider.login, PASSWORD)
    await billing.goto(base + "/facturation")
    await snap(billing, "facturation-liste", taken)
    await billing.get_by_role("button", name=re.compile("^Ouvrir le formulaire de")).first.click()
    await expect(billing.get_by_role("heading", level=1)).to_contain_text("Formulaire de facturation")
    await billing.locator("input[name^=h-]").first.fill("12")
    await billing.locator("input[name^=h-]").first.press("Tab")
    await snap(billing, "formulaire", taken)
    await billing.goto(base + "/fichiers")
    await snap(billing, "fichiers", taken)
    await billing.context.close()

    evaluator = await signed_in_page(browser, base, "demoeval", DEMO_PASSWORD)
    await snap(evaluator, "espace-evaluateur", taken)
    await evaluator.goto(base + "/evaluations")
    await snap(evaluator, "evaluations", taken)
    await evaluator.context.close()

    agent = await signed_in_page(browser, base, "caisseagent", DEMO_PASSWORD)
    await snap(agent, "caisse-accueil", taken)
    for name, path in [("caisse-inscriptions", "/caisse/inscriptions"),
                       ("caisse-conventions", "/caisse/conventions"),
                       ("caisse-messages", "/caisse/messages")]:
        await agent.goto(base + path)
        await snap(agent, name, taken)
    await agent.context.close()

    assert taken == referenced_screenshots()
    if not publish():
        stale = {p.stem for p in GUIDES_DIR.glob("*.png")} - taken
        assert not stale, f"static/guides holds screenshots no guide shows: {sorted(stale)}"
