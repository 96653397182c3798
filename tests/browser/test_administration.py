"""A partner admin in a real browser: creates a user, creates an API token (shown once),
revokes it; the administration pages pass axe."""
from __future__ import annotations

import re
import secrets

import pytest
from playwright.async_api import Page, expect

from ppas.models import User

pytestmark = pytest.mark.browser

PASSWORD = "Secret2026"


async def sign_in(page: Page, base_url: str, login: str) -> None:
    await page.goto(base_url + "/connexion")
    await page.get_by_label("Identifiant", exact=True).fill(login)
    field = page.get_by_label("Mot de passe", exact=True)
    await field.fill(PASSWORD)
    await field.press("Enter")
    await expect(page).to_have_url(base_url + "/espace")


async def test_admin_creates_a_user_and_a_token_then_revokes_it(page, live_server, make_user,
                                                                 assert_accessible):
    admin = await make_user(password=PASSWORD, role="partner_admin")
    await sign_in(page, live_server, admin.login)

    await page.get_by_role("banner").get_by_role("link", name="Administration").click()
    await expect(page).to_have_url(live_server + "/administration")
    await expect(page.get_by_role("heading", level=1)).to_have_text(
        "Administration — Aide et Domicile Provence")
    await assert_accessible()

    # --- a new user -----------------------------------------------------------------------
    admin_nav = page.get_by_role("navigation", name="Administration")
    await admin_nav.get_by_role("link", name="Utilisateurs").click()
    await expect(page.get_by_role("table")).to_contain_text("demouser")
    await assert_accessible()
    await page.get_by_role("link", name="Créer un utilisateur").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Créer un utilisateur")

    login_field = page.get_by_label("Identifiant (obligatoire)")
    await login_field.fill("zoé")
    await page.get_by_role("button", name="Créer le compte").click()
    alert = page.get_by_role("alert")
    await expect(alert).to_contain_text("Le caractère « é » n'est pas autorisé")
    await expect(login_field).to_have_attribute("aria-invalid", "true")
    await expect(login_field).to_have_accessible_description(re.compile("« é »"))
    await assert_accessible()

    login = f"zoe{secrets.token_hex(3)}"
    await login_field.fill(login)
    await page.get_by_label("Nom (obligatoire)", exact=True).fill("Roux")
    await page.get_by_label("Prénom (obligatoire)").fill("Zoé")
    await page.get_by_label("Courriel (obligatoire)").fill(f"{login}@essai.invalid")
    await page.get_by_role("radio", name="Évaluateur").check()
    await page.get_by_role("button", name="Créer le compte").press("Enter")

    await expect(page).to_have_url(re.compile(r"/administration/utilisateurs\?fait=cree"))
    await expect(page.get_by_role("status").filter(has_text=f"Le compte {login} est créé")
                 ).to_be_visible()
    row = page.get_by_role("row").filter(has_text=login)
    await expect(row).to_contain_text("Évaluateur")
    await expect(row).to_contain_text("Actif")

    # Deactivating asks first (keyboard: Enter on the link, Enter on the confirmation), then
    # the list says it and the stored account is off.
    await row.get_by_role("link", name=f"Désactiver le compte {login}").press("Enter")
    await expect(page.get_by_role("heading", level=1)).to_contain_text(f"({login})")
    await assert_accessible()
    await page.get_by_role("button", name="Confirmer la désactivation").press("Enter")
    await expect(page.get_by_role("status").filter(has_text=f"Le compte {login} est désactivé")
                 ).to_be_focused()
    assert not (await User.get(login=login)).active

    # --- an API token, shown once ------------------------------------------------------------
    await admin_nav.get_by_role("link", name="Jetons d'API").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Jetons d'API")
    await assert_accessible()
    await page.get_by_label("Nom du jeton (obligatoire)").fill("Facturo navigateur")
    await page.get_by_role("button", name="Créer le jeton").click()

    token_field = page.get_by_label("Jeton d'API (lecture seule)")
    await expect(token_field).to_have_value(re.compile(r"^ppas_[A-Za-z0-9_-]{40,}$"))
    await expect(token_field).to_have_attribute("readonly", "")
    await expect(token_field).to_have_accessible_description(
        re.compile("il ne sera plus jamais affiché"))
    await expect(page.get_by_role("button", name="Copier le jeton")).to_be_visible()
    secret = await token_field.input_value()
    await assert_accessible()

    await page.goto(live_server + "/administration/jetons")
    await expect(page.get_by_label("Jeton d'API (lecture seule)")).to_have_count(0)
    assert secret not in await page.content()
    row = page.get_by_role("row").filter(has_text="Facturo navigateur")
    await expect(row).to_contain_text("Actif")
    await expect(row).to_contain_text("jamais")

    # --- revoked after a confirmation -------------------------------------------------------
    await row.get_by_role("link", name="Révoquer le jeton Facturo navigateur").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text(
        "Révoquer le jeton « Facturo navigateur » ?")
    await assert_accessible()
    await page.get_by_role("button", name="Révoquer définitivement").click()
    await expect(page.get_by_role("status").filter(has_text="Le jeton est révoqué")
                 ).to_be_visible()
    await expect(page.get_by_role("row").filter(has_text="Facturo navigateur")
                 ).to_contain_text("Révoqué le")

    response = await page.request.post(live_server + "/graphql",
                                       data={"query": "{ partner { name } }"},
                                       headers={"Authorization": f"Bearer {secret}"})
    # A revoked token is refused outright (401), not served as anonymous.
    assert response.status == 401 and "data" not in await response.json()


async def test_partner_data_and_conventions_pages_are_accessible(page, live_server, make_user,
                                                                 assert_accessible):
    admin = await make_user(password=PASSWORD, role="partner_admin")
    await sign_in(page, live_server, admin.login)
    await page.goto(live_server + "/administration/partenaire")
    await expect(page.get_by_label("Raison sociale (obligatoire)")).to_have_value(
        "Aide et Domicile Provence")
    await expect(page.get_by_text("21231300 (attribué par la caisse, non modifiable)")
                 ).to_be_visible()
    await assert_accessible()
    await page.goto(live_server + "/administration/conventions")
    await expect(page.get_by_role("table", name="Conventions de la structure")
                 ).to_contain_text("C03-0001")
    await expect(page.get_by_label("Code prestation (obligatoire)")).to_be_visible()
    await assert_accessible()


async def test_a_partner_user_sees_no_administration(page, live_server, make_user):
    plain = await make_user(password=PASSWORD, role="partner_user")
    await sign_in(page, live_server, plain.login)
    await expect(page.get_by_role("banner").get_by_role("link", name="Administration")
                 ).to_have_count(0)
    response = await page.goto(live_server + "/administration/utilisateurs")
    assert response.status == 403
