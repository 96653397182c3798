"""« Anomalies » in a real browser: filtered with the keyboard, a refused line re-billed
through the correction page, then integrated (delay 0) as payable."""
from __future__ import annotations

import io
import re
from dataclasses import replace
from datetime import datetime, timezone

import pytest
from playwright.async_api import expect

from ppas.models import BillingLine, IntegratedLine
from ppas.services import billing_ingest
from ppas.services.integration import integrate_due_lines
from tests.billing_file_support import PASSWORD, billing_xml, last_month, ligne, make_provider
from tests.browser.test_billing_files import sign_in

pytestmark = pytest.mark.browser


async def test_filter_by_keyboard_rebill_then_integrate(page, live_server, db, settings,
                                                      assert_accessible):
    provider = await make_provider()
    month = last_month()
    data = billing_xml(provider, [ligne(1, provider.numbers[0]),
                                  ligne(2, "0999999999"),
                                  ligne(3, provider.numbers[1], amount="1.00")])
    report = await billing_ingest.submit_file(provider.user, io.BytesIO(data), provider.amd_name(),
                                              now=datetime.now(timezone.utc), max_bytes=1 << 20)
    assert report.status == "accepted" and report.accepted_count == 1

    await sign_in(page, live_server, provider.login, PASSWORD)
    await page.get_by_role("navigation", name="Menu principal").get_by_role(
        "link", name="Anomalies").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Anomalies")
    results = page.locator("#resultats-anomalies")
    await expect(results.get_by_role("heading", level=2)).to_contain_text("2 anomalies")
    await assert_accessible()

    # Filter with the keyboard: the motive by type-ahead, the month typed, Enter submits.
    await page.get_by_label("Motif").focus()
    await page.keyboard.type("L06")
    await expect(page.get_by_label("Motif")).to_have_value("L06")
    await page.keyboard.press("Tab")
    await expect(page.get_by_label("Échéance (mois facturé)")).to_be_focused()
    await page.keyboard.type(str(month))
    await page.keyboard.press("Enter")
    heading = results.get_by_role("heading", level=2)
    await expect(heading).to_have_text("1 anomalie pour ces filtres")
    await expect(page.locator("#titre-resultats")).to_be_focused()
    await expect(page).to_have_url(re.compile(r"/anomalies\?.*code=L06"))
    await expect(results.get_by_role("heading", level=3)).to_have_text(re.compile("^L06 — "))
    await assert_accessible()

    # Re-bill the refused line through the existing correction page.
    await results.get_by_role("link", name=re.compile("Corriger et refacturer la ligne")).press("Enter")
    await expect(page.get_by_role("heading", level=1)).to_contain_text("enregistrement n° 3")
    await page.get_by_label("Montant (€)").fill("226,25")
    await page.get_by_label("Montant (€)").press("Enter")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Ligne refacturée")

    # Back on « Anomalies »: the L06 is still listed (history) but no longer re-billable.
    await page.goto(f"{live_server}/anomalies?code=L06")
    await expect(page.locator("#resultats-anomalies")).to_contain_text("L06")
    await expect(page.get_by_role("link", name=re.compile("Corriger et refacturer"))).to_have_count(0)

    # The next integration run (delay 0) makes the re-billed line payable.
    await integrate_due_lines(datetime.now(timezone.utc), replace(settings, report_delay_business_days=0),
                              partner_ids=[provider.partner.id])
    rebilled = await BillingLine.get(file_id=report.file_id, record_number=3, status="accepted")
    integrated = await IntegratedLine.get(billing_line_id=rebilled.id)
    assert integrated.status == "payable" and str(integrated.amount) == "226.25"
