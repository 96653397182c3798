"""The whole journey in a real browser: conditions, keyboard form, ALTCHA under our CSP, the
caisse agent validates in the back office, the e-mail (read from a real SMTP server) gives a
temporary password, which forces the change; the new password then signs in."""
from __future__ import annotations

import re
import uuid
from dataclasses import replace
from datetime import datetime, timezone

import pytest
from playwright.async_api import Browser, Page, expect

from ppas.models import Convention, Registration, RegistrationStatus, User
from ppas.services.demo import DEMO_PASSWORD
from ppas.services.mail_sender import deliver_pending

pytestmark = pytest.mark.browser


def watch_console(page: Page) -> list[str]:
    """Collect console errors and page errors (a CSP refusal shows up here)."""
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    return problems


@pytest.fixture
def convention(fresh_convention) -> Convention:
    return fresh_convention


async def type_and_tab(page: Page, text: str) -> None:
    await page.keyboard.type(text)
    await page.keyboard.press("Tab")


async def test_register_then_validation_then_mail_then_forced_change_then_sign_in(
        browser: Browser, page: Page, live_server, convention, assert_accessible,
        settings, smtp_server):
    problems = watch_console(page)
    login = f"ssadmin{uuid.uuid4().hex[:6]}"
    email = f"{login}@example.org"

    await page.goto(live_server + "/")
    await page.get_by_role("link", name="Vous n'êtes pas encore inscrit ?").click()
    await expect(page).to_have_url(live_server + "/inscription")
    await expect(page.get_by_role("heading", name="Conditions générales d'utilisation du portail")
                 ).to_be_visible()
    await assert_accessible()

    # Going on without ticking the box is refused, with the box marked.
    await page.get_by_role("button", name="Poursuivre la préinscription").press("Enter")
    await expect(page.get_by_role("alert")).to_contain_text("Cochez la case « J'accepte »")
    box = page.get_by_label("J'accepte les conditions générales d'utilisation")
    await expect(box).to_have_attribute("aria-invalid", "true")
    await assert_accessible()
    await box.focus()
    await page.keyboard.press("Space")
    await expect(box).to_be_checked()
    await page.keyboard.press("Tab")
    await page.keyboard.press("Enter")

    await expect(page).to_have_url(live_server + "/inscription/formulaire")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Préinscription")
    await expect(page.get_by_role("group", name="Informations partenaire")).to_be_visible()
    # The widget solves its proof of work by itself, in workers, under script-src 'self'.
    await expect(page.locator("altcha-widget [data-state]")).to_have_attribute(
        "data-state", "verified", timeout=30_000)
    await expect(page.locator("input[name=captcha]")).not_to_have_value("")
    await assert_accessible()

    await page.get_by_label("Code caisse").focus()
    for text in ["03", convention.number, convention.partner.structure_id,
                 convention.partner.name, "ROCHE", "Émilie", email, "04 42 00 11 22", login,
                 "15 cours Mirabeau", "13100"]:
        await type_and_tab(page, text)
    await expect(page.get_by_label("Commune")).to_be_focused()
    await page.keyboard.type("Aix-en-Provence")
    await page.keyboard.press("Enter")

    await expect(page).to_have_url(live_server + "/inscription/terminee")
    await expect(page.get_by_role("status")).to_contain_text(re.compile(r"sous la référence\s+PRE-03-\d{6}"))
    await expect(page.get_by_role("main")).to_contain_text(login)
    await expect(page.get_by_role("heading", level=1)).to_have_text(
        "Votre préinscription est terminée")
    await expect(page.get_by_role("status").filter(has_text="transmise à votre caisse")
                 ).to_be_visible()
    csp = [p for p in problems if "Content Security Policy" in p or "Refused" in p]
    assert not csp, csp
    registration = await Registration.get(admin_login=login)
    assert registration.status == RegistrationStatus.PENDING

    # The caisse agent, in their own browser, compares and validates.
    context = await browser.new_context(viewport={"width": 1280, "height": 768}, locale="fr-FR")
    agent = await context.new_page()
    try:
        await agent.goto(live_server + "/connexion")
        await agent.get_by_label("Identifiant", exact=True).fill("caisseagent")
        password = agent.get_by_label("Mot de passe", exact=True)
        await password.fill(DEMO_PASSWORD)
        await password.press("Enter")
        await expect(agent).to_have_url(live_server + "/espace")
        await expect(agent.get_by_role("main")).to_contain_text(
            re.compile(r"Préinscriptions\s:\s+\d+ préinscriptions? à traiter"))
        await agent.get_by_role("navigation", name="Menu principal").get_by_role(
            "link", name="Préinscriptions").click()
        await expect(agent).to_have_url(live_server + "/caisse/inscriptions")
        article = agent.get_by_role("article", name=re.compile(re.escape(convention.number)))
        await expect(article.get_by_role("table")).to_contain_text(convention.partner.structure_id)
        await expect(article).to_contain_text(login)
        await assert_accessible(agent)
        await article.get_by_role("button", name="Valider").click()
        await expect(agent.get_by_role("status").filter(
            has_text=f"le compte « {login} » est créé")).to_be_visible()
        await expect(agent.get_by_role("article", name=re.compile(re.escape(convention.number)))
                     ).to_have_count(0)
    finally:
        await context.close()
    admin = await User.get(login=login)
    assert admin.partner_id == convention.partner_id and admin.must_change_password

    # The e-mail, delivered to the real SMTP server, carries the temporary password.
    box, port = smtp_server
    await deliver_pending(replace(settings, smtp_host="127.0.0.1", smtp_port=port),
                          datetime.now(timezone.utc))
    [mail] = box.to(email)
    assert mail["Subject"] == "PPAS — votre préinscription est validée"
    text = mail.get_content()
    assert f"Identifiant : {login}" in text
    temporary = re.search(r"Mot de passe provisoire : (\S+)", text).group(1)

    # First sign-in with it: the change page, and nothing else, until it is changed.
    await page.goto(live_server + "/connexion")
    await page.get_by_label("Identifiant", exact=True).fill(login)
    await page.get_by_label("Mot de passe", exact=True).fill(temporary)
    await page.get_by_label("Mot de passe", exact=True).press("Enter")
    await expect(page).to_have_url(live_server + "/mot-de-passe/nouveau")
    # The account is known: only the passwords are asked, and no sign-in follows.
    await page.get_by_label("Ancien mot de passe", exact=True).fill(temporary)
    await page.get_by_label("Nouveau mot de passe", exact=True).fill("Premier2026")
    await page.get_by_label("Confirmer", exact=True).fill("Premier2026")
    await page.get_by_label("Confirmer", exact=True).press("Enter")
    done = page.get_by_role("status").filter(has_text="Votre nouveau mot de passe est enregistré")
    await expect(done).to_be_focused()
    await done.get_by_role("link", name="Retour à mon espace").click()
    await expect(page).to_have_url(live_server + "/espace")
    await expect(page.get_by_role("heading", level=1)).to_contain_text(convention.partner.name)
    await expect(page.get_by_role("link", name="Administration")).to_be_visible()
