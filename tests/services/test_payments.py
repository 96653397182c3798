"""Payment runs on the real database: a line is paid once, ever; a run resumes after a crash."""
from __future__ import annotations

from datetime import date, datetime, timezone
from decimal import Decimal

import pytest

from ppas.models import BillingForm, FormStatus, IntegratedLine, PaymentRun, PaymentSlip
from ppas.models.integration import IntegrationStatus
from ppas.models.payment import RunStatus
from ppas.services import payments
from ppas.services.errors import AccessDenied, ServiceError
from tests.payment_support import make_payees
from tests.sql_statements import count_statements

NOW = datetime(2026, 11, 2, 9, 0, tzinfo=timezone.utc)
PAID_ON = date(2026, 11, 3)


async def run_once(caisse_id: int, **kwargs) -> payments.RunSummary:
    run = await payments.start_payment_run(caisse_id, PAID_ON, None, NOW)
    return await payments.execute_payment_run(run.id, NOW, **kwargs)


async def paid_lines(made) -> list[IntegratedLine]:
    return await IntegratedLine.filter(caisse_id=made.caisse.id).order_by("id")


async def test_a_run_pays_every_payable_line_once_one_slip_per_partner(db):
    made = await make_payees(partners=3, file_lines=2, form_lines=1)
    summary = await run_once(made.caisse.id)
    assert summary.status == "done"
    assert summary.slip_count == 3 and summary.line_count == 9
    assert summary.total_amount == sum((ln.amount for ln in made.lines), Decimal(0))
    slips = await PaymentSlip.filter(run_id=summary.run_id).order_by("partner_id")
    assert [s.partner_id for s in slips] == [p.id for p in made.partners]
    for slip, partner in zip(slips, made.partners):
        assert slip.amount == made.amount_of(partner)  # totals = sum of its lines
        assert slip.line_count == 3
        assert slip.number == f"{made.caisse.code}-2026-{slip.id:06d}"
        assert slip.paid_on == PAID_ON and slip.caisse_id == made.caisse.id
        # 3 November 00:00 in Paris (UTC+1) is 2 November 23:00 UTC; + 48 h.
        assert slip.available_at == datetime(2026, 11, 4, 23, 0, tzinfo=timezone.utc)
        assert slip.published_at is None and slip.pdf is None
    lines = await paid_lines(made)
    assert {ln.status for ln in lines} == {IntegrationStatus.PAID}
    by_partner = {s.partner_id: s.id for s in slips}
    assert all(ln.slip_id == by_partner[ln.partner_id] for ln in lines)
    # Every form line is paid (the crossed-out one has none): the forms are paid by this run.
    forms = await BillingForm.filter(id__in=[f.id for f in made.forms])
    assert {(f.status, f.payment_run_id) for f in forms} == {(FormStatus.PAID, summary.run_id)}


async def test_a_second_run_pays_nothing_twice(db):
    made = await make_payees(partners=2, file_lines=1, form_lines=1)
    first = await run_once(made.caisse.id)
    before = {ln.id: ln.slip_id for ln in await paid_lines(made)}
    second = await run_once(made.caisse.id)
    assert (second.slip_count, second.line_count, second.total_amount) == (0, 0, Decimal(0))
    assert await PaymentSlip.filter(run_id=second.run_id).count() == 0
    assert {ln.id: ln.slip_id for ln in await paid_lines(made)} == before
    assert first.line_count == 4


async def test_only_payable_lines_of_the_caisse_are_taken(db):
    made = await make_payees(partners=2, file_lines=2, form_lines=0)
    rejected = made.lines[0]
    rejected.status = IntegrationStatus.REJECTED
    await rejected.save()
    other = await make_payees(partners=1, file_lines=1, form_lines=0)
    summary = await run_once(made.caisse.id)
    assert summary.line_count == 3
    await rejected.refresh_from_db()
    assert rejected.status == IntegrationStatus.REJECTED and rejected.slip_id is None
    assert {ln.status for ln in await paid_lines(other)} == {IntegrationStatus.PAYABLE}


class Crash(Exception):
    pass


async def test_a_run_killed_halfway_resumes_without_paying_twice(db, monkeypatch):
    made = await make_payees(partners=4, file_lines=2, form_lines=1)
    run = await payments.start_payment_run(made.caisse.id, PAID_ON, made.agent.id, NOW)

    async def crash_after_two(run_id: int, done: int) -> None:
        if done == 2:
            raise Crash("killed")

    monkeypatch.setattr(payments, "_after_batch", crash_after_two)
    with pytest.raises(Crash):
        await payments.execute_payment_run(run.id, NOW, partners_per_batch=1)
    halfway = await PaymentRun.get(id=run.id)
    assert halfway.status == RunStatus.RUNNING
    assert await PaymentSlip.filter(run_id=run.id).count() == 2
    payable = await IntegratedLine.filter(caisse_id=made.caisse.id,
                                          status=IntegrationStatus.PAYABLE).count()
    assert payable == 6  # two partners' three lines each are left

    # A second run started meanwhile takes what is left; the retried one pays nothing twice.
    monkeypatch.setattr(payments, "_after_batch", lambda run_id, done: _nothing())
    summary = await payments.execute_payment_run(run.id, NOW, partners_per_batch=1)
    again = await payments.execute_payment_run(run.id, NOW)
    assert again == summary
    assert summary.slip_count == 4 and summary.line_count == 12
    slips = await PaymentSlip.filter(run_id=run.id)
    assert len({s.partner_id for s in slips}) == 4 == len(slips)
    lines = await paid_lines(made)
    assert all(ln.status == IntegrationStatus.PAID and ln.slip_id for ln in lines)
    assert summary.total_amount == sum((ln.amount for ln in made.lines), Decimal(0))
    assert sum((s.amount for s in slips), Decimal(0)) == summary.total_amount


async def _nothing() -> None:
    return None


async def test_executing_a_slip_twice_for_a_partner_is_refused_by_the_database(db):
    made = await make_payees(partners=1, file_lines=1, form_lines=0)
    summary = await run_once(made.caisse.id)
    from tortoise.exceptions import IntegrityError

    with pytest.raises(IntegrityError):
        await PaymentSlip.create(run_id=summary.run_id, partner_id=made.partners[0].id,
                                 amount=Decimal(0))


async def test_statements_do_not_grow_with_lines(db):
    small = await make_payees(partners=3, file_lines=1, form_lines=0, with_accounts=False)
    large = await make_payees(partners=3, file_lines=6, form_lines=2, with_accounts=False)
    counted = []
    for made in (small, large):
        run = await payments.start_payment_run(made.caisse.id, PAID_ON, None, NOW)
        async with count_statements() as statements:
            await payments.execute_payment_run(run.id, NOW)
        counted.append(len(statements))
    assert counted[0] == counted[1], counted


async def test_a_payment_date_in_the_past_is_refused(db):
    made = await make_payees(partners=1, file_lines=1, form_lines=0, with_accounts=False)
    with pytest.raises(ServiceError, match="passée"):
        await payments.start_payment_run(made.caisse.id, date(2026, 11, 1), None, NOW)


async def test_only_caisse_agents_start_a_run_from_the_back_office(db):
    made = await make_payees(partners=1, file_lines=1, form_lines=0)
    with pytest.raises(AccessDenied):
        await payments.start_run_for(made.admins[0], PAID_ON, NOW)
    summary = await payments.start_run_for(made.agent, PAID_ON, NOW)
    assert summary.line_count == 1
    run = await PaymentRun.get(id=summary.run_id)
    assert run.started_by_id == made.agent.id and run.caisse_id == made.caisse.id


# --------------------------------------------------------------------------- publication

from datetime import timedelta  # noqa: E402
import csv  # noqa: E402
import io  # noqa: E402
import re  # noqa: E402
from dataclasses import replace  # noqa: E402

from pypdf import PdfReader  # noqa: E402

from ppas.domain.payment_slips import CSV_COLUMNS, slip_available_at  # noqa: E402
from ppas.models import OutboxMessage  # noqa: E402
from ppas.services import payment_slips  # noqa: E402

PARIS_MIDNIGHT = datetime(2026, 11, 2, 23, 0, tzinfo=timezone.utc)  # 3 Nov 00:00 in Paris


def euros(text: str) -> Decimal:
    return Decimal(text.replace("\u00a0", "").replace("\u202f", "").replace(" ", "")
                   .replace("€", "").replace(",", "."))


async def test_a_slip_is_published_48_hours_after_its_payment_date_with_its_pdf(db, settings):
    made = await make_payees(partners=2, file_lines=3, form_lines=2)
    admin = made.admins[0]
    summary = await run_once(made.caisse.id)
    slips = await PaymentSlip.filter(run_id=summary.run_id).order_by("partner_id")
    assert slip_available_at(PAID_ON, 48) == PARIS_MIDNIGHT + timedelta(hours=48)

    await payment_slips.publish_due_slips(PARIS_MIDNIGHT + timedelta(hours=47), settings)
    for slip in slips:
        await slip.refresh_from_db()
        assert slip.published_at is None and slip.pdf is None
    assert await payment_slips.list_slips(admin, 0, 20) == ([], 0)
    pending = await payment_slips.pending_slips(admin)
    assert [(p.count, p.available_at) for p in pending] == [(1, PARIS_MIDNIGHT + timedelta(hours=48))]

    at_48 = PARIS_MIDNIGHT + timedelta(hours=48)
    assert await payment_slips.publish_due_slips(at_48, settings) >= 2
    assert await payment_slips.publish_due_slips(at_48 + timedelta(hours=1), settings) == 0
    mails = await OutboxMessage.filter(recipient=admin.email, subject__contains="bordereau")
    assert len(mails) == 1  # once per slip, not at every publication round
    assert slips[0].number in mails[0].subject

    listed, total = await payment_slips.list_slips(admin, 0, 20)
    assert total == 1 and listed[0].id == slips[0].id
    assert await payment_slips.pending_slips(admin) == []
    # Another partner's slip is not found, even by its id.
    assert await payment_slips.own_slip(admin, slips[1].id) is None
    assert await payment_slips.own_slip_pdf(admin, slips[1].id) is None
    assert await payment_slips.own_slip_csv(admin, slips[1].id) is None

    slip, pdf = await payment_slips.own_slip_pdf(admin, slips[0].id)
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    assert slip.number in text and made.partners[0].name in text
    lines = [ln for ln in made.lines if ln.partner_id == made.partners[0].id]
    line_sum = sum((ln.amount for ln in lines), Decimal(0))
    total_in_pdf = euros(re.search(r"Montant total payé\n\s*(\d[\d\s]*,\d\d\s€)", text).group(1))
    amounts_in_pdf = [euros(m) for m in re.findall(r"\)\n\s*(\d[\d\s]*,\d\d\s€)", text)]
    assert total_in_pdf == line_sum == slip.amount
    assert len(amounts_in_pdf) == len(lines) and sum(amounts_in_pdf) == line_sum

    _, content = await payment_slips.own_slip_csv(admin, slips[0].id)
    assert content.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(content.lstrip("\ufeff")), delimiter=";"))
    assert rows[0] == [name for name, _ in CSV_COLUMNS]
    assert len(rows) == 1 + len(lines)
    amount_column = rows[0].index("montant")
    csv_total = sum(Decimal(r[amount_column].replace(",", ".")) for r in rows[1:])
    assert csv_total == line_sum
    origins = {r[rows[0].index("origine")] for r in rows[1:]}
    assert origins == {"FICHIER", "FORMULAIRE"}


async def test_slip_delay_zero_publishes_at_the_payment_date(db, settings):
    made = await make_payees(partners=1, file_lines=1, form_lines=0)
    summary = await run_once(made.caisse.id, slip_delay_hours=0)
    slip = await PaymentSlip.get(run_id=summary.run_id)
    assert slip.available_at == PARIS_MIDNIGHT
    await payment_slips.publish_due_slips(PARIS_MIDNIGHT, replace(settings, slip_pdf_workers=1))
    await slip.refresh_from_db()
    assert slip.published_at == PARIS_MIDNIGHT and slip.pdf.startswith(b"%PDF")


async def test_a_run_whose_execution_died_is_finished_by_its_job(db, monkeypatch, settings):
    from ppas.domain.clock import FixedClock
    from ppas.services.jobs import run_due

    made = await make_payees(partners=3, file_lines=1, form_lines=1)
    run = await payments.start_payment_run(made.caisse.id, PAID_ON, made.agent.id, NOW)

    async def crash_after_one(run_id: int, done: int) -> None:
        if done == 1:
            raise Crash("killed")

    monkeypatch.setattr(payments, "_after_batch", crash_after_one)
    with pytest.raises(Crash):
        await payments.execute_payment_run(run.id, NOW, partners_per_batch=1)
    monkeypatch.setattr(payments, "_after_batch", lambda run_id, done: _nothing())
    clock = FixedClock(NOW + timedelta(minutes=1))
    await run_due(settings, clock, kinds={payments.RUN_JOB})
    assert (await PaymentRun.get(id=run.id)).status == RunStatus.RUNNING  # not due yet
    clock.advance(payments.RUN_JOB_SAFETY_DELAY)
    await run_due(settings, clock, kinds={payments.RUN_JOB})  # with other tests' runs, done
    done = await PaymentRun.get(id=run.id)
    assert done.status == RunStatus.DONE and done.slip_count == 3 and done.line_count == 6
    assert await IntegratedLine.filter(caisse_id=made.caisse.id,
                                       status=IntegrationStatus.PAYABLE).count() == 0


async def test_a_published_slip_is_announced_once_to_the_partners_webhook(db, settings):
    import json

    from ppas.models import WebhookDelivery
    from ppas.services import webhooks

    made = await make_payees(partners=2, file_lines=1, form_lines=1)
    subscribed = made.admins[0]
    await webhooks.create_subscription(subscribed, "http://127.0.0.1:9/bordereaux",
                                       ["payment_slip.published"], development=True)
    summary = await run_once(made.caisse.id)
    at_48 = PARIS_MIDNIGHT + timedelta(hours=48)
    await payment_slips.publish_due_slips(at_48, settings)
    await payment_slips.publish_due_slips(at_48 + timedelta(hours=1), settings)
    slip = await PaymentSlip.get(run_id=summary.run_id, partner_id=subscribed.partner_id)
    deliveries = await WebhookDelivery.filter(partner_id=subscribed.partner_id,
                                              event="payment_slip.published")
    assert len(deliveries) == 1
    data = json.loads(deliveries[0].payload)["data"]
    assert data["number"] == slip.number and data["amount"] == f"{slip.amount:.2f}"
    other = made.admins[1].partner_id  # no subscription: nothing written
    assert not await WebhookDelivery.filter(partner_id=other).exists()
