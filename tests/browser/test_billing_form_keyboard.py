"""The online form typed the way an office really types: keyboard only, Enter, a session that
ends with hours on the page, a network that drops. Each test reads the stored values back.

Each test owns a fresh provider (tests/billing_form_support.py) with a Sunday rate, so every
line has two fields: « Heures en semaine » and « Heures dimanches et fériés ».
"""
from __future__ import annotations

import re
from pathlib import Path
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest
from playwright.async_api import Page, expect

from ppas.domain.periods import current_period
from ppas.models import BillingForm, FormLine, Session
from tests.billing_form_support import PASSWORD, make_provider

pytestmark = pytest.mark.browser

# Screenshots a reader of the issue can look at; `make test` keeps the folder (var/ is ignored).
SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"
SCREENSHOTS.mkdir(parents=True, exist_ok=True)

LAST_MONTH = current_period(datetime.now(timezone.utc)).previous()


async def sign_in(page: Page, base_url: str, login: str) -> None:
    await page.goto(base_url + "/connexion")
    await page.get_by_label("Identifiant", exact=True).fill(login)
    await page.get_by_label("Mot de passe", exact=True).fill(PASSWORD)
    await page.get_by_label("Mot de passe", exact=True).press("Enter")
    await expect(page).to_have_url(base_url + "/espace")


async def open_form(page: Page, base_url: str, plan_count: int = 4) -> tuple[object, list[FormLine]]:
    provider = await make_provider(plan_count)
    await sign_in(page, base_url, provider.login)
    await page.goto(base_url + "/facturation")
    await page.get_by_role("button", name=re.compile(
        f"Ouvrir le formulaire de {LAST_MONTH.label_fr} \\({provider.convention.number}\\)")).click()
    await expect(page.get_by_role("heading", level=1)).to_have_text(
        f"Formulaire de facturation — {LAST_MONTH.label_fr}")
    form = await BillingForm.get(convention_id=provider.convention.id)
    return provider, await FormLine.filter(form_id=form.id).order_by("position")


def weekday(page: Page, position: int):
    return page.get_by_label(re.compile(f"^Heures en semaine — ligne {position},"))


def sunday(page: Page, position: int):
    return page.get_by_label(re.compile(f"^Heures dimanches et fériés — ligne {position},"))


async def stored(line: FormLine) -> tuple[Decimal | None, Decimal | None, bool]:
    row = await FormLine.get(id=line.id)
    return row.hours, row.sunday_hours, row.crossed_out


async def test_keyboard_only_fill_keeps_focus_where_the_user_types(page, live_server,
                                                                    assert_accessible):
    _, lines = await open_form(page, live_server)
    await weekday(page, 1).focus()
    top = await page.evaluate("window.scrollY")

    await page.keyboard.type("3")
    await page.keyboard.press("Tab")
    await expect(page.locator(f"#etat-{lines[0].id}")).to_contain_text("Enregistré à")
    # The save answered: focus and scroll stay with the user (they used to jump to the title).
    await page.wait_for_timeout(300)  # htmx settles 20 ms after the swap; leave it ample room
    await expect(sunday(page, 1)).to_be_focused()
    assert await page.evaluate("window.scrollY") == top

    await page.keyboard.press("Tab")  # line 1's « − »
    await expect(page.get_by_role("button", name=re.compile("^Barrer la ligne 1 "))).to_be_focused()
    await page.keyboard.press("Tab")
    await expect(weekday(page, 2)).to_be_focused()
    await page.keyboard.type("5")
    await page.keyboard.press("Enter")  # saves and moves down the column; never crosses out
    await expect(weekday(page, 3)).to_be_focused()
    await expect(page.locator(f"#etat-{lines[1].id}")).to_contain_text("Enregistré à")
    await page.keyboard.type("2")
    await page.keyboard.press("Tab")
    await page.keyboard.type("1,5")
    await page.keyboard.press("Enter")
    await expect(sunday(page, 4)).to_be_focused()
    await expect(page.locator(f"#etat-{lines[2].id}")).to_contain_text("Enregistré à")
    await page.wait_for_timeout(300)
    await expect(sunday(page, 4)).to_be_focused()

    assert await stored(lines[0]) == (Decimal("3.00"), None, False)
    assert await stored(lines[1]) == (Decimal("5.00"), None, False)
    assert await stored(lines[2]) == (Decimal("2.00"), Decimal("1.50"), False)
    assert await stored(lines[3]) == (None, None, False)
    # The totals add Sunday hours on top of the weekday hours.
    totals = page.locator("#totaux")
    await expect(totals).to_contain_text(re.compile(r"10\sh en semaine \+ 1,5\sh dimanches et fériés"))
    await expect(page.locator("#total-formulaire-heures")).to_have_text(re.compile(r"11,5\sh"))
    await assert_accessible()


async def test_enter_on_the_last_field_of_the_column_goes_to_save(page, live_server):
    _, lines = await open_form(page, live_server, plan_count=2)
    await weekday(page, 2).focus()
    await page.keyboard.type("4")
    await page.keyboard.press("Enter")
    await expect(page.get_by_role("button", name="Enregistrer", exact=True)).to_be_focused()
    await expect(page.locator(f"#etat-{lines[1].id}")).to_contain_text("Enregistré à")
    await page.keyboard.press("Enter")  # « Enregistrer »: the message takes focus
    await expect(page.get_by_role("status").filter(has_text="2 lignes enregistrées")).to_be_focused()
    assert [await stored(line) for line in lines] == [(None, None, False),
                                                      (Decimal("4.00"), None, False)]


async def test_without_javascript_enter_in_a_field_saves_the_page(browser, live_server):
    context = await browser.new_context(java_script_enabled=False, viewport={"width": 1280, "height": 768})
    page = await context.new_page()
    try:
        _, lines = await open_form(page, live_server, plan_count=3)
        await weekday(page, 2).fill("7")
        await weekday(page, 2).press("Enter")
        await expect(weekday(page, 2)).to_have_value("7")
        assert [await stored(line) for line in lines] == [
            (None, None, False), (Decimal("7.00"), None, False), (None, None, False)]
    finally:
        await context.close()


async def test_crossing_out_by_keyboard_offers_to_undo_at_once(page, live_server,
                                                               assert_accessible):
    _, lines = await open_form(page, live_server, plan_count=3)
    cross = page.get_by_role("button", name=re.compile("^Barrer la ligne 2 "))
    await cross.focus()
    await page.keyboard.press("Enter")
    undo = page.get_by_role("button", name=re.compile("^Annuler : rétablir la ligne 2 "))
    await expect(undo).to_be_focused()
    await expect(page.get_by_role("status").filter(has_text="Ligne 2 barrée")).to_contain_text(
        "ne sera plus proposée les mois suivants")
    assert (await stored(lines[1]))[2] is True
    await assert_accessible()
    await page.keyboard.press("Enter")
    await expect(page.get_by_role("button", name=re.compile("^Barrer la ligne 2 "))).to_be_focused()
    assert (await stored(lines[1]))[2] is False


async def test_an_expired_session_keeps_the_typed_hours_and_saves_them_after_signing_in_again(
        page, live_server, assert_accessible):
    provider, lines = await open_form(page, live_server)
    await weekday(page, 1).fill("6")
    await weekday(page, 1).press("Tab")
    await expect(page.locator(f"#etat-{lines[0].id}")).to_contain_text("Enregistré à")

    # The session times out while the page stays open (30 minutes without a request).
    await Session.filter(user_id=provider.user.id).update(
        last_seen_at=datetime.now(timezone.utc) - timedelta(hours=1))
    await weekday(page, 2).fill("7")
    await weekday(page, 2).press("Tab")
    await expect(page.locator(f"#etat-{lines[1].id}")).to_contain_text("session expirée")
    alert = page.locator("#alerte-enregistrement")
    await expect(alert).to_have_attribute("role", "alert")
    await expect(alert).to_contain_text("votre session a expiré")
    await expect(alert).to_be_in_viewport()
    await page.get_by_role("button", name="Enregistrer", exact=True).click()  # fails too
    await expect(page.locator(f"#etat-{lines[2].id}")).to_contain_text("session expirée")
    await expect(weekday(page, 2)).to_have_value("7")  # what was typed stays on the page
    await expect(weekday(page, 1)).to_have_value("6")
    assert await stored(lines[1]) == (None, None, False)
    await assert_accessible()

    # Sign in again in a new tab: the first tab then sends what it kept.
    async with page.context.expect_page() as tab_info:
        await alert.get_by_role("link", name="Se reconnecter (nouvel onglet)").click()
    tab = await tab_info.value
    await tab.get_by_label("Identifiant", exact=True).fill(provider.login)
    await tab.get_by_label("Mot de passe", exact=True).fill(PASSWORD)
    await tab.get_by_label("Mot de passe", exact=True).press("Enter")
    await expect(tab.get_by_role("heading", level=1)).to_have_text("Vous êtes de nouveau connecté")
    await expect(page.locator(f"#etat-{lines[1].id}")).to_contain_text("Enregistré à")
    await expect(alert).to_be_empty()
    assert await stored(lines[1]) == (Decimal("7.00"), None, False)
    assert await stored(lines[0]) == (Decimal("6.00"), None, False)


async def test_a_lost_network_marks_the_line_unsaved_and_sends_it_when_back(page, live_server):
    _, lines = await open_form(page, live_server, plan_count=2)
    await page.context.set_offline(True)
    await weekday(page, 1).fill("2,5")
    await weekday(page, 1).press("Tab")
    await expect(page.locator(f"#etat-{lines[0].id}")).to_contain_text("non enregistré",
                                                                         ignore_case=True)
    await expect(page.locator("#alerte-enregistrement")).to_contain_text("connexion")
    assert await stored(lines[0]) == (None, None, False)
    await page.context.set_offline(False)
    await expect(page.locator(f"#etat-{lines[0].id}")).to_contain_text("Enregistré à")
    await expect(page.locator("#alerte-enregistrement")).to_be_empty()
    assert await stored(lines[0]) == (Decimal("2.50"), None, False)


async def test_at_1280x768_the_form_shows_8_lines_with_headers_and_totals_in_view(page, live_server):
    _, lines = await open_form(page, live_server, plan_count=25)
    # Lines wholly on screen at load, above the totals bar stuck to the bottom.
    visible = await page.evaluate("""() => {
        const floor = document.querySelector('.bf-footer').getBoundingClientRect().top;
        return [...document.querySelectorAll('#formulaire tbody tr:not([hidden])')]
          .filter(row => { const box = row.getBoundingClientRect(); return box.top >= 0 && box.bottom <= floor; })
          .length; }""")
    assert visible >= 8, f"only {visible} lines of the form are visible without scrolling"
    await page.screenshot(path=str(SCREENSHOTS / "formulaire-en-ligne.png"))
    # Scrolled down to line 18: the column headers and the totals stay on screen.
    await weekday(page, 18).focus()
    header = page.get_by_role("columnheader", name=re.compile("^Heures en semaine"))
    await expect(header).to_be_in_viewport()
    await expect(page.locator("#totaux")).to_be_in_viewport()
    # A status appearing moves nothing; an error adds one line under its own line only.
    above, below = page.locator(f"#ligne-{lines[15].id}"), page.locator(f"#ligne-{lines[17].id}")
    field_below = weekday(page, 18)
    before = [await above.bounding_box(), await below.bounding_box(), await field_below.bounding_box()]
    await weekday(page, 17).fill("2")
    await weekday(page, 17).press("Tab")
    await expect(page.locator(f"#etat-{lines[16].id}")).to_contain_text("Enregistré à")
    saved = [await above.bounding_box(), await below.bounding_box(), await field_below.bounding_box()]
    assert saved == before
    await weekday(page, 17).fill("999")
    await weekday(page, 17).press("Tab")
    await expect(page.get_by_role("alert").filter(has_text="Ligne 17 :")).to_be_visible()
    after = [await above.bounding_box(), await below.bounding_box(), await field_below.bounding_box()]
    assert after[0] == before[0] and after[2]["x"] == before[2]["x"]
    assert 0 < after[1]["y"] - before[1]["y"] <= 40, (before[1], after[1])
    await expect(weekday(page, 17)).to_have_attribute("aria-invalid", "true")


async def test_a_cross_out_lost_with_the_network_says_so_and_is_sent_when_back(page, live_server):
    _, lines = await open_form(page, live_server, plan_count=2)
    await page.context.set_offline(True)
    await page.get_by_role("button", name=re.compile("^Barrer la ligne 2 ")).click()
    await expect(page.locator(f"#etat-{lines[1].id}")).to_contain_text("hors connexion")
    await expect(page.locator("#alerte-enregistrement")).to_contain_text("connexion")
    assert (await stored(lines[1]))[2] is False
    await page.context.set_offline(False)
    await expect(page.get_by_role("button", name=re.compile("^Annuler : rétablir la ligne 2 "))
                 ).to_be_visible()
    await expect(page.locator("#alerte-enregistrement")).to_be_empty()
    assert (await stored(lines[1]))[2] is True
