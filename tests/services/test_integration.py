"""Integration: R01–R04, the business-day delay, idempotence, batching, the partner's mail."""
from __future__ import annotations

import asyncio
from datetime import date, timedelta
from decimal import Decimal

import pytest

from ppas.domain.anomalies import format_message
from ppas.domain.periods import Period
from ppas.models import (
    Anomaly,
    Beneficiary,
    BillingLine,
    CarePlan,
    Convention,
    FormLine,
    IntegratedLine,
    OutboxMessage,
    User,
)
from ppas.services import billing_forms
from ppas.services.errors import ErrorCode, ServiceError
from ppas.services.integration import due_cutoff, integrate_due_lines, last_sent_day
from tests.billing_form_support import make_provider
from tests.integration_support import accepted_file, paris, provider, validated_form, with_delay
from tests.sql_statements import count_statements

SENT = paris(2026, 5, 4)  # Monday 4 May 2026
DUE = paris(2026, 5, 6, 12)  # Wednesday: 2 business days later
APRIL_PREVIOUS = Period(2026, 3)  # a form of March, beside the file of April


async def _integrated(**filters) -> list[IntegratedLine]:
    return await IntegratedLine.filter(**filters).order_by("id")


async def test_accepted_lines_of_both_channels_become_payable_with_their_figures(db, settings):
    prov = await provider(2)
    [line] = await accepted_file(prov, prov.plans[:1], SENT)
    _form, [form_line] = await validated_form(prov, prov.plans[1:], SENT)
    summary = await integrate_due_lines(DUE, with_delay(settings), partner_ids=[prov.partner.id])
    assert summary.payable >= 2
    [from_file] = await _integrated(billing_line_id=line.id)
    [from_form] = await _integrated(form_line_id=form_line.id)
    plan = prov.plans[1]
    assert from_file.status == from_form.status == "payable"
    assert (from_file.amount, from_file.hours, from_file.hourly_rate) == (
        line.amount, line.hours, line.hourly_rate)
    assert from_file.partner_id == prov.partner.id and from_file.convention_id == prov.convention.id
    assert (from_form.amount, from_form.hourly_rate, from_form.participation) == (
        form_line.amount, plan.hourly_rate, plan.participation)
    assert (from_form.period_start, from_form.period_end) == (date(2026, 4, 1), date(2026, 4, 30))
    assert from_form.integrated_at == DUE and from_form.sent_at == SENT
    assert not await Anomaly.filter(line_id=line.id).exists()


async def test_r01_beneficiary_deceased_during_the_period(db, settings):
    prov = await provider(2)
    lines = await accepted_file(prov, prov.plans, SENT)
    await Beneficiary.filter(id=prov.plans[0].beneficiary_id).update(deceased_on=date(2026, 4, 20))
    await integrate_due_lines(DUE, with_delay(settings), partner_ids=[prov.partner.id])
    [rejected] = await _integrated(billing_line_id=lines[0].id)
    [payable] = await _integrated(billing_line_id=lines[1].id)
    assert (rejected.status, payable.status) == ("rejected", "payable")
    [anomaly] = await Anomaly.filter(line_id=lines[0].id)
    assert (anomaly.code, anomaly.phase, anomaly.file_id, anomaly.record_number) == (
        "R01", "report", lines[0].file_id, 1)
    assert anomaly.message == format_message("R01")


async def test_r01_care_plan_closed_on_a_form_line(db, settings):
    prov = await provider(1)
    _form, [form_line] = await validated_form(prov, prov.plans, SENT)
    # Closed after the form was sent, ending on 10 April: the line bills days it no longer covers.
    prov.plans[0].closed_at, prov.plans[0].end_date = paris(2026, 5, 5), date(2026, 4, 10)
    await prov.plans[0].save()
    await integrate_due_lines(DUE, with_delay(settings), partner_ids=[prov.partner.id])
    [row] = await _integrated(form_line_id=form_line.id)
    assert row.status == "rejected"
    assert await Anomaly.filter(form_line_id=form_line.id).values_list("code", flat=True) == ["R01"]


async def test_r01_a_plan_closed_with_an_end_date_still_to_come_pays_what_it_covers(db, settings):
    prov = await provider(2)
    # The back office closes both with an end date still to come (31 May), one after its
    # April file was sent, the other on 20 April, before: April is covered in both cases.
    before, after = prov.plans
    [early] = await accepted_file(prov, [before], paris(2026, 4, 30))
    for plan in prov.plans:
        plan.closed_at, plan.end_date = paris(2026, 4, 20) if plan is after else SENT, date(2026, 5, 31)
        await plan.save()
    [late] = await accepted_file(prov, [after], SENT)
    await integrate_due_lines(DUE, with_delay(settings), partner_ids=[prov.partner.id])
    for line in (early, late):
        [row] = await _integrated(billing_line_id=line.id)
        assert row.status == "payable", await Anomaly.filter(line_id=line.id).values_list(
            "code", flat=True)


async def test_a_form_line_of_a_plan_starting_mid_month_is_payable_for_its_days(db, settings):
    prov = await make_provider(1, start=date(2026, 4, 15), now=paris(2026, 4, 15))
    form = await billing_forms.open_form(prov.user, prov.convention.id, "2026-04", SENT)
    [line] = await FormLine.filter(form_id=form.id)
    await billing_forms.save_line(prov.user, line.id, "8", None, line.version, SENT)
    await billing_forms.validate_form(prov.user, form.id, SENT)
    await integrate_due_lines(DUE, with_delay(settings), partner_ids=[prov.partner.id])
    [row] = await _integrated(form_line_id=line.id)
    assert not await Anomaly.filter(form_line_id=line.id).exists()
    assert row.status == "payable"
    assert (row.period_start, row.period_end) == (date(2026, 4, 15), date(2026, 4, 30))


async def test_a_plan_closed_mid_month_before_the_form_was_sent_pays_its_days(db, settings):
    prov = await make_provider(1, start=date(2026, 1, 1), now=paris(2026, 1, 2))
    await CarePlan.filter(id=prov.plans[0].id).update(closed_at=paris(2026, 4, 20),
                                                      end_date=date(2026, 4, 20))
    form = await billing_forms.open_form(prov.user, prov.convention.id, "2026-04", SENT)
    [line] = await FormLine.filter(form_id=form.id)
    await billing_forms.save_line(prov.user, line.id, "8", None, line.version, SENT)
    await billing_forms.validate_form(prov.user, form.id, SENT)
    await integrate_due_lines(DUE, with_delay(settings), partner_ids=[prov.partner.id])
    [row] = await _integrated(form_line_id=line.id)
    assert not await Anomaly.filter(form_line_id=line.id).exists()
    assert (row.status, row.period_start, row.period_end) == (
        "payable", date(2026, 4, 1), date(2026, 4, 20))


async def test_r04_a_mid_month_plan_changed_after_the_form_was_sent(db, settings):
    prov = await make_provider(1, start=date(2026, 4, 15), now=paris(2026, 4, 15))
    form = await billing_forms.open_form(prov.user, prov.convention.id, "2026-04", SENT)
    [line] = await FormLine.filter(form_id=form.id)
    await billing_forms.save_line(prov.user, line.id, "8", None, line.version, SENT)
    await billing_forms.validate_form(prov.user, form.id, SENT)
    await CarePlan.filter(id=prov.plans[0].id).update(start_date=date(2026, 4, 20))
    await integrate_due_lines(DUE, with_delay(settings), partner_ids=[prov.partner.id])
    assert await Anomaly.filter(form_line_id=line.id).values_list("code", flat=True) == ["R04"]


async def test_r02_convention_suspended_since(db, settings):
    prov = await provider(1)
    [line] = await accepted_file(prov, prov.plans, SENT)
    await Convention.filter(id=prov.convention.id).update(status="suspended")
    await integrate_due_lines(DUE, with_delay(settings), partner_ids=[prov.partner.id])
    assert (await _integrated(billing_line_id=line.id))[0].status == "rejected"
    assert await Anomaly.filter(line_id=line.id).values_list("code", flat=True) == ["R02"]


async def test_r03_period_already_paid_through_the_form(db, settings):
    prov = await provider(1)
    _form, [form_line] = await validated_form(prov, prov.plans, SENT)
    [line] = await accepted_file(prov, prov.plans, SENT + timedelta(hours=1))
    await integrate_due_lines(DUE, with_delay(settings), partner_ids=[prov.partner.id])
    assert (await _integrated(form_line_id=form_line.id))[0].status == "payable"
    assert (await _integrated(billing_line_id=line.id))[0].status == "rejected"
    assert await Anomaly.filter(line_id=line.id).values_list("code", flat=True) == ["R03"]


async def test_r03_form_line_after_a_file_integrated_in_an_earlier_run(db, settings):
    prov = await provider(1)
    [line] = await accepted_file(prov, prov.plans, SENT)
    await integrate_due_lines(DUE, with_delay(settings), partner_ids=[prov.partner.id])
    _form, [form_line] = await validated_form(prov, prov.plans, paris(2026, 5, 6))
    # Friday 8 May is a holiday (Victory Day): D+2 of Wednesday 6 May is Monday 11 May.
    await integrate_due_lines(paris(2026, 5, 8), with_delay(settings), partner_ids=[prov.partner.id])
    assert not await _integrated(form_line_id=form_line.id)
    await integrate_due_lines(paris(2026, 5, 11), with_delay(settings), partner_ids=[prov.partner.id])
    assert (await _integrated(billing_line_id=line.id))[0].status == "payable"
    assert (await _integrated(form_line_id=form_line.id))[0].status == "rejected"
    assert await Anomaly.filter(form_line_id=form_line.id).values_list("code", flat=True) == ["R03"]


@pytest.mark.parametrize("change", ["hourly_rate", "participation", "hours_per_month", "end_date"])
async def test_r04_care_plan_changed_since_upload(db, settings, change):
    prov = await provider(1)
    [line] = await accepted_file(prov, prov.plans, SENT)
    _form, [form_line] = await validated_form(prov, prov.plans, SENT, period=APRIL_PREVIOUS)
    plan = prov.plans[0]
    setattr(plan, change, {"hourly_rate": Decimal("22.00"), "participation": Decimal("0.50"),
                           "hours_per_month": Decimal("5.00"), "end_date": date(2026, 3, 15)}[change])
    await plan.save()
    await integrate_due_lines(DUE, with_delay(settings), partner_ids=[prov.partner.id])
    assert await Anomaly.filter(line_id=line.id).values_list("code", flat=True) == ["R04"]
    if change != "end_date":  # the form's March period ends after the 15th as well
        assert await Anomaly.filter(form_line_id=form_line.id).values_list(
            "code", flat=True) == ["R04"]
    assert {r.status for r in await _integrated(care_plan_id=plan.id)} == {"rejected"}


async def test_a_line_sent_the_day_before_a_holiday_waits_for_the_business_days(db, settings):
    # Wednesday 13 May 2026; Thursday 14 is Ascension: D+2 is Monday 18 May.
    prov = await provider(1)
    [line] = await accepted_file(prov, prov.plans, paris(2026, 5, 13, 17))
    await integrate_due_lines(paris(2026, 5, 15, 23), with_delay(settings), partner_ids=[prov.partner.id])
    assert not await _integrated(billing_line_id=line.id)
    await integrate_due_lines(paris(2026, 5, 18, 0, ), with_delay(settings), partner_ids=[prov.partner.id])
    assert (await _integrated(billing_line_id=line.id))[0].status == "payable"


def test_the_cutoff_is_a_paris_midnight():
    assert last_sent_day(date(2026, 5, 18), 2) == date(2026, 5, 14)
    assert last_sent_day(date(2026, 5, 18), 0) == date(2026, 5, 18)
    cutoff = due_cutoff(paris(2026, 5, 18, 9), 2)
    assert cutoff == paris(2026, 5, 15, 0)


async def test_delay_zero_integrates_at_the_next_run(db, settings):
    prov = await provider(1)
    [line] = await accepted_file(prov, prov.plans, paris(2026, 6, 2, 9))
    await integrate_due_lines(paris(2026, 6, 2, 9, ) + timedelta(minutes=5), with_delay(settings, 0),
                              partner_ids=[prov.partner.id])
    assert (await _integrated(billing_line_id=line.id))[0].status == "payable"


async def test_running_twice_integrates_nothing_new(db, settings):
    prov = await provider(2)
    lines = await accepted_file(prov, prov.plans, SENT)
    await Beneficiary.filter(id=prov.plans[0].beneficiary_id).update(deceased_on=date(2026, 4, 1))
    await integrate_due_lines(DUE, with_delay(settings), partner_ids=[prov.partner.id])
    second = await integrate_due_lines(DUE, with_delay(settings), partner_ids=[prov.partner.id])
    assert (second.payable, second.rejected, second.anomalies) == (0, 0, 0)
    assert await IntegratedLine.filter(billing_line_id__in=[x.id for x in lines]).count() == 2
    assert await Anomaly.filter(line_id=lines[0].id).count() == 1


async def test_two_concurrent_runs_integrate_each_line_once(db, settings):
    prov = await provider(4)
    lines = await accepted_file(prov, prov.plans, SENT)
    await Beneficiary.filter(id=prov.plans[0].beneficiary_id).update(deceased_on=date(2026, 4, 1))
    first, second = await asyncio.gather(integrate_due_lines(DUE, with_delay(settings), partner_ids=[prov.partner.id]),
                                         integrate_due_lines(DUE, with_delay(settings), partner_ids=[prov.partner.id]))
    assert await IntegratedLine.filter(billing_line_id__in=[x.id for x in lines]).count() == 4
    assert await Anomaly.filter(line_id=lines[0].id).count() == 1


async def test_statements_do_not_grow_with_the_lines(db, settings):
    when = paris(2026, 7, 1)
    await integrate_due_lines(paris(2026, 7, 1, 0), with_delay(settings, 0))  # drain the others
    counts = []
    for plan_count in (2, 12):
        prov = await provider(plan_count)
        await accepted_file(prov, prov.plans, when)
        await validated_form(prov, prov.plans, when, period=APRIL_PREVIOUS)
        await Beneficiary.filter(id=prov.plans[0].beneficiary_id).update(
            deceased_on=date(2026, 3, 2))
        async with count_statements() as statements:
            summary = await integrate_due_lines(when + timedelta(hours=1), with_delay(settings, 0))
        assert summary.payable + summary.rejected == 2 * plan_count
        counts.append(len(statements))
    assert counts[0] == counts[1], counts


async def test_one_mail_per_partner_and_run_to_the_admins_who_want_it(db, settings):
    prov = await provider(3)
    quiet = await User.create(login=f"q{prov.login}", password_hash="x", role="partner_admin",
                              caisse_id=prov.partner.caisse_id, partner=prov.partner,
                              email=f"quiet-{prov.login}@example.org", event_mail=False)
    await User.filter(id=prov.user.id).update(email=f"admin-{prov.login}@example.org")
    await accepted_file(prov, prov.plans, SENT)
    await Convention.filter(id=prov.convention.id).update(status="suspended")
    await integrate_due_lines(DUE, with_delay(settings), partner_ids=[prov.partner.id])
    mails = await OutboxMessage.filter(recipient=f"admin-{prov.login}@example.org")
    assert len(mails) == 1
    assert "3 lignes" in mails[0].subject and "/anomalies?phase=report" in mails[0].body
    assert not await OutboxMessage.filter(recipient=quiet.email).exists()


async def test_same_day_cancellation_is_refused_once_a_line_is_integrated(db, settings):
    prov = await provider(1)
    today = paris(2026, 8, 3, 9)
    form, _lines = await validated_form(prov, prov.plans, today, period=APRIL_PREVIOUS)
    await integrate_due_lines(today + timedelta(minutes=1), with_delay(settings, 0), partner_ids=[prov.partner.id])
    with pytest.raises(ServiceError) as refused:
        await billing_forms.cancel_validation(prov.user, form.id, today + timedelta(hours=1))
    assert refused.value.code == ErrorCode.FORM_INTEGRATED
    assert "intégrées par la caisse" in str(refused.value)


async def test_a_line_rebilled_later_waits_from_its_rebilling(db, settings):
    prov = await provider(2)
    first, rebilled = await accepted_file(prov, prov.plans, SENT)  # Monday 4 May
    await BillingLine.filter(id=rebilled.id).update(sent_at=paris(2026, 5, 6, 15))  # Wednesday
    await integrate_due_lines(DUE, with_delay(settings), partner_ids=[prov.partner.id])  # Wednesday 6 May
    assert (await _integrated(billing_line_id=first.id))[0].sent_at == SENT
    assert not await _integrated(billing_line_id=rebilled.id)
    # 8 May is a holiday: D+2 of Wednesday 6 is Monday 11.
    await integrate_due_lines(paris(2026, 5, 11, 8), with_delay(settings), partner_ids=[prov.partner.id])
    [row] = await _integrated(billing_line_id=rebilled.id)
    assert row.status == "payable" and row.sent_at == paris(2026, 5, 6, 15)


async def test_the_jobs_worker_integrates_the_due_lines_periodically(db, settings):
    from ppas.domain.clock import FixedClock
    from ppas.services.jobs import run_due

    prov = await provider(1)
    [line] = await accepted_file(prov, prov.plans, SENT)
    clock = FixedClock(SENT + timedelta(hours=1))
    await run_due(with_delay(settings), clock, kinds={"integrate_due_lines"})
    assert not await _integrated(billing_line_id=line.id)  # D+0: not due yet
    clock.set(DUE)
    await run_due(with_delay(settings), clock, kinds={"integrate_due_lines"})
    assert (await _integrated(billing_line_id=line.id))[0].status == "payable"


async def test_the_mail_survives_a_run_that_stops_after_its_batches(db, settings, monkeypatch):
    from ppas.services import integration

    prov = await provider(2)
    admin = f"durable-{prov.login}@example.org"
    await User.filter(id=prov.user.id).update(email=admin)
    await accepted_file(prov, prov.plans, SENT)
    await Convention.filter(id=prov.convention.id).update(status="suspended")

    async def stop(*args, **kwargs):
        raise RuntimeError("the worker stopped after the batches committed")

    monkeypatch.setattr(integration, "_announce", stop)
    with pytest.raises(RuntimeError):
        await integration.integrate_due_lines(DUE, with_delay(settings), partner_ids=[prov.partner.id])
    monkeypatch.undo()
    assert await IntegratedLine.filter(partner_id=prov.partner.id, status="rejected").count() == 2
    assert not await OutboxMessage.filter(recipient=admin).exists()
    await integrate_due_lines(DUE + timedelta(minutes=5), with_delay(settings),
                              partner_ids=[prov.partner.id])
    await integrate_due_lines(DUE + timedelta(minutes=10), with_delay(settings),
                              partner_ids=[prov.partner.id])
    [mail] = await OutboxMessage.filter(recipient=admin)
    assert "2 lignes" in mail.subject


async def test_a_form_cancelled_after_the_due_lines_were_read_is_not_integrated(
        db, settings, monkeypatch):
    from ppas.models import BillingForm
    from ppas.services import integration

    prov = await provider(1)
    form, [form_line] = await validated_form(prov, prov.plans, SENT)
    read_due = integration._due

    async def due_then_cancelled(*args, **kwargs):
        due = await read_due(*args, **kwargs)
        # The partner cancels between the run's reading and its batch.
        await BillingForm.filter(id=form.id).update(status="open", validated_at=None)
        return due

    monkeypatch.setattr(integration, "_due", due_then_cancelled)
    await integrate_due_lines(DUE, with_delay(settings), partner_ids=[prov.partner.id])
    assert not await _integrated(form_line_id=form_line.id)


async def test_r03_two_concurrent_runs_over_the_file_and_the_form_of_one_month(
        db, settings, monkeypatch):
    if not settings.database_url.startswith("postgres"):
        pytest.skip("concurrent transactions: PostgreSQL (SQLite serialises its writers)")
    from ppas.services import integration

    prov = await provider(1)
    _form, [form_line] = await validated_form(prov, prov.plans, SENT)
    [line] = await accepted_file(prov, prov.plans, SENT)
    read_due = integration._due
    channel = {}

    async def one_channel(*args, **kwargs):  # each run gets one of the two lines
        due = await read_due(*args, **kwargs)
        wanted = channel[asyncio.current_task()]
        return [row for row in due if row[1] == wanted and row[2] in (line.id, form_line.id)]

    # Each run waits (up to 2 s) for the other before inserting: without a lock both have then
    # read what is integrated, before either wrote (the race); with it, the second run is still
    # waiting for the plan's row when the first one inserts, and sees its line afterwards.
    arrived, both = [0], asyncio.Event()
    insert = IntegratedLine.bulk_create

    async def insert_together(objects, *args, **kwargs):
        arrived[0] += 1
        if arrived[0] == 2:
            both.set()
        try:
            await asyncio.wait_for(both.wait(), 2)
        except TimeoutError:
            pass
        return await insert(objects, *args, **kwargs)

    monkeypatch.setattr(integration, "_due", one_channel)
    monkeypatch.setattr(IntegratedLine, "bulk_create", insert_together)

    async def run(wanted):
        channel[asyncio.current_task()] = wanted
        return await integrate_due_lines(DUE, with_delay(settings), partner_ids=[prov.partner.id])

    await asyncio.gather(run("file"), run("form"))
    statuses = sorted([(await _integrated(billing_line_id=line.id))[0].status,
                       (await _integrated(form_line_id=form_line.id))[0].status])
    assert statuses == ["payable", "rejected"]
    codes = (await Anomaly.filter(line_id=line.id).values_list("code", flat=True)
             + await Anomaly.filter(form_line_id=form_line.id).values_list("code", flat=True))
    assert codes == ["R03"]


async def test_an_integrated_line_has_exactly_one_source(db, settings):
    from tortoise.exceptions import IntegrityError, OperationalError

    prov = await provider(1)
    [line] = await accepted_file(prov, prov.plans, SENT)
    _form, [form_line] = await validated_form(prov, prov.plans, SENT, period=APRIL_PREVIOUS)
    figures = dict(caisse_id=prov.partner.caisse_id, partner_id=prov.partner.id,
                   convention_id=prov.convention.id, care_plan_id=prov.plans[0].id,
                   period_start=date(2026, 4, 1), period_end=date(2026, 4, 30),
                   hours=Decimal("1"), hourly_rate=Decimal("1"), participation=Decimal("0"),
                   amount=Decimal("1"), status="rejected", sent_at=SENT, integrated_at=DUE,
                   announced_at=DUE)  # never paid nor announced by another test's run
    for sources in ({}, {"billing_line_id": line.id, "form_line_id": form_line.id}):
        with pytest.raises((IntegrityError, OperationalError)):
            await IntegratedLine.create(**figures, **sources)
    row = await IntegratedLine.create(**figures, billing_line_id=line.id)
    with pytest.raises((IntegrityError, OperationalError)):
        await IntegratedLine.filter(id=row.id).update(billing_line_id=None)


async def test_report_anomalies_reach_the_partners_webhook_once(db, settings):
    import json

    from ppas.models import WebhookDelivery
    from ppas.services import webhooks

    prov = await provider(2)
    await webhooks.create_subscription(prov.user, "http://127.0.0.1:9/anomalies",
                                       ["report_anomalies.created"], development=True)
    await accepted_file(prov, prov.plans, SENT)
    await Convention.filter(id=prov.convention.id).update(status="suspended")
    await integrate_due_lines(DUE, with_delay(settings), partner_ids=[prov.partner.id])
    await integrate_due_lines(DUE, with_delay(settings), partner_ids=[prov.partner.id])
    [delivery] = await WebhookDelivery.filter(partner_id=prov.partner.id)
    assert delivery.event == "report_anomalies.created"
    assert json.loads(delivery.payload)["data"] == {"rejectedLines": 2, "phase": "REPORT"}
