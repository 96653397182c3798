"""An evaluator, with the keyboard only, reserves an order and fills its evaluation online;
the server's messages per field come back first, then the GIR; the caisse sees it."""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import pytest
from playwright.async_api import Page, expect

from ppas.models import Evaluation, EvaluationOrder, OrderStatus
from tests.browser_support import recording_page
from tests.evaluation_support import PASSWORD, make_order, make_structure

pytestmark = pytest.mark.browser


async def tab_to(page: Page, name: str | re.Pattern, limit: int = 80) -> None:
    """Press Tab until the focused element's accessible name matches `name`."""
    seen = []
    for _ in range(limit):
        await page.keyboard.press("Tab")
        focused = await page.evaluate("""() => { const e = document.activeElement;
            return (e.textContent || e.value || e.getAttribute('aria-label') || '')
                .replace(/\\s+/g, ' ').trim(); }""")
        seen.append(focused)
        if (name.search(focused) if isinstance(name, re.Pattern) else focused == name):
            return
    raise AssertionError(f"never reached {name!r} with Tab: {seen}")


async def choose(page: Page, code: str, modality: str) -> None:
    """Pick a modality in a radio group with the keyboard: focus its first radio, then
    arrow down (A → B → C)."""
    group = page.locator(f"#f-{code}")
    await group.get_by_role("radio").first.focus()
    await page.keyboard.press("Space")
    for _ in range("ABC".index(modality)):
        await page.keyboard.press("ArrowDown")


async def test_reserve_and_fill_an_evaluation_with_the_keyboard(browser, live_server,
                                                                assert_accessible):
    s = await make_structure(evaluators=1)
    order = await make_order(s, created_at=datetime.now(timezone.utc) - timedelta(days=2))
    context = await browser.new_context(viewport={"width": 1280, "height": 768}, locale="fr-FR")
    page, complaints = await recording_page(context)
    try:
        await page.goto(live_server + "/connexion")
        await page.get_by_label("Identifiant", exact=True).fill(s.evaluators[0].login)
        await page.get_by_label("Mot de passe", exact=True).fill(PASSWORD)
        await page.get_by_label("Mot de passe", exact=True).press("Enter")
        await expect(page).to_have_url(re.compile(r"/espace$"))
        await page.get_by_role("link", name="Évaluations", exact=True).first.focus()
        await page.keyboard.press("Enter")
        await expect(page.get_by_role("heading", level=1)).to_have_text("Évaluations")
        await assert_accessible(page)

        await tab_to(page, re.compile(rf"^Réserver la commande {order.reference}"))
        await page.keyboard.press("Enter")
        # (The page has a second status region, the offline mode's, empty until used.)
        notice = page.get_by_role("status").filter(has_text="Commande réservée")
        await expect(notice).to_contain_text("Commande réservée")
        await expect(notice).to_be_focused()
        assert (await EvaluationOrder.get(id=order.id)).status == OrderStatus.RESERVED

        await tab_to(page, re.compile(r"^Saisir l'évaluation"))
        await page.keyboard.press("Enter")
        await expect(page.get_by_role("heading", level=1)).to_contain_text("MARTIN")
        await assert_accessible(page)

        # First send with the date missing and nothing chosen: the server names each field.
        await tab_to(page, "Envoyer l'évaluation", limit=200)
        await page.keyboard.press("Enter")
        summary = page.get_by_role("alert")
        await expect(summary).to_be_focused()
        await expect(summary).to_contain_text("Date de la visite")
        await expect(summary).to_contain_text("Cohérence")
        await expect(page.locator("#erreur-COH")).to_have_text(
            re.compile(r"Ce champ est obligatoire"))

        visit = (datetime.now(timezone.utc) - timedelta(days=1)).date()
        date_input = page.get_by_label(re.compile(r"^Date de la visite"))
        await date_input.focus()
        await page.keyboard.type(visit.strftime("%d%m%Y"))
        if await date_input.input_value() != visit.isoformat():
            # Chromium lays the date field out in its own locale (month first in en-US).
            await date_input.focus()
            for _ in range(3):
                await page.keyboard.press("Shift+Tab")
            await page.keyboard.press("Tab")
            await page.keyboard.type(visit.strftime("%m%d%Y"))
        await expect(date_input).to_have_value(visit.isoformat())
        for code in ("COH", "ORI", "ALI", "ELI", "TRA", "DIN", "COM", "SUI", "TLI"):
            await choose(page, code, "A")
        for code in ("TOI", "HAB", "DEX", "GES", "CUI", "TRN", "ACH"):
            await choose(page, code, "B")
        await choose(page, "MEN", "C")
        await page.get_by_label(re.compile(r"^Conditions de vie")).focus()
        await page.keyboard.type("Vit seule, 2e étage sans ascenseur.")
        await page.get_by_label(re.compile(r"^Besoins")).focus()
        await page.keyboard.type("Aide à la toilette.")
        await page.get_by_label(re.compile(r"^Heures d'aide")).focus()
        await page.keyboard.type("12,5")
        await page.get_by_label("Prévention des chutes, équilibre").focus()
        await page.keyboard.press("Space")
        await tab_to(page, "Envoyer l'évaluation", limit=40)
        await page.keyboard.press("Enter")

        # (The page still on screen holds the first send's error summary until the answer
        # arrives: wait for the new page's heading rather than look at the old one.)
        await expect(page.get_by_role("heading", level=1)).to_have_text("Évaluation envoyée")
        status = page.get_by_role("status").filter(has_text="Évaluation reçue")
        await expect(status).to_have_text(re.compile(r"Évaluation reçue\s:\sGIR 4"))
        await expect(status).to_be_focused()
        stored = await Evaluation.get(order_id=order.id)
        assert stored.gir == 4 and stored.visited_on == visit
        assert stored.answers["preventionActions"] == ["chutes"]
        assert complaints == []
    finally:
        await context.close()
