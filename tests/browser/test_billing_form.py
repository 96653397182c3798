"""The online billing form in a real browser, on the demo convention C03-0001 (40 care plans).

« Clock moved to the next day »: the live server runs on the system clock, so the test moves
the validation instant one Paris day back in the database (the page then sees the next day),
and checks the service with a FixedClock one day later.
"""
from __future__ import annotations

import io
import re
from datetime import datetime, timedelta, timezone

import pytest
from playwright.async_api import Page, expect
from pypdf import PdfReader

from ppas.domain.amounts import format_euros
from ppas.domain.clock import FixedClock
from ppas.domain.periods import current_period
from ppas.models import BillingForm, FormLine
from ppas.services import billing_forms
from ppas.services.errors import ServiceError

pytestmark = pytest.mark.browser

NOW = datetime.now(timezone.utc)
LAST_MONTH = current_period(NOW).previous()
THIS_MONTH = current_period(NOW)


async def sign_in(page: Page, base_url: str, login: str, password: str) -> None:
    await page.goto(base_url + "/connexion")
    await page.get_by_label("Identifiant", exact=True).fill(login)
    await page.get_by_label("Mot de passe", exact=True).fill(password)
    await page.get_by_label("Mot de passe", exact=True).press("Enter")
    await expect(page).to_have_url(base_url + "/espace")


async def type_hours(page: Page, field, value: str) -> None:
    """Type like a user and leave the field (Tab): autosave on change."""
    await field.fill(value)
    await field.press("Tab")


def flat(text: str) -> str:
    return re.sub(r"\s+", " ", text.replace("\u202f", " ").replace("\u00a0", " "))


async def test_demo_form_fill_cross_out_validate_pdf_cancel(page, live_server, make_user,
                                                            assert_accessible):
    user = await make_user(password="Secret2026", role="partner_admin")
    await sign_in(page, live_server, user.login, "Secret2026")
    await page.get_by_role("navigation", name="Menu principal").get_by_role(
        "link", name="Facturation").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Facturation en ligne")
    await page.get_by_role("button", name=f"Ouvrir le formulaire de {LAST_MONTH.label_fr} (C03-0001)").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text(
        f"Formulaire de facturation — {LAST_MONTH.label_fr}")
    form_url = page.url.split("?")[0]
    form = await BillingForm.get(id=int(form_url.rsplit("/", 1)[1]))
    lines = await FormLine.filter(form_id=form.id).order_by("position").select_related(
        "care_plan__beneficiary")
    assert len(lines) == 40

    # Page 1: two lines by keyboard, each saved when leaving the field.
    first = page.get_by_label(re.compile(r"^Heures en semaine — ligne 1,"))
    await type_hours(page, first, "5")
    await expect(page.locator(f"#etat-{lines[0].id}")).to_contain_text("Enregistré à")
    await type_hours(page, page.locator(f"#h-{lines[1].id}"), "6,5")
    await expect(page.locator(f"#etat-{lines[1].id}")).to_contain_text("Enregistré à")
    await expect(page.locator(f"#montant-{lines[1].id}")).not_to_have_text("—")
    await expect(page.get_by_role("button", name="Valider le formulaire")).to_have_count(0)
    # A value above the plan: refused on the field, typed value kept.
    too_many = page.locator(f"#h-{lines[2].id}")
    await type_hours(page, too_many, "99")
    await expect(too_many).to_have_attribute("aria-invalid", "true")
    await expect(too_many).to_have_value("99")
    await expect(page.locator(f"#err-h-{lines[2].id}")).to_contain_text("dépassent")
    await assert_accessible()

    # Page 2: one line, then reload and find everything saved.
    await page.get_by_role("link", name="Page 2").click()
    await type_hours(page, page.locator(f"#h-{lines[20].id}"), "4")
    await expect(page.locator(f"#etat-{lines[20].id}")).to_contain_text("Enregistré à")
    await page.reload()
    await expect(page.locator(f"#h-{lines[20].id}")).to_have_value("4")
    await page.goto(form_url + "?page=1")
    await expect(page.locator(f"#h-{lines[0].id}")).to_have_value("5")
    await expect(page.locator(f"#h-{lines[1].id}")).to_have_value("6,5")

    # Fill the rest of page 1 and save it with the form-level button.
    for line in lines[2:20]:
        await page.locator(f"#h-{line.id}").fill("1")
    await page.get_by_role("button", name="Enregistrer", exact=True).click()
    for line in lines[2:20]:
        await expect(page.locator(f"#etat-{line.id}")).to_contain_text("Enregistré à")

    # Page 2: cross out line 22, fill all but the last line.
    await page.goto(form_url + "?page=2")
    crossed = lines[21]
    who = f"{crossed.care_plan.beneficiary.last_name} {crossed.care_plan.beneficiary.first_name}"
    await page.get_by_role("button", name=f"Barrer la ligne 22 ({who}) : aucune heure ce mois-ci").click()
    await expect(page.get_by_role("button", name=f"Annuler : rétablir la ligne 22 ({who})")).to_be_visible()
    for line in lines[22:39]:
        await page.locator(f"#h-{line.id}").fill("2")
    await page.get_by_role("button", name="Enregistrer", exact=True).click()
    for line in lines[22:39]:
        await expect(page.locator(f"#etat-{line.id}")).to_contain_text("Enregistré à")

    # Validation refused: the empty line is listed with a link, and the summary has focus.
    await page.get_by_role("button", name="Valider le formulaire").click()
    refusal = page.get_by_role("alert").filter(has_text="ni remplie ni barrée")
    await expect(refusal).to_be_focused()
    await expect(page.get_by_role("button", name="Confirmer la validation")).to_have_count(0)
    last_label = f"Ligne 40 — {lines[39].care_plan.beneficiary.last_name}"
    await refusal.get_by_role("link", name=re.compile(last_label)).click()
    await type_hours(page, page.locator(f"#h-{lines[39].id}"), "3")
    await expect(page.locator(f"#etat-{lines[39].id}")).to_contain_text("Enregistré à")
    await page.get_by_role("button", name="Valider le formulaire").click()
    # The summary before confirming: what leaves for payment.
    await expect(page.get_by_role("heading", level=1)).to_have_text(
        f"Valider le formulaire de {LAST_MONTH.label_fr}")
    await expect(page.locator("#recapitulatif-validation")).to_contain_text("39 sur 40")
    await assert_accessible()
    await page.get_by_role("button", name="Confirmer la validation").click()
    await expect(page.get_by_text("Formulaire validé le")).to_be_visible()
    await expect(page.get_by_role("status").filter(
        has_text="Formulaire validé : il part au prochain paiement")).to_be_focused()
    await assert_accessible()

    # The PDF recap, read back.
    async with page.expect_download() as download_info:
        await page.get_by_role("link", name="Télécharger le récapitulatif (PDF)").click()
    download = await download_info.value
    pdf = PdfReader(io.BytesIO(open(await download.path(), "rb").read()))
    text = flat("\n".join(p.extract_text() for p in pdf.pages))
    summary = await billing_forms.form_summary(form.id)
    assert f"Montant total : {flat(format_euros(summary.amount))}" in text
    # 5 + 6,5 + 18×1 (page 1) + 4 + 17×2 + 3 (page 2), no Sunday hours
    assert "Heures en semaine : 70,5 h" in text and "Total des heures : 70,5 h" in text
    assert "ligne barrée" in text and user.login in text

    # Cancel the same day: the form is open again with its data, and the page says so.
    await page.get_by_role("button", name="Annuler la validation").click()
    await expect(page.get_by_text("Formulaire validé le")).to_have_count(0)
    await expect(page.get_by_role("status").filter(has_text="Validation annulée")).to_be_focused()
    await page.goto(form_url + "?page=2")
    await expect(page.locator(f"#h-{lines[39].id}")).to_have_value("3")
    await page.get_by_role("button", name="Valider le formulaire").click()
    await page.get_by_role("button", name="Confirmer la validation").click()
    await expect(page.get_by_text("Formulaire validé le")).to_be_visible()

    # The next day: no « Annuler » button, and the page says why; the service refuses too.
    form = await BillingForm.get(id=form.id)
    form.validated_at = form.validated_at - timedelta(days=1)
    await form.save(update_fields=["validated_at"])
    await page.reload()
    await expect(page.get_by_role("button", name="Annuler la validation")).to_have_count(0)
    await expect(page.locator("#pas-d-annulation")).to_contain_text("que le jour même")
    with pytest.raises(ServiceError, match="jour même"):
        await billing_forms.cancel_validation(user, form.id, FixedClock(NOW + timedelta(days=1)).now())

    # Next month's form does not offer the crossed-out line.
    await page.goto(live_server + "/facturation")
    await page.get_by_role("button", name=f"Ouvrir le formulaire de {THIS_MONTH.label_fr} (C03-0001)").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text(
        f"Formulaire de facturation — {THIS_MONTH.label_fr}")
    await expect(page.get_by_text("39 lignes")).to_be_visible()
    file_number = crossed.care_plan.beneficiary.file_number
    await expect(page.get_by_text(file_number, exact=True)).to_have_count(0)
    await page.get_by_role("link", name="Page 2").click()
    await expect(page.get_by_text(file_number, exact=True)).to_have_count(0)
