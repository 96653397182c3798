"""Test support for the online billing form: a fresh provider per test, isolated from the demo."""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, datetime, timezone
from decimal import Decimal

from ppas.domain.periods import Period

PASSWORD = "Secret2026"


@dataclass
class Provider:
    partner: object
    convention: object
    plans: list
    user: object
    login: str


async def make_provider(plan_count: int = 5, *, sunday_rate: Decimal | None = Decimal("26.60"),
                        start: date | None = None, now: datetime | None = None,
                        hours_per_month: Decimal = Decimal("20")) -> Provider:
    """A new provider of caisse 03 with one convention, `plan_count` notified care plans and a
    partner_admin user (password PASSWORD)."""
    from ppas.domain.password_hashing import hash_password
    from ppas.models import Beneficiary, Caisse, CarePlan, Convention, Partner, Role, User

    now = now or datetime.now(timezone.utc)
    caisse = await Caisse.get(code="03")
    tag = secrets.token_hex(3)
    structure = f"{secrets.randbelow(10**8):08d}"
    partner = await Partner.create(caisse=caisse, structure_id=structure, name=f"Essai {tag}")
    convention = await Convention.create(
        partner=partner, number=f"T-{tag}", prestation_code="001", hourly_rate=Decimal("21.30"),
        sunday_hourly_rate=sunday_rate, valid_from=date(2000, 1, 1))
    start = start or Period.of(now.date()).plus_months(-6).first_day
    plans = []
    for i in range(plan_count):
        person = await Beneficiary.create(caisse=caisse, file_number=f"9{secrets.randbelow(10**9):09d}",
                                          last_name=f"NOM{i:03d}", first_name=f"Prénom{i}")
        plans.append(await CarePlan.create(
            beneficiary=person, partner=partner, convention=convention,
            hours_per_month=hours_per_month, hourly_rate=Decimal("21.30"),
            participation=Decimal("1.50") + Decimal(i % 3) * Decimal("0.85"),
            start_date=start, notified_at=now))
    login = f"bf{tag}"
    user = await User.create(login=login, password_hash=hash_password(PASSWORD),
                             role=Role.PARTNER_ADMIN, caisse=caisse, partner=partner)
    return Provider(partner, convention, plans, user, login)
