"""The money cycle end to end, with the clock moved and the jobs worker doing the caisse's work.

A form validated and billing files uploaded through the real services on Wednesday 13 May 2026;
Thursday 14 May is Ascension: with the default delay of 2 business days nothing is integrated on
Friday 15 May, everything on Monday 18 May, with one report anomaly of each code R01–R04 and the
other lines payable. A caisse agent starts a payment run; its slip is not visible to the partner
(GraphQL `paymentSlips`) 47 hours after the payment date, visible at 48 hours once the worker
published it; its PDF's total is the sum of the paid lines and the CSV's total. Last, a form
validated and integrated the same day (delay 0) can no longer be cancelled.
"""
from __future__ import annotations

import csv
import io
import re
from dataclasses import replace
from datetime import date, datetime, timedelta
from decimal import Decimal

import httpx
from pypdf import PdfReader

from ppas.domain.amounts import line_amount
from ppas.domain.clock import FixedClock
from ppas.domain.periods import PARIS, Period
from ppas.models import Anomaly, Beneficiary, IntegratedLine, PaymentRun, PaymentSlip
from ppas.services import back_office, billing_forms, payments
from ppas.services.api_tokens import create_token
from ppas.services.errors import ErrorCode, ServiceError
from ppas.services.jobs import run_due
from tests.conftest import sign_in_as
from tests.money_cycle_support import HOURS, PARTICIPATION, PASSWORD, RATE, Structure

APRIL, MARCH = Period(2026, 4), Period(2026, 3)
INTEGRATION, PUBLICATION, RUN_JOB = ("integrate_due_lines", "publish_due_slips",
                                     payments.RUN_JOB)
SLIPS_QUERY = """query { paymentSlips(limit: 10) { totalCount
  items { id number amount paidOn availableAt lineCount pdfUrl csvUrl } } }"""


def paris(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=PARIS)


def euros(text: str) -> Decimal:
    return Decimal(re.sub(r"[\s\u00a0\u202f€]", "", text).replace(",", "."))


async def fill_and_validate(user, form, hours: dict[int, Decimal], now: datetime):
    """Type the hours of each line of the form (by care plan id), then validate it."""
    for line in await billing_forms.form_lines(form, 0, 100):
        saved = await billing_forms.save_line(user, line.id, str(hours[line.care_plan_id]), None,
                                              line.version, now)
        assert not isinstance(saved, billing_forms.Conflict), saved
    return await billing_forms.validate_form(user, form.id, now)


async def codes_of(file_ids: list[int], form_line_ids: list[int]) -> list[str]:
    from tortoise.expressions import Q

    return sorted(await Anomaly.filter(Q(file_id__in=file_ids) | Q(
        form_line_id__in=form_line_ids), phase="report").values_list("code", flat=True))


async def test_money_cycle_with_the_clock_moved(db, settings):
    from ppas.app import create_app

    made = await Structure().create()
    conv_a, conv_b = made.conventions
    before = paris(1, 5, 10)
    # a4 and a5 are on the form of April; a1–a3 are notified after the form was opened, so
    # they are billed by file only. a4 is billed by both channels (R03 for the later: the form).
    form_plans = [await made.plan(conv_a, n, notified=before) for n in (4, 5)]
    file_plans = [await made.plan(conv_a, n, notified=None) for n in (1, 2, 3)]
    suspended_plan = await made.plan(conv_b, 6, notified=before)
    a4, a5 = form_plans
    a1, a2, a3 = file_plans

    clock = FixedClock(paris(5, 12, 10))  # Tuesday 12 May 2026
    cycle = replace(settings, report_delay_business_days=2, slip_delay_hours=48,
                    slip_pdf_workers=1)
    form = await billing_forms.open_form(made.admin, conv_a.id, str(APRIL), clock.now())
    offered = await billing_forms.form_lines(form, 0, 100)
    assert sorted(line.care_plan_id for line in offered) == sorted([a4.id, a5.id])
    for plan in file_plans:
        await back_office.notify_care_plan(made.agent, plan.id, now=clock.advance(
            timedelta(minutes=1)))

    # Wednesday 13 May: the files, then the form's validation (the form is sent after the file).
    clock.set(paris(5, 13, 9))
    report_a = await made.upload(conv_a, APRIL, [a1, a2, a3, a4], clock.now(), cycle)
    assert (report_a.status, report_a.accepted_count) == ("accepted", 4), report_a
    report_b = await made.upload(conv_b, MARCH, [suspended_plan], clock.advance(
        timedelta(minutes=5)), cycle)
    assert (report_b.status, report_b.accepted_count) == ("accepted", 1), report_b
    clock.set(paris(5, 13, 11))
    form = await fill_and_validate(made.admin, form, {a4.id: HOURS, a5.id: Decimal("8.50")},
                                   clock.now())
    assert form.status == "validated"

    # After sending: a death, a suspension (back office), a changed plan.
    clock.set(paris(5, 13, 16))
    await Beneficiary.filter(id=a2.beneficiary_id).update(deceased_on=date(2026, 4, 20))
    await back_office.suspend_convention(made.agent, conv_b.id, "Contrôle en cours",
                                         now=clock.now())
    a3.hourly_rate = Decimal("22.40")
    await a3.save(update_fields=["hourly_rate"])

    form_line_ids = [x.id for x in await billing_forms.form_lines(form, 0, 100)]
    file_ids = [report_a.file_id, report_b.file_id]
    my_lines = IntegratedLine.filter(partner_id=made.partner.id)

    # D+1 business day (Thursday 14 is Ascension): Friday 15 May late, nothing yet.
    clock.set(paris(5, 15, 23, 30))
    await run_due(cycle, clock, kinds={INTEGRATION})
    assert not await my_lines.exists()

    # Monday 18 May, just after midnight: D+2.
    clock.set(paris(5, 18, 0, 5))
    await run_due(cycle, clock, kinds={INTEGRATION})
    integrated = await IntegratedLine.filter(partner_id=made.partner.id)
    assert len(integrated) == 7
    assert await codes_of(file_ids, form_line_ids) == ["R01", "R02", "R03", "R04"]
    by_plan: dict[tuple[int, bool], str] = {
        (row.care_plan_id, row.form_line_id is not None): row.status for row in integrated}
    assert by_plan == {
        (a1.id, False): "payable", (a2.id, False): "rejected", (a3.id, False): "rejected",
        (a4.id, False): "payable", (a4.id, True): "rejected", (a5.id, True): "payable",
        (suspended_plan.id, False): "rejected"}
    for plan, channel, code in ((a2, False, "R01"), (suspended_plan, False, "R02"),
                                (a4, True, "R03"), (a3, False, "R04")):
        row = next(r for r in integrated
                   if r.care_plan_id == plan.id and (r.form_line_id is not None) == channel)
        anomaly = await Anomaly.get(
            **({"form_line_id": row.form_line_id} if channel else {"line_id": row.billing_line_id}))
        assert anomaly.code == code
    payable = [row for row in integrated if row.status == "payable"]
    paid_total = sum((row.amount for row in payable), Decimal(0))
    assert paid_total == (2 * line_amount(HOURS, RATE, PARTICIPATION)
                          + line_amount(Decimal("8.50"), RATE, PARTICIPATION))

    # The caisse agent starts a payment run for Tuesday 19 May on « Paiements », the app
    # running on the test's clock.
    app = create_app(cycle, clock=clock, manage_database=False)
    clock.set(paris(5, 18, 10))
    paid_on = date(2026, 5, 19)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://testserver") as agent:
        csrf = await sign_in_as(agent, made.agent.login, PASSWORD)
        started = await agent.post("/caisse/paiements", data={"csrf_token": csrf,
                                                              "paidOn": paid_on.isoformat()})
        assert started.status_code == 303, started.text
    run = await PaymentRun.get(caisse_id=made.caisse.id)
    assert (run.status, run.slip_count, run.line_count, run.paid_on) == ("done", 1, 3, paid_on)
    [slip_row] = await PaymentSlip.filter(run_id=run.id)
    assert slip_row.amount == paid_total and slip_row.partner_id == made.partner.id
    # Its safety-net job, due ten minutes later, finds it done and pays nothing twice.
    clock.advance(payments.RUN_JOB_SAFETY_DELAY + timedelta(minutes=1))
    await run_due(cycle, clock, kinds={RUN_JOB})
    assert await PaymentSlip.filter(partner_id=made.partner.id).count() == 1
    assert {r.status for r in await IntegratedLine.filter(
        partner_id=made.partner.id, status__in=["payable", "paid"])} == {"paid"}

    # The partner's software asks for its slips over GraphQL, with its API token.
    token = await create_token(made.admin, "Comptabilité")
    bearer = {"Authorization": f"Bearer {token.secret}"}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://testserver") as http:
        async def slips() -> dict:
            answer = (await http.post("/graphql", headers=bearer,
                                      json={"query": SLIPS_QUERY})).json()
            assert "errors" not in answer, answer
            return answer["data"]["paymentSlips"]

        midnight = datetime(2026, 5, 19, tzinfo=PARIS)
        clock.set(midnight + timedelta(hours=47))
        await run_due(cycle, clock, kinds={PUBLICATION})
        assert await slips() == {"totalCount": 0, "items": []}

        clock.set(midnight + timedelta(hours=48))
        await run_due(cycle, clock, kinds={PUBLICATION})
        listed = await slips()
        assert listed["totalCount"] == 1
        [slip] = listed["items"]
        assert slip["paidOn"] == "2026-05-19" and slip["lineCount"] == 3
        assert euros(slip["amount"]) == paid_total

        pdf = await http.get(slip["pdfUrl"], headers=bearer)
        assert pdf.status_code == 200, pdf.text
        text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.content)).pages)
        assert slip["number"] in text
        pdf_total = euros(re.search(r"Montant total payé\n\s*(\d[\d\s]*,\d\d\s€)", text).group(1))
        assert pdf_total == paid_total

        got = await http.get(slip["csvUrl"], headers=bearer)
        assert got.status_code == 200
        rows = list(csv.reader(io.StringIO(got.content.decode("utf-8-sig")), delimiter=";"))
        amount = rows[0].index("montant")
        assert len(rows) == 1 + 3
        assert sum(Decimal(r[amount].replace(",", ".")) for r in rows[1:]) == pdf_total

    # Same-day cancellation refused once integrated: a form of March validated Thursday 21 May
    # at 10:00, integrated by the worker at 10:05 (delay 0), « Annuler » at 10:10.
    clock.set(paris(5, 21, 10))
    march = await billing_forms.open_form(made.admin, conv_a.id, str(MARCH), clock.now())
    march = await fill_and_validate(made.admin, march, {p.id: Decimal("5.00") for p in (
        a1, a2, a3, a4, a5)}, clock.now())
    clock.advance(timedelta(minutes=5))
    await run_due(replace(cycle, report_delay_business_days=0), clock, kinds={INTEGRATION})
    assert await IntegratedLine.filter(form_line__form_id=march.id).count() == 5
    clock.advance(timedelta(minutes=5))
    try:
        await billing_forms.cancel_validation(made.admin, march.id, clock.now())
    except ServiceError as refused:
        assert refused.code == ErrorCode.FORM_INTEGRATED
        assert "intégrées par la caisse" in str(refused)
    else:
        raise AssertionError("the cancellation of an integrated form was accepted")
