"""Billing and payment history is never deleted by cascade: deleting what it points to fails.

Each test builds a caisse of its own with one of every kind of history row (a file with a
line and anomalies, a validated form with a line and an anomaly, a payment run and slip), then
deletes one parent. Before migration 0005 every foreign key was ON DELETE CASCADE and the delete
silently erased the history; now the database refuses it and nothing is deleted. The caisse is
the test's own so that, should a delete cascade, only this test's rows go, never the demo's.
"""
from __future__ import annotations

import secrets
from datetime import date, datetime, timezone
from decimal import Decimal

import pytest
from tortoise.exceptions import IntegrityError
from tortoise.models import Model

from ppas.models import (
    Anomaly,
    Beneficiary,
    Caisse,
    CarePlan,
    PaymentSlip,
    Role,
    Session,
    User,
)
from tests.billing_history_support import EVERY_ROW_ONCE, History, make_history


@pytest.fixture
async def history(db) -> History:
    return await make_history()


# Every parent that billing or payment history points to, directly or through a care plan.
PARENTS = ["care_plan", "convention", "partner", "beneficiary", "caisse", "user",
           "payment_run", "billing_file", "billing_line", "billing_form", "form_line"]


@pytest.mark.parametrize("parent", PARENTS)
async def test_deleting_what_history_points_to_fails_and_deletes_nothing(history, parent):
    row: Model = getattr(history, parent)
    with pytest.raises(IntegrityError):
        await row.delete()
    assert await type(row).filter(pk=row.pk).exists()
    assert await history.counts() == EVERY_ROW_ONCE


async def test_a_payment_slip_alone_keeps_its_partner(history):
    """A partner that was paid but never billed through this file or form still cannot go."""
    # Leave the slip as the partner's only history: the file, the form and their rows are
    # removed child first, which RESTRICT allows.
    await Anomaly.filter(file_id=history.billing_file.id).delete()
    await Anomaly.filter(form_line_id=history.form_line.id).delete()
    await history.billing_line.delete()
    await history.billing_file.delete()
    await history.form_line.delete()
    await history.billing_form.delete()
    with pytest.raises(IntegrityError):
        await history.partner.delete()
    assert await PaymentSlip.filter(partner_id=history.partner.id).count() == 1


async def test_a_beneficiary_never_billed_is_deleted_with_its_care_plans(history):
    """CASCADE stays where no history hangs: a care plan never billed goes with its retiree."""
    other = await Beneficiary.create(caisse=history.caisse, file_number="9999999999",
                                     last_name="SANS", first_name="Facture")
    plan = await CarePlan.create(beneficiary=other, partner=history.partner,
                                 convention=history.convention, hours_per_month=Decimal("5"),
                                 hourly_rate=Decimal("21.30"), participation=Decimal("0"),
                                 start_date=date(2026, 1, 1))
    await other.delete()
    assert not await CarePlan.filter(pk=plan.pk).exists()
    assert await history.counts() == EVERY_ROW_ONCE


async def test_a_user_s_sessions_still_go_with_the_user(db):
    """Sessions are not history: deleting an account that billed nothing removes them."""
    caisse = await Caisse.get(code="03")
    user = await User.create(login=f"sanshisto{secrets.token_hex(4)}", password_hash="-",
                             role=Role.PARTNER_USER, caisse=caisse)
    await Session.create(user=user, key_hash=f"k{user.id}", csrf_token="c",
                         created_at=datetime.now(timezone.utc),
                         last_seen_at=datetime.now(timezone.utc))
    await user.delete()
    assert not await Session.filter(user_id=user.id).exists()
