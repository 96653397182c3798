"""From « Anomalies » to « Bordereaux » in a real browser: a partner re-bills a refused line with
the keyboard; the jobs worker integrates it (delay 0), a caisse agent's payment run pays it,
the worker publishes the slip (delay 0); the partner finds the new slip, and the line in its CSV."""
from __future__ import annotations

import csv
import io
import re
from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

import pytest
from playwright.async_api import expect

from ppas.domain.amounts import line_amount
from ppas.domain.clock import FixedClock, SystemClock
from ppas.domain.periods import paris_date
from ppas.models import BillingLine, IntegratedLine, PaymentSlip
from ppas.services import payments
from ppas.services.jobs import run_due
from tests.billing_file_support import last_month
from tests.browser.test_billing_files import sign_in
from tests.browser.test_payment_slips import tab_to
from tests.money_cycle_support import HOURS, PARTICIPATION, PASSWORD, RATE, Structure

pytestmark = pytest.mark.browser

RIGHT = line_amount(HOURS, RATE, PARTICIPATION)  # 181.00


def euros_fr(amount: Decimal) -> str:
    return f"{amount:.2f}".replace(".", ",")


async def test_a_rebilled_line_is_integrated_and_paid_on_the_next_slip(
        page, live_server, db, settings, assert_accessible):
    made = await Structure().create()
    convention = made.conventions[0]
    now = SystemClock().now()
    good, refused = [await made.plan(convention, n, notified=now - timedelta(days=1))
                     for n in (1, 2)]
    refused_number = (await refused.beneficiary).file_number
    report = await made.upload(convention, last_month(), [good, refused], now, settings,
                               amounts={2: "1.00"})
    assert (report.status, report.accepted_count) == ("accepted", 1), report

    # « Anomalies » from the menu, with the keyboard.
    await sign_in(page, live_server, made.admin.login, PASSWORD)
    link = await tab_to(page, "Anomalies")
    await link.press("Enter")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Anomalies")
    results = page.locator("#resultats-anomalies")
    await expect(results.get_by_role("heading", level=2)).to_contain_text("1 anomalie")
    await expect(results.get_by_role("heading", level=3)).to_have_text(re.compile("^L06 — "))
    await assert_accessible()

    # Its correction link, then the amount typed again and Enter.
    correct = results.get_by_role("link", name=re.compile("Corriger et refacturer la ligne"))
    await correct.focus()
    await page.keyboard.press("Enter")
    await expect(page.get_by_role("heading", level=1)).to_contain_text("enregistrement n° 2")
    await assert_accessible()
    amount = page.get_by_label("Montant (€)")
    await amount.focus()
    await page.keyboard.press("Control+A")
    await page.keyboard.type(euros_fr(RIGHT))
    await expect(amount).to_have_value(euros_fr(RIGHT))
    await page.keyboard.press("Enter")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Ligne refacturée")
    await assert_accessible()

    # The caisse's side: the worker integrates (delay 0), an agent pays today, the worker
    # publishes (delay 0).
    clock = FixedClock(SystemClock().now() + timedelta(minutes=1))
    instant = replace(settings, report_delay_business_days=0, slip_delay_hours=0,
                      slip_pdf_workers=1)
    await run_due(instant, clock, kinds={"integrate_due_lines"})
    rebilled = await BillingLine.get(file_id=report.file_id, record_number=2, status="accepted")
    integrated = await IntegratedLine.get(billing_line_id=rebilled.id)
    assert (integrated.status, integrated.amount) == ("payable", RIGHT)
    summary = await payments.start_run_for(made.agent, paris_date(clock.now()), clock.now(),
                                           slip_delay_hours=0)
    assert (summary.slip_count, summary.line_count) == (1, 2)
    slip = await PaymentSlip.get(run_id=summary.run_id)
    clock.advance(timedelta(minutes=1))
    await run_due(instant, clock, kinds={"publish_due_slips"})
    await slip.refresh_from_db()
    assert slip.published_at is not None

    # « Bordereaux »: the new slip, its two lines and their total; the CSV names the line.
    await page.goto(live_server + "/espace")
    link = await tab_to(page, "Bordereaux")
    await link.press("Enter")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Bordereaux de paiement")
    row = page.get_by_role("row").filter(has=page.get_by_role("rowheader", name=slip.number))
    await expect(row).to_have_count(1)
    cells = row.get_by_role("cell")
    await expect(cells.nth(1)).to_contain_text(euros_fr(2 * RIGHT))
    await expect(cells.nth(2)).to_have_text("2")
    await expect(row).to_contain_text("En ligne")
    await assert_accessible()

    download_link = await tab_to(page, "CSV du bordereau " + slip.number)
    async with page.expect_download() as downloading:
        await download_link.press("Enter")
    download = await downloading.value
    with open(await download.path(), encoding="utf-8-sig") as handle:
        rows = list(csv.reader(io.StringIO(handle.read()), delimiter=";"))
    header, lines = rows[0], rows[1:]
    assert len(lines) == 2
    mine = [r for r in lines if refused_number in r]
    assert len(mine) == 1, rows
    assert mine[0][header.index("montant")] == euros_fr(RIGHT)
