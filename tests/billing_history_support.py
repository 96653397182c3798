"""Test support: a caisse of its own with one row of every kind of billing and payment history."""
from __future__ import annotations

import itertools
import string
from dataclasses import dataclass
from datetime import date, datetime, timezone
from decimal import Decimal

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


async def make_history() -> History:
    """A new caisse (its own, never the demo's "03") with a partner, convention, account,
    beneficiary and care plan, and one of every history row pointing to them: a billing file with
    a line and two anomalies, a paid form with a line and an anomaly, a payment run and a slip."""
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
    payment_run = await PaymentRun.create(caisse=caisse, status=RunStatus.DONE,
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
