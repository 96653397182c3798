"""Test support for the money cycle: a caisse of its own whose code is two digits (billing file
names carry it), so that its payment runs pay only the lines of the test that made it."""
from __future__ import annotations

import io
from datetime import date, datetime, timezone
from decimal import Decimal

from ppas.domain.password_hashing import hash_password
from ppas.domain.periods import Period
from ppas.models import Beneficiary, Caisse, CarePlan, Convention, Partner, User
from ppas.services import billing_ingest
from tests.billing_file_support import billing_xml, ligne

PASSWORD = "Cycle2026x"
HOURS = Decimal("10.00")
RATE, PARTICIPATION = Decimal("21.30"), Decimal("3.20")


class Structure:
    """A caisse of its own (two digits, as file names want) with one partner, two conventions,
    an admin, a caisse agent, and care plans."""

    async def create(self) -> Structure:
        taken = set(await Caisse.all().values_list("code", flat=True))
        code = next(f"{n:02d}" for n in range(99, 9, -1) if f"{n:02d}" not in taken)
        self.caisse = await Caisse.create(code=code, name=f"Caisse du cycle {code}")
        self.structure_id = f"7{code}{len(taken):05d}"[:8]
        self.partner = await Partner.create(caisse=self.caisse, structure_id=self.structure_id,
                                            name=f"Aide du cycle {code}")
        self.admin = await User.create(
            login=f"cycle{code}", password_hash=hash_password(PASSWORD), role="partner_admin",
            caisse=self.caisse, partner=self.partner, email=f"cycle{code}@example.org",
            password_changed_at=datetime.now(timezone.utc))
        self.agent = await User.create(
            login=f"cycleagent{code}", password_hash=hash_password(PASSWORD),
            role="caisse_agent", caisse=self.caisse, email=f"agent{code}@example.org")
        self.conventions = [await Convention.create(
            partner=self.partner, number=f"C{code}-{letter}", prestation_code="001",
            hourly_rate=RATE, valid_from=date(2025, 1, 1)) for letter in "AB"]
        return self

    async def plan(self, convention: Convention, n: int, *, notified: datetime | None):
        person = await Beneficiary.create(
            caisse=self.caisse, file_number=f"{self.caisse.code}{convention.id % 1000:03d}{n:05d}",
            last_name=f"CYCLE{n}", first_name="Jeanne")
        return await CarePlan.create(
            beneficiary=person, partner=self.partner, convention=convention,
            hours_per_month=Decimal("20"), hourly_rate=RATE, participation=PARTICIPATION,
            start_date=date(2025, 1, 1), notified_at=notified)

    def file_name(self, period: Period) -> str:
        return f"{self.caisse.code}_{self.structure_id}_{period.year}{period.month:02d}.xml"

    async def upload(self, convention: Convention, period: Period, plans: list, now: datetime,
                     settings, amounts: dict[int, str] | None = None) -> billing_ingest.IngestReport:
        """Upload (real ingest) a file of `period`: one line per plan, record numbers from 1;
        `amounts` gives a wrong amount to some records."""
        beneficiaries = [await plan.beneficiary for plan in plans]
        lines = [ligne(n, b.file_number, period, hours=str(HOURS),
                       amount=(amounts or {}).get(n)) for n, b
                 in enumerate(beneficiaries, start=1)]
        name = self.file_name(period)
        data = billing_xml(self, lines, name=name, caisse=self.caisse.code,
                           convention=convention.number, echeance=str(period))
        return await billing_ingest.submit_file(self.admin, io.BytesIO(data), name, now=now,
                                                max_bytes=settings.max_upload_bytes)
