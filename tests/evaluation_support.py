"""Throw-away evaluation data: a structure of caisse 03 with an active convention, its
evaluators, a caisse agent, and open orders for fresh beneficiaries."""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

from ppas.domain.password_hashing import hash_password
from ppas.models import (
    Beneficiary,
    Caisse,
    Convention,
    EvaluationOrder,
    Partner,
    PartnerKind,
    Role,
    User,
)

PASSWORD = "Secret2026"
NOW = datetime(2026, 11, 20, 9, 0, tzinfo=timezone.utc)


@dataclass
class Structure:
    caisse: Caisse
    partner: Partner
    evaluators: list[User]
    agent: User


async def make_structure(evaluators: int = 2) -> Structure:
    caisse = await Caisse.get(code="03")
    tag = uuid.uuid4().hex[:8]
    partner = await Partner.create(caisse=caisse, structure_id=f"{uuid.uuid4().int % 10**8:08d}",
                                   name=f"Évaluation essai {tag}", kind=PartnerKind.EVALUATOR)
    await Convention.create(partner=partner, number=f"E03-{tag.upper()}", prestation_code="900",
                            hourly_rate=Decimal("0"), valid_from=date(2025, 1, 1))
    password = hash_password(PASSWORD)
    users = [await User.create(login=f"ev{tag}{i}", password_hash=password, role=Role.EVALUATOR,
                               caisse=caisse, partner=partner, first_name=f"Éva{i}",
                               last_name=f"TEST{tag.upper()}")
             for i in range(evaluators)]
    agent = await User.create(login=f"ca{tag}", password_hash=password, role=Role.CAISSE_AGENT,
                              caisse=caisse, first_name="Agent", last_name=tag.upper())
    return Structure(caisse, partner, users, agent)


async def make_order(structure: Structure, created_at: datetime = NOW - timedelta(days=10),
                     **changes) -> EvaluationOrder:
    person = await Beneficiary.create(caisse=structure.caisse,
                                      file_number=f"{uuid.uuid4().int % 10**10:010d}",
                                      last_name="MARTIN", first_name="Odette",
                                      birth_date=date(1938, 4, 2), city="Hyères")
    order = await EvaluationOrder.create(partner=structure.partner, beneficiary=person,
                                         due_date=date(2026, 12, 15), created_at=created_at,
                                         **changes)
    order.reference = f"EV-T-{order.id:06d}"
    await order.save(update_fields=["reference"])
    return order


def answers(**changes) -> dict:
    """A complete, valid evaluation (GIR 4: toilette and habillage at B)."""
    values = {"visitDate": "2026-11-18", "COH": "A", "ORI": "A", "TOI": "B", "HAB": "B",
              "ALI": "A", "ELI": "A", "TRA": "A", "DIN": "A", "DEX": "B", "COM": "A",
              "GES": "B", "CUI": "B", "MEN": "C", "TRN": "B", "ACH": "B", "SUI": "A", "TLI": "A",
              "livingConditions": "Vit seule en appartement au 2e étage sans ascenseur.",
              "needs": "Aide à la toilette et au ménage.", "recommendedHoursPerMonth": "12,5",
              "preventionActions": ["chutes"], "comments": ""}
    values.update(changes)
    return values
