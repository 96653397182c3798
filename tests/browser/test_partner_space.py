"""The partner's space in a real browser: sign-in, beneficiaries, isolation, accessibility."""
from __future__ import annotations

import re

import pytest
from playwright.async_api import Browser, Page, expect

from ppas.services.demo import DEMO_PASSWORD

pytestmark = pytest.mark.browser

MENU = ["Documentation", "Contact"]  # what an anonymous visitor can open
OWN_FILE_NUMBERS = {f"03000{10001 + i}" for i in range(40)}       # 0300010001..0300010040
OTHER_FILE_NUMBER = re.compile(r"03000200\d\d")                 # 0300020001..0300020008
FILE_NUMBER = re.compile(r"^03\d{8}$")


async def sign_in(page: Page, base_url: str, login: str, password: str = DEMO_PASSWORD) -> None:
    """Fill the sign-in form by its labels and submit it with the keyboard (Enter)."""
    await page.goto(base_url + "/connexion")
    await page.get_by_label("Identifiant", exact=True).fill(login)
    password_field = page.get_by_label("Mot de passe", exact=True)
    await password_field.fill(password)
    await password_field.press("Enter")


async def signed_in_page(browser: Browser, base_url: str, login: str) -> Page:
    """A page of a fresh, separate browser context, signed in as `login`."""
    context = await browser.new_context(viewport={"width": 1280, "height": 768}, locale="fr-FR")
    page = await context.new_page()
    await sign_in(page, base_url, login)
    await expect(page).to_have_url(base_url + "/espace")
    return page


async def file_numbers(page: Page) -> list[str]:
    """The file numbers shown in the beneficiaries table, as a user reads them."""
    cells = page.get_by_role("table").locator("tbody tr td:first-child")
    return [text.strip() for text in await cells.all_inner_texts()]


async def test_home_page_is_french_has_the_menu_and_is_accessible(page, live_server,
                                                                  assert_accessible):
    response = await page.goto(live_server + "/")
    assert response.status == 200
    await expect(page.locator("html")).to_have_attribute("lang", "fr")
    await expect(page.get_by_role("heading", level=1)).to_have_text(
        "Portail Partenaires Action Sociale")
    menu = page.get_by_role("navigation", name="Menu principal")
    await expect(menu.get_by_role("link")).to_have_text(MENU)
    await expect(page.get_by_role("link", name="Se connecter").first).to_be_visible()
    await assert_accessible()


async def test_keyboard_sign_in_lands_on_my_space(page, live_server, assert_accessible):
    await sign_in(page, live_server, "demoadmin")

    await expect(page).to_have_url(live_server + "/espace")
    await expect(page.get_by_role("heading", level=1)).to_have_text(
        "Mon espace — Aide et Domicile Provence")
    conventions = page.get_by_role("table", name="Conventions")
    await expect(conventions.get_by_role("cell", name="C03-0001", exact=True)).to_be_visible()
    # Only this provider's convention, never the other provider's.
    await expect(page.get_by_text("C03-0002")).to_have_count(0)
    header = page.get_by_role("banner")
    await expect(header).to_contain_text("Connecté : Claire FABRE (demoadmin)")
    await expect(header.get_by_role("button", name="Se déconnecter")).to_be_visible()
    await expect(page.get_by_role("navigation", name="Menu principal")
                 .get_by_role("link", name="Mon espace")).to_have_attribute("aria-current", "page")
    await assert_accessible()


async def test_beneficiaries_htmx_pagination_moves_url_content_and_focus(page, live_server,
                                                                        assert_accessible):
    await sign_in(page, live_server, "demoadmin")
    await expect(page).to_have_url(live_server + "/espace")
    await page.get_by_role("link", name="Voir les bénéficiaires et leurs prises en charge").click()

    await expect(page).to_have_url(live_server + "/beneficiaires")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Bénéficiaires")
    await expect(page.get_by_text("Page 1 sur 2.")).to_be_visible()
    first_page = await file_numbers(page)
    assert len(first_page) == 20
    assert set(first_page) <= OWN_FILE_NUMBERS, first_page

    # A marker that a full page load would wipe out: the swap must be htmx's, in place.
    await page.evaluate("window.__sameDocument = true")
    pagination = page.get_by_role("navigation", name="Pagination des bénéficiaires")
    await pagination.get_by_role("link", name="Page 2", exact=True).click()

    await expect(page).to_have_url(live_server + "/beneficiaires?page=2")
    await expect(page.get_by_text("Page 2 sur 2.")).to_be_visible()
    await expect(page.get_by_role("table")).to_have_accessible_name(
        "Bénéficiaires, page 2 sur 2")
    second_page = await file_numbers(page)
    assert len(second_page) == 20
    assert set(second_page) <= OWN_FILE_NUMBERS, second_page
    assert not set(first_page) & set(second_page), "page 2 shows the same people as page 1"
    assert set(first_page) | set(second_page) == OWN_FILE_NUMBERS
    assert await page.evaluate("window.__sameDocument === true"), "a full reload, not htmx"
    await expect(page).to_have_title("Bénéficiaires — page 2 — PPAS")
    await expect(page.get_by_role("heading", level=1)).to_be_focused()
    await expect(pagination.get_by_role("link", name="Page 2", exact=True)).to_have_attribute(
        "aria-current", "page")
    await assert_accessible()


async def test_other_providers_beneficiaries_stay_out_of_reach(browser, page, live_server):
    # Another provider's admin, in their own browser context, reads the address of one of theirs.
    other = await signed_in_page(browser, live_server, "autreadmin")
    try:
        await other.goto(live_server + "/beneficiaires")
        theirs = other.get_by_role("table").get_by_role("link", name="0300020003", exact=True)
        foreign_path = await theirs.get_attribute("href")
        await theirs.click()
        await expect(other.get_by_role("heading", level=1)).to_be_visible()
        foreign_name = (await other.get_by_role("heading", level=1).inner_text()).strip()
    finally:
        await other.context.close()
    assert re.fullmatch(r"/beneficiaires/[^/]+", foreign_path), foreign_path

    await sign_in(page, live_server, "demoadmin")
    await expect(page).to_have_url(live_server + "/espace")
    response = await page.goto(live_server + "/beneficiaires")
    assert response.status == 200
    pages = int(re.search(r"Page 1 sur (\d+)\.",
                          await page.get_by_role("main").inner_text()).group(1))
    assert pages >= 2
    seen: list[str] = []
    for number in range(1, pages + 1):
        response = await page.goto(f"{live_server}/beneficiaires?page={number}")
        assert response.status == 200
        await expect(page.get_by_text(f"Page {number} sur {pages}.")).to_be_visible()
        numbers = await file_numbers(page)
        assert all(FILE_NUMBER.match(n) for n in numbers), numbers
        text = await page.get_by_role("main").inner_text()
        assert not OTHER_FILE_NUMBER.search(text), f"page {number} lists {text}"
        seen += numbers
    assert sorted(seen) == sorted(OWN_FILE_NUMBERS)

    response = await page.goto(live_server + foreign_path)
    assert response.status == 404
    await expect(page.get_by_role("heading", level=1)).to_have_text("Page introuvable")
    await expect(page).to_have_title(re.compile("^Page introuvable"))
    main = page.get_by_role("main")
    await expect(main).not_to_contain_text("0300020003")
    await expect(main).not_to_contain_text(foreign_name)


async def test_wrong_credentials_show_a_french_alert_and_mark_the_field(page, live_server,
                                                                        assert_accessible):
    # An unknown login: no demo account collects failed attempts (nor gets locked).
    await sign_in(page, live_server, "inconnu", "pas-le-bon-mot-de-passe")

    await expect(page).to_have_url(live_server + "/connexion")
    alert = page.get_by_role("alert")
    await expect(alert).to_contain_text("Identifiant ou mot de passe incorrect, ou compte bloqué.")
    password_field = page.get_by_label("Mot de passe", exact=True)
    await expect(password_field).to_have_attribute("aria-invalid", "true")
    await expect(password_field).to_have_accessible_description(re.compile(
        "Identifiant ou mot de passe incorrect"))
    await expect(password_field).to_have_value("")
    await expect(page.get_by_label("Identifiant", exact=True)).to_have_value("inconnu")
    await expect(page.get_by_role("banner")).not_to_contain_text("Connecté")
    await assert_accessible()


async def test_sign_out_returns_to_the_sign_in_page(page, live_server, assert_accessible):
    await sign_in(page, live_server, "demoadmin")
    await expect(page).to_have_url(live_server + "/espace")

    await page.get_by_role("banner").get_by_role("button", name="Se déconnecter").click()

    await expect(page).to_have_url(live_server + "/connexion?deconnecte=1")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Connexion")
    await expect(page.get_by_role("status").filter(has_text="Vous êtes déconnecté")).to_be_visible()
    await expect(page.get_by_role("banner")).not_to_contain_text("Claire FABRE")
    await expect(page.get_by_label("Identifiant", exact=True)).to_be_visible()
    await assert_accessible()
    # The session really ended: the space asks to sign in again.
    await page.goto(live_server + "/espace")
    await expect(page).to_have_url(live_server + "/connexion?suivant=/espace")


async def test_graphiql_is_refused_to_a_partner_admin(page, live_server):
    await sign_in(page, live_server, "demoadmin")
    await expect(page).to_have_url(live_server + "/espace")

    response = await page.goto(live_server + "/graphql")

    assert response.status == 403
    await expect(page.locator("body")).to_contain_text(
        "L'explorateur GraphQL est réservé aux administrateurs de la caisse.")
    await expect(page).to_have_title("Accès refusé — PPAS")
    await expect(page.locator(".graphiql-container, #graphiql")).to_have_count(0)
