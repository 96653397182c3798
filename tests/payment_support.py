"""Test support: a caisse of its own whose partners have payable integrated lines, from files
and from validated forms (what the integration would have written)."""
from __future__ import annotations

import itertools
import string
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from decimal import Decimal

from ppas.domain.amounts import line_amount
from ppas.domain.password_hashing import hash_password
from ppas.models import (
    Beneficiary,
    BillingFile,
    BillingForm,
    BillingLine,
    Caisse,
    CarePlan,
    Convention,
    FormLine,
    IntegratedLine,
    Partner,
    User,
)
from ppas.models.billing_file import FileStatus, LineStatus
from ppas.models.billing_form import FormStatus
from ppas.models.integration import IntegrationStatus

# Two-character caisse codes no other test support uses.
_codes = (a + b for a, b in itertools.product("PQ", string.ascii_uppercase + string.digits))
_serial = itertools.count(1)
PASSWORD = "Paiement2026"
SENT = datetime(2026, 10, 5, 8, 0, tzinfo=timezone.utc)


@dataclass
class Payees:
    caisse: Caisse
    partners: list[Partner]
    admins: list[User]
    agent: User
    lines: list[IntegratedLine] = field(default_factory=list)
    forms: list[BillingForm] = field(default_factory=list)

    def amount_of(self, partner: Partner) -> Decimal:
        return sum((ln.amount for ln in self.lines if ln.partner_id == partner.id), Decimal(0))


async def make_payees(partners: int = 3, file_lines: int = 2, form_lines: int = 1,
                      *, with_accounts: bool = True) -> Payees:
    """A new caisse with `partners` partners; each has `file_lines` payable lines from one
    accepted file and `form_lines` from one validated form (and one crossed-out form line)."""
    code = next(_codes)
    n = next(_serial)
    caisse = await Caisse.create(code=code, name=f"Caisse de paiement {code}")
    agent = await User.create(login=f"agent{code}{n}", password_hash=hash_password(PASSWORD),
                              role="caisse_agent", caisse=caisse, email=f"agent{code}@x.invalid",
                              first_name="Agent", last_name="CAISSE")
    made = Payees(caisse, [], [], agent)
    for p in range(partners):
        partner = await Partner.create(caisse=caisse, structure_id=f"{40000000 + n * 100 + p:08d}",
                                       name=f"Aide Paiement {code}-{p}")
        made.partners.append(partner)
        if with_accounts:
            made.admins.append(await User.create(
                login=f"pay{code}{n}x{p}", password_hash=hash_password(PASSWORD),
                role="partner_admin", caisse=caisse, partner=partner,
                email=f"admin{code}{p}@x.invalid", first_name="Claire", last_name="FABRE"))
        convention = await Convention.create(partner=partner, number=f"P{code}-{n:03d}{p:03d}",
                                             prestation_code="001", hourly_rate=Decimal("21.30"),
                                             valid_from=date(2026, 1, 1))
        plans = []
        for b in range(file_lines + form_lines + 1):
            beneficiary = await Beneficiary.create(
                caisse=caisse, file_number=f"{n:03d}{p:03d}{b:04d}", last_name=f"NOM{b:03d}",
                first_name="Jeanne")
            plans.append(await CarePlan.create(
                beneficiary=beneficiary, partner=partner, convention=convention,
                hours_per_month=Decimal("30"), hourly_rate=Decimal("21.30"),
                participation=Decimal("3.20"), start_date=date(2026, 1, 1), notified_at=SENT))
        billing_file = await BillingFile.create(
            partner=partner, convention=convention, name=f"{code}_{partner.structure_id}_202609.xml",
            sha256="0" * 64, content=b"<facturation/>", status=FileStatus.ACCEPTED,
            period="2026-09", line_count=file_lines, accepted_count=file_lines,
            total_amount=Decimal(0))
        for i in range(file_lines):
            hours = Decimal("10.00") + i
            plan = plans[i]
            beneficiary = await plan.beneficiary
            amount = line_amount(hours, plan.hourly_rate, plan.participation)
            line = await BillingLine.create(
                file=billing_file, record_number=i + 1, care_plan=plan,
                file_number=beneficiary.file_number, last_name=beneficiary.last_name,
                first_name=beneficiary.first_name, period_start=date(2026, 9, 1),
                period_end=date(2026, 9, 30), hours=hours, hourly_rate=plan.hourly_rate,
                participation=plan.participation, amount=amount, status=LineStatus.ACCEPTED)
            made.lines.append(await IntegratedLine.create(
                caisse=caisse, partner=partner, convention=convention, care_plan=plan,
                billing_line=line, period_start=line.period_start, period_end=line.period_end,
                hours=hours, sunday_hours=Decimal(0), hourly_rate=plan.hourly_rate,
                participation=plan.participation, amount=amount,
                status=IntegrationStatus.PAYABLE, sent_at=SENT, integrated_at=SENT))
        form = await BillingForm.create(convention=convention, period="2026-08",
                                        status=FormStatus.VALIDATED, validated_at=SENT)
        made.forms.append(form)
        for j in range(form_lines):
            plan = plans[file_lines + j]
            hours, sunday = Decimal("7.50"), Decimal("1.25")
            amount = line_amount(hours + sunday, plan.hourly_rate, plan.participation)
            form_line = await FormLine.create(form=form, care_plan=plan, position=j + 1,
                                              hours=hours, sunday_hours=sunday, amount=amount,
                                              saved_at=SENT)
            made.lines.append(await IntegratedLine.create(
                caisse=caisse, partner=partner, convention=convention, care_plan=plan,
                form_line=form_line, period_start=date(2026, 8, 1), period_end=date(2026, 8, 31),
                hours=hours, sunday_hours=sunday, hourly_rate=plan.hourly_rate,
                participation=plan.participation, amount=amount,
                status=IntegrationStatus.PAYABLE, sent_at=SENT, integrated_at=SENT))
        await FormLine.create(form=form, care_plan=plans[-1], position=form_lines + 1,
                              crossed_out=True)
    return made


# --------------------------------------------------------------------------- list cases
# Builders of tests/schema/test_list_statements.py: n items of each payment list.

async def slips_of_one_partner(n: int):
    """A partner admin with n published slips (one per run) and n pending ones."""
    from datetime import timedelta

    from ppas.models import PaymentRun, PaymentSlip

    made = await make_payees(partners=1, file_lines=0, form_lines=0)
    now = datetime.now(timezone.utc)
    for i in range(n):
        run = await PaymentRun.create(caisse=made.caisse, status="done", paid_on=date(2026, 1, 1 + i))
        await PaymentSlip.create(run=run, partner=made.partners[0], caisse=made.caisse,
                                 number=f"{made.caisse.code}-L-{run.id:06d}", amount=Decimal("1.00"),
                                 paid_on=run.paid_on, available_at=now, published_at=now,
                                 pdf=b"%PDF")
        later = await PaymentRun.create(caisse=made.caisse, status="done",
                                        paid_on=date(2026, 2, 1 + i))
        await PaymentSlip.create(run=later, partner=made.partners[0], caisse=made.caisse,
                                 number=f"{made.caisse.code}-P-{later.id:06d}",
                                 amount=Decimal("1.00"), paid_on=later.paid_on,
                                 available_at=now + timedelta(days=i + 1))
    return made.admins[0]


async def slip_with_lines(n: int):
    """A partner admin and a published slip of n lines (files and forms): (user, slip id)."""
    from ppas.services import payments

    made = await make_payees(partners=1, file_lines=n - n // 2, form_lines=n // 2)
    now = datetime(2026, 11, 2, 9, 0, tzinfo=timezone.utc)
    run = await payments.start_payment_run(made.caisse.id, date(2026, 11, 3), None, now)
    await payments.execute_payment_run(run.id, now)
    from ppas.models import PaymentSlip

    slip = await PaymentSlip.get(run_id=run.id)
    await PaymentSlip.filter(id=slip.id).update(published_at=now, pdf=b"%PDF")
    return made.admins[0], slip.id


async def runs_of_one_caisse(n: int):
    """A caisse agent whose caisse has n runs, the last one with n slips: (agent, run id)."""
    from ppas.services import payments

    made = await make_payees(partners=n, file_lines=1, form_lines=0, with_accounts=False)
    now = datetime(2026, 11, 2, 9, 0, tzinfo=timezone.utc)
    for _ in range(n - 1):
        await payments.start_payment_run(made.caisse.id, date(2026, 11, 3), made.agent.id, now)
    run = await payments.start_payment_run(made.caisse.id, date(2026, 11, 3), made.agent.id, now)
    await payments.execute_payment_run(run.id, now)
    return made.agent, run.id
