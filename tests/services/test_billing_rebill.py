"""Re-billing a line refused at upload: the same checks, once, by its own partner only."""
from __future__ import annotations

import pytest

from ppas.domain.periods import Period
from ppas.models import BillingFile, BillingLine
from ppas.services import billing_ingest, billing_rebill
from ppas.services.errors import ServiceError
from tests.billing_file_support import (
    as_file,
    billing_xml,
    last_month,
    ligne,
    make_provider,
    now,
    today,
)


@pytest.fixture
async def provider(db):
    return await make_provider()


async def submit(provider, data: bytes):
    return await billing_ingest.submit_file(provider.user, as_file(data), provider.amd_name(),
                                            now=now(), max_bytes=1 << 20)


def corrected(number, month=None, **overrides):
    month = month or last_month()
    values = dict(file_number=number, start=month.first_day.isoformat(),
                  end=month.last_day.isoformat(), hours="12,5", sunday_hours="", rate="21,30",
                  participation="3,20", amount="226,25")
    values.update(overrides)
    return billing_rebill.RebillInput(**values)


async def test_a_corrected_line_is_rebilled_through_the_same_checks(provider):
    report = await submit(provider, billing_xml(provider, [
        ligne(1, provider.numbers[0], amount="999.00"), ligne(2, provider.numbers[1])]))
    line_id = next(a.line_id for a in report.anomalies if a.code == "L06")
    with pytest.raises(ServiceError) as still_wrong:
        await billing_rebill.rebill_line(provider.user, line_id,
                                         corrected(provider.numbers[0], hours="30"), now=now())
    assert "L03" in still_wrong.value.message or "Heures supérieures" in still_wrong.value.message
    new = await billing_rebill.rebill_line(provider.user, line_id,
                                           corrected(provider.numbers[0]), now=now())
    assert new.status == "accepted" and new.record_number == 1
    assert (await BillingLine.get(id=line_id)).status == "rebilled"
    assert (await BillingFile.get(id=report.file_id)).accepted_count == 2
    with pytest.raises(ServiceError):
        await billing_rebill.rebill_line(provider.user, line_id, corrected(provider.numbers[0]),
                                         now=now())


async def test_duplicate_and_too_old_lines_are_never_rebillable(provider):
    old = Period.of(today()).plus_months(-13)
    report = await submit(provider, billing_xml(provider, [
        ligne(1, provider.numbers[0]), ligne(2, provider.numbers[0]),
        ligne(3, provider.numbers[1], old)]))
    by_code = {a.code: a.line_id for a in report.anomalies}
    for code in ("L05", "L04"):
        with pytest.raises(ServiceError) as refused:
            await billing_rebill.rebill_line(provider.user, by_code[code],
                                             corrected(provider.numbers[2]), now=now())
        assert "ne peut pas être refacturée" in refused.value.message


async def test_another_partner_cannot_rebill(provider, make_user):
    report = await submit(provider, billing_xml(provider, [ligne(1, "0999999999")]))
    stranger = await make_user(role="partner_admin")
    with pytest.raises(ServiceError):
        await billing_rebill.rebill_line(stranger, report.anomalies[0].line_id,
                                         corrected(provider.numbers[0]), now=now())


async def test_rebilling_tells_nothing_of_another_partners_beneficiaries(provider):
    """Typing another partner's file number answers like a number the caisse does not know."""
    other = await make_provider(plan_count=1)
    report = await submit(provider, billing_xml(provider, [ligne(1, "0999999999"),
                                                           ligne(2, provider.numbers[1])]))
    line_id = report.anomalies[0].line_id
    messages = []
    for number in (other.numbers[0], "0999999991"):
        with pytest.raises(ServiceError) as refused:
            await billing_rebill.rebill_line(provider.user, line_id, corrected(number), now=now())
        messages.append(refused.value.message.replace(number, "N"))
    assert messages[0] == messages[1], messages
