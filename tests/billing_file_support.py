"""Hand-made billing files and an isolated provider (partner, convention, care plans, admin)."""
from __future__ import annotations

import io
import itertools
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

from ppas.domain.amounts import line_amount
from ppas.domain.password_hashing import hash_password
from ppas.domain.periods import Period, paris_date

PASSWORD = "Fichier2026"
RATE = Decimal("21.30")
PARTICIPATION = Decimal("3.20")
PLAN_HOURS = Decimal("20.00")

_sequence = itertools.count(1)


def now() -> datetime:
    return datetime.now(timezone.utc)


def today() -> date:
    return paris_date(now())


def last_month() -> Period:
    return Period.of(today()).previous()


@dataclass
class Provider:
    """A provider of caisse 03 with its own convention, care plans and admin account."""

    partner: object
    convention: object
    user: object
    login: str
    structure_id: str
    plans: list = field(default_factory=list)  # CarePlan rows
    numbers: list[str] = field(default_factory=list)  # their file numbers

    def amd_name(self, period: Period | None = None) -> str:
        period = period or last_month()
        return f"03_{self.structure_id}_{period.year:04d}{period.month:02d}.xml"


async def make_provider(plan_count: int = 6, prestation: str = "001") -> Provider:
    """A fresh provider: `plan_count` notified care plans starting 14 months ago."""
    from ppas.models import Beneficiary, Caisse, CarePlan, Convention, Partner, User

    n = next(_sequence)
    caisse = await Caisse.get(code="03")
    structure_id = f"9{n:03d}{datetime.now().microsecond % 10000:04d}"
    partner = await Partner.create(caisse=caisse, structure_id=structure_id,
                                   name=f"Prestataire d'essai {n}")
    start = Period.of(today()).plus_months(-14).first_day
    convention = await Convention.create(
        partner=partner, number=f"T{structure_id}-{prestation}", prestation_code=prestation,
        hourly_rate=RATE, sunday_hourly_rate=Decimal("26.60"), valid_from=start)
    login = f"fich{structure_id}"
    user = await User.create(login=login, password_hash=hash_password(PASSWORD),
                             role="partner_admin", caisse=caisse, partner=partner,
                             password_changed_at=now())
    provider = Provider(partner, convention, user, login, structure_id)
    for i in range(plan_count):
        number = f"08{structure_id[1:]}{i:01d}"[:10] if plan_count <= 10 else f"08{n:04d}{i:04d}"
        person = await Beneficiary.create(caisse=caisse, file_number=number,
                                          last_name=f"NOM{i}", first_name="Prénom")
        plan = await CarePlan.create(beneficiary=person, partner=partner, convention=convention,
                                     hours_per_month=PLAN_HOURS, hourly_rate=RATE,
                                     participation=PARTICIPATION, start_date=start,
                                     notified_at=now())
        provider.plans.append(plan)
        provider.numbers.append(number)
    return provider


def ligne(record: int, number: str, period: Period | None = None, *, hours: str = "12.50",
          rate: str = "21.30", participation: str = "3.20", amount: str | None = None,
          sunday: str | None = None, start: str | None = None, end: str | None = None) -> str:
    """One <ligne>; the amount is computed right unless given."""
    period = period or last_month()
    if amount is None:
        amount = str(line_amount(Decimal(hours), Decimal(rate), Decimal(participation)))
    sunday_xml = f"<nb-heures-dimanche>{sunday}</nb-heures-dimanche>" if sunday else ""
    return (
        f"<ligne><n-enregistrement>{record}</n-enregistrement><n-dossier>{number}</n-dossier>"
        f"<nom>DUPONT</nom><prenom>Jeanne</prenom>"
        f"<debut-periode>{start or period.first_day.isoformat()}</debut-periode>"
        f"<fin-periode>{end or period.last_day.isoformat()}</fin-periode>"
        f"<nb-heures>{hours}</nb-heures>{sunday_xml}<taux-horaire>{rate}</taux-horaire>"
        f"<participation>{participation}</participation><montant>{amount}</montant></ligne>\n")


def _amount_of(line_xml: str) -> Decimal:
    return Decimal(line_xml.split("<montant>")[1].split("</montant>")[0])


def billing_xml(provider: Provider, lines: list[str], *, name: str | None = None,
                rf: str | None = None, caisse: str = "03", structure: str | None = None,
                convention: str | None = None, prestation: str = "001",
                echeance: str | None = None, send_date: str | None = None,
                nb: int | None = None, total: str | None = None, prolog: str = "") -> bytes:
    """A whole file for `provider` (an AMD file for last month unless told otherwise)."""
    name = name or provider.amd_name()
    if send_date is None and echeance is None:
        echeance = str(last_month())
    month = f"<echeance>{echeance}</echeance>" if send_date is None else \
        f"<date-envoi>{send_date}</date-envoi>"
    total = total or f"{sum((_amount_of(x) for x in lines), Decimal('0.00')):.2f}"
    text = (
        f'<?xml version="1.0" encoding="UTF-8"?>\n{prolog}'
        '<facturation xmlns="urn:ppas:facturation:1" version="1">\n'
        f"<en-tete><rf-borfact>{rf if rf is not None else name}</rf-borfact>"
        f"<code-caisse>{caisse}</code-caisse>"
        f"<id-structure>{structure or provider.structure_id}</id-structure>"
        f"<n-convention>{convention or provider.convention.number}</n-convention>"
        f"<code-prestation>{prestation}</code-prestation>{month}"
        f"<nb-lignes>{len(lines) if nb is None else nb}</nb-lignes>"
        f"<montant-total>{total}</montant-total><logiciel>Essai 1.0</logiciel></en-tete>\n"
        f"<lignes>\n{''.join(lines)}</lignes>\n</facturation>\n")
    return text.encode("utf-8")


def as_file(data: bytes) -> io.BytesIO:
    return io.BytesIO(data)


def days_ago(days: int) -> date:
    return today() - timedelta(days=days)
