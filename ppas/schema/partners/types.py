"""GraphQL types of a partner and its conventions."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

import strawberry

from ppas.schema.enums import ConventionStatus, PartnerKind
from ppas import models


@strawberry.type(description="Structure conventionnée (partenaire) de la caisse.")
class Partner:
    id: strawberry.ID
    structure_id: str
    name: str
    kind: PartnerKind
    address_line: str
    postal_code: str
    city: str
    phone: str
    email: str

    @classmethod
    def from_model(cls, row: models.Partner) -> Partner:
        return cls(
            id=strawberry.ID(str(row.id)), structure_id=row.structure_id, name=row.name,
            kind=PartnerKind(row.kind), address_line=row.address_line, postal_code=row.postal_code,
            city=row.city, phone=row.phone, email=row.email,
        )


@strawberry.type(description="Convention entre le partenaire et la caisse pour une prestation.")
class Convention:
    id: strawberry.ID
    number: str
    prestation_code: str
    hourly_rate: Decimal
    sunday_hourly_rate: Decimal | None
    valid_from: date
    valid_to: date | None
    status: ConventionStatus

    @classmethod
    def from_model(cls, row: models.Convention) -> Convention:
        return cls(
            id=strawberry.ID(str(row.id)), number=row.number, prestation_code=row.prestation_code,
            hourly_rate=row.hourly_rate, sunday_hourly_rate=row.sunday_hourly_rate,
            valid_from=row.valid_from, valid_to=row.valid_to, status=ConventionStatus(row.status),
        )
