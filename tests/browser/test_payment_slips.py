"""« Bordereaux » in a real browser, by keyboard: the menu, a payment under way, the PDF."""
from __future__ import annotations

import re
from dataclasses import replace
from datetime import timedelta

import pytest
from playwright.async_api import expect

from ppas.domain.clock import SystemClock
from ppas.domain.periods import paris_date
from ppas.models import PaymentSlip
from ppas.services import payment_slips, payments
from tests.browser.test_partner_space import sign_in
from tests.payment_support import PASSWORD, make_payees

pytestmark = pytest.mark.browser


async def tab_to(page, name: str, limit: int = 60):
    """Press Tab until the focused element's accessible text is `name`; returns its locator."""
    for _ in range(limit):
        await page.keyboard.press("Tab")
        text = await page.evaluate("() => (document.activeElement.textContent || '').replace(/\\s+/g, ' ').trim()")
        if text == name:
            return page.locator(":focus")
    raise AssertionError(f"no element « {name} » reached with Tab")


async def test_a_partner_reads_and_downloads_slips_with_the_keyboard(page, live_server, settings,
                                                                    assert_accessible):
    made = await make_payees(partners=1, file_lines=2, form_lines=1)
    now = SystemClock().now()
    paid_on = paris_date(now) + timedelta(days=1)
    for _ in range(2):  # one slip published, one still under way
        run = await payments.start_payment_run(made.caisse.id, paid_on, None, now)
        await payments.execute_payment_run(run.id, now)
        slip = await PaymentSlip.get(run_id=run.id)
        if not await PaymentSlip.filter(caisse_id=made.caisse.id,
                                        published_at__isnull=False).exists():
            await payment_slips.publish_due_slips(slip.available_at,
                                                  replace(settings, slip_pdf_workers=1))
            published = slip
            # A second payment of the same partner, not online yet.
            from ppas.models import BillingLine, IntegratedLine
            line = await IntegratedLine.filter(caisse_id=made.caisse.id,
                                               billing_line_id__not_isnull=True).first()
            billed = await BillingLine.get(id=line.billing_line_id)
            # Another line of the same file (an integrated line has exactly one source).
            again = await BillingLine.create(
                file_id=billed.file_id, record_number=billed.record_number + 100,
                care_plan_id=billed.care_plan_id, file_number=billed.file_number,
                last_name=billed.last_name, first_name=billed.first_name,
                period_start=billed.period_start, period_end=billed.period_end,
                hours=billed.hours, hourly_rate=billed.hourly_rate,
                participation=billed.participation, amount=billed.amount, status="accepted")
            await IntegratedLine.create(
                caisse_id=made.caisse.id, partner_id=line.partner_id,
                convention_id=line.convention_id, billing_line_id=again.id,
                period_start=line.period_start,
                period_end=line.period_end, hours=line.hours, hourly_rate=line.hourly_rate,
                participation=line.participation, amount=line.amount, status="payable",
                sent_at=now, integrated_at=now)
    pending = await PaymentSlip.get(caisse_id=made.caisse.id, published_at=None)

    await sign_in(page, live_server, made.admins[0].login, PASSWORD)
    await expect(page).to_have_url(live_server + "/espace")
    link = await tab_to(page, "Bordereaux")
    await link.press("Enter")
    await expect(page).to_have_url(live_server + "/bordereaux")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Bordereaux de paiement")
    when = pending.available_at.astimezone(payment_slips.PARIS)
    await expect(page.get_by_role("region", name="Paiements en cours")).to_contain_text(
        re.compile(rf"1\s+paiement\s+du\s+{paid_on:%d/%m/%Y}\s*:\s*bordereau\s+en\s+ligne"
                   rf"\s+le\s+{when:%d/%m/%Y}\s+à\s+{when:%H:%M}"))
    table = page.get_by_role("table")
    await expect(table.get_by_role("rowheader")).to_have_text([published.number])
    await expect(table).to_contain_text("En ligne")
    await assert_accessible()

    download_link = await tab_to(page, "PDF du bordereau " + published.number)
    async with page.expect_download() as downloading:
        await download_link.press("Enter")
    download = await downloading.value
    assert download.suggested_filename == f"bordereau-{published.number}.pdf"
    path = await download.path()
    with open(path, "rb") as pdf:
        assert pdf.read(5) == b"%PDF-"
