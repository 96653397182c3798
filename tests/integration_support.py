"""Test support for integration: a provider with accepted file lines and validated form lines,
sent at chosen instants (the lines' figures match the care plans unless told otherwise)."""
from __future__ import annotations

import secrets
from dataclasses import replace
from datetime import date, datetime
from decimal import Decimal

from ppas.domain.amounts import line_amount
from ppas.domain.periods import PARIS, Period
from tests.billing_form_support import make_provider

APRIL = Period(2026, 4)
PLAN_START = date(2025, 1, 1)
HOURS = Decimal("10.00")


def paris(year: int, month: int, day: int, hour: int = 10) -> datetime:
    """A Europe/Paris wall-clock instant (aware)."""
    return datetime(year, month, day, hour, 0, tzinfo=PARIS)


async def provider(plan_count: int = 3):
    return await make_provider(plan_count, start=PLAN_START, now=paris(2026, 1, 5))


async def accepted_file(prov, plans, sent: datetime, period: Period = APRIL, *,
                        hours: Decimal = HOURS) -> list:
    """An accepted billing file with one accepted line per plan, uploaded at `sent`."""
    from ppas.models import BillingFile, BillingLine

    f = await BillingFile.create(
        partner=prov.partner, convention=prov.convention,
        name=f"03_{secrets.randbelow(10**8):08d}_{period.year}{period.month:02d}.xml",
        sha256=secrets.token_hex(32), content=b"", status="accepted", period=str(period),
        line_count=len(plans), accepted_count=len(plans))
    await BillingFile.filter(id=f.id).update(uploaded_at=sent)
    lines = []
    for n, plan in enumerate(plans, start=1):
        lines.append(await BillingLine.create(
            file=f, record_number=n, care_plan=plan, file_number="0000000000",
            last_name=f"NOM{n}", first_name="Prénom", period_start=period.first_day,
            period_end=period.last_day, hours=hours, sunday_hours=Decimal("0"),
            hourly_rate=plan.hourly_rate, participation=plan.participation,
            amount=line_amount(hours, plan.hourly_rate, plan.participation), status="accepted"))
    return lines


async def validated_form(prov, plans, sent: datetime, period: Period = APRIL, *,
                         hours: Decimal = HOURS) -> tuple:
    """A validated form of `period` with one filled line per plan, validated at `sent` (each
    line's billed part frozen as validate_form does)."""
    from ppas.domain.billing_form import billed_part
    from ppas.models import BillingForm, FormLine

    form = await BillingForm.create(convention=prov.convention, period=str(period),
                                    status="validated", validated_at=sent,
                                    validated_by=prov.user)
    lines = []
    for n, plan in enumerate(plans, start=1):
        part = billed_part(period, plan.start_date, plan.end_date)
        lines.append(await FormLine.create(
            form=form, care_plan=plan, position=n, hours=hours, sunday_hours=None,
            amount=line_amount(hours, plan.hourly_rate, plan.participation), saved_at=sent,
            billed_start=part[0], billed_end=part[1]))
    return form, lines


def with_delay(settings, delay: int = 2, **more):
    return replace(settings, report_delay_business_days=delay, **more)
