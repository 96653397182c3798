"""Billing and payment history is never deleted by cascade: deleting what it points to fails.

Each test builds a caisse of its own with one of every kind of history row (a file with a
line and anomalies, a validated form with a line and an anomaly, a payment run and slip), then
deletes one parent. Before migration 0004 every foreign key was ON DELETE CASCADE and the delete
silently erased the history; now the database refuses it and nothing is deleted. The caisse is
the test's own so that, should a delete cascade, only this test's rows go, never the demo's.
"""
from __future__ import annotations

import itertools
import string
from dataclasses import dataclass
from datetime import date, datetime, timezone
from decimal import Decimal

import pytest
from tortoise.exceptions import IntegrityError
from tortoise.models import Model

from ppas.models import (
    Anomaly,
    Beneficiary,
    BillingFile,
    BillingForm,
    BillingLine,
    Caisse,
    CarePlan,
    Convention,
    FormLine,
    Partner,
    PaymentRun,
    PaymentSlip,
    Role,
    Session,
    User,
)
from ppas.models.billing_file import AnomalyPhase, FileStatus, LineStatus
from ppas.models.billing_form import FormStatus
from ppas.models.payment import RunStatus

# Two-character caisse codes no demo caisse uses ("03" is the demo's).
_codes = (a + b for a, b in itertools.product("XYZ", string.ascii_uppercase))
_serial = itertools.count(1)


@dataclass
class History:
    caisse: Caisse
    partner: Partner
    convention: Convention
    user: User
    beneficiary: Beneficiary
    care_plan: CarePlan
    billing_file: BillingFile
    billing_line: BillingLine
    billing_form: BillingForm
    form_line: FormLine
    payment_run: PaymentRun
    payment_slip: PaymentSlip

    async def counts(self) -> dict[str, int]:
        """The history rows of this caisse that are still there."""
        caisse_id = self.caisse.id
        return {
            "billing_file": await BillingFile.filter(partner__caisse_id=caisse_id).count(),
            "billing_line": await BillingLine.filter(file__partner__caisse_id=caisse_id).count(),
            "file anomaly": await Anomaly.filter(file__partner__caisse_id=caisse_id).count(),
            "billing_form": await BillingForm.filter(
                convention__partner__caisse_id=caisse_id).count(),
            "form_line": await FormLine.filter(
                form__convention__partner__caisse_id=caisse_id).count(),
            "form anomaly": await Anomaly.filter(
                form_line__form__convention__partner__caisse_id=caisse_id).count(),
            "payment_run": await PaymentRun.filter(caisse_id=caisse_id).count(),
            "payment_slip": await PaymentSlip.filter(run__caisse_id=caisse_id).count(),
        }


EVERY_ROW_ONCE = {"billing_file": 1, "billing_line": 1, "file anomaly": 2, "billing_form": 1,
                  "form_line": 1, "form anomaly": 1, "payment_run": 1, "payment_slip": 1}


@pytest.fixture
async def history(db) -> History:
    code = next(_codes)
    n = next(_serial)
    caisse = await Caisse.create(code=code, name=f"Caisse d'essai {code}")
    partner = await Partner.create(caisse=caisse, structure_id="31000001", name="Aide Essai")
    convention = await Convention.create(partner=partner, number=f"R{code}-{n:04d}",
                                         prestation_code="001", hourly_rate=Decimal("21.30"),
                                         valid_from=date(2026, 1, 1))
    user = await User.create(login=f"histo{code}{n}", password_hash="-", role=Role.PARTNER_ADMIN,
                             caisse=caisse, partner=partner)
    beneficiary = await Beneficiary.create(caisse=caisse, file_number=f"{n:010d}",
                                           last_name="ESSAI", first_name="Jeanne")
    care_plan = await CarePlan.create(beneficiary=beneficiary, partner=partner,
                                      convention=convention, hours_per_month=Decimal("20"),
                                      hourly_rate=Decimal("21.30"), participation=Decimal("3.20"),
                                      start_date=date(2026, 1, 1))
    billing_file = await BillingFile.create(
        partner=partner, convention=convention, uploaded_by=user,
        name=f"{code}_31000001_202610.xml", sha256="0" * 64, content=b"<facturation/>",
        status=FileStatus.ACCEPTED, period="2026-10", line_count=1, accepted_count=1,
        total_amount=Decimal("226.25"))
    billing_line = await BillingLine.create(
        file=billing_file, record_number=1, care_plan=care_plan, file_number=f"{n:010d}",
        last_name="ESSAI", first_name="Jeanne", period_start=date(2026, 10, 1),
        period_end=date(2026, 10, 31), hours=Decimal("12.50"), hourly_rate=Decimal("21.30"),
        participation=Decimal("3.20"), amount=Decimal("226.25"), status=LineStatus.ACCEPTED)
    await Anomaly.create(code="R04", phase=AnomalyPhase.REPORT, file=billing_file,
                         line=billing_line, record_number=1, message="plan changé")
    await Anomaly.create(code="F08", phase=AnomalyPhase.BILLING, file=billing_file,
                         message="total")
    payment_run = await PaymentRun.create(caisse=caisse, status=RunStatus.PAID,
                                          paid_at=datetime(2026, 11, 20, tzinfo=timezone.utc))
    billing_form = await BillingForm.create(
        convention=convention, period="2026-09", status=FormStatus.PAID, validated_by=user,
        validated_at=datetime(2026, 10, 2, tzinfo=timezone.utc), payment_run=payment_run)
    form_line = await FormLine.create(form=billing_form, care_plan=care_plan, position=1,
                                      hours=Decimal("10"), amount=Decimal("181.00"))
    await Anomaly.create(code="R03", phase=AnomalyPhase.REPORT, form_line=form_line,
                         message="déjà payé")
    payment_slip = await PaymentSlip.create(run=payment_run, partner=partner,
                                            amount=Decimal("407.25"))
    made = History(caisse, partner, convention, user, beneficiary, care_plan, billing_file,
                   billing_line, billing_form, form_line, payment_run, payment_slip)
    assert await made.counts() == EVERY_ROW_ONCE
    return made


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
    user = await User.create(login=f"sanshisto{next(_serial)}", password_hash="-",
                             role=Role.PARTNER_USER, caisse=caisse)
    await Session.create(user=user, key_hash=f"k{user.id}", csrf_token="c",
                         created_at=datetime.now(timezone.utc),
                         last_seen_at=datetime.now(timezone.utc))
    await user.delete()
    assert not await Session.filter(user_id=user.id).exists()
