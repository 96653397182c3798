"""A realistic demo: caisse 03, two providers, an evaluation structure, agents."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

from tortoise.transactions import in_transaction

from ppas.domain.password_hashing import hash_password
from ppas.models import (
    Beneficiary,
    Caisse,
    CarePlan,
    Convention,
    EvaluationOrder,
    Partner,
    PartnerKind,
    Role,
    User,
)

DEMO_PASSWORD = "Demo2026ppas"
DEMO_LOGINS = {
    "demoadmin": "administrateur du prestataire AMD 21231300",
    "demouser": "utilisateur du prestataire AMD 21231300",
    "autreadmin": "administrateur du second prestataire 13004512",
    "demoeval": "évaluateur de la structure évaluatrice 13009876",
    "caisseagent": "agent de la caisse 03",
    "caisseadmin": "administrateur de la caisse 03 (GraphiQL)",
}

LAST_NAMES = [
    "MARTIN", "BERNARD", "DUBOIS", "THOMAS", "ROBERT", "RICHARD", "PETIT", "DURAND",
    "LEROY", "MOREAU", "SIMON", "LAURENT", "LEFEBVRE", "MICHEL", "GARCIA", "DAVID",
    "BERTRAND", "ROUX", "VINCENT", "FOURNIER", "MOREL", "GIRARD", "ANDRE", "LEFEVRE",
    "MERCIER", "DUPONT", "LAMBERT", "BONNET", "FRANCOIS", "MARTINEZ", "LEGRAND", "GARNIER",
    "FAURE", "ROUSSEAU", "BLANC", "GUERIN", "MULLER", "HENRY", "ROUSSEL", "NICOLAS",
    "PERRIN", "MORIN", "MATHIEU", "CLEMENT", "GAUTHIER", "DUMONT", "LOPEZ", "FONTAINE",
]
FIRST_NAMES = [
    "Jeanne", "Marcel", "Yvonne", "René", "Odette", "Lucien", "Simone", "Roger",
    "Germaine", "André", "Paulette", "Marcelle", "Henri", "Suzanne", "Georges", "Madeleine",
]
CITIES = ["Marseille", "Aix-en-Provence", "Aubagne", "Martigues", "Salon-de-Provence", "Arles"]


def _first_of_month(day: date, months_back: int) -> date:
    month_index = day.year * 12 + day.month - 1 - months_back
    return date(month_index // 12, month_index % 12 + 1, 1)


async def _user(login: str, role: Role, caisse: Caisse, partner: Partner | None,
                first: str, last: str, now: datetime) -> None:
    await User.get_or_create(
        login=login,
        defaults={
            "password_hash": hash_password(DEMO_PASSWORD),
            "role": role,
            "caisse": caisse,
            "partner": partner,
            "first_name": first,
            "last_name": last,
            "email": f"{login}@demo.ppas.invalid",
            "password_changed_at": now,
        },
    )


async def _beneficiaries(caisse: Caisse, partner: Partner, convention: Convention,
                         first_number: int, count: int, now: datetime) -> list[Beneficiary]:
    start = _first_of_month(now.date(), 14)
    people = []
    for i in range(count):
        number = first_number + i
        person, _ = await Beneficiary.get_or_create(
            caisse=caisse,
            file_number=f"03{number:08d}",
            defaults={
                "last_name": LAST_NAMES[number % len(LAST_NAMES)],
                "first_name": FIRST_NAMES[number % len(FIRST_NAMES)],
                "birth_date": date(1930 + number % 20, number % 12 + 1, number % 27 + 1),
                "city": CITIES[number % len(CITIES)],
            },
        )
        await CarePlan.get_or_create(
            beneficiary=person,
            partner=partner,
            convention=convention,
            defaults={
                "hours_per_month": Decimal(8 + (number % 6) * 4),
                "hourly_rate": convention.hourly_rate,
                "participation": Decimal("1.50") + Decimal(number % 5) * Decimal("0.85"),
                "start_date": _first_of_month(start, -(i % 4)),
                "notified_at": now,
            },
        )
        people.append(person)
    return people


async def load_demo(now: datetime | None = None) -> None:
    """Create the demo rows that are missing; running it twice changes nothing."""
    now = now or datetime.now(timezone.utc)
    async with in_transaction():
        caisse, _ = await Caisse.get_or_create(code="03", defaults={"name": "Carsat Sud-Est"})
        if not caisse.assistance_email:  # a caisse whose desk was set before keeps its details
            caisse.assistance_email = "assistance-ppas@carsat-sudest.demo.ppas.invalid"
            caisse.assistance_phone = "04 91 00 12 34"
            caisse.assistance_hours = "du lundi au vendredi, de 8 h 30 à 12 h et de 13 h 30 à 16 h 30"
            caisse.assistance_address = ("Carsat Sud-Est, service action sociale, 35 rue George, "
                                         "13386 Marseille Cedex 20")
            await caisse.save()
        provider, _ = await Partner.get_or_create(
            caisse=caisse, structure_id="21231300",
            defaults={"name": "Aide et Domicile Provence", "kind": PartnerKind.PROVIDER,
                      "address_line": "12 rue de la République", "postal_code": "13001",
                      "city": "Marseille", "phone": "0491000000",
                      "email": "contact@adp.demo.ppas.invalid"},
        )
        other, _ = await Partner.get_or_create(
            caisse=caisse, structure_id="13004512",
            defaults={"name": "Services Seniors Littoral", "kind": PartnerKind.PROVIDER,
                      "address_line": "5 avenue du Prado", "postal_code": "13008",
                      "city": "Marseille"},
        )
        evaluator, _ = await Partner.get_or_create(
            caisse=caisse, structure_id="13009876",
            defaults={"name": "Évaluations Gérontologiques du Var", "kind": PartnerKind.EVALUATOR,
                      "address_line": "3 place de la Liberté", "postal_code": "83000",
                      "city": "Toulon"},
        )
        valid_from = _first_of_month(now.date(), 24)
        convention, _ = await Convention.get_or_create(
            number="C03-0001",
            defaults={"partner": provider, "prestation_code": "001",
                      "hourly_rate": Decimal("21.30"), "sunday_hourly_rate": Decimal("26.60"),
                      "valid_from": valid_from},
        )
        other_convention, _ = await Convention.get_or_create(
            number="C03-0002",
            defaults={"partner": other, "prestation_code": "001",
                      "hourly_rate": Decimal("22.10"), "valid_from": valid_from},
        )
        # The evaluation structure's convention: orders are offered under it (issue 11).
        await Convention.get_or_create(
            number="C03-E001",
            defaults={"partner": evaluator, "prestation_code": "900",
                      "hourly_rate": Decimal("0.00"), "valid_from": valid_from},
        )
        await _beneficiaries(caisse, provider, convention, 10001, 40, now)
        await _beneficiaries(caisse, other, other_convention, 20001, 8, now)
        to_evaluate = [
            (await Beneficiary.get_or_create(
                caisse=caisse, file_number=f"03{30001 + i:08d}",
                defaults={"last_name": LAST_NAMES[-1 - i], "first_name": FIRST_NAMES[i],
                          "city": "Toulon"},
            ))[0]
            for i in range(6)
        ]
        for i, person in enumerate(to_evaluate):
            order, _ = await EvaluationOrder.get_or_create(
                partner=evaluator, beneficiary=person,
                defaults={"due_date": now.date() + timedelta(days=7 + 3 * i)},
            )
            if order.reference is None:  # the caisse's reference (issue 11)
                order.reference = f"EV-DEMO-{i + 1:03d}"
                await order.save(update_fields=["reference"])
        await _user("demoadmin", Role.PARTNER_ADMIN, caisse, provider, "Claire", "FABRE", now)
        await _user("demouser", Role.PARTNER_USER, caisse, provider, "Julien", "ARNAUD", now)
        await _user("autreadmin", Role.PARTNER_ADMIN, caisse, other, "Sophie", "CARON", now)
        await _user("demoeval", Role.EVALUATOR, caisse, evaluator, "Nadia", "BENALI", now)
        await _user("caisseagent", Role.CAISSE_AGENT, caisse, None, "Paul", "REYNAUD", now)
        await _user("caisseadmin", Role.CAISSE_ADMIN, caisse, None, "Anne", "VIDAL", now)
