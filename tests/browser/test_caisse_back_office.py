"""The caisse's back office in a browser, by keyboard: an agent creates a beneficiary and a
care plan, notifies it, and the partner finds the beneficiary on its online form."""
from __future__ import annotations

import re
import secrets
from datetime import datetime, timezone

import pytest
from playwright.async_api import Page, expect

from ppas.domain.periods import current_period
from ppas.models import Beneficiary, CarePlan
from tests.billing_form_support import PASSWORD, make_provider
from tests.browser_support import recording_page, sign_in_demo

pytestmark = pytest.mark.browser

LAST_MONTH = current_period(datetime.now(timezone.utc)).previous()


async def type_into(page: Page, label: str, text: str) -> None:
    """Tab-free typing: focus the labelled field, then type as a person would."""
    await page.get_by_label(label, exact=True).focus()
    await page.keyboard.type(text)


async def test_an_agent_notifies_a_plan_and_the_partner_sees_it_on_its_form(
        browser, live_server, assert_accessible):
    provider = await make_provider(0)
    number = f"03{secrets.randbelow(10**8):08d}"
    name = f"CLAVIER{secrets.token_hex(2).upper()}"
    context = await browser.new_context(viewport={"width": 1280, "height": 768}, locale="fr-FR")
    page, complaints = await recording_page(context)
    await sign_in_demo(page, live_server, "caisseagent")

    menu = page.get_by_role("navigation", name="Menu principal")
    await menu.get_by_role("link", name="Bénéficiaires et prises en charge").focus()
    await page.keyboard.press("Enter")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Bénéficiaires de la caisse")
    await page.get_by_role("link", name="Nouveau bénéficiaire").focus()
    await page.keyboard.press("Enter")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Nouveau bénéficiaire")
    # A wrong number first: the summary takes focus and names the field to fix.
    await type_into(page, "N° de dossier (obligatoire)", "12345")
    await type_into(page, "Nom (obligatoire)", name)
    await type_into(page, "Prénom (obligatoire)", "Odile")
    await page.keyboard.press("Enter")
    summary = page.locator("#erreurs")
    await expect(summary).to_be_focused()
    await expect(summary).to_contain_text("10 chiffres")
    await assert_accessible(page)
    await page.get_by_label("N° de dossier (obligatoire)", exact=True).fill("")
    await type_into(page, "N° de dossier (obligatoire)", number)
    await type_into(page, "Date de naissance", "03/04/1939")
    await page.keyboard.press("Enter")
    notice = page.get_by_role("status").filter(has_text="Le bénéficiaire est enregistré")
    await expect(notice).to_be_focused()
    await expect(page.get_by_role("heading", level=1)).to_have_text(f"{name} Odile")

    await page.get_by_role("link", name="Ajouter une prise en charge").focus()
    await page.keyboard.press("Enter")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Nouvelle prise en charge")
    await page.get_by_label("Convention (obligatoire)").focus()
    await page.keyboard.type(provider.partner.name)  # the select's type-ahead
    await expect(page.get_by_label("Convention (obligatoire)")).to_have_value(
        str(provider.convention.id))
    await type_into(page, "Heures par mois (obligatoire)", "14,5")
    await type_into(page, "Participation du bénéficiaire (€ par heure) (obligatoire)", "2,10")
    await type_into(page, "Date de début (obligatoire)",
                    LAST_MONTH.plus_months(-2).first_day.strftime("%d/%m/%Y"))
    await page.keyboard.press("Enter")
    await expect(page.get_by_role("status")).to_contain_text("non notifiée")
    await assert_accessible(page)
    plan = await CarePlan.get(beneficiary__file_number=number, beneficiary__caisse__code="03")
    assert plan.notified_at is None

    notify = page.get_by_role("link", name=re.compile(f"^Notifier la prise en charge "
                                                      f"{provider.convention.number}"))
    await notify.focus()
    await page.keyboard.press("Enter")
    # A confirmation page first: notifying makes the plan billable, for good.
    await expect(page.get_by_role("heading", level=1)).to_contain_text(
        "Notifier la prise en charge")
    await expect(page.get_by_role("main")).to_contain_text("facturables")
    await assert_accessible(page)
    await page.get_by_role("button", name="Confirmer la notification").focus()
    await page.keyboard.press("Enter")
    await expect(page.get_by_role("status")).to_contain_text("La prise en charge est notifiée")
    await expect(page.get_by_role("status")).to_be_focused()
    await expect(page.locator(f"#pec-{plan.id}")).to_contain_text("notifiée le")
    await plan.refresh_from_db()
    assert plan.notified_at is not None
    assert complaints == []
    await context.close()

    # The partner opens last month's form: the new beneficiary is one of its lines.
    context = await browser.new_context(viewport={"width": 1280, "height": 768}, locale="fr-FR")
    page = await context.new_page()
    await page.goto(live_server + "/connexion")
    await page.get_by_label("Identifiant", exact=True).fill(provider.login)
    await page.get_by_label("Mot de passe", exact=True).fill(PASSWORD)
    await page.get_by_label("Mot de passe", exact=True).press("Enter")
    await page.goto(live_server + "/facturation")
    opener = page.get_by_role("button", name=re.compile(
        f"Ouvrir le formulaire de {LAST_MONTH.label_fr} \\({provider.convention.number}\\)"))
    await opener.focus()
    await page.keyboard.press("Enter")
    await expect(page.get_by_role("heading", level=1)).to_have_text(
        f"Formulaire de facturation — {LAST_MONTH.label_fr}")
    await expect(page.get_by_text(re.compile(name)).first).to_be_visible()
    assert await Beneficiary.filter(file_number=number, last_name=name).exists()
    await context.close()
