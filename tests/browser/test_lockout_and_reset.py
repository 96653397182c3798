"""In a real browser: 3 wrong passwords lock the account; « Mot de passe oublié » e-mails a
temporary password (read from a real SMTP server); it forces the change; the new one works."""
from __future__ import annotations

import re
from dataclasses import replace
from datetime import datetime, timezone

import pytest
from playwright.async_api import Page, expect

from ppas.models import User
from ppas.services.mail_sender import deliver_pending

pytestmark = pytest.mark.browser


async def submit_sign_in(page: Page, base_url: str, login: str, password: str) -> None:
    await page.goto(base_url + "/connexion")
    await page.get_by_label("Identifiant", exact=True).fill(login)
    field = page.get_by_label("Mot de passe", exact=True)
    await field.fill(password)
    await field.press("Enter")


async def test_lockout_then_reset_by_mail_then_forced_change(page, live_server, make_user,
                                                            settings, smtp_server,
                                                            assert_accessible):
    box, port = smtp_server
    user = await make_user("Secret2026")
    address = f"{user.login}@example.org"
    await User.filter(id=user.id).update(email=address)

    # Three wrong passwords through the page: the third locks the account.
    for attempt in range(3):
        await submit_sign_in(page, live_server, user.login, f"Faux{attempt}2026")
    # The answer is the one an unknown login gets (no account enumeration), and says the way out.
    alert = page.get_by_role("alert")
    await expect(alert).to_contain_text("Identifiant ou mot de passe incorrect, ou compte bloqué")
    # Even the right password is refused now.
    await submit_sign_in(page, live_server, user.login, "Secret2026")
    await expect(page.get_by_role("alert")).to_contain_text("ou compte bloqué")
    await expect(page.get_by_role("banner")).not_to_contain_text("Connecté")
    await page.get_by_role("alert").get_by_role("link", name=re.compile("Mot de passe oublié")).click()

    await expect(page).to_have_url(live_server + "/mot-de-passe-oublie")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Mot de passe oublié")
    await assert_accessible()
    await page.get_by_label("Identifiant", exact=True).fill(user.login)
    email_field = page.get_by_label("Adresse électronique", exact=True)
    await email_field.fill(address.upper())
    await email_field.press("Enter")
    status = page.get_by_role("status").filter(has_text="mot de passe temporaire")
    await expect(status).to_be_visible()
    await assert_accessible()

    # The outbox, delivered to the real SMTP server the test runs.
    await deliver_pending(replace(settings, smtp_host="127.0.0.1", smtp_port=port),
                          datetime.now(timezone.utc))
    [mail] = box.to(address)
    temporary = re.search(r"Mot de passe temporaire : (\S+)", mail.get_content()).group(1)

    await submit_sign_in(page, live_server, user.login, temporary)
    await expect(page).to_have_url(live_server + "/mot-de-passe/nouveau")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Nouveau mot de passe")
    await assert_accessible()
    # Every other page leads back here until the password is changed.
    await page.goto(live_server + "/beneficiaires")
    await expect(page).to_have_url(live_server + "/mot-de-passe/nouveau")

    # A first try that breaks a rule: the alert says what to fix, the field is marked.
    await expect(page.get_by_role("main")).to_contain_text(f"Compte : {user.login}")
    await page.get_by_label("Ancien mot de passe", exact=True).fill(temporary)
    await page.get_by_label("Nouveau mot de passe", exact=True).fill("SansChiffre")
    await page.get_by_label("Confirmer", exact=True).fill("SansChiffre")
    await page.get_by_role("button", name="Enregistrer le nouveau mot de passe").click()
    await expect(page.get_by_role("alert")).to_contain_text(
        "Le mot de passe doit contenir au moins un chiffre (0 à 9).")
    new_field = page.get_by_label("Nouveau mot de passe", exact=True)
    await expect(new_field).to_have_attribute("aria-invalid", "true")
    await assert_accessible()

    await page.get_by_label("Ancien mot de passe", exact=True).fill(temporary)
    await new_field.fill("Choisi2026x")
    await page.get_by_label("Confirmer", exact=True).fill("Choisi2026x")
    await page.get_by_label("Confirmer", exact=True).press("Enter")

    # Changed: still signed in, the portal open again; the new password signs in later.
    await expect(page.get_by_role("status").filter(
        has_text="Votre nouveau mot de passe est enregistré")).to_be_focused()
    await expect(page.get_by_role("banner")).to_contain_text(f"({user.login})")
    await page.get_by_role("button", name="Se déconnecter").click()
    await submit_sign_in(page, live_server, user.login, "Choisi2026x")
    await expect(page).to_have_url(live_server + "/espace")
